"""Metrics, each split into features -> statistics -> scalar where that applies: the torch-free
declarations (declarations.py), their functions (registry.py) and the pieces they use.

The package itself imports nothing, so a suite check reads the declarations without torch."""
