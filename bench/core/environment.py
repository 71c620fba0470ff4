"""Machine-side settings of an invocation: where data, weights and caches live, and which
speed-ups (torch.compile, CUDA graphs, channels_last, the fused MLP step) the trainer may use.

They are not part of a suite (the same suite runs on machines with different paths and
devices), so they travel beside the RunSpecs to the workers instead of inside them.
"""

import os
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from bench.core.errors import BenchError

CACHE_ENV = "GANBENCH_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/ganbench")


@dataclass(frozen=True)
class Environment:
    data_root: Path | None = None
    """Image datasets' root (--data-root; else $GANBENCH_DATA_ROOT or ~/.cache/ganbench/data)."""
    download: bool = False
    """Let torchvision download absent datasets and fetch FID weights (--download)."""
    fid_weights: Path | None = None
    """pytorch-fid Inception weights file (--fid-weights; else $GANBENCH_FID_WEIGHTS or the
    torch hub cache)."""
    cache_dir: Path | None = None
    """Reference statistics and classifier cache (else $GANBENCH_CACHE_DIR or
    ~/.cache/ganbench)."""

    compile: str = "auto"
    """torch.compile of the training networks: auto, on or off (--compile)."""
    cuda_graphs: str = "auto"
    """Whole-iteration CUDA graph capture: auto, on or off (--cuda-graphs)."""
    channels_last: str = "auto"
    """channels_last memory format for convolutional networks: auto, on or off."""
    fused: str = "auto"
    """The fused MLP training step (gan_zoo/fused_mlp.py: hand-written gradients of the 2-D
    MLP GANs) instead of autograd: auto, on or off (--fused; auto and on use it wherever it
    applies, off keeps autograd)."""

    def to_dict(self) -> dict[str, str | bool | None]:
        """The settings as given (None: the default applies), for a run's provenance."""
        return {f.name: str(value) if isinstance(value := getattr(self, f.name), Path)
                else value for f in fields(self)}

    def resolved_cache_dir(self) -> Path:
        root = self.cache_dir or os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR
        return Path(root).expanduser()


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; asking for CUDA without it is an input error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise BenchError("--device cuda: no CUDA device is available; use --device cpu or auto")
    return torch.device(name)
