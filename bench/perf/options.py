"""What ``perf`` measures and how much of it: each option's default, help and check declared
once, here, for the command line (its flags and --help are generated from these fields), the
timing functions and the docs alike. No torch: the CLI builds its parser from these before
loading anything heavy. The speed-ups the suite's loop trains with are the run's own
(``bench.core.environment.Environment``)."""

from dataclasses import dataclass

from bench.core.flags import device_option, option
from bench.core.validators import NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT

REFERENCE_WIDTH = 512
"""The WGAN-GP toy code's hidden units (its DIM): the side-by-side's width, and the width
scripts/gpu-check.sh's training targets are stated at."""
QUICK_WIDTH = 64
"""The quick suite's hidden units."""
FID_SAMPLES = 10_000
"""The usual FID sample count: feature rows per statistics set, and the end-to-end FID's
images on a GPU."""
FID_IMAGES = {"cuda": FID_SAMPLES, "cpu": 200}
"""Images of the end-to-end FID timing by device type, unless given: a CPU's 200 keep the
check to a minute."""
FID_DIM = 2048
"""Inception pool3's feature dimension."""


@dataclass(frozen=True)
class PerfMachine:
    """Where every perf measurement runs."""

    device: str = device_option("device of every side")
    threads: int | None = option(None, "torch threads for every side", check=POSITIVE_INT,
                                 default_is="torch's default")


@dataclass(frozen=True)
class PerfOptions(PerfMachine):
    """What ``perf`` measures, and how much of it."""

    steps: int = option(20, "generator steps timed per loop", check=POSITIVE_INT)
    """Generator steps timed per loop (after the warm-up)."""
    warmup: int = option(3, "untimed generator steps per loop before timing",
                         check=POSITIVE_INT)
    width: int = option(REFERENCE_WIDTH, "hidden units of the 3-layer MLPs", check=POSITIVE_INT)
    seeds: tuple[int, ...] = option((1, 8), "seed-batch sizes K of the suite's loop",
                                    check=POSITIVE_INT, many=True)
    repeats: int = option(1, "interleaved rounds of all loops, each reporting its median; "
                          "use 3 or more on a shared machine", check=POSITIVE_INT)
    """Rounds of all loops, interleaved; each loop reports its median round, so a load that
    comes and goes on a shared machine biases no loop in particular."""
    fid_dim: int = option(FID_DIM, "feature dimension of the FID statistics",
                          check=POSITIVE_INT)
    fid_samples: int = option(FID_SAMPLES, "feature rows per statistics set",
                              check=POSITIVE_INT)
    fid: bool = option(True, "time the training loops only", switch=False)
    """Time the FID pieces too."""
    fid_images: int | None = option(
        None, "images of the end-to-end FID timing", check=NON_NEGATIVE_INT,
        metavar="N", default_is=f"{FID_IMAGES['cuda']} on CUDA, {FID_IMAGES['cpu']} on a CPU; "
        "0 skips it")
    fid_weights: str | None = option(
        None, "pytorch-fid Inception weights for the end-to-end FID",
        default_is="random weights: same arithmetic, so same time, meaningless values")

    def fid_images_on(self, device_type: str) -> int:
        """Images of the end-to-end FID timing on a ``device_type`` device."""
        return FID_IMAGES[device_type] if self.fid_images is None else self.fid_images


@dataclass(frozen=True)
class StudyOptions(PerfMachine):
    """What ``perf --study`` times; its defaults are the command's."""

    trials: int = option(16, "trials of --study", check=POSITIVE_INT)
    seeds: int = option(2, "seeds per trial of --study", name="study-seeds",
                        check=POSITIVE_INT)
    # shared with PerfOptions' flags, whose help shows these defaults as --study's
    width: int = option(QUICK_WIDTH, "hidden units of the 3-layer MLPs", check=POSITIVE_INT)
    """The quick suite's; 512 is CPU-bound anyway."""
    steps: int = option(50, "generator steps timed per run", check=POSITIVE_INT)
    warmup: int = option(5, "untimed generator steps per run before timing",
                         check=POSITIVE_INT)


@dataclass(frozen=True)
class RooflineOptions(PerfMachine):
    """What ``perf --roofline`` measures; its defaults are the command's."""

    members: tuple[int, ...] = option((1, 8, 32), "member counts K of --roofline",
                                      check=POSITIVE_INT, many=True)
    widths: tuple[int, ...] = option((QUICK_WIDTH, REFERENCE_WIDTH), "MLP widths of --roofline",
                                     check=POSITIVE_INT, many=True)
    min_seconds: float = option(1.0, "--roofline repeats each timing until this long",
                                check=POSITIVE)
