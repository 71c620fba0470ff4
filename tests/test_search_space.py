"""The ``search:`` section: parsing through bench.core.validators, the YAML round trip, every
invalid value as one error naming its path, per-optimizer ranges, the trials drawn
(reproducible, inside their distributions, log-uniform in log space, Sobol-stratified, the
same points through each optimizer's ranges), suite seeds and used fields; parsing loads no
scipy."""

import itertools
import math
import subprocess
import sys
import warnings
from dataclasses import replace

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from bench.config.search_space import (
    SAMPLERS,
    Choice,
    LogUniform,
    SearchSpec,
    Uniform,
    draw_trials,
    parse_search,
    suite_seed,
)
from bench.config.suite_yaml import read_yaml
from bench.core.errors import BenchError
from bench.core.hyperparameters import SEARCH_FIELDS, used_fields
from gan_zoo.recipes import OPTIMIZERS, recipe_for
from gan_zoo.registry import GANS
from tests.conftest import slow_property

EXAMPLE_YAML = """\
search:
  trials: 16
  sampler: random
  space:
    lr: {log_uniform: [1.0e-5, 1.0e-2]}
    beta1: {uniform: [0.0, 0.9]}
    beta2: {choice: [0.9, 0.99, 0.999]}
    n_critic: {choice: [1, 5]}
    gp_weight: {log_uniform: [0.01, 100.0]}
    clip_value: {log_uniform: [0.001, 0.1]}
  rerun_best: {seeds: 5}
"""

EXAMPLE = SearchSpec(
    trials=16,
    sampler="random",
    space=(
        ("beta1", Uniform(0.0, 0.9)),
        ("beta2", Choice((0.9, 0.99, 0.999))),
        ("clip_value", LogUniform(0.001, 0.1)),
        ("gp_weight", LogUniform(0.01, 100.0)),
        ("lr", LogUniform(1e-5, 1e-2)),
        ("n_critic", Choice((1, 5))),
    ),
    rerun_seed_count=5,
)
PER_OPTIMIZER_YAML = EXAMPLE_YAML + """\
  by_optimizer:
    sgd: {lr: {log_uniform: [1.0e-3, 1.0e-1]}}
    rmsprop: {n_critic: {choice: [1, 2]}, lr: {uniform: [1.0e-4, 1.0e-3]}}
"""
PER_OPTIMIZER = replace(EXAMPLE, by_optimizer=(
    ("rmsprop", (("lr", Uniform(1e-4, 1e-3)), ("n_critic", Choice((1, 2))))),
    ("sgd", (("lr", LogUniform(1e-3, 1e-1)),)),
))


def _parse_yaml(text: str) -> SearchSpec | None:
    return parse_search(read_yaml(text, "test")["search"])


def _in_support(value: float | int, dist: Uniform | LogUniform | Choice) -> bool:
    if isinstance(dist, Choice):
        return value in dist.values
    return dist.low <= value <= dist.high


# --- parsing ------------------------------------------------------------------------------


def test_the_example_parses_sorted_by_field_with_canonical_types():
    spec = _parse_yaml(EXAMPLE_YAML)
    assert spec == EXAMPLE
    n_critic = dict(spec.space)["n_critic"]
    assert all(type(v) is int for v in n_critic.values)


def test_yaml_round_trip_and_yaml_12_numbers():
    dumped = yaml.safe_dump({"search": EXAMPLE.to_dict()})
    assert _parse_yaml(dumped) == EXAMPLE
    written_12 = EXAMPLE_YAML.replace("1.0e-5", "1e-5").replace("1.0e-2", "1E-2")
    assert _parse_yaml(written_12) == EXAMPLE


def test_key_order_changes_nothing_and_optional_keys_default():
    spec = parse_search({"trials": 3, "space": {"n_critic": {"choice": [5, 1]},
                                                "beta1": {"choice": [0, 0.5]}}})
    assert spec == SearchSpec(3, "random", (("beta1", Choice((0.0, 0.5))),
                                            ("n_critic", Choice((5, 1)))))
    assert type(dict(spec.space)["beta1"].values[0]) is float  # 0 written for 0.0
    assert "rerun_best" not in spec.to_dict()
    assert parse_search(spec.to_dict()) == spec
    assert parse_search(None) is None


def test_per_optimizer_ranges_parse_sorted_round_trip_and_replace_the_space_for_it():
    spec = _parse_yaml(PER_OPTIMIZER_YAML)
    assert spec == PER_OPTIMIZER
    assert _parse_yaml(yaml.safe_dump({"search": spec.to_dict()})) == spec
    sgd, adam = dict(spec.space_for("sgd")), dict(spec.space_for("adam"))
    assert sgd["lr"] == LogUniform(1e-3, 1e-1) and adam["lr"] == LogUniform(1e-5, 1e-2)
    assert [f for f, _ in spec.space_for("sgd")] == [f for f, _ in spec.space]
    assert sgd["beta1"] == adam["beta1"] == dict(spec.space)["beta1"]
    assert spec.ranges("lr") == [LogUniform(1e-5, 1e-2), Uniform(1e-4, 1e-3),
                                 LogUniform(1e-3, 1e-1)]
    # a suite without them keeps its dict, so its identity and draws
    assert "by_optimizer" not in EXAMPLE.to_dict()


def _search(**changes) -> dict:
    """A valid search mapping with ``changes`` (None removes a key)."""
    raw = {"trials": 4, "space": {"lr": {"log_uniform": [1e-5, 1e-2]}}} | changes
    return {key: value for key, value in raw.items() if value is not None}


def _field(field: str, distribution) -> dict:
    return _search(space={field: distribution})


INVALID = [
    ([1], "search", "expected a mapping"),
    (_search(grid=1), "search", "unknown key(s) ['grid']"),
    (_search(trials=None), "search", "missing required key 'trials'"),
    (_search(space=None), "search", "missing required key 'space'"),
    (_search(trials=0), "search.trials", "expected an integer >= 1, got 0"),
    (_search(trials=2.5), "search.trials", "expected an integer >= 1"),
    (_search(trials="16"), "search.trials", "expected an integer >= 1"),
    (_search(trials=True), "search.trials", "expected an integer >= 1"),
    (_search(trials=float("inf")), "search.trials", "not finite"),
    (_search(sampler="grid"), "search.sampler", "valid: random, sobol"),
    (_search(sampler=1), "search.sampler", "valid: random, sobol"),
    (_search(space={}), "search.space", "at least one field"),
    (_search(space=["lr"]), "search.space", "expected a mapping"),
    (_search(space={"dampening": {"uniform": [0, 1]}}), "search.space",
     "unknown key(s) ['dampening']"),
    (_search(space={"nesterov": {"choice": [0, 1]}}), "search.space",
     "unknown key(s) ['nesterov']"),
    (_field("lr", 1e-3), "search.space.lr", "expected a mapping"),
    (_field("lr", {}), "search.space.lr", "exactly one of uniform, log_uniform, choice"),
    (_field("lr", {"uniform": [1e-5, 1e-2], "log_uniform": [1e-5, 1e-2]}),
     "search.space.lr", "exactly one of"),
    (_field("lr", {"normal": [0, 1]}), "search.space.lr", "unknown key(s) ['normal']"),
    (_field("lr", {"log_uniform": 1e-3}), "search.space.lr.log_uniform", "[low, high]"),
    (_field("lr", {"log_uniform": [1e-5]}), "search.space.lr.log_uniform", "[low, high]"),
    (_field("lr", {"log_uniform": [1e-5, 1e-3, 1e-2]}), "search.space.lr.log_uniform",
     "[low, high]"),
    (_field("lr", {"log_uniform": [1e-5, -1]}), "search.space.lr.log_uniform[1]",
     "expected a number > 0, got -1"),
    (_field("lr", {"log_uniform": [float("nan"), 1e-2]}), "search.space.lr.log_uniform[0]",
     "not finite"),
    (_field("lr", {"uniform": [1e-5, float("inf")]}), "search.space.lr.uniform[1]",
     "not finite"),
    (_field("lr", {"uniform": ["1e-5", 1e-2]}), "search.space.lr.uniform[0]", "got '1e-5'"),
    (_field("lr", {"uniform": [True, 1e-2]}), "search.space.lr.uniform[0]", "got True"),
    (_field("lr", {"log_uniform": [1e-2, 1e-5]}), "search.space.lr.log_uniform",
     "low < high"),
    (_field("lr", {"uniform": [1e-3, 1e-3]}), "search.space.lr.uniform", "low < high"),
    (_field("lr", {"choice": [1e-3, 0]}), "search.space.lr.choice[1]",
     "expected a number > 0, got 0"),
    (_field("beta1", {"log_uniform": [0, 0.5]}), "search.space.beta1.log_uniform[0]",
     "expected a number > 0, got 0"),
    (_field("beta1", {"uniform": [0, 1]}), "search.space.beta1.uniform[1]",
     "expected a number in [0, 1), got 1"),
    (_field("beta2", {"choice": [0.9, 1.5]}), "search.space.beta2.choice[1]",
     "expected a number in [0, 1)"),
    (_field("beta2", {"choice": []}), "search.space.beta2.choice", "non-empty list"),
    (_field("beta2", {"choice": 0.9}), "search.space.beta2.choice", "non-empty list"),
    (_field("beta2", {"choice": [0.9, 0.9]}), "search.space.beta2.choice", "distinct"),
    (_field("n_critic", {"uniform": [1, 5]}), "search.space.n_critic", "give a choice"),
    (_field("n_critic", {"log_uniform": [1, 5]}), "search.space.n_critic", "give a choice"),
    (_field("n_critic", {"choice": [1, 2.5]}), "search.space.n_critic.choice[1]",
     "expected an integer >= 1, got 2.5"),
    (_field("n_critic", {"choice": [0, 5]}), "search.space.n_critic.choice[0]",
     "expected an integer >= 1, got 0"),
    (_field("n_critic", {"choice": [5, 5.0]}), "search.space.n_critic.choice", "distinct"),
    (_field("gp_weight", {"uniform": [0, 10]}), "search.space.gp_weight.uniform[0]",
     "expected a number > 0, got 0"),
    (_field("clip_value", {"choice": [-0.01]}), "search.space.clip_value.choice[0]",
     "expected a number > 0"),
    (_field("clip_value", {"choice": [float("nan")]}), "search.space.clip_value.choice[0]",
     "not finite"),
    (_search(by_optimizer=[]), "search.by_optimizer", "expected a mapping"),
    (_search(by_optimizer={"sgd-momentum": {}}), "search.by_optimizer",
     "unknown key(s) ['sgd-momentum']; valid: adam"),
    (_search(by_optimizer={"sgd": {}}), "search.by_optimizer.sgd", "at least one of lr"),
    (_search(by_optimizer={"sgd": {"beta1": {"uniform": [0, 0.5]}}}),
     "search.by_optimizer.sgd", "unknown key(s) ['beta1']; valid: lr"),
    (_search(space={"beta1": {"uniform": [0, 0.5]}},
             by_optimizer={"sgd": {"beta1": {"uniform": [0, 0.9]}}}),
     "search.by_optimizer.sgd.beta1", "sgd does not use beta1"),
    (_search(by_optimizer={"sgd": {"lr": {"log_uniform": [1e-3, 0]}}}),
     "search.by_optimizer.sgd.lr.log_uniform[1]", "expected a number > 0"),
    (_search(by_optimizer={"sgd": {"lr": {"log_uniform": [1e-1, 1e-3]}}}),
     "search.by_optimizer.sgd.lr.log_uniform", "low < high"),
    (_search(space={"n_critic": {"choice": [1, 5]}},
             by_optimizer={"adam": {"n_critic": {"uniform": [1, 5]}}}),
     "search.by_optimizer.adam.n_critic", "give a choice"),
    (_search(rerun_best=5), "search.rerun_best", "expected a mapping"),
    (_search(rerun_best={}), "search.rerun_best", "missing 'seeds'"),
    (_search(rerun_best={"seeds": 0}), "search.rerun_best.seeds", "expected an integer >= 1"),
    (_search(rerun_best={"seeds": 5, "fresh": True}), "search.rerun_best",
     "unknown key(s) ['fresh']"),
]


@pytest.mark.parametrize(("raw", "path", "fragment"), INVALID, ids=[c[1] for c in INVALID])
def test_an_invalid_value_is_one_error_naming_its_path(raw, path, fragment):
    with pytest.raises(BenchError) as raised:
        parse_search(raw)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and fragment in message, message
    assert "\n" not in message


def test_the_exact_message_of_a_bad_bound_and_the_caller_prefix():
    with pytest.raises(BenchError, match=r"^search\.space\.lr\.log_uniform\[1\]: expected a "
                       r"number > 0, got -1$"):
        parse_search(_field("lr", {"log_uniform": [1e-5, -1]}))
    with pytest.raises(BenchError, match=r"^suite\.search\.trials: "):
        parse_search(_search(trials=0), where="suite.search")


# --- drawing ------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_draws_are_reproducible_typed_inside_and_extend_as_a_prefix(sampler):
    spec = replace(EXAMPLE, sampler=sampler)
    trials = draw_trials(spec, seed=7, optimizer="adam")
    assert trials == draw_trials(spec, seed=7, optimizer="adam")
    assert trials != draw_trials(spec, seed=8, optimizer="adam")
    assert len(trials) == spec.trials
    for trial in trials:
        assert list(trial) == [field for field, _ in spec.space]
        for field, dist in spec.space:
            value = trial[field]
            assert type(value) is (int if SEARCH_FIELDS[field].integer else float)
            assert _in_support(value, dist)
    # a study given more trials keeps the settings it has
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Sobol balance warning for 10 points
        assert draw_trials(replace(spec, trials=10), seed=7, optimizer="adam") == trials[:10]


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_each_optimizer_reads_the_same_points_through_its_own_ranges(sampler):
    spec = replace(PER_OPTIMIZER, sampler=sampler)
    adam, sgd, rmsprop = (draw_trials(spec, 3, optimizer)
                          for optimizer in ("adam", "sgd", "rmsprop"))
    for a, s, r in zip(adam, sgd, rmsprop, strict=True):
        assert {k: v for k, v in s.items() if k != "lr"} == {
            k: v for k, v in a.items() if k != "lr"}  # the other fields: the same values
        # lr: the same quantile of each range (log-uniform: in log space; uniform: linear)
        assert 1e-3 <= s["lr"] <= 1e-1 and 1e-4 <= r["lr"] <= 1e-3
        u = math.log(a["lr"] / 1e-5) / math.log(1e-2 / 1e-5)
        assert math.log(s["lr"] / 1e-3) / math.log(1e-1 / 1e-3) == pytest.approx(u)
        assert (r["lr"] - 1e-4) / (1e-3 - 1e-4) == pytest.approx(u)
        assert r["n_critic"] in (1, 2) and a["n_critic"] in (1, 5)


def test_parsing_a_search_loads_no_scipy_and_drawing_sobol_does():
    code = ("import sys; from bench.config.search_space import parse_search, draw_trials\n"
            f"spec = parse_search({PER_OPTIMIZER.to_dict() | {'sampler': 'sobol'}!r})\n"
            "assert 'scipy' not in sys.modules, 'parsing loaded scipy'\n"
            "draw_trials(spec, 0, 'adam')\n"
            "assert 'scipy.stats' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_log_uniform_draws_are_uniform_in_log_space():
    spec = SearchSpec(4000, "random", (("lr", LogUniform(1e-5, 1e-2)),))
    lrs = np.array([trial["lr"] for trial in draw_trials(spec, seed=0, optimizer="adam")])
    assert stats.kstest(np.log10(lrs), "uniform", args=(-5, 3)).pvalue > 0.01
    # the test has power: the same draws are far from uniform on the linear scale
    assert stats.kstest(lrs, "uniform", args=(1e-5, 1e-2 - 1e-5)).pvalue < 1e-10


def test_quantiles_at_the_ends_stay_inside_the_bounds_despite_rounding():
    # exp(log(low)) < low for about one low in twelve; a Sobol coordinate can be exactly 0
    ends = np.array([0.0, np.nextafter(1.0, 0.0)])
    lows = np.random.default_rng(0).uniform(1e-6, 0.5, 200)
    for low in lows.tolist():
        for dist in (LogUniform(low, 2 * low), Uniform(low, 2 * low)):
            first, last = dist.quantile(ends)
            assert low <= first <= last <= 2 * low


@pytest.mark.parametrize(("m", "seed"), [(1, 0), (3, 1), (4, 2), (6, 3)])
def test_sobol_with_2_to_the_m_trials_puts_one_point_in_each_of_2_to_the_m_bins(m, seed):
    # a choice of 2^m values picks value i for u in [i/2^m, (i+1)/2^m): every value exactly
    # once means every bin of every 1-D marginal got exactly one point
    n = 2**m
    space = (
        ("beta1", Choice(tuple(i / (2 * n) for i in range(n)))),
        ("beta2", Choice(tuple(0.5 + i / (4 * n) for i in range(n)))),
        ("clip_value", Choice(tuple((i + 1) / 100 for i in range(n)))),
        ("gp_weight", Choice(tuple(float(i + 1) for i in range(n)))),
        ("lr", Choice(tuple((i + 1) * 1e-5 for i in range(n)))),
        ("n_critic", Choice(tuple(range(1, n + 1)))),
    )
    trials = draw_trials(SearchSpec(n, "sobol", space), seed, "adam")
    for field, dist in space:
        assert sorted(trial[field] for trial in trials) == sorted(dist.values)


def _bounds(values: st.SearchStrategy[float]) -> st.SearchStrategy[list[float]]:
    return st.lists(values, min_size=2, max_size=2, unique=True).map(sorted)


def _values(field: str) -> st.SearchStrategy[float | int]:
    if SEARCH_FIELDS[field].integer:
        return st.integers(1, 20)
    if field.startswith("beta") or field == "momentum":
        return st.floats(0, 1, exclude_max=True)
    return st.floats(1e-8, 1e4)


@st.composite
def valid_searches(draw) -> dict:
    fields = draw(st.lists(st.sampled_from(list(SEARCH_FIELDS)), min_size=1, unique=True))
    if "lr" in fields:  # lr sets both networks: a space names it or the per-network rates
        fields = [f for f in fields if f not in ("lr_critic", "lr_generator")]
    space = {}
    for field in fields:
        values = _values(field)
        kinds = ["choice"] if SEARCH_FIELDS[field].integer else ["choice", "uniform",
                                                                  "log_uniform"]
        kind = draw(st.sampled_from(kinds))
        if kind == "choice":
            space[field] = {kind: draw(st.lists(values, min_size=1, max_size=5, unique=True))}
        else:
            positive = values.filter(lambda v: v > 0) if kind == "log_uniform" else values
            space[field] = {kind: draw(_bounds(positive))}
    return {"trials": draw(st.integers(1, 40)), "sampler": draw(st.sampled_from(SAMPLERS)),
            "space": space}


@slow_property(150)
@given(raw=valid_searches(), seed=st.integers(0, 2**63 - 1))
def test_every_draw_of_any_valid_spec_is_a_valid_value_in_its_distribution(raw, seed):
    spec = parse_search(raw)
    assert parse_search(read_yaml(yaml.safe_dump(spec.to_dict()), "test")) == spec
    trials = draw_trials(spec, seed, "adam")
    assert len(trials) == spec.trials
    for trial, (field, dist) in itertools.product(trials, spec.space):
        assert _in_support(trial[field], dist)
        SEARCH_FIELDS[field](trial[field], field)  # a value the field accepts anywhere


# --- seeds and used fields ----------------------------------------------------------------


def test_suite_seed_is_stable_across_processes_and_tells_identities_apart():
    # computed once; Python's salted hash() would change from run to run
    assert suite_seed("demo-suite|search") == 2093121223562060703
    seeds = {suite_seed(f"suite-{i}") for i in range(100)}
    assert len(seeds) == 100 and all(0 <= s < 2**63 for s in seeds)


BASE = {"lr", "lr_critic", "lr_generator", "n_critic"}
USED = {
    "gan": BASE,
    "wgan-clip": BASE | {"clip_value"},
    "wgan-gp": BASE | {"gp_weight"},
}
OPTIMIZER_SETTINGS = {  # from each algorithm's paper / torch's signature
    "adam": {"beta1", "beta2"}, "rmsprop": set(), "sgd": {"momentum", "nesterov"},
    "adamw": {"beta1", "beta2", "weight_decay"}, "optimistic-adam": {"beta1", "beta2"},
    "extra-adam": {"beta1", "beta2"}, "extra-sgd": {"momentum", "nesterov"},
    "past-extra-adam": {"beta1", "beta2"}, "past-extra-sgd": {"momentum", "nesterov"},
}


def test_every_optimizer_has_its_settings_stated():
    assert set(OPTIMIZER_SETTINGS) == set(OPTIMIZERS)


@pytest.mark.parametrize(("gan", "optimizer"), list(itertools.product(GANS, OPTIMIZERS)))
def test_used_fields_of_every_registered_gan_and_optimizer(gan, optimizer):
    expected = USED[gan] | OPTIMIZER_SETTINGS[optimizer]
    assert used_fields(GANS[gan].constraint_fields, optimizer) == expected
    assert expected - {"nesterov"} <= set(SEARCH_FIELDS)  # a discrete switch: not searched


@pytest.mark.parametrize("gan", list(GANS))
def test_a_gans_declared_constraint_fields_are_the_recipe_fields_its_constraint_reads(gan):
    definition = GANS[gan]
    recipe = recipe_for(gan, "toy")

    def state(**changes):
        constraint = definition.make_constraint(replace(recipe, **changes))
        return {k: v for k, v in vars(constraint).items() if not k.startswith("_")}

    for field in ("clip_value", "gp_weight"):
        changed = state(**{field: getattr(recipe, field) * 3}) != state()
        assert changed == (field in definition.constraint_fields), field
