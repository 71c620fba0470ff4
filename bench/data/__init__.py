"""Datasets: 2-D toy mixtures (toy.py) and image datasets (images.py), by name."""

from bench.data.images import IMAGE_DATASETS
from bench.data.toy import TOY_DATASETS

DATASET_DOMAINS: dict[str, str] = {
    **{name: "toy" for name in TOY_DATASETS},
    **{name: "image" for name in IMAGE_DATASETS},
}
"""Every dataset name -> "toy" or "image" (which recipes, models and metrics apply)."""


def dataset_description(name: str) -> str:
    if name in TOY_DATASETS:
        return TOY_DATASETS[name].description
    return IMAGE_DATASETS[name].description
