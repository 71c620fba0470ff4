"""The WGAN-GP paper's critic experiment (Gulrajani et al. 2017, Fig. 1), a cheap side run.

The generator is held fixed at the real data plus unit Gaussian noise (as in the paper's toy
code) and only critics train, K seeds at once as one batched ensemble:

- gradient norms (Fig. 1b, left): a deep ReLU MLP critic (12 hidden layers, no batch norm) on
  swissroll under weight clipping at c = 0.1, 0.01, 0.001 and under the gradient penalty; the
  norm of the loss gradient of every layer's weight matrix, averaged over the second half of
  training;
- value surfaces (Fig. 1a): a toy-sized critic (3 hidden layers) per 2-D dataset under
  clipping (c = 0.01) and the penalty, evaluated on a grid.

Each constraint trains with its paper recipe's optimizer (RMSProp 5e-5 for clipping, Adam 1e-4
with betas (0.5, 0.9) for the penalty), so the comparison is the papers' own. Results go to
``<out_dir>/gradient_norms.csv`` and ``<out_dir>/surfaces.npz``; plots are drawn from them by
the report, which reads them through critic_outputs.py.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from bench.core.atomic import atomic_write, write_text_atomic
from bench.core.specs import DiagnosticsSpec
from bench.data.toy import ToyDataset, get_toy_dataset
from bench.experiments.adversary import make_optimizer_for
from bench.experiments.files import write_once
from bench.storage.critic_outputs import (
    CLIP_VALUES,
    GRADIENT_DATASET,
    GRADIENT_FILE,
    SURFACE_DATASETS,
    SURFACE_FILE,
)
from bench.training.evaluation import square_grid
from bench.training.streams import MemberStreams
from gan_zoo.architectures.mlp import EnsembleCritic
from gan_zoo.constraints import Constraint, GradientPenalty, WeightClipping
from gan_zoo.critic_step import critic_gradient, critic_update
from gan_zoo.losses import wasserstein_critic_loss
from gan_zoo.recipes import recipe_for

SURFACE_CLIP = 0.01
"""The WGAN recipe's c, used for the value surfaces."""
SURFACE_DEPTH = 3  # the WGAN-GP toy code's critic
GRID_POINTS = 64


@dataclass(frozen=True)
class Setting:
    """A critic constraint with the optimizer of its paper recipe."""

    label: str
    constraint: Constraint
    gan: str
    """The GAN whose toy recipe gives the optimizer (wgan-clip or wgan-gp)."""


def clip_setting(c: float) -> Setting:
    return Setting(f"clip {c:g}", WeightClipping(c), "wgan-clip")


def gp_setting(weight: float) -> Setting:
    return Setting("gradient penalty", GradientPenalty(weight), "wgan-gp")


def train_critic(
    dataset: ToyDataset, setting: Setting, spec: DiagnosticsSpec, depth: int,
    device: torch.device,
) -> tuple[EnsembleCritic, Tensor]:
    """Train ``spec.seeds`` critics against the fixed generator (real data + N(0, 1) noise).

    Returns the critics and each layer's mean weight-gradient norm over the second half of
    training, shape [layers, K] (layer 0 is the input layer). The gradient is that of the
    loss the critic minimises, penalty included.
    """
    seeds = list(range(spec.seeds))
    streams = MemberStreams(seeds, device, purpose="train")
    init = MemberStreams(seeds, device, purpose="init")
    critic = EnsembleCritic(init.generators, dataset.dim, spec.width, depth).to(device)
    optimizer = make_optimizer_for(recipe_for(setting.gan, "toy"), critic.parameters(), "critic")
    weights = [layer.weight for layer in critic.linear_layers()]
    norm_sum = torch.zeros(len(weights), len(seeds), device=device)
    recorded = 0
    for step in range(spec.critic_steps):
        real = dataset.sample(streams, spec.batch_size)
        fake = dataset.sample(streams, spec.batch_size) + streams.randn((spec.batch_size, 2))
        critic_gradient(critic, wasserstein_critic_loss, setting.constraint, optimizer, real,
                        fake, streams.rand)
        if step >= spec.critic_steps // 2:
            norm_sum += torch.stack([w.grad.flatten(1).norm(dim=1) for w in weights])
            recorded += 1
        critic_update(critic, setting.constraint, optimizer)
    return critic, norm_sum / max(recorded, 1)


def gradient_norm_rows(spec: DiagnosticsSpec, device: torch.device) -> pd.DataFrame:
    """Per setting, seed and layer (1 = input layer): the mean weight-gradient norm."""
    dataset = get_toy_dataset(GRADIENT_DATASET)
    settings = [clip_setting(c) for c in CLIP_VALUES] + [gp_setting(spec.gp_weight)]
    records = []
    for setting in settings:
        _, norms = train_critic(dataset, setting, spec, spec.depth, device)
        clip = getattr(setting.constraint, "clip_value", float("nan"))
        for layer, per_seed in enumerate(norms.cpu().numpy(), start=1):
            records += [
                {"setting": setting.label, "clip_value": clip, "seed": seed, "layer": layer,
                 "grad_norm": float(value)}
                for seed, value in enumerate(per_seed)
            ]
    return pd.DataFrame.from_records(records)


@torch.no_grad()
def _surface(critic: EnsembleCritic, real: Tensor) -> dict[str, np.ndarray]:
    xs, ys, grid = square_grid(real.min(0).values - 1.0, real.max(0).values + 1.0, GRID_POINTS)
    grid = grid.to(real.device)
    values = critic(grid.expand(critic.members, -1, -1))[0]  # the first seed's critic
    return {"x": xs.numpy(), "y": ys.numpy(), "values":
            values.reshape(GRID_POINTS, GRID_POINTS).cpu().numpy()}


def surface_arrays(spec: DiagnosticsSpec, device: torch.device) -> dict[str, np.ndarray]:
    """Critic values on a grid per dataset and constraint, keyed '<dataset>/<setting>/<x|y|
    values>', and real samples keyed '<dataset>/real'."""
    arrays = {}
    for name in SURFACE_DATASETS:
        dataset = get_toy_dataset(name)
        real = dataset.sample(MemberStreams([0], device, purpose="eval"), 500)[0]
        arrays[f"{name}/real"] = real.cpu().numpy()
        for setting in (clip_setting(SURFACE_CLIP), gp_setting(spec.gp_weight)):
            critic, _ = train_critic(dataset, setting, spec, SURFACE_DEPTH, device)
            for key, value in _surface(critic, real).items():
                arrays[f"{name}/{setting.label}/{key}"] = value
    return arrays


def run_critic_diagnostics(out_dir: Path, device: torch.device, spec: DiagnosticsSpec) -> bool:
    """Run the experiment into ``out_dir`` unless it is already there (resume); returns
    whether it ran."""
    def write(out: Path) -> None:
        write_text_atomic(out / GRADIENT_FILE,
                          gradient_norm_rows(spec, device).to_csv(index=False))
        arrays = surface_arrays(spec, device)

        def write_npz(tmp: Path) -> None:
            with tmp.open("wb") as handle:  # a handle: savez would append .npz to a path
                np.savez_compressed(handle, **arrays)

        atomic_write(out / SURFACE_FILE, write_npz)

    return write_once(out_dir, (GRADIENT_FILE, SURFACE_FILE), device, write)

