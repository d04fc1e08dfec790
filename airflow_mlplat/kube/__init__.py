"""Shared Kubernetes manifest helpers: schema validation, common metadata, object-to-dict conversion."""
