"""How a suite runs and how its report is built, declared once for the Python API's keywords
and the command line's flags alike (bench.core.flags). What a run trains (the suite, its seeds
and budget) is not here: those are the API's arguments and the CLI's hand-written flags.

The machine-side settings (paths, speed-ups) are ``bench.core.environment.Environment``'s
fields and defaults; their flags are declared here, beside it, because that module loads
torch: the parser reads its defaults only when --help is shown.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.core.flags import Flag, device_option, option
from bench.core.validators import POSITIVE, POSITIVE_INT
from bench.orchestration.executor_choices import CONNECT_TIMEOUT, EXECUTORS, LOCAL
from bench.report.render import MAX_WORKERS
from bench.storage.rounds import Design
from bench.training.accel import MODES

DEFAULT_SUITE = "quick"
"""The suite ``run`` trains when none is named."""


def _tensorboard() -> Any:
    return option(None, "also export every run's metric curves and image grids, and a study's "
                  "trials as HParams, to DIR for 'tensorboard --logdir DIR' (needs pip install "
                  "-e \".[tensorboard]\")", parse=Path, metavar="DIR")


@dataclass(frozen=True)
class ReportOptions:
    """How a results folder's report is built (``report``)."""

    workers: int | None = option(
        None, "processes drawing the figures, this one included", check=POSITIVE_INT,
        default_is=f"one per core, at most {MAX_WORKERS + 1}; 1 draws them all in this process")
    progress: bool = option(True, "no stage lines on stderr while the report builds",
                            switch=False)
    tensorboard: Path | None = _tensorboard()


@dataclass(frozen=True)
class RunOptions:
    """How a suite runs: where, on how many workers, and what it leaves beside the runs."""

    device: str = device_option("training device")
    executor: str = option(LOCAL, "where groups train: local processes or a Ray cluster "
                           "(needs pip install -e \".[ray]\")", choices=EXECUTORS)
    address: str | None = option(None, "Ray cluster to join: auto or HOST:PORT",
                                 default_is="start a local Ray instance")
    ray_timeout: float = option(CONNECT_TIMEOUT, "how long to wait for the Ray cluster at "
                                "--address to answer before giving up with an error",
                                check=POSITIVE,
                                metavar="SECONDS")
    workers: int | None = option(None, "worker processes on CPU, for training and then for the "
                                 "report's figures", check=POSITIVE_INT,
                                 default_is="one per core")
    progress: bool = option(True, "hide the progress bar", switch=False)
    report: bool = option(True, "train and store the runs only; 'report DIR' builds the report "
                          "later", switch=False)
    until_decided: bool = option(
        False, "after the planned seeds, add --seed-step seeds to every cell an undecided claim "
        "check needs and judge again (alpha spent across the looks), until every check is "
        "decided or the cells hold --max-seeds", switch=True)
    max_seeds: int | None = option(None, "--until-decided: most seeds per cell",
                                   check=POSITIVE_INT, default_is=str(Design.max_seeds))
    seed_step: int | None = option(None, "--until-decided: seeds added per round",
                                   check=POSITIVE_INT, default_is=str(Design.seed_step))
    tensorboard: Path | None = _tensorboard()


def environment_class() -> type:
    """``Environment``, imported when it is needed: its module loads torch."""
    from bench.core.environment import Environment

    return Environment


SPEED_UP_FLAGS = {
    "compile": Flag("torch.compile the training networks", choices=MODES,
                    default_is="on CUDA only; a critic under a gradient penalty is never "
                    "compiled"),
    "cuda_graphs": Flag("capture each training iteration as a CUDA graph; falls back to eager "
                        "if capture fails", choices=MODES, default_is="the toy MLPs on CUDA"),
    "channels_last": Flag("channels_last memory format for the DCGANs and the FID Inception",
                          choices=MODES, default_is="on"),
    "fused": Flag("the fused MLP training step (hand-written gradients of the 2-D MLP GANs) "
                  "instead of autograd; off keeps autograd", choices=MODES,
                  default_is="wherever it applies, like on"),
}
"""The Environment's speed-ups, as ``run`` and ``perf`` take them."""

ENVIRONMENT_FLAGS = {
    "data_root": Flag("image datasets' root in torchvision's layout", parse=Path,
                      default_is="$GANBENCH_DATA_ROOT or ~/.cache/ganbench/data"),
    "download": Flag("download absent datasets and FID weights (needs a network)",
                     switch=True),
    "fid_weights": Flag("pytorch-fid Inception weights pt_inception-2015-12-05-6726825d.pth",
                        parse=Path, default_is="$GANBENCH_FID_WEIGHTS or the torch hub cache"),
    "cache_dir": Flag("reference statistics / classifier cache", parse=Path,
                      default_is="$GANBENCH_CACHE_DIR or ~/.cache/ganbench"),
    **SPEED_UP_FLAGS,
}
"""Every Environment setting, as ``run`` takes it."""
