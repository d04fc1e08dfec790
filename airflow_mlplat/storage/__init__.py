"""Storage by URL: which schemes a path may use, and how Python-side code reaches them (fsspec)."""
