import pytest
import torch

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.results import Counters
from bench.core.specs import Budget, EvalSpec
from bench.training.schedule import CriticSchedule, next_iteration_fits
from bench.training.trainer import GroupTrainer
from tests.conftest import tiny_suite


def _trainer(**overrides) -> GroupTrainer:
    return GroupTrainer(expand(parse_suite(tiny_suite(**overrides))), torch.device("cpu"))


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module):
    return [not torch.equal(b, p) for b, p in zip(before, module.parameters(), strict=True)]


def test_critic_step_changes_only_critic_and_generator_step_only_generator():
    trainer = _trainer(gans=["wgan-gp"])
    g0, d0 = _snapshot(trainer.generator), _snapshot(trainer.critic)
    trainer.critic_gradient()
    trainer.critic_step()
    # every critic tensor but the output bias, which a Wasserstein loss cannot move
    # (it adds the same constant to D(real) and D(fake))
    assert all(_changed(d0, trainer.critic)[:-1]) and not any(_changed(g0, trainer.generator))
    g1, d1 = _snapshot(trainer.generator), _snapshot(trainer.critic)
    trainer.generator_gradient()
    trainer.generator_step()
    assert all(_changed(g1, trainer.generator)) and not any(_changed(d1, trainer.critic))


def test_n_critic_schedule_by_parameter_changes():
    trainer = _trainer(
        gans=["wgan-gp"],
        recipes={"wgan-gp": {"n_critic": 3}},
        budget={"generator_steps": 2},
        eval={"every": 100},
    )
    events = []
    critic_step, generator_step = trainer.critic_step, trainer.generator_step

    def watched(step, name, module):
        def run(extrapolate):
            before = _snapshot(module)
            step(extrapolate)
            events.append(name if any(_changed(before, module)) else f"{name}-unchanged")

        return run

    trainer.critic_step = watched(critic_step, "D", trainer.critic)
    trainer.generator_step = watched(generator_step, "G", trainer.generator)
    results = trainer.train()
    assert events == ["D", "D", "D", "G", "D", "D", "D", "G"]
    assert results[0].counters.critic_steps == 6 and results[0].counters.generator_steps == 2


def test_wgan_reference_warmup_schedule():
    schedule = CriticSchedule(n_critic=5, warmup=True)
    steps = [schedule.critic_steps_before(g) for g in range(1001)]
    assert steps[:25] == [100] * 25
    assert steps[25:500] == [5] * 475
    assert steps[500] == 100 and steps[501] == 5 and steps[1000] == 100
    assert CriticSchedule(5, warmup=False).critic_steps_before(0) == 5


def test_step_and_sample_budgets_are_never_exceeded():
    for budget, field in [
        (Budget("critic_steps", 13), "critic_steps"),
        (Budget("real_samples", 32 * 13), "real_samples"),
    ]:
        trainer = _trainer(gans=["wgan-clip"], budget={budget.kind: budget.amount})
        counters = trainer.train()[0].counters
        assert getattr(counters, field) <= budget.amount
        assert counters.critic_steps == 10 and counters.generator_steps == 2  # 5 per gen step


def test_seconds_budget_stops_and_records_every_counter():
    trainer = _trainer(gans=["gan"], budget={"seconds": 0.3}, eval={"every": 1000})
    counters = trainer.train()[0].counters
    assert 0.3 <= counters.train_seconds < 5
    assert counters.generator_steps > 0
    assert counters.real_samples == counters.critic_steps * 32
    assert counters.eval_seconds > 0


def test_next_iteration_fits():
    c = Counters(generator_steps=9, critic_steps=45, real_samples=45 * 64,
                 gradient_evaluations=54)
    phases = CriticSchedule(5, warmup=False).phases(5)
    assert next_iteration_fits(Budget("generator_steps", 10), c, phases, 64)
    assert not next_iteration_fits(Budget("generator_steps", 9), c, phases, 64)
    assert not next_iteration_fits(Budget("critic_steps", 49), c, phases, 64)
    assert next_iteration_fits(Budget("critic_steps", 50), c, phases, 64)
    assert next_iteration_fits(Budget("gradient_evaluations", 60), c, phases, 64)
    assert not next_iteration_fits(Budget("gradient_evaluations", 59), c, phases, 64)
    extra = CriticSchedule(5, warmup=False, extrapolation="gradient").phases(5)
    assert next_iteration_fits(Budget("critic_steps", 50), c, extra, 64)  # 5 updates
    assert not next_iteration_fits(Budget("gradient_evaluations", 65), c, extra, 64)  # 12
    past = CriticSchedule(5, warmup=False, extrapolation="past").phases(5)
    assert next_iteration_fits(Budget("gradient_evaluations", 60), c, past, 64)  # 6
    assert not next_iteration_fits(Budget("real_samples", 50 * 64 - 1), c, past, 64)  # 5 batches


def _steps(phases) -> list[tuple]:
    return [(p.networks, p.extrapolate, p.gradient) for p in phases]


C, G, CG = ("critic",), ("generator",), ("critic", "generator")


def test_each_extragradient_step_extrapolates_then_updates_from_the_saved_point():
    phases = CriticSchedule(2, warmup=False, extrapolation="gradient").phases(2)
    assert _steps(phases) == [(C, True, True), (C, False, True), (C, True, True),
                              (C, False, True), (G, True, True), (G, False, True)]


def test_an_extrapolation_from_the_past_evaluates_no_gradient():
    phases = CriticSchedule(2, warmup=False, extrapolation="past").phases(2)
    assert _steps(phases) == [(C, True, False), (C, False, True), (C, True, False),
                              (C, False, True), (G, True, False), (G, False, True)]


@pytest.mark.parametrize(("extrapolation", "expected"), [
    (None, [(C, False, True), (CG, False, True)]),
    ("gradient", [(C, True, True), (C, False, True), (CG, True, True), (CG, False, True)]),
    ("past", [(C, True, False), (C, False, True), (CG, True, False), (CG, False, True)]),
])
def test_the_simultaneous_form_joins_the_generator_to_the_last_critic_step(extrapolation,
                                                                            expected):
    schedule = CriticSchedule(2, warmup=False, extrapolation=extrapolation, simultaneous=True)
    assert _steps(schedule.phases(2)) == expected
    assert _steps(schedule.phases(1)) == expected[len(expected) // 2:]


@pytest.mark.parametrize(("optimizer", "per_iteration", "iterations"), [
    ("extra-adam", 12, 2),  # 5 critic + 1 generator steps, each extrapolated first
    ("past-extra-adam", 6, 4),  # the same steps, one gradient each
    ("past-extra-sgd", 6, 4),
])
def test_extrapolating_runs_count_their_gradient_evaluations(optimizer, per_iteration,
                                                             iterations):
    trainer = _trainer(gans=["wgan-gp"], optimizers=[optimizer],
                       budget={"gradient_evaluations": 25})
    counters = trainer.train()[0].counters
    assert counters.generator_steps == iterations and counters.critic_steps == 5 * iterations
    assert counters.gradient_evaluations == per_iteration * iterations
    critic_batches = 5 * per_iteration // 6  # each critic gradient draws one real batch
    assert counters.real_samples == critic_batches * 32 * iterations


def test_preflight_counts_an_extragradient_iteration_twice():
    from bench.core.errors import BenchError
    from bench.orchestration.runner import check_budgets

    specs = expand(parse_suite(tiny_suite(gans=["wgan-gp"], optimizers=["extra-adam"],
                                          budget={"gradient_evaluations": 11})))
    with pytest.raises(BenchError, match="12 gradient evaluations with extra-adam"):
        check_budgets(specs)


def test_linear_and_log_checkpoint_schedules():
    linear, log = EvalSpec(every=5), EvalSpec(every=5, schedule="log")
    assert [s for s in range(1, 51) if linear.is_checkpoint(s)] == [5, 10, 15, 20, 25, 30, 35,
                                                                     40, 45, 50]
    assert [s for s in range(1, 51) if log.is_checkpoint(s)] == [5, 10, 20, 40]
    assert (linear.checkpoints(50), log.checkpoints(50)) == (12, 6)
    assert log.checkpoints(4) == 2  # step 0 and the end


def test_a_run_with_the_log_schedule_evaluates_at_its_checkpoints():
    trainer = _trainer(gans=["gan"], seeds=1, budget={"generator_steps": 10},
                       eval={"every": 2, "schedule": "log", "samples": 100, "w1_samples": 50,
                             "critic_samples": 100})
    (result,) = trainer.train()
    assert sorted({r["step"] for r in result.rows if r["metric"] == "w1"}) == [0, 2, 4, 8, 10]
