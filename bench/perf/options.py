"""What ``perf`` measures and how much of it: each option's default declared once, here, for
the command line, the timing functions and the docs alike. No torch: the CLI builds its
``--help`` from these before loading anything heavy."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PerfOptions:
    """What ``perf`` measures, and how much of it."""

    device: str = "auto"
    """auto (CUDA when available), cpu or cuda."""
    steps: int = 20
    """Generator steps timed per loop (after the warm-up)."""
    warmup: int = 3
    """Generator steps run before timing, per loop."""
    width: int = 512
    """Hidden units of the 3-layer MLPs (512 in the reference)."""
    seeds: tuple[int, ...] = (1, 8)
    """Seed-batch sizes K of the suite's loop."""
    threads: int | None = None
    """torch intra-op threads for both loops (None: torch's default)."""
    repeats: int = 1
    """Rounds of all loops, interleaved; each loop reports its median round, so a load that
    comes and goes on a shared machine biases no loop in particular."""
    fid_dim: int = 2048
    """Feature dimension of the FID statistics (2048: Inception pool3)."""
    fid_samples: int = 10_000
    """Feature rows per statistics set."""
    fid: bool = True
    """Time the FID pieces too."""
    compile: str = "auto"
    """The suite loop's torch.compile mode (``run --compile``)."""
    cuda_graphs: str = "auto"
    """The suite loop's CUDA graph mode (``run --cuda-graphs``)."""
    channels_last: str = "auto"
    """channels_last for the suite's FID Inception (``run --channels-last``)."""
    fid_images: int | None = None
    """Images of the end-to-end FID timing (None: 10,000 on CUDA, 200 on a CPU; 0: skip)."""
    fid_weights: str | None = None
    """pytorch-fid Inception weights for the end-to-end FID (None: random weights)."""


@dataclass(frozen=True)
class StudyOptions:
    """What ``perf --study`` times; its defaults are the command's."""

    trials: int = 16
    seeds: int = 2
    """Seeds per trial."""
    width: int = 64
    """Hidden units of the 3-layer MLPs (64: the quick suite's; 512 is CPU-bound anyway)."""
    steps: int = 50
    """Generator steps timed per run (after the warm-up)."""
    warmup: int = 5
    device: str = "auto"
    threads: int | None = None
    """torch intra-op threads (None: torch's default)."""


@dataclass(frozen=True)
class RooflineOptions:
    """What ``perf --roofline`` measures; its defaults are the command's."""

    members: tuple[int, ...] = (1, 8, 32)
    """Member counts K of each GAN's iteration."""
    widths: tuple[int, ...] = (64, 512)
    """MLP widths: the quick suite's and the WGAN-GP toy code's."""
    min_seconds: float = 1.0
    """Each timing repeats until it has run this long."""
