"""Checkpoint evaluation of seed-batched toy runs.

All randomness comes from evaluation streams, separate from training, so evaluating more or
less often never changes what a run trains on. Real samples drawn here are fresh, never used
for training: the critic's estimate on them is a held-out estimate.
"""

import numpy as np
import torch
from torch import nn

from bench.config import EvalSpec
from bench.data.toy import ToyDataset
from bench.metrics import mode_coverage, wasserstein1
from bench.streams import MemberStreams
from gan_zoo.losses import AdversarialLoss

GRID_POINTS = 80  # per axis, for the critic contour plots
SNAPSHOT_SAMPLES = 1000


class ToyEvaluator:
    def __init__(
        self,
        dataset: ToyDataset,
        spec: EvalSpec,
        seeds: list[int],
        device: torch.device,
        loss: AdversarialLoss,
        latent_dim: int,
    ) -> None:
        self.dataset = dataset
        self.latent_dim = latent_dim
        self.spec = spec
        self.device = device
        self.loss = loss
        self.streams = MemberStreams(seeds, device, purpose="eval")
        self.centers = dataset.centers_tensor(device) if dataset.has_modes else None

    def _generate(self, generator: nn.Module, n: int) -> torch.Tensor:
        return generator(self.streams.randn((n, self.latent_dim)))

    @torch.no_grad()
    def evaluate(
        self, generator: nn.Module, critic: nn.Module, alive: np.ndarray
    ) -> tuple[dict[int, dict[str, float]], list[int]]:
        """Metrics per living member, and the members whose samples are not finite."""
        spec = self.spec
        samples = self._generate(generator, max(spec.samples, spec.w1_samples))
        real_w1 = self.dataset.sample(self.streams, spec.w1_samples)
        real_c = self.dataset.sample(self.streams, spec.critic_samples)
        fake_c = self._generate(generator, spec.critic_samples)
        d_real, d_fake = critic(real_c), critic(fake_c)
        gap = (d_real.mean(-1) - d_fake.mean(-1)).cpu().numpy()
        estimate = self.loss.estimate(d_real, d_fake).cpu().numpy()
        finite = torch.isfinite(samples).flatten(1).all(-1).cpu().numpy()
        metrics: dict[int, dict[str, float]] = {}
        nonfinite = []
        for member in np.flatnonzero(alive):
            if not finite[member]:
                nonfinite.append(int(member))
                continue
            x = samples[member]
            values = {
                "w1": wasserstein1(x[: spec.w1_samples], real_w1[member]),
                "critic_gap": float(gap[member]),
                "divergence_estimate": float(estimate[member]),
            }
            if self.centers is not None:
                cov = mode_coverage(
                    x[: spec.samples], self.centers, self.dataset.std,
                    spec.hq_threshold, spec.min_share,
                )
                values.update(
                    modes_captured=cov.modes_captured,
                    modes_well_captured=cov.modes_well_captured,
                    hq_fraction=cov.high_quality_fraction,
                    reverse_kl=cov.reverse_kl,
                )
            metrics[int(member)] = values
        return metrics, nonfinite

    def checkpoint_images(self, generator: nn.Module) -> None:
        """2-D runs have no image grids; their samples are plotted from the snapshot."""
        return None

    @torch.no_grad()
    def snapshot(self, generator: nn.Module, critic: nn.Module) -> list[dict[str, np.ndarray]]:
        """Final samples and the critic's values on a grid covering real and fake data."""
        fake = self._generate(generator, SNAPSHOT_SAMPLES)
        real = self.dataset.sample(self.streams, SNAPSHOT_SAMPLES)
        axes, grids = [], []
        for member in range(fake.shape[0]):
            both = torch.cat([real[member], fake[member]])
            both = both[torch.isfinite(both).all(-1)]
            lo = torch.quantile(both, 0.005, dim=0) - 0.3
            hi = torch.quantile(both, 0.995, dim=0) + 0.3
            xs, ys, grid = square_grid(lo, hi, GRID_POINTS)
            axes.append((xs, ys))
            grids.append(grid)
        # one ensemble pass: member k scores its own grid
        values = critic(torch.stack(grids).to(self.device)).cpu()
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
