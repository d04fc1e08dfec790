"""Example training programs run by the launcher (they import torch; the launcher does not)."""
