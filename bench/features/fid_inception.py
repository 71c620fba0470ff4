"""pytorch-fid's FID Inception v3: the network, its verified weights, and feature streaming.

This is not torchvision's Inception v3. It is the TensorFlow FID graph ported by
pytorch-fid: different weights (1008 classes), and pooling patched to match TensorFlow:
average pools that ignore padding in the A, C and first E blocks, a max pool in the last
E block. Features are the 2048-d output of the final average pool ("pool3"), computed
on images resized bilinearly to 299x299 and scaled to [-1, 1], in eval mode.
"""

import hashlib
import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.inception import (
    BasicConv2d,
    InceptionA,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
)

from bench.errors import BenchError
from bench.metrics.feature_stats import FeatureStats

FID_WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    "pt_inception-2015-12-05-6726825d.pth"
)
FID_WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
# The file name carries the first 8 hex digits of its SHA-256 (torch hub's convention);
# pytorch-fid publishes no full digest. This one is recorded, for the 95,628,359-byte file,
# in several independent public projects, both for pytorch-fid's release asset and for
# torch-fidelity's re-hosted copy of the same file, and it starts with 6726825d.
FID_WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
WEIGHTS_ENV_VAR = "GANBENCH_FID_WEIGHTS"
WEIGHTS_FLAG = "--fid-weights"
FEATURE_DIM = 2048


def _tf_avg_pool(x: Tensor) -> Tensor:
    # TensorFlow's average pool divides by the number of real (unpadded) inputs.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(InceptionA):
    """InceptionA with TensorFlow's average pool."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_tf_avg_pool(x)),
            ],
            dim=1,
        )


class FIDInceptionC(InceptionC):
    """InceptionC with TensorFlow's average pool."""

    def forward(self, x: Tensor) -> Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7dbl = x
        for layer in (
            self.branch7x7dbl_1,
            self.branch7x7dbl_2,
            self.branch7x7dbl_3,
            self.branch7x7dbl_4,
            self.branch7x7dbl_5,
        ):
            b7dbl = layer(b7dbl)
        return torch.cat([self.branch1x1(x), b7, b7dbl, self.branch_pool(_tf_avg_pool(x))], dim=1)


class FIDInceptionE_1(InceptionE):
    """First InceptionE (Mixed_7b) with TensorFlow's average pool."""

    def _pool(self, x: Tensor) -> Tensor:
        return _tf_avg_pool(x)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_1(x)
        b3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(b3),
                self.branch3x3_2b(b3),
                self.branch3x3dbl_3a(b3dbl),
                self.branch3x3dbl_3b(b3dbl),
                self.branch_pool(self._pool(x)),
            ],
            dim=1,
        )


class FIDInceptionE_2(FIDInceptionE_1):
    """Second InceptionE (Mixed_7c): the FID graph max-pools here (a quirk of that graph)."""

    def _pool(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class FIDInceptionV3(nn.Module):
    """FID Inception v3 up to pool3: images (B, C, H, W) -> features (B, 2048).

    ``input_range`` is the range the images come in, (0, 1) as pytorch-fid expects or
    (-1, 1) as tanh generators produce; either is mapped to [-1, 1]. One-channel images
    are repeated to RGB, as PIL's ``convert("RGB")`` does in pytorch-fid's loader.
    Module names follow torchvision's Inception3, so pytorch-fid's state dict loads as is.
    """

    def __init__(self, input_range: tuple[float, float] = (0.0, 1.0)):
        super().__init__()
        self.input_range = input_range
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE_1(1280)
        self.Mixed_7c = FIDInceptionE_2(2048)
        # Unused for features, but part of the published state dict, which loads strictly.
        self.fc = nn.Linear(FEATURE_DIM, 1008)

    def forward(self, images: Tensor) -> Tensor:
        x = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
        # pytorch-fid's order: resize first, then rescale.
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        lo, hi = self.input_range
        x = (x - lo) / (hi - lo) * 2 - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
        ):
            x = block(x)
        return F.adaptive_avg_pool2d(x, output_size=1).flatten(1)


def random_fid_weights(seed: int = 0) -> dict[str, Tensor]:
    """A state dict with the published layout and random values (for timing and tests: the
    arithmetic of the real network without its weights) scaled so activations stay of
    order 1 through the 94 convolutions (torch's default init shrinks them to ~1e-8, which
    would make any comparison of features vacuous)."""
    gen = torch.Generator().manual_seed(seed)
    state_dict = {}
    for name, value in FIDInceptionV3().state_dict().items():
        if name.endswith("conv.weight"):
            value = torch.randn(value.shape, generator=gen) * math.sqrt(2 / value[0].numel())
        elif name.endswith(("bn.weight", "bn.running_var")):
            value = torch.rand(value.shape, generator=gen) + 0.5
        elif name.endswith(("bn.bias", "bn.running_mean")):
            value = torch.randn(value.shape, generator=gen) * 0.1
        state_dict[name] = value
    return state_dict


def _how_to_provide(hub_dir: Path) -> str:
    return (
        f"download {FID_WEIGHTS_URL} and pass {WEIGHTS_FLAG} PATH or set {WEIGHTS_ENV_VAR}=PATH "
        f"(or save it as {hub_dir / FID_WEIGHTS_FILENAME})"
    )


def resolve_weights_path(
    weights: str | os.PathLike | None = None, *, download: bool = False
) -> Path:
    """Find the weights file: ``weights`` (the CLI flag), then $GANBENCH_FID_WEIGHTS, then
    torch hub's checkpoints directory; download into the latter only when ``download``."""
    hub_dir = Path(torch.hub.get_dir()) / "checkpoints"
    for given, source in (
        (weights, WEIGHTS_FLAG),
        (os.environ.get(WEIGHTS_ENV_VAR), WEIGHTS_ENV_VAR),
    ):
        if given:
            path = Path(given).expanduser()
            if not path.is_file():
                # An explicit location that is wrong is an error, not a cue to look elsewhere.
                raise BenchError(
                    f"FID Inception weights not found at {path} (from {source}); "
                    + _how_to_provide(hub_dir)
                )
            return path
    path = hub_dir / FID_WEIGHTS_FILENAME
    if path.is_file():
        return path
    if not download:
        raise BenchError("FID Inception weights not found: " + _how_to_provide(hub_dir))
    hub_dir.mkdir(parents=True, exist_ok=True)
    try:
        # hash_prefix makes torch discard a corrupt download instead of caching it.
        torch.hub.download_url_to_file(FID_WEIGHTS_URL, str(path), hash_prefix=FID_WEIGHTS_SHA256)
    except (OSError, RuntimeError) as exc:
        raise BenchError(
            f"could not download the FID Inception weights ({exc}); " + _how_to_provide(hub_dir)
        ) from exc
    return path


def _brief(exc: BaseException, limit: int = 300) -> str:
    """An exception's text on one line and cut short: torch's load errors run to pages."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def load_fid_inception(
    weights: str | os.PathLike | None = None,
    *,
    device: torch.device | str = "cpu",
    input_range: tuple[float, float] = (0.0, 1.0),
    download: bool = False,
    expected_sha256: str = FID_WEIGHTS_SHA256,
    channels_last: bool = False,
) -> FIDInceptionV3:
    """The FID Inception network with verified pytorch-fid weights, in eval mode on ``device``.

    ``channels_last`` stores the convolutions in that memory format: the same float32
    arithmetic in another summation order (features agree to ~5e-7 relative), 1.6x faster
    on this project's 2-core CPU (docs/PERFORMANCE.md).
    Raises BenchError when the file is missing, fails the SHA-256 check or does not load;
    there is no fallback to other weights. ``expected_sha256`` exists for tests.
    """
    path = resolve_weights_path(weights, download=download)
    digest = sha256_file(path)
    if digest != expected_sha256.lower():
        raise BenchError(
            f"FID Inception weights {path} have SHA-256 {digest}, expected {expected_sha256}: "
            f"the file is corrupt or not pytorch-fid's; re-download it from {FID_WEIGHTS_URL}"
        )
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # whatever unpickling raises, the file is unusable
        # torch's own text suggests weights_only=False, which we never want for a download.
        raise BenchError(
            f"cannot read FID Inception weights {path} as a weights-only checkpoint "
            f"({type(exc).__name__}); re-download it from {FID_WEIGHTS_URL}"
        ) from exc
    try:
        return build_fid_inception(state_dict, device=device, input_range=input_range,
                                   channels_last=channels_last)
    except (RuntimeError, TypeError) as exc:
        raise BenchError(
            f"FID Inception weights {path} do not fit the network: {_brief(exc)}"
        ) from exc


def build_fid_inception(
    state_dict: dict[str, Tensor], *, device: torch.device | str = "cpu",
    input_range: tuple[float, float] = (0.0, 1.0), channels_last: bool = False,
) -> FIDInceptionV3:
    """The network with ``state_dict`` loaded (strictly), frozen, in eval mode on ``device``;
    ``load_fid_inception`` is the way in for weights read from a file."""
    model = FIDInceptionV3(input_range=input_range)
    model.load_state_dict(state_dict)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return model.requires_grad_(False).eval().to(device, memory_format=memory_format)


def _precision_settings() -> list:
    """Per-backend float32 precision switches (torch >= 2.9) that could allow TF32 or bf16."""
    candidates = (
        torch.backends.cuda.matmul,
        getattr(torch.backends.cudnn, "conv", None),
        getattr(torch.backends.mkldnn, "matmul", None),
        getattr(torch.backends.mkldnn, "conv", None),
    )
    return [c for c in candidates if c is not None and hasattr(c, "fp32_precision")]


@contextmanager
def strict_float32() -> Iterator[None]:
    """Full float32 precision in matmuls and convolutions (no TF32), restored on exit.

    Published FIDs are computed in plain float32; TF32 convolutions shift features enough
    to move FID noticeably.
    """
    settings = _precision_settings()
    if settings:
        saved = [s.fp32_precision for s in settings]
        try:
            for s in settings:
                s.fp32_precision = "ieee"
            yield
        finally:
            for s, value in zip(settings, saved, strict=True):
                s.fp32_precision = value
        return
    # Older torch: the legacy TF32 switches.
    saved_legacy = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved_legacy


def _batches(images: Tensor | Iterable[Tensor], batch_size: int) -> Iterator[Tensor]:
    chunks = [images] if isinstance(images, Tensor) else images
    for chunk in chunks:
        yield from chunk.split(batch_size)


def extract_features(
    model: nn.Module,
    images: Tensor | Iterable[Tensor],
    *,
    batch_size: int = 50,
    stats: FeatureStats | None = None,
) -> FeatureStats:
    """Stream images (one tensor, or an iterable of batches) through ``model`` in float32,
    ``batch_size`` at a time, into feature statistics on the model's device.

    Pass ``stats`` to keep accumulating into existing statistics.
    """
    device = next(model.parameters()).device
    stats = FeatureStats(device=device) if stats is None else stats
    model.eval()
    with strict_float32(), torch.autocast(device.type, enabled=False), torch.inference_mode():
        for batch in _batches(images, batch_size):
            stats.update(model(batch.to(device=device, dtype=torch.float32)))
    return stats
