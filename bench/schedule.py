"""The phase schedule and the budget, as data the trainer consults.

An iteration is a sequence of phases, each one gradient evaluation and step of one network:
``n_critic`` critic steps, then one generator step. With an extrapolating optimizer
(extragradient, Gidel et al. 2019: ``MemberOptimizer.extrapolates``) the iteration first runs
the same steps as extrapolations (every network to its look-ahead point), then the updates,
each from its network's original point with the gradient at the look-ahead point; the
generator's gradients see the newest critic, as in alternating GAN training (Gidel et al.'s
alternated variant).
"""

from dataclasses import dataclass

from bench.results import Counters
from bench.specs import Budget

WARMUP_CRITIC_STEPS = 100
WARMUP_FIRST_GEN_STEPS = 25
WARMUP_EVERY = 500


CRITIC, GENERATOR = "critic", "generator"


@dataclass(frozen=True)
class Phase:
    """One gradient evaluation and step of one network."""

    network: str
    """``critic`` or ``generator``."""
    extrapolate: bool = False
    """An extrapolation step (to the look-ahead point) rather than an update."""


@dataclass(frozen=True)
class CriticSchedule:
    """How many critic steps precede generator step ``g`` (counting from 0), and the phases
    of an iteration."""

    n_critic: int
    warmup: bool
    """The WGAN reference code's rule: 100 critic steps while g < 25 and when g % 500 == 0,
    so the critic is near optimal when the generator moves."""
    extrapolation: bool = False
    """The optimizers extrapolate (extragradient): every step is preceded by its
    extrapolation, which costs one more gradient evaluation."""

    def phases(self, n_critic: int) -> tuple[Phase, ...]:
        """The phases of an iteration of ``n_critic`` critic steps."""
        steps = (CRITIC,) * n_critic + (GENERATOR,)
        updates = tuple(Phase(network) for network in steps)
        if not self.extrapolation:
            return updates
        return tuple(Phase(network, extrapolate=True) for network in steps) + updates

    def critic_steps_before(self, gen_step: int) -> int:
        if self.warmup and (gen_step < WARMUP_FIRST_GEN_STEPS or gen_step % WARMUP_EVERY == 0):
            return WARMUP_CRITIC_STEPS
        return self.n_critic


def next_iteration_fits(
    budget: Budget, counters: Counters, phases: tuple[Phase, ...], batch_size: int
) -> bool:
    """Whether one more iteration (``phases``) stays within the budget. Step, sample and
    gradient-evaluation budgets are never exceeded; a seconds budget is checked against the
    time used so far, so the last iteration may run past it."""
    if budget.kind == "generator_steps":
        return counters.generator_steps + 1 <= budget.amount
    if budget.kind == "critic_steps":
        return counters.critic_steps + critic_updates(phases) <= budget.amount
    if budget.kind == "real_samples":
        return counters.real_samples + critic_evaluations(phases) * batch_size <= budget.amount
    if budget.kind == "gradient_evaluations":
        return counters.gradient_evaluations + len(phases) <= budget.amount
    return counters.train_seconds < budget.amount


def critic_updates(phases: tuple[Phase, ...]) -> int:
    """The critic updates (extrapolations aside) of an iteration."""
    return sum(p.network == CRITIC and not p.extrapolate for p in phases)


def critic_evaluations(phases: tuple[Phase, ...]) -> int:
    """The critic's gradient evaluations (each on a fresh real batch) of an iteration."""
    return sum(p.network == CRITIC for p in phases)


def count_iteration(counters: Counters, phases: tuple[Phase, ...], batch_size: int) -> None:
    """Add one iteration of ``phases`` to ``counters``."""
    counters.generator_steps += 1
    counters.critic_steps += critic_updates(phases)
    counters.real_samples += critic_evaluations(phases) * batch_size
    counters.gradient_evaluations += len(phases)


def budget_fraction(budget: Budget, counters: Counters) -> float:
    """How much of the budget is spent, in [0, 1] (for progress bars)."""
    used = {
        "generator_steps": counters.generator_steps,
        "critic_steps": counters.critic_steps,
        "real_samples": counters.real_samples,
        "gradient_evaluations": counters.gradient_evaluations,
        "seconds": counters.train_seconds,
    }[budget.kind]
    return min(1.0, used / budget.amount)
