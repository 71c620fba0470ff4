"""The phase schedule and the budget, as data the trainer consults.

An iteration is a sequence of phases. A phase computes the gradients of one network (or of
both, at one point: the simultaneous form) and then steps each of them: ``n_critic`` critic
steps, then one generator step, each network's gradients seeing the other's newest
parameters (alternated GAN training).

With an extrapolating optimizer (``MemberOptimizer.extrapolation``; Gidel et al. 2019, "A
Variational Inequality Perspective on GANs") every step, critic or generator, is one full
step of that method: an extrapolation phase to the look-ahead point, then the update phase
from the saved point with the gradient at the look-ahead point (Eqs. (14)-(15)). An
extragradient extrapolation computes a gradient of its own; an extrapolation from the past
(Eqs. (20)-(21)) reuses the previous update's and computes none.

``simultaneous`` is Gidel et al.'s simultaneous form (their SimAdam, ExtraAdam and
PastExtraAdam of Section 7): the generator's step and the last critic step form one joint
step, both networks' gradients taken at the same point (both extrapolate, then both update),
so with ``n_critic`` 1 the iteration is one step of the two-player game's operator.
"""

from collections.abc import Callable
from dataclasses import dataclass

from bench.core.results import Counters
from bench.core.specs import Budget, RunSpec
from bench.training.member_optimizers import member_optimizer_class

WARMUP_CRITIC_STEPS = 100
WARMUP_FIRST_GEN_STEPS = 25
WARMUP_EVERY = 500


CRITIC, GENERATOR = "critic", "generator"


@dataclass(frozen=True)
class Phase:
    """The gradient evaluations (at one point) and steps of one network, or of both."""

    networks: tuple[str, ...]
    """``(critic,)``, ``(generator,)`` or ``(critic, generator)`` (simultaneous)."""
    extrapolate: bool = False
    """An extrapolation step (to the look-ahead point) rather than an update."""
    gradient: bool = True
    """It evaluates its networks' gradients (an extrapolation from the past does not)."""


@dataclass(frozen=True)
class CriticSchedule:
    """How many critic steps precede generator step ``g`` (counting from 0), and the phases
    of an iteration."""

    n_critic: int
    warmup: bool
    """The WGAN reference code's rule: 100 critic steps while g < 25 and when g % 500 == 0,
    so the critic is near optimal when the generator moves."""
    extrapolation: str | None = None
    """How the optimizers extrapolate before each update (``MemberOptimizer.extrapolation``):
    None, ``gradient`` (extragradient) or ``past`` (from the past)."""
    simultaneous: bool = False
    """The generator steps together with the last critic step (Gidel et al.'s simultaneous
    form) instead of after it."""

    def phases(self, n_critic: int) -> tuple[Phase, ...]:
        """The phases of an iteration of ``n_critic`` critic steps."""
        steps = [(CRITIC,)] * n_critic + [(GENERATOR,)]
        if self.simultaneous:
            steps[-2:] = [(CRITIC, GENERATOR)]
        return tuple(phase for networks in steps for phase in self._step(networks))

    def _step(self, networks: tuple[str, ...]) -> tuple[Phase, ...]:
        """One step of ``networks``: its update, preceded by its extrapolation when the
        optimizers extrapolate (Gidel et al. 2019, Eqs. (14)-(15) or (20)-(21))."""
        update = Phase(networks)
        if self.extrapolation is None:
            return (update,)
        look_ahead = Phase(networks, extrapolate=True,
                           gradient=self.extrapolation == "gradient")
        return look_ahead, update

    def critic_steps_before(self, gen_step: int) -> int:
        if self.warmup and (gen_step < WARMUP_FIRST_GEN_STEPS or gen_step % WARMUP_EVERY == 0):
            return WARMUP_CRITIC_STEPS
        return self.n_critic


def schedule_for(spec: RunSpec) -> CriticSchedule:
    """The phase schedule of ``spec``: its recipe's critic steps and turn-taking
    (``simultaneous``), and extrapolation phases where its optimizer declares them
    (``MemberOptimizer.extrapolation``)."""
    return CriticSchedule(spec.recipe.n_critic, spec.recipe.warmup,
                          member_optimizer_class(spec.optimizer.name).extrapolation,
                          spec.recipe.simultaneous)


def run_phases(phases: tuple[Phase, ...], gradient: Callable[[str, bool], None],
               step: Callable[[str, bool], None]) -> None:
    """Run an iteration's ``phases``: each evaluates its networks' gradients at one point
    (``gradient(network, record)``; ``record``: an update's, whose losses count), then steps
    each of them (``step(network, extrapolate)``)."""
    for phase in phases:
        if phase.gradient:
            for network in phase.networks:
                gradient(network, not phase.extrapolate)
        for network in phase.networks:
            step(network, phase.extrapolate)


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
        return counters.gradient_evaluations + gradient_evaluations(phases) <= budget.amount
    return counters.train_seconds < budget.amount


def critic_updates(phases: tuple[Phase, ...]) -> int:
    """The critic updates (extrapolations aside) of an iteration."""
    return sum(CRITIC in p.networks and not p.extrapolate for p in phases)


def critic_evaluations(phases: tuple[Phase, ...]) -> int:
    """The critic's gradient evaluations (each on a fresh real batch) of an iteration."""
    return sum(CRITIC in p.networks and p.gradient for p in phases)


def gradient_evaluations(phases: tuple[Phase, ...]) -> int:
    """The gradients an iteration computes, critic and generator."""
    return sum(len(p.networks) for p in phases if p.gradient)


def count_iteration(counters: Counters, phases: tuple[Phase, ...], batch_size: int) -> None:
    """Add one iteration of ``phases`` to ``counters``."""
    counters.generator_steps += 1
    counters.critic_steps += critic_updates(phases)
    counters.real_samples += critic_evaluations(phases) * batch_size
    counters.gradient_evaluations += gradient_evaluations(phases)


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
