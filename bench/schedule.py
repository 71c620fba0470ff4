"""The phase schedule and the budget, as data the trainer consults."""

from dataclasses import dataclass

from bench.results import Counters
from bench.specs import Budget

WARMUP_CRITIC_STEPS = 100
WARMUP_FIRST_GEN_STEPS = 25
WARMUP_EVERY = 500


@dataclass(frozen=True)
class CriticSchedule:
    """How many critic steps precede generator step ``g`` (counting from 0)."""

    n_critic: int
    warmup: bool
    """The WGAN reference code's rule: 100 critic steps while g < 25 and when g % 500 == 0,
    so the critic is near optimal when the generator moves."""

    def critic_steps_before(self, gen_step: int) -> int:
        if self.warmup and (gen_step < WARMUP_FIRST_GEN_STEPS or gen_step % WARMUP_EVERY == 0):
            return WARMUP_CRITIC_STEPS
        return self.n_critic


def next_iteration_fits(
    budget: Budget, counters: Counters, critic_steps: int, batch_size: int
) -> bool:
    """Whether one more iteration (``critic_steps`` critic steps, one generator step) stays
    within the budget. Step and sample budgets are never exceeded; a seconds budget is checked
    against the time used so far, so the last iteration may run past it."""
    if budget.kind == "generator_steps":
        return counters.generator_steps + 1 <= budget.amount
    if budget.kind == "critic_steps":
        return counters.critic_steps + critic_steps <= budget.amount
    if budget.kind == "real_samples":
        return counters.real_samples + critic_steps * batch_size <= budget.amount
    return counters.train_seconds < budget.amount


def budget_fraction(budget: Budget, counters: Counters) -> float:
    """How much of the budget is spent, in [0, 1] (for progress bars)."""
    used = {
        "generator_steps": counters.generator_steps,
        "critic_steps": counters.critic_steps,
        "real_samples": counters.real_samples,
        "seconds": counters.train_seconds,
    }[budget.kind]
    return min(1.0, used / budget.amount)
