"""Datasets: 2-D toy mixtures (toy.py) and image datasets (images.py), each declared once
with its shape, modes and metrics (datasets.py)."""

from bench.data.datasets import DATASETS, IMAGE, TOY, Dataset, get_dataset

__all__ = ["DATASETS", "IMAGE", "TOY", "Dataset", "get_dataset"]
