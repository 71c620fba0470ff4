"""pytorch-fid's FID Inception v3: the network, its verified weights, and feature streaming.

This is not torchvision's Inception v3. It is the TensorFlow FID graph ported by
pytorch-fid: different weights (1008 classes), and pooling patched to match TensorFlow:
average pools that ignore padding in the A, C and first E blocks, a max pool in the last
E block. The network is built from ``pytorch_fid.inception``'s own blocks; only the
weights come another way, from a local file checked against its SHA-256, since pytorch-fid
would fetch them from the web unchecked. Features are the 2048-d output of the final
average pool ("pool3"), computed on images resized bilinearly to 299x299 and scaled to
[-1, 1], in eval mode. The Inception Score's logits come from the same network fed as
torch-fidelity feeds it (``InceptionScoreLogits``: 8-bit pixels, TensorFlow 1's resize).
"""

import hashlib
import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from pytorch_fid.inception import (
    FIDInceptionA,
    FIDInceptionC,
    FIDInceptionE_1,
    FIDInceptionE_2,
    _inception_v3,
)
from torch import Tensor, nn
from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x
from torchvision.models.inception import Inception3

from bench.core.errors import BenchError
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
INPUT_SIZE = 299


def _fid_inception3() -> Inception3:
    """torchvision's Inception v3 patched into the FID graph exactly as pytorch-fid's
    ``fid_inception_v3()`` patches it, without the weight download that function ends with."""
    net = _inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


class FIDInceptionV3(nn.Module):
    """FID Inception v3 up to pool3: images (B, C, H, W) -> features (B, 2048).

    ``input_range`` is the range the images come in, (0, 1) as pytorch-fid expects or
    (-1, 1) as tanh generators produce; either is mapped to [-1, 1]. One-channel images
    are repeated to RGB, as PIL's ``convert("RGB")`` does in pytorch-fid's loader.
    """

    def __init__(self, input_range: tuple[float, float] = (0.0, 1.0)):
        super().__init__()
        self.input_range = input_range
        # pytorch-fid's stages become ours, unnested, so its state dict loads as is.
        for name, stage in _fid_inception3().named_children():
            self.add_module(name, stage)
        # Registration follows torchvision's forward order; dropout and fc (the 1008
        # logits, kept because the published state dict loads strictly) come after pool3.
        names = list(self._modules)
        self._pool3_stages = names[: names.index("avgpool") + 1]

    def logits(self, pool3: Tensor) -> Tensor:
        """The 1008-way logits of pool3 features without the fc bias (torch-fidelity's
        ``logits_unbiased``, the original Inception Score code's pool3 @ W)."""
        return pool3 @ self.fc.weight.T

    def pool3(self, x: Tensor) -> Tensor:
        """pool3 features of images already resized to 299x299 RGB and scaled to [-1, 1]."""
        for name in self._pool3_stages:
            x = getattr(self, name)(x)
        return x.flatten(1)

    def forward(self, images: Tensor) -> Tensor:
        # pytorch-fid's order: resize first, then rescale.
        x = F.interpolate(_rgb(images), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                          align_corners=False)
        lo, hi = self.input_range
        return self.pool3((x - lo) / (hi - lo) * 2 - 1)


def _rgb(images: Tensor) -> Tensor:
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def quantize_8bit(images: Tensor, input_range: tuple[float, float]) -> Tensor:
    """Images in ``input_range`` as the 8-bit pixels torch-fidelity scores: its example
    generator's ``(255 * (x.clamp(-1, 1) * 0.5 + 0.5)).to(torch.uint8)``, which truncates as
    the WGAN-GP code's ``((samples + 1.) * (255. / 2)).astype('int32')`` does."""
    lo, hi = input_range
    return (255 * ((images.clamp(lo, hi) - lo) / (hi - lo))).to(torch.uint8)


class InceptionScoreLogits(nn.Module):
    """The Inception Score's input: images (B, C, H, W) in the network's ``input_range`` ->
    1008 logits without the fc bias, fed as torch-fidelity's ``FeatureExtractorInceptionV3``
    and the original TensorFlow code feed the network: 8-bit pixels, TensorFlow 1's bilinear
    resize to 299x299 (torch-fidelity's own ``interpolate_bilinear_2d_like_tensorflow1x``),
    then ``(x - 128) / 128``. pytorch-fid's input (``forward``: torch's bilinear resize of
    unquantised floats) gives other logits wherever the resize is not the identity
    (tests/test_inception_score.py)."""

    def __init__(self, inception: FIDInceptionV3) -> None:
        super().__init__()
        self.inception = inception

    def forward(self, images: Tensor) -> Tensor:
        pixels = quantize_8bit(_rgb(images), self.inception.input_range).float()
        x = interpolate_bilinear_2d_like_tensorflow1x(pixels, size=(INPUT_SIZE, INPUT_SIZE),
                                                      align_corners=False)
        return self.inception.logits(self.inception.pool3((x - 128) / 128))


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


def feature_batches(
    model: nn.Module, images: Tensor | Iterable[Tensor], batch_size: int = 50
) -> Iterator[Tensor]:
    """``model``'s features of ``images`` (one tensor, or an iterable of batches),
    ``batch_size`` at a time, in strict float32 on the model's device. An eval-mode network
    embeds every image on its own, so ``batch_size`` bounds memory, not the result."""
    device = next(model.parameters()).device
    model.eval()
    with strict_float32(), torch.autocast(device.type, enabled=False), torch.inference_mode():
        for batch in _batches(images, batch_size):
            yield model(batch.to(device=device, dtype=torch.float32))


def all_features(model: nn.Module, images: Tensor, batch_size: int = 50) -> Tensor:
    """All of ``model``'s outputs [N, D] for ``images`` (see ``feature_batches``)."""
    return torch.cat(list(feature_batches(model, images, batch_size)))


def extract_features(
    model: nn.Module,
    images: Tensor | Iterable[Tensor],
    *,
    batch_size: int = 50,
    stats: FeatureStats | None = None,
) -> FeatureStats:
    """Stream ``images`` through ``model`` (see ``feature_batches``) into feature statistics
    on the model's device, never holding all features. Pass ``stats`` to keep accumulating
    into existing statistics."""
    device = next(model.parameters()).device
    stats = FeatureStats(device=device) if stats is None else stats
    for features in feature_batches(model, images, batch_size):
        stats.update(features)
    return stats
