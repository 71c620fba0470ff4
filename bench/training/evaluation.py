"""Checkpoint evaluation of a group: one evaluator for every dataset.

At each checkpoint the evaluator generates samples, scores held-out real samples and the
generated ones with the critic (its divergence estimate), and runs every registered metric
each member's dataset declares (``bench.metrics.registry``) on the features its extractor
makes. Members of one group may train on different 2-D datasets. It asks each ``Dataset``
what applies and never looks at its name.

Protocol for generating (recorded in each run's config as ``evaluation.generator``): the
networks stay in training mode, and samples are drawn in fixed batches of the run's training
batch size, as the WGAN reference code samples. Batch-norm layers therefore normalise over
exactly the batches training would use, so no result depends on a memory-tuning chunk
size; their running statistics, which training never reads, are restored afterwards, so
evaluating leaves the networks as it found them.

All randomness comes from evaluation streams, separate from training, so evaluating more or
less often never changes training. Real samples drawn for the critic's estimate are held out
(fresh 2-D samples, or the test split), never used for training.
"""

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor, nn

from bench.core.specs import EvalSpec
from bench.data import Dataset
from bench.features.extractors import Extractors
from bench.metrics.frechet import FrechetReference
from bench.metrics.registry import CRITIC_OUTPUTS, METRICS, Metric, MetricInput, Reference
from bench.training.streams import MemberStreams
from gan_zoo.losses import AdversarialLoss

GENERATOR_PROTOCOL = ("training mode; fixed batches of the training batch size (batch norm "
                      "over those batches, as the WGAN reference samples); batch-norm running "
                      "statistics restored")
GRID_IMAGES = 64
GRID_POINTS = 80  # per axis, for the critic contour plots
SNAPSHOT_SAMPLES = 1000


class Sampler(Protocol):
    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        """[K, n, ...] real samples, member k from stream k."""
        ...


class ReferenceSource(Protocol):
    """The real side metrics compare with."""

    fixed: bool
    """True: the same samples every checkpoint (a split's subset); False: fresh draws."""

    def sample(self, streams: MemberStreams, n: int) -> Tensor:
        """[K, n, ...] real samples (the same every call when ``fixed``)."""
        ...

    def split_statistics(self, extractor: str, key: dict,
                         extract: Callable[[Tensor], Tensor]) -> tuple[Tensor, Tensor] | None:
        """Mean and covariance of the whole reference split's features (cached on disk), or
        None when there is no split (2-D data)."""
        ...


@contextmanager
def restored_buffers(*modules: nn.Module) -> Iterator[None]:
    """Run the body, then put every buffer (batch norm's running statistics) back."""
    saved = [(b, b.detach().clone()) for m in modules for b in m.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)


def in_batches(fn: Callable[[Tensor], Tensor], x: Tensor, batch: int) -> Tensor:
    """``fn`` over [K, n, ...] in slices of ``batch`` along n (the last may be shorter)."""
    return torch.cat([fn(part) for part in x.split(batch, dim=1)], dim=1)


def image_grid(images: Tensor, columns: int = 8) -> np.ndarray:
    """[B, C, H, W] in [-1, 1] -> one uint8 [rows*H, columns*W, C] picture, 1-px gutters."""
    from torchvision.utils import make_grid  # here: torchvision costs 2-D workers seconds

    grid = make_grid(images.detach().float().cpu().clamp(-1, 1), nrow=columns, padding=1,
                     pad_value=-1.0)
    if images.shape[1] == 1:
        grid = grid[:1]  # make_grid repeats a single channel as RGB
    return ((grid + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


@dataclass(frozen=True)
class ActiveMetric:
    metric: Metric
    extractor: str
    samples: int
    protocol: str


class Evaluator:
    """Evaluates the K members of a group at its checkpoints; member k's samples are scored
    with ``datasets[k]``'s metrics and features (``extractors`` by dataset name)."""

    def __init__(
        self, datasets: list[Dataset], heldout: Sampler, reference: ReferenceSource,
        spec: EvalSpec, seeds: list[int], device: torch.device, loss: AdversarialLoss,
        latent_dim: int, batch_size: int, extractors: dict[str, Extractors],
    ) -> None:
        self.datasets, self.heldout, self.reference = datasets, heldout, reference
        self.spec, self.device, self.loss = spec, device, loss
        self.latent_dim, self.batch_size = latent_dim, batch_size
        self.extractors = extractors
        self.streams = MemberStreams(seeds, device, purpose="eval")
        self.metrics = {name: self._active_metrics(e) for name, e in extractors.items()}
        self._fixed: dict[str, list[Reference]] = {}

    def _active_metrics(self, extractors: Extractors) -> list[ActiveMetric]:
        active = []
        for name in extractors.dataset.metrics:
            metric = METRICS[name]
            extractor = extractors.resolve(metric.extractor)
            n = metric.samples(self.spec)
            if extractor is not None and n > 0:
                active.append(ActiveMetric(metric, extractor, n,
                                           metric.protocol(self.spec, extractor)))
        return active

    @property
    def is_points(self) -> bool:
        return self.datasets[0].is_points  # a group's members share one sample shape

    def protocols(self, member: int) -> dict[str, str]:
        """Metric name -> protocol name of member ``member``, for the run's config."""
        return {a.metric.name: a.protocol for a in self.metrics[self.datasets[member].name]}

    # --- sampling ----------------------------------------------------------------------

    def generate(self, generator: nn.Module, n: int) -> Tensor:
        """[K, n, ...] samples in fixed batches of the training batch size (the protocol)."""
        batches = math.ceil(n / self.batch_size)
        with restored_buffers(generator):
            parts = [generator(self.streams.randn((self.batch_size, self.latent_dim)))
                     for _ in range(batches)]
        return torch.cat(parts, dim=1)[:, :n]

    def _score(self, critic: nn.Module, samples: Tensor) -> Tensor:
        with restored_buffers(critic):
            return in_batches(critic, samples, self.batch_size)

    def _references(self, n_by_extractor: dict[str, int]) -> dict[str, list[Reference]]:
        """Per extractor, each member's real side (its own dataset's); a fixed reference is
        one split shared by the members, built once."""
        refs = dict(self._fixed) if self.reference.fixed else {}
        for extractor, n in n_by_extractor.items():
            if extractor in refs:
                continue
            real = self.reference.sample(self.streams, n)
            if self.reference.fixed:
                refs[extractor] = [self._split_reference(extractor, real[0])]
            else:
                refs[extractor] = [
                    Reference(self.extractors[d.name](extractor, x))
                    for d, x in zip(self.datasets, real, strict=True)]
        if self.reference.fixed:
            self._fixed = refs
        return refs

    def _split_reference(self, extractor: str, real: Tensor) -> Reference:
        extract = self.extractors[self.datasets[0].name]
        stats = self.reference.split_statistics(
            extractor, extract.keys.get(extractor, {}), lambda x: extract(extractor, x))
        frechet = None if stats is None else FrechetReference(*stats, device=self.device)
        return Reference(extract(extractor, real), frechet)

    # --- the checkpoint ----------------------------------------------------------------

    @torch.no_grad()
    def evaluate(
        self, generator: nn.Module, critic: nn.Module, alive: np.ndarray
    ) -> tuple[dict[int, dict[str, float]], list[int]]:
        """Metrics per living member, and the members whose samples are not finite."""
        spec = self.spec
        active = [a for metrics in self.metrics.values() for a in metrics]
        n = max([spec.critic_samples, *(a.samples for a in active)])
        fakes = self.generate(generator, n)
        real_c = self.heldout.sample(self.streams, spec.critic_samples)
        d_real = self._score(critic, real_c)
        d_fake = self._score(critic, fakes[:, : real_c.shape[1]])
        gap = (d_real.mean(-1) - d_fake.mean(-1)).cpu().numpy()
        estimate = self.loss.estimate(d_real, d_fake).cpu().numpy()
        finite = torch.isfinite(fakes).flatten(1).all(-1).cpu().numpy()
        needs: dict[str, int] = {}
        for a in active:
            needs[a.extractor] = max(needs.get(a.extractor, 0), a.samples)
        references = self._references({e: n for e, n in needs.items() if any(
            a.extractor == e and a.metric.needs_reference for a in active)})
        results: dict[int, dict[str, float]] = {}
        nonfinite = []
        for member in np.flatnonzero(alive):
            member = int(member)
            if not finite[member]:
                nonfinite.append(member)
                continue
            values = dict(zip((o.name for o in CRITIC_OUTPUTS), (gap[member], estimate[member]),
                              strict=True))
            dataset = self.datasets[member]
            metrics = self.metrics[dataset.name]
            extract = self.extractors[dataset.name]
            features = {e: extract(e, fakes[member, :m]) for e, m in needs.items()
                        if any(a.extractor == e for a in metrics)}
            for a in metrics:
                reference = (references[a.extractor][0 if self.reference.fixed else member]
                             if a.metric.needs_reference else None)
                values.update(a.metric.compute(MetricInput(
                    features[a.extractor][: a.samples], reference, dataset, spec)))
            results[member] = {k: float(v) for k, v in values.items()}
        return results, nonfinite

    # --- pictures -------------------------------------------------------------------------

    @torch.no_grad()
    def checkpoint_images(self, generator: nn.Module) -> list[np.ndarray] | None:
        """A grid of generated images per member; None for 2-D points (plotted from the
        snapshot instead)."""
        if self.is_points:
            return None
        return [image_grid(member) for member in self.generate(generator, GRID_IMAGES)]

    @torch.no_grad()
    def snapshot(self, generator: nn.Module, critic: nn.Module) -> list[dict[str, np.ndarray]]:
        """2-D points: final samples and the critic's values on a grid covering real and
        generated data. Images: nothing (their grids are saved at every checkpoint)."""
        if not self.is_points:
            return [{} for _ in range(self.streams.members)]
        fake = self.generate(generator, SNAPSHOT_SAMPLES)
        real = self.heldout.sample(self.streams, SNAPSHOT_SAMPLES)
        axes, grids = [], []
        for member in range(fake.shape[0]):
            both = torch.cat([real[member], fake[member]])
            both = both[torch.isfinite(both).all(-1)]
            lo = torch.quantile(both, 0.005, dim=0) - 0.3
            hi = torch.quantile(both, 0.995, dim=0) + 0.3
            xs, ys, grid = square_grid(lo, hi, GRID_POINTS)
            axes.append((xs, ys))
            grids.append(grid)
        values = self._score(critic, torch.stack(grids).to(self.device)).cpu()
        return [
            {
                "fake": fake[member].cpu().numpy(),
                "real": real[member].cpu().numpy(),
                "grid_x": xs.numpy(),
                "grid_y": ys.numpy(),
                "critic": values[member].reshape(GRID_POINTS, GRID_POINTS).numpy(),
            }
            for member, (xs, ys) in enumerate(axes)
        ]


def square_grid(lo: torch.Tensor, hi: torch.Tensor, points: int):
    """Axes (xs, ys) of a ``points`` x ``points`` grid spanning [lo, hi] (2-vectors) and its
    points [points^2, 2] in row-major (y, x) order, so values ``reshape(points, points)``
    line up with ``contourf(xs, ys, values)``. Axes and points are on the CPU."""
    lo, hi = lo.cpu(), hi.cpu()
    xs = torch.linspace(float(lo[0]), float(hi[0]), points)
    ys = torch.linspace(float(lo[1]), float(hi[1]), points)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    return xs, ys, torch.stack([gx.flatten(), gy.flatten()], -1)
