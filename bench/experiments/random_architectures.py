"""Random architectures (Gulrajani et al. 2017, Sec. 5.1 and Table 2), on 2-D data.

The paper trains 200 random generator/critic pairs with each method and counts those that
reach an Inception Score threshold: WGAN-GP trains many more of them. Here ``architectures``
pairs of MLPs are drawn from the section's space (depth, width, activation, normalisation or
not; the generator and the critic drawn apart; image networks and filter counts are left
out) with a seeded RNG, and every registered GAN trains each pair once with its gan_zoo loss
and constraint and its recipe (the suite's ``recipes:`` overrides included: optimizer,
learning rate, critic steps). Every GAN gets the same draws, initial weights, data stream
seed and evaluation samples. A run's outcome is measured on its final samples
(``final_measures``): the VEEGAN/PacGAN mode coverage that decides its success (every mode
well captured, enough samples of high quality: bench.storage.experiment_outputs.
architecture_outcomes) and, for the table, the exact W1 to fresh data. A run whose generator
loss or final samples are not finite is recorded as diverged, and the experiment goes on.

Batching: the members of an ensemble (gan_zoo's EnsembleMLP, as in the trainer's groups)
share one shape, and the drawn architectures differ in depth, width, activation and
normalisation, so each run trains alone (K = 1). On a CPU the architectures are spread over
worker processes instead, one intra-op thread each (these kernels are too small for more).
The step loop makes no host syncs: divergence is a device flag, read once at the end.

Results go to ``<out_dir>/random_architectures.csv`` (the draws) and
``random_architectures_runs.csv`` (per architecture and GAN).
"""

import concurrent.futures as cf
import math
import multiprocessing as mp
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.core.atomic import write_text_atomic
from bench.core.results import DIVERGED, FINISHED
from bench.core.specs import RandomArchitecturesSpec
from bench.data import get_dataset
from bench.data.datasets import MixtureModes
from bench.data.toy import get_toy_dataset
from bench.experiments.adversary import adversary_for, make_optimizer_for
from bench.experiments.files import write_once
from bench.metrics.modes import mode_coverage
from bench.metrics.wasserstein import wasserstein1
from bench.storage.experiment_outputs import ARCHITECTURE_RUNS_FILE, ARCHITECTURES_FILE
from bench.training.schedule import CriticSchedule
from bench.training.streams import MemberStreams
from gan_zoo.architectures.mlp import EnsembleCritic, EnsembleMLP
from gan_zoo.recipes import Recipe
from gan_zoo.registry import get_gan

DATA_DIM = 2


@dataclass(frozen=True)
class Network:
    """One drawn MLP: hidden layers, units per layer, activation, normalised or not."""

    depth: int
    width: int
    activation: str
    batch_norm: bool


@dataclass(frozen=True)
class Architecture:
    """A drawn generator/critic pair and the seed of its weights and data."""

    index: int
    seed: int
    generator: Network
    critic: Network

    def record(self) -> dict:
        """Its row of random_architectures.csv."""
        return {"architecture": self.index, "seed": self.seed,
                **{f"generator_{k}": v for k, v in asdict(self.generator).items()},
                **{f"critic_{k}": v for k, v in asdict(self.critic).items()}}


def draw_architectures(spec: RandomArchitecturesSpec) -> list[Architecture]:
    """``spec.architectures`` pairs drawn uniformly from the section's space, in order from
    the RNG seeded with ``spec.seed`` (so the first draws do not depend on how many)."""
    rng = np.random.default_rng(spec.seed)

    def network() -> Network:
        return Network(int(rng.choice(spec.depths)), int(rng.choice(spec.widths)),
                       str(rng.choice(spec.activations)), bool(rng.choice(spec.batch_norm)))

    return [Architecture(i, int(rng.integers(2**31)), network(), network())
            for i in range(spec.architectures)]


def critic_norm(network: Network, batch_norm_compatible: bool) -> str:
    """A normalised critic's norm: batch norm, or layer norm where the GAN's constraint needs
    per-sample gradients (batch norm mixes a batch's samples; the paper's WGAN-GP choice)."""
    if not network.batch_norm:
        return "none"
    return "batch" if batch_norm_compatible else "layer"


def train_run(architecture: Architecture, gan: str, recipe: Recipe,
              spec: RandomArchitecturesSpec, device: torch.device) -> dict:
    """``gan`` trains ``architecture`` for ``spec.generator_steps``; its row of
    random_architectures_runs.csv."""
    started = time.perf_counter()
    g, c = architecture.generator, architecture.critic
    init = MemberStreams([architecture.seed], device, purpose="init")
    generator = EnsembleMLP(init.generators, spec.latent_dim, DATA_DIM, g.width, g.depth,
                            g.activation, "batch" if g.batch_norm else "none").to(device)
    norm = critic_norm(c, get_gan(gan).make_constraint(recipe).batch_norm_compatible)
    critic = EnsembleCritic(init.generators, DATA_DIM, c.width, c.depth, c.activation,
                            norm).to(device)
    adv = adversary_for(gan, recipe, critic, architecture.seed)
    generator_optimizer = make_optimizer_for(recipe, generator.parameters(), "generator")
    data, schedule = get_toy_dataset(spec.dataset), CriticSchedule(recipe.n_critic,
                                                                   recipe.warmup)
    finite = torch.ones(1, dtype=torch.bool, device=device)
    finite_steps = torch.zeros(1, dtype=torch.long, device=device)
    for step in range(spec.generator_steps):
        for _ in range(schedule.critic_steps_before(step)):
            with torch.no_grad():
                fake = generator(adv.randn((spec.batch_size, spec.latent_dim)))
            adv.critic_step(data.sample(adv, spec.batch_size), fake)
        loss = adv.loss.generator(adv.critic(generator(
            adv.randn((spec.batch_size, spec.latent_dim)))))
        generator_optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        generator_optimizer.step()
        finite &= torch.isfinite(loss)  # a NaN critic shows in the generator's loss too
        finite_steps += finite
    fake, real = final_samples(generator, architecture.seed, spec, device)
    steps = int(finite_steps.item())
    finished = steps == spec.generator_steps and bool(torch.isfinite(fake).all())
    measures = final_measures(fake, real, spec) if finished else dict.fromkeys(MEASURES,
                                                                               math.nan)
    return {"architecture": architecture.index, "gan": gan, "critic_norm": norm,
            "status": FINISHED if finished else DIVERGED,
            "diverged_step": math.nan if finished else min(steps + 1, spec.generator_steps),
            **measures, "seconds": time.perf_counter() - started}


MEASURES = ("w1", "modes", "modes_well_captured", "hq_fraction")
"""A finished run's measures of its final samples (``final_measures``)."""


def final_measures(fake: torch.Tensor, real: torch.Tensor,
                   spec: RandomArchitecturesSpec) -> dict[str, float]:
    """MEASURES of final samples ``fake`` [N, 2] (N at least ``spec.mode_samples`` and
    ``spec.w1_samples``) against fresh data ``real`` [``spec.w1_samples``, 2]: the exact W1
    of the first ``w1_samples``; the dataset's modes, and the mode coverage of the first
    ``mode_samples`` (bench.metrics.modes at the section's ``hq_threshold`` and
    ``min_share``)."""
    modes = get_dataset(spec.dataset).modes
    assert isinstance(modes, MixtureModes)  # bench.config.suite checks the section's dataset
    coverage = mode_coverage(fake[:spec.mode_samples], fake.new_tensor(modes.centers),
                             modes.std, spec.hq_threshold, spec.min_share)
    return {"w1": wasserstein1(fake[:spec.w1_samples], real), "modes": modes.n_modes,
            "modes_well_captured": coverage.modes_well_captured,
            "hq_fraction": coverage.high_quality_fraction}


def final_samples(generator: EnsembleMLP, seed: int, spec: RandomArchitecturesSpec,
                  device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The larger of ``spec.mode_samples`` and ``spec.w1_samples`` generated points (in
    training-size batches, as the benchmark's evaluator generates: batch norm uses batch
    statistics) and ``spec.w1_samples`` fresh real ones, from the architecture's evaluation
    stream: every GAN gets the same latents and data."""
    stream = MemberStreams([seed], device, purpose="eval")
    n = max(spec.mode_samples, spec.w1_samples)
    with torch.no_grad():
        fake = torch.cat([generator(stream.randn((spec.batch_size, spec.latent_dim)))
                          for _ in range(math.ceil(n / spec.batch_size))], dim=1)[0, :n]
    real = get_toy_dataset(spec.dataset).sample(stream, spec.w1_samples)[0]
    return fake, real


def experiment_recipe(recipe: Recipe, gan: str, spec: RandomArchitecturesSpec) -> Recipe:
    """``gan``'s recipe for this experiment: ``recipe`` (the suite's, for the dataset) with
    the section's ``recipes`` fields (by default Table 2's WGAN-GP settings)."""
    return replace(recipe, **spec.recipe_overrides(gan))


def train_architecture(architecture: Architecture, recipes: dict[str, Recipe],
                       spec: RandomArchitecturesSpec, device: torch.device) -> list[dict]:
    """Every GAN of ``recipes`` (name -> its recipe) trains ``architecture``."""
    return [train_run(architecture, gan, recipe, spec, device) for gan, recipe in recipes.items()]


def run_rows(draws: list[Architecture], recipes: dict[str, Recipe],
             spec: RandomArchitecturesSpec, device: torch.device, workers: int) -> pd.DataFrame:
    """Every architecture trained by every GAN: in ``workers`` processes on a CPU, in this
    one otherwise (the rows are the same either way, in draw order)."""
    train = partial(train_architecture, recipes=recipes, spec=spec, device=device)
    if device.type != "cpu" or workers <= 1 or len(draws) <= 1:
        runs = list(map(train, draws))
    else:
        with cf.ProcessPoolExecutor(min(workers, len(draws)),
                                    mp_context=mp.get_context("spawn"),
                                    initializer=torch.set_num_threads, initargs=(1,)) as pool:
            runs = list(pool.map(train, draws))
    return pd.DataFrame.from_records([row for rows in runs for row in rows])


def run_random_architectures(out_dir: Path, device: torch.device,
                             spec: RandomArchitecturesSpec, recipes: dict[str, Recipe],
                             workers: int = 1) -> bool:
    """Run the experiment into ``out_dir`` unless it is already there (resume); returns
    whether it ran. ``recipes``: each GAN to train, with its recipe for 2-D data (the
    section's ``recipes`` applied: ``experiment_recipe``)."""
    def write(out: Path) -> None:
        draws = draw_architectures(spec)
        write_text_atomic(out / ARCHITECTURES_FILE, pd.DataFrame.from_records(
            [a.record() for a in draws]).to_csv(index=False))
        write_text_atomic(out / ARCHITECTURE_RUNS_FILE,
                          run_rows(draws, recipes, spec, device, workers).to_csv(index=False))

    return write_once(out_dir, (ARCHITECTURES_FILE, ARCHITECTURE_RUNS_FILE), device, write)
