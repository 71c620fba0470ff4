"""Where a result came from: code version, package versions, device, precision flags."""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

# pytorch-fid builds the FID network and torch-fidelity resizes the Inception Score's input
# and scores it: their versions belong beside torch's with every FID and IS.
PACKAGES = (
    "torch", "torchvision", "pytorch-fid", "torch-fidelity", "numpy", "pot", "scipy", "pandas",
    "ganbench",
)
_REPO = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=_REPO, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def collect(device: torch.device) -> dict:
    """Provenance shared by all runs of one suite invocation."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "device": str(device),
        "device_name": device_name(device),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
    }
