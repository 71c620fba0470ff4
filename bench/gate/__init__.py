"""The CI regression gate between two results folders (the `compare` command)."""
