"""Learning parallel lines (Arjovsky et al. 2017, Example 1 and Fig. 1), a cheap side run.

P0 is uniform on the segment {0} x [0, 1] and P_theta is the same segment at x = theta:
W1(P0, P_theta) = |theta|, while JS(P0, P_theta) = log 2 for every theta != 0. Two parts,
every registered GAN in each, K seeds at once as one batched ensemble:

- estimate vs theta (the paper's Fig. 1): for theta on a grid in [-1, 1], a critic trained
  on P0 vs P_theta; its divergence estimate (the GAN loss's own: W1 for the WGANs, JS for the
  GAN) on fresh samples, and the critic's mean input-gradient norm (its realised Lipschitz
  constant: a K-Lipschitz critic estimates K * W1, WGAN Sec. 3);
- learning theta (the paper's "usable gradient"): the one-parameter generator
  g_theta(z) = (theta, z), z ~ U[0, 1], started at several theta_0 and trained with its critic
  alternately (the recipe's critic steps per generator step). theta takes plain SGD steps,
  so the gradient's size matters (Adam or RMSProp would erase it: a vanishing gradient would
  still move theta), on the generator loss in units of the critic's own slope at the fakes:
  a clipped critic's scale is its clipping bound, not the divergence's gradient. Each GAN's
  generator trains with the minimax loss, the game the divergence argument is about
  (AdversarialLoss.minimax_generator), and, where the GAN trains another (the GAN's
  non-saturating loss), with that one too, as an extra arm.

The suite's trainer is not used: it builds the generator from the suite's networks
(workload.build_group: an MLP or a DCGAN over a registered dataset) and samples P_r from the
dataset registry; a generator with one scalar parameter and a target that is a segment are
neither. The losses, constraints and critic optimizers are the trainer's all the same
(adversary.py). Results go to ``<out_dir>/parallel_lines_estimates.csv`` and
``parallel_lines_theta.csv``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from bench.core.atomic import write_text_atomic
from bench.core.specs import ParallelLinesSpec
from bench.experiments.adversary import Adversary, input_gradient, make_adversary
from bench.experiments.files import write_once
from bench.storage.experiment_outputs import (
    LINES_ESTIMATES_FILE,
    LINES_THETA_FILE,
    MINIMAX,
    THETA_STARTS,
)
from gan_zoo.losses import AdversarialLoss, GeneratorLoss
from gan_zoo.registry import GANS, get_gan

EVAL_SAMPLES = 1024
"""Fresh samples of P0 and P_theta for each critic's estimate."""
SLOPE_FLOOR = 1e-12
"""A critic slope below this counts as this (its generator gradient is then ~0 too)."""


def line_samples(theta: Tensor, adv: Adversary, n: int) -> Tensor:
    """n points of P_theta per member, [K, n, 2]: (theta_k, z) with z ~ U[0, 1]; the first
    coordinate keeps theta's graph, so the points are differentiable in theta."""
    z = adv.rand((n, 1))
    return torch.cat([theta.view(-1, 1, 1).expand(-1, n, 1), z], dim=-1)


def _members(values: np.ndarray, seeds: int, device: torch.device) -> tuple[Tensor, list[int]]:
    """Each value repeated for ``seeds`` members (value-major), and one initialisation seed
    per member: member m holds value m // seeds under seed m % seeds."""
    repeated = torch.tensor(np.repeat(values, seeds), dtype=torch.float32, device=device)
    return repeated, list(range(len(repeated)))


def estimate_rows(spec: ParallelLinesSpec, device: torch.device) -> pd.DataFrame:
    """Per GAN, theta and seed: the trained critic's estimate and mean input-gradient norm."""
    grid = np.linspace(-1.0, 1.0, spec.thetas)
    theta, init_seeds = _members(grid, spec.seeds, device)
    zero = torch.zeros_like(theta)
    records = []
    for gan in GANS:
        adv = make_adversary(gan, init_seeds, 2, spec.width, spec.depth, spec.lr,
                             spec.gp_weight, device)
        for _ in range(spec.critic_steps):
            adv.critic_step(line_samples(zero, adv, spec.batch_size),
                            line_samples(theta, adv, spec.batch_size))
        real = line_samples(zero, adv, EVAL_SAMPLES)  # fresh: never trained on
        fake = line_samples(theta, adv, EVAL_SAMPLES)
        with torch.no_grad():
            estimate = adv.loss.estimate(adv.critic(real), adv.critic(fake))
        lipschitz = input_gradient(adv.critic, torch.cat([real, fake], dim=1)).mean(-1)
        for m, (e, lip) in enumerate(zip(estimate.tolist(), lipschitz.tolist(), strict=True)):
            records.append({"gan": gan, "estimate_name": adv.loss.estimate_name,
                            "theta": float(grid[m // spec.seeds]), "seed": m % spec.seeds,
                            "estimate": e, "lipschitz": lip})
    return pd.DataFrame.from_records(records)


def generator_arms(loss: AdversarialLoss) -> list[tuple[str, GeneratorLoss]]:
    """The generator losses theta trains with against one GAN's critic, named: the minimax
    game's (MINIMAX), then the GAN's own where it trains another one (an extra arm)."""
    arms = [(MINIMAX, loss.minimax_generator or loss.generator)]
    if loss.minimax_generator is not None:
        arms.append((loss.name, loss.generator))
    return arms


def theta_rows(spec: ParallelLinesSpec, device: torch.device) -> pd.DataFrame:
    """Per GAN, generator loss, seed and start: theta at every generator step, and before
    each step |dL_G/dtheta| and the critic's mean input-gradient norm at the fakes.

    Each step is plain SGD at the section's ``generator_lr`` on dL_G/dtheta divided by that
    norm (the critic's slope, per member): a WGAN critic's step is then at most lr, the
    exact W1's lr * sign(theta) when its slope points along x, whatever its Lipschitz
    constant; the minimax GAN's is at most lr times the largest D(G(z)), which vanishes as
    the discriminator saturates."""
    starts = np.asarray(THETA_STARTS) * spec.theta0
    frames = []
    for gan in GANS:
        for generator_loss, loss_fn in generator_arms(get_gan(gan).loss):
            start, init_seeds = _members(starts, spec.seeds, device)
            adv = make_adversary(gan, init_seeds, 2, spec.width, spec.depth, spec.lr,
                                 spec.gp_weight, device)
            theta = start.clone().requires_grad_(True)
            zero = torch.zeros_like(start)
            history = torch.empty(spec.generator_steps + 1, len(start), device=device)
            grads = torch.full_like(history, float("nan"))
            slopes = torch.full_like(history, float("nan"))
            history[0] = start
            for step in range(spec.generator_steps):
                for _ in range(spec.theta_critic_steps):
                    adv.critic_step(line_samples(zero, adv, spec.batch_size),
                                    line_samples(theta.detach(), adv, spec.batch_size))
                fake = line_samples(theta, adv, spec.batch_size)
                slope = input_gradient(adv.critic, fake).mean(-1)
                (grad,) = torch.autograd.grad(loss_fn(adv.critic(fake)).sum(), theta)
                with torch.no_grad():  # members share nothing: grad[k] is member k's own
                    theta -= spec.generator_lr * grad / slope.clamp_min(SLOPE_FLOOR)
                grads[step], slopes[step] = grad.abs(), slope
                history[step + 1] = theta.detach()
            steps, members = np.meshgrid(np.arange(spec.generator_steps + 1),
                                         np.arange(len(start)), indexing="ij")
            frames.append(pd.DataFrame({
                "gan": gan, "generator_loss": generator_loss,
                "seed": (members % spec.seeds).ravel(),
                "start": starts[members // spec.seeds].ravel(), "step": steps.ravel(),
                "theta": history.cpu().numpy().ravel(), "grad": grads.cpu().numpy().ravel(),
                "slope": slopes.cpu().numpy().ravel()}))
    return pd.concat(frames, ignore_index=True)


def run_parallel_lines(out_dir: Path, device: torch.device, spec: ParallelLinesSpec) -> bool:
    """Run the experiment into ``out_dir`` unless it is already there (resume); returns
    whether it ran."""
    def write(out: Path) -> None:
        write_text_atomic(out / LINES_ESTIMATES_FILE,
                          estimate_rows(spec, device).to_csv(index=False))
        write_text_atomic(out / LINES_THETA_FILE, theta_rows(spec, device).to_csv(index=False))

    return write_once(out_dir, (LINES_ESTIMATES_FILE, LINES_THETA_FILE), device, write)
