"""Each hyperparameter is declared once (bench/core/hyperparameters.py); batch keys, trial settings
and the trainer's per-member values are derived from that table."""

import re
from dataclasses import asdict, make_dataclass, replace

import pytest
import torch

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core import hyperparameters
from bench.core.errors import BenchError
from bench.core.hyperparameters import (
    HYPERPARAMETERS,
    Hyperparameter,
    constraint_values,
    member_values,
    with_setting,
)
from bench.core.validators import POSITIVE
from bench.orchestration.runner import plan_groups
from gan_zoo.recipes import Recipe
from tests.conftest import tiny_suite


def _spec(gan: str = "wgan-gp", optimizer: str = "adam"):
    (spec,) = expand(parse_suite(tiny_suite(gans=[gan], optimizers=[optimizer], seeds=1)))
    return spec


@pytest.mark.parametrize("name", [h.name for h in HYPERPARAMETERS.values() if h.batchable])
def test_members_may_differ_in_each_batchable_field(name):
    h = HYPERPARAMETERS[name]
    spec = _spec(optimizer=h.optimizers[0] if h.optimizers else "adam")
    other = h.set(replace(spec, seed=7), (h.get(spec) or 0.5) * 0.5)  # unset TTUR rates: None
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
    assert member_values([spec], "critic") == {"lr": [3e-4], "beta1": [0.1], "beta2": [0.9]}


def test_only_adam_gets_betas():
    # wgan-gp's recipe lr (1e-4) kept when the optimizer axis switches to RMSProp
    assert member_values([_spec(optimizer="rmsprop")], "critic") == {"lr": [1e-4]}


def test_each_optimizer_gets_the_settings_the_table_declares():
    assert member_values([_spec(optimizer="sgd")], "critic") == {
        "lr": [1e-4], "momentum": [0.0], "nesterov": [False]}
    assert member_values([_spec(optimizer="adamw")], "generator") == {
        "lr": [1e-4], "beta1": [0.5], "beta2": [0.9], "weight_decay": [0.01]}


def test_ttur_rates_reach_their_networks_and_lr_sets_both():
    spec = with_setting(_spec(), {"lr_critic": 4e-4, "lr_generator": 1e-5})
    assert member_values([spec], "critic")["lr"] == [4e-4]
    assert member_values([spec], "generator")["lr"] == [1e-5]
    both = with_setting(spec, {"lr": 2e-4})  # lr sets both networks' rates
    assert member_values([both], "critic")["lr"] == member_values([both], "generator")["lr"]
    one = with_setting(_spec(), {"lr_generator": 3e-5})  # the critic keeps the shared lr
    assert member_values([one], "critic")["lr"] == [1e-4]
    assert member_values([one], "generator")["lr"] == [3e-5]


def test_ttur_rates_reach_the_trained_optimizers():
    from bench.training.trainer import GroupTrainer

    suite = tiny_suite(gans=["wgan-gp"], optimizers=[
        {"name": "adam", "label": "ttur", "lr_critic": 4e-4, "lr_generator": 1e-4}])
    trainer = GroupTrainer(expand(parse_suite(suite)), torch.device("cpu"))
    assert trainer.opt_d.param_groups[0]["lr"].tolist() == [4e-4, 4e-4]
    assert trainer.opt_g.param_groups[0]["lr"].tolist() == [1e-4, 1e-4]


@pytest.mark.parametrize("where, suite", [
    ("optimizers[0]", {"optimizers": [{"name": "adam", "lr": 1e-4, "lr_critic": 4e-4}]}),
    ("recipes.gan", {"recipes": {"gan": {"lr": 1e-4, "lr_generator": 4e-4}}}),
    ("search.space", {"search": {"trials": 2, "space": {
        "lr": {"log_uniform": [1e-5, 1e-3]}, "lr_critic": {"log_uniform": [1e-5, 1e-3]}}}}),
])
def test_lr_with_a_network_rate_is_refused_naming_both(where, suite):
    with pytest.raises(BenchError, match=rf"{re.escape(where)}: give lr .* or lr_\w+"):
        parse_suite(tiny_suite(**suite))


SEARCHED_LR = {"trials": 2, "space": {"lr": {"log_uniform": [1e-5, 1e-3]}}}
TTUR_ENTRY = {"name": "adam", "label": "ttur", "lr_critic": 4e-4}


@pytest.mark.parametrize("search, entry, rate", [
    (SEARCHED_LR, TTUR_ENTRY, "lr_critic"),
    (SEARCHED_LR, {"name": "sgd", "label": "ttur", "lr_generator": 1e-3}, "lr_generator"),
    ({"trials": 2, "space": {"lr_critic": {"log_uniform": [1e-5, 1e-3]}}},
     {"name": "adam", "label": "ttur", "lr": 1e-4}, "lr_critic"),
])
def test_a_searched_rate_and_an_entry_s_other_rate_are_refused_naming_both(search, entry,
                                                                           rate):
    """A searched lr would silently replace the entry's own network rate (and a searched
    network rate would split the entry's lr): lr with either is an error across the two."""
    suite = tiny_suite(optimizers=["rmsprop", entry], search=search)
    where = "search.space with optimizers[1] (ttur)"
    with pytest.raises(BenchError, match=rf"{re.escape(where)}: give lr .* or {rate} "):
        parse_suite(suite)
    # each alone, or the same rate searched over an entry's, is a valid study
    assert parse_suite(tiny_suite(optimizers=["rmsprop", entry])).search is None
    assert parse_suite(tiny_suite(optimizers=["rmsprop"], search=search)).search is not None
    own = next(key for key in ("lr", "lr_critic", "lr_generator") if key in entry)
    assert parse_suite(tiny_suite(optimizers=[entry], search={
        "trials": 2, "space": {own: {"log_uniform": [1e-5, 1e-3]}}})).search is not None


def test_a_searched_lr_over_an_entry_s_network_rate_is_one_error_line_before_any_write(
        tmp_path, capsys):
    import yaml

    from bench.cli import main

    suite = tmp_path / "ttur.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite(optimizers=[TTUR_ENTRY], search=SEARCHED_LR)))
    out = tmp_path / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert "lr " in err and "lr_critic" in err and "optimizers[0] (ttur)" in err
    assert not out.exists()


def test_nesterov_without_momentum_is_refused():
    with pytest.raises(BenchError, match="nesterov needs momentum > 0"):
        parse_suite(tiny_suite(optimizers=[{"name": "sgd", "nesterov": True}]))


def test_the_report_shows_both_rates_where_they_differ():
    from bench.report.build import _rates

    run = {"gan": "gan", "optimizer_label": "ttur",
           "optimizer": {"lr": 1e-4, "lr_critic": 4e-4, "lr_generator": None}}
    assert _rates(run) == "gan / ttur: lr_critic 0.0004, lr_generator 0.0001"
    run["optimizer"]["lr_critic"] = None
    assert _rates(run) == "gan / ttur: lr 0.0001"
