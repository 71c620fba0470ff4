"""Datasets: 2-D toy mixtures (toy.py) and image datasets (images.py)."""
