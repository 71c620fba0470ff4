"""Each hyperparameter is declared once (bench/hyperparameters.py); batch keys, trial settings
and the trainer's per-member values are derived from that table."""

from dataclasses import asdict, make_dataclass, replace

import pytest

from bench import hyperparameters
from bench.hyperparameters import (
    HYPERPARAMETERS,
    Hyperparameter,
    constraint_values,
    member_values,
    with_setting,
)
from bench.runner import plan_groups
from bench.suite import expand, parse_suite
from bench.validators import POSITIVE
from gan_zoo.recipes import Recipe
from tests.conftest import tiny_suite


def _spec(gan: str = "wgan-gp", optimizer: str = "adam"):
    (spec,) = expand(parse_suite(tiny_suite(gans=[gan], optimizers=[optimizer], seeds=1)))
    return spec


@pytest.mark.parametrize("name", [h.name for h in HYPERPARAMETERS.values() if h.batchable])
def test_members_may_differ_in_each_batchable_field(name):
    spec = _spec()
    other = HYPERPARAMETERS[name].set(replace(spec, seed=7),
                                      HYPERPARAMETERS[name].get(spec) * 0.5)
    assert other.batch_key == spec.batch_key
    assert len(plan_groups([spec, other], 8)) == 1


def test_a_field_not_declared_batchable_splits_groups():
    spec = _spec()
    other = with_setting(spec, {"n_critic": spec.recipe.n_critic + 1})
    assert other.batch_key != spec.batch_key
    assert len(plan_groups([spec, other], 8)) == 2


def test_a_new_recipe_field_splits_groups_until_declared_batchable(monkeypatch):
    extended = make_dataclass("ExtendedRecipe", [("ema_decay", float, 0.0)], bases=(Recipe,),
                              frozen=True)
    spec = _spec()
    a = replace(spec, recipe=extended(**asdict(spec.recipe), ema_decay=0.9))
    b = replace(spec, recipe=extended(**asdict(spec.recipe), ema_decay=0.99), seed=1)
    assert a.batch_key != b.batch_key  # undeclared: every member must not get a's value
    declared = Hyperparameter("ema_decay", POSITIVE, "ema_decay", batchable=True)
    monkeypatch.setattr(hyperparameters, "BATCHABLE", (*hyperparameters.BATCHABLE, declared))
    assert a.batch_key == b.batch_key
    assert constraint_values([a, b])["ema_decay"] == [0.9, 0.99]


def test_a_setting_reaches_the_recipe_and_the_optimizer_it_builds():
    spec = with_setting(_spec(), {"lr": 3e-4, "beta1": 0.1, "gp_weight": 2.0})
    assert spec.optimizer.lr == spec.recipe.lr == 3e-4
    assert spec.optimizer.betas[0] == spec.recipe.betas[0] == 0.1
    assert spec.recipe.gp_weight == 2.0
    assert member_values([spec]) == {"lr": [3e-4], "beta1": [0.1], "beta2": [0.9]}


def test_only_adam_gets_betas():
    # wgan-gp's recipe lr (1e-4) kept when the optimizer axis switches to RMSProp
    assert member_values([_spec(optimizer="rmsprop")]) == {"lr": [1e-4]}
