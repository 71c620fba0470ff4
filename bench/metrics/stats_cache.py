"""On-disk cache of reference (real-data) statistics, keyed by what determines them.

The key is a dict naming everything that affects the statistics (dataset, split, N,
extractor, weights hash, image size, ...). Its canonical JSON is hashed with SHA-256;
the statistics live in ``<digest>.npz`` (pytorch-fid's format) next to ``<digest>.json``,
the key in readable form. Files are written to a temporary name in the cache directory
and moved into place with ``os.replace``, so a reader never sees a half-written file
and concurrent writers of one key just overwrite each other with the same content.
"""

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from bench.core.atomic import atomic_write
from bench.metrics.feature_stats import load_stats_npz, save_stats_npz

# Bump when the way statistics are computed changes, to invalidate every cached entry.
CACHE_FORMAT = 1


def key_digest(key: Mapping[str, Any]) -> str:
    """SHA-256 of the key's canonical JSON; values must be JSON types (str, int, ...)."""
    canonical = json.dumps(
        {"cache_format": CACHE_FORMAT, **key},
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def cache_path(cache_dir: str | os.PathLike, key: Mapping[str, Any]) -> Path:
    """Where the statistics for ``key`` are (or would be) stored."""
    return Path(cache_dir) / f"{key_digest(key)}.npz"


def load_or_compute(
    cache_dir: str | os.PathLike,
    key: Mapping[str, Any],
    compute: Callable[[], tuple[Tensor | np.ndarray, Tensor | np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Cached (mu, sigma) for ``key``, calling ``compute()`` and storing its result on a miss.

    An unreadable cache file is reported with a warning and recomputed.
    """
    path = cache_path(cache_dir, key)
    if path.exists():
        try:
            return load_stats_npz(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            warnings.warn(f"recomputing unreadable cached statistics {path}: {exc}", stacklevel=2)
    mu, sigma = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    key_json = json.dumps(dict(key), sort_keys=True, indent=2) + "\n"
    atomic_write(path.with_suffix(".json"), lambda tmp: tmp.write_text(key_json))
    atomic_write(path, lambda tmp: save_stats_npz(tmp, mu, sigma))
    return load_stats_npz(path)
