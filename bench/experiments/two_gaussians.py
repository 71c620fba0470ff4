"""The optimal discriminator vs the critic on two Gaussians (Arjovsky et al. 2017, Fig. 2).

Real and fake samples are 1-D Gaussians far apart (real at -distance/2, fake at
+distance/2), the fakes held fixed. Every registered GAN trains K seed-batched critics on them
with its own loss, constraint and recipe optimizer (adversary.py); we record each critic's
output over x (the GAN's D(x) = sigmoid(s), a WGAN critic's f(x)), the mean magnitude of its
gradient at the fake samples (the gradient a generator there would get) and its steepest
slope over x. A clipped critic is Lipschitz only up to an unknown constant (its whole output is
small), so the claim compares the gradient at the fakes as a fraction of the network's own
steepest slope: a saturated discriminator's is vanishingly small, a linear critic's near 1.
Results go to ``<out_dir>/two_gaussians_curves.csv`` and ``two_gaussians_gradients.csv``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.core.atomic import write_text_atomic
from bench.core.specs import TwoGaussiansSpec
from bench.experiments.adversary import Adversary, input_gradient, make_adversary
from bench.experiments.files import write_once
from bench.storage.experiment_outputs import GAUSSIANS_CURVES_FILE, GAUSSIANS_GRADIENTS_FILE
from gan_zoo.registry import GANS

CURVE_POINTS = 201
EVAL_SAMPLES = 1024
"""Fresh fake samples the gradient is averaged over."""


def gaussian_samples(adv: Adversary, mean: float, std: float, n: int) -> torch.Tensor:
    """n draws of N(mean, std^2) per member, [K, n, 1]."""
    return mean + std * adv.randn((n, 1))


def train_critics(gan: str, spec: TwoGaussiansSpec, device: torch.device) -> Adversary:
    """``spec.seeds`` critics of ``gan`` trained on real vs the fixed fakes."""
    adv = make_adversary(gan, list(range(spec.seeds)), 1, spec.width, spec.depth, spec.lr,
                         spec.gp_weight, device)
    for _ in range(spec.critic_steps):
        adv.critic_step(gaussian_samples(adv, -spec.distance / 2, spec.std, spec.batch_size),
                        gaussian_samples(adv, spec.distance / 2, spec.std, spec.batch_size))
    return adv


def experiment_rows(spec: TwoGaussiansSpec,
                    device: torch.device) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curves: per GAN, seed and x, the critic's output; gradients: per GAN and seed, the
    mean |d output / dx| at fresh fake samples and its largest value over the curve's x)."""
    xs = np.linspace(-spec.distance, spec.distance, CURVE_POINTS)
    curves, gradients = [], []
    for gan in GANS:
        adv = train_critics(gan, spec, device)

        def output(x: torch.Tensor, adv: Adversary = adv) -> torch.Tensor:
            return adv.loss.output(adv.critic(x))

        grid = torch.tensor(xs, dtype=torch.float32, device=device).view(1, -1, 1)
        with torch.no_grad():
            values = output(grid.expand(adv.members, -1, -1)).cpu().numpy()
        fakes = gaussian_samples(adv, spec.distance / 2, spec.std, EVAL_SAMPLES)
        grad = input_gradient(output, fakes).mean(-1).cpu().numpy()
        steepest = input_gradient(output, grid.expand(adv.members, -1, -1)).amax(-1).cpu().numpy()
        for seed in range(adv.members):
            curves.append(pd.DataFrame({"gan": gan, "seed": seed, "x": xs,
                                        "output": values[seed]}))
            gradients.append({"gan": gan, "seed": seed, "grad_at_fakes": float(grad[seed]),
                              "steepest": float(steepest[seed])})
    return pd.concat(curves, ignore_index=True), pd.DataFrame.from_records(gradients)


def run_two_gaussians(out_dir: Path, device: torch.device, spec: TwoGaussiansSpec) -> bool:
    """Run the experiment into ``out_dir`` unless it is already there (resume); returns
    whether it ran."""
    def write(out: Path) -> None:
        curves, gradients = experiment_rows(spec, device)
        write_text_atomic(out / GAUSSIANS_CURVES_FILE, curves.to_csv(index=False))
        write_text_atomic(out / GAUSSIANS_GRADIENTS_FILE, gradients.to_csv(index=False))

    return write_once(out_dir, (GAUSSIANS_CURVES_FILE, GAUSSIANS_GRADIENTS_FILE), device, write)
