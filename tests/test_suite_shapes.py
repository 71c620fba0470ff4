"""Property tests: every suite a user can validly write runs to a complete report, and every
invalid value is refused before anything is written.

The shape test trains real (tiny) suites; CI draws a fixed handful of shapes, and
``--hypothesis-profile=thorough`` draws many more.
"""

import math
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bench.analysis.claims import CLAIMS
from bench.analysis.rules import VERDICTS
from bench.cli import main
from bench.core.specs import (
    ClaimsSpec,
    DiagnosticsSpec,
    EvalSpec,
    ImageModelSpec,
    MetricGate,
    ModelSpec,
)
from bench.core.validators import CHECK, Choice, Number, betas
from bench.data.toy import TOY_DATASETS
from gan_zoo.architectures.dcgan import IMAGE_ARCHS
from gan_zoo.recipes import Recipe
from gan_zoo.registry import GANS
from tests.conftest import slow_property, tiny_suite

CI_MAX_RUNS = 30
"""The fixed examples of the default profile train at most this many runs (a 3 x 3 x 3 study
with trials trains hundreds); ``--hypothesis-profile=thorough`` draws any size."""
REPORT_SECTIONS = ("## Setup", "## Results", "## Claims", "## Plots", "## Files")
BUDGETS = {
    "generator_steps": {"generator_steps": 6},
    "critic_steps": {"critic_steps": 30},
    "real_samples": {"real_samples": 480},
    "seconds": {"seconds": 0.3},
}
OPTIMIZER_ENTRIES = (
    "recipe",
    "adam",
    "rmsprop",
    "sgd",
    {"name": "adam", "lr": 1e-3, "label": "adam-fast"},  # two labelled entries of one algorithm
    {"name": "adam", "lr": 1e-5, "label": "adam-slow"},
)


def _label(entry: str | dict) -> str:
    return entry if isinstance(entry, str) else entry["label"]


@st.composite
def suite_shapes(draw) -> dict:
    datasets = draw(st.lists(st.sampled_from(sorted(TOY_DATASETS)), min_size=1, max_size=3,
                             unique=True))
    gans = draw(st.lists(st.sampled_from(sorted(GANS)), min_size=1, max_size=3, unique=True))
    optimizers = draw(st.lists(st.sampled_from(OPTIMIZER_ENTRIES), min_size=1, max_size=3,
                               unique_by=_label))
    budget = draw(st.sampled_from(sorted(BUDGETS)))
    suite = tiny_suite(
        datasets=datasets, gans=gans, optimizers=optimizers,
        seeds=draw(st.integers(1, 3)), budget=BUDGETS[budget], batch_size=16,
        model={"width": 8, "depth": 1, "latent_dim": 2},
        eval={"every": 3, "samples": 100, "w1_samples": 50, "critic_samples": 100},
    )
    if draw(st.booleans()):
        suite["diagnostics"] = {"critic_steps": 4, "seeds": 2, "width": 8, "depth": 2,
                                "batch_size": 16}
    if draw(st.booleans()):
        suite["search"] = {"trials": draw(st.integers(1, 2)),
                           "space": {"lr": {"log_uniform": [1e-4, 1e-3]}}}
        if draw(st.booleans()):
            suite["search"]["rerun_best"] = {"seeds": 1}
    if draw(st.booleans()):
        suite["gates"] = {"metrics": {"w1": {"margin": 0.1, "relative": True},
                                      "precision": {"margin": 0.1}}}
    return suite


def _runs_of(suite: dict) -> int:
    """Every run of ``suite``: its recipe runs, and for a study its trials and reruns."""
    cells = len(suite["datasets"]) * len(suite["gans"]) * len(suite["optimizers"])
    search = suite.get("search", {"trials": 0})
    reruns = search.get("rerun_best", {"seeds": 0})["seeds"]
    return cells * (suite["seeds"] * (1 + search["trials"]) + reruns)


def _run(tmp_path: Path, suite: dict, out: Path) -> int:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    return main(["run", "--suite", str(path), "--out", str(out), "--device", "cpu",
                 "--workers", "1", "--no-progress"])


@slow_property(4)
@given(suite=suite_shapes())
def test_every_suite_shape_runs_to_a_complete_report(suite, tmp_path_factory, capsys):
    if settings.get_current_profile_name() == "default":
        assume(_runs_of(suite) <= CI_MAX_RUNS)
    tmp_path = tmp_path_factory.mktemp("shape")
    out = tmp_path / "out"
    assert _run(tmp_path, suite, out) == 0
    report = (out / "report.md").read_text()
    for section in REPORT_SECTIONS:
        assert section in report, section
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == _runs_of(suite)
    for name in ("cells.csv", "divergence.csv", "optimizers.csv"):
        assert (out / "tables" / name).is_file(), name
    for dataset in suite["datasets"]:
        assert (out / "tables" / f"{dataset}.md").is_file()
        assert (out / "plots" / f"samples_{dataset}.png").is_file()
    claims = pd.read_csv(out / "claims.csv")
    assert set(claims["verdict"]) <= set(VERDICTS)
    overall = claims[claims["check"] == "overall"]
    assert list(overall["claim"].astype(str)) == [claim.id for claim in CLAIMS]
    lacking = claims[(claims["check"] != "overall") & (claims["verdict"] == "inconclusive")]
    assert lacking["evidence"].str.len().gt(10).all()  # each says what is missing or unclear
    # every figure the report links exists; every left-out figure says why in one sentence
    for line in report.splitlines():
        if line.startswith("!["):
            assert (out / line[line.rindex("](") + 2 : -1]).is_file(), line
    # the report rebuilds from the folder alone
    assert main(["report", str(out), "--workers", "1"]) == 0
    if "gates" in suite:  # a folder compared with itself: no regression, or too few seeds
        code = main(["compare", str(out), str(out)])
        assert code == 0 or (code == 2 and "too few seeds" in capsys.readouterr().err)


# --- invalid values -------------------------------------------------------------------------

LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
WRONG_TYPES = st.one_of(LETTERS, st.lists(st.integers(0, 3), max_size=2),
                        st.dictionaries(LETTERS, st.integers(0, 3), max_size=1))
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def _invalid_numbers(number: Number) -> st.SearchStrategy:
    """Values ``number`` must refuse: wrong types, NaN/inf, out-of-range and (for integers)
    fractional numbers."""
    options = [WRONG_TYPES, NOT_FINITE, st.booleans()]
    if number.minimum is not None:
        low = st.floats(max_value=number.minimum, allow_nan=False, allow_infinity=False,
                        exclude_max=not number.low_open)
        options.append(low.map(lambda x: int(math.floor(x)) if number.integer else x)
                       .filter(lambda x: x < number.minimum or (number.low_open
                                                                and x == number.minimum)))
    if number.maximum is not None:
        options.append(st.floats(min_value=number.maximum, allow_nan=False, allow_infinity=False,
                                 exclude_min=not number.high_open))
    if number.integer:
        options.append(st.floats(0.1, 1e6).filter(lambda x: x != int(x)))
    return st.one_of(options)


def _invalid_for(validator) -> st.SearchStrategy:
    if isinstance(validator, Number):
        return _invalid_numbers(validator)
    if isinstance(validator, Choice):
        return st.one_of(LETTERS.filter(lambda s: s not in validator.options),
                         st.integers(), NOT_FINITE, st.lists(LETTERS, max_size=1))
    name = getattr(validator, "__name__", "")
    if name == "flag":
        return st.one_of(st.integers(), LETTERS.filter(lambda s: s not in ("y", "n")),
                         NOT_FINITE)
    if name == "betas":
        beta = st.one_of(st.floats(min_value=1.0), st.floats(max_value=0, exclude_max=True),
                         NOT_FINITE, LETTERS)
        return st.one_of(beta, st.tuples(beta, st.just(0.9)).map(list),
                         st.tuples(st.just(0.5), beta).map(list),
                         st.lists(st.just(0.5), min_size=3, max_size=4))
    if name == "_archs":
        unknown = LETTERS.filter(lambda s: s not in IMAGE_ARCHS)
        return st.one_of(unknown, unknown.map(lambda s: ["dcgan", s]), st.just([]),
                         st.just(["dcgan", "dcgan"]), st.integers(), NOT_FINITE)
    if name == "_odd":
        return st.one_of(st.integers(-10, 10).map(lambda x: 2 * x), WRONG_TYPES, NOT_FINITE)
    raise AssertionError(f"no invalid values known for {validator!r}")


def _fields(cls: type, path: str) -> list[tuple[str, object]]:
    return [(f"{path}.{f.name}", f.metadata[CHECK]) for f in fields(cls) if CHECK in f.metadata]


FIELDS: list[tuple[str, object]] = [
    ("batch_size", Number(minimum=1, integer=True)),
    ("group_size", Number(minimum=1, integer=True)),
    ("budget.generator_steps", Number(minimum=1, integer=True)),
    ("budget.seconds", Number(minimum=0, low_open=True)),
    ("optimizers.0.lr", Number(minimum=0, low_open=True)),
    *_fields(ModelSpec, "model"),
    *_fields(ImageModelSpec, "image_model"),
    *_fields(EvalSpec, "eval"),
    *_fields(Recipe, "recipes.wgan-gp"),
    *_fields(ClaimsSpec, "claims"),
    *_fields(DiagnosticsSpec, "diagnostics"),
    *_fields(MetricGate, "gates.metrics.w1"),
    ("gates.alpha", Number(minimum=0, maximum=0.5, low_open=True)),
    ("gates.divergence_margin", Number(minimum=0, maximum=1)),
    ("gates.min_throughput_ratio", Number(minimum=0, maximum=1, low_open=True)),
]
OTHER_FIELDS = {  # fields whose values are not a dataclass field's: their invalid values
    "optimizers.0.betas": _invalid_for(betas),
    "name": st.one_of(st.just("a/b"), st.just(""), st.just("../x"), st.integers()),
    "description": st.one_of(st.integers(), st.lists(LETTERS, min_size=1)),
    "datasets": st.one_of(st.just([]), LETTERS.map(lambda s: [s + "-x"]), st.integers(),
                          st.just(["ring8", "ring8"])),
    "gans": st.one_of(st.just([]), LETTERS.map(lambda s: [s + "-x"]), st.just([1])),
    "optimizers": st.one_of(st.just([]), st.just(["adagrad"]), st.just([{"lr": 1e-3}]),
                            st.just(["adam", "adam"]), st.just("adam")),
    "seeds": st.one_of(st.integers(max_value=0), st.just([]), st.just([-1]), st.just([1, 1]),
                       LETTERS, NOT_FINITE, st.just(1.5)),
    "budget": st.one_of(st.just({}), st.just({"epochs": 3}), st.integers(),
                        st.just({"generator_steps": 3, "seconds": 1})),
    "recipes": st.one_of(st.just({"wgan-xx": {"lr": 1e-3}}), st.integers(),
                         st.just({"wgan-gp": 3})),
    "gates.metrics": st.one_of(st.just({}), st.just({"bogus": {"better": "lower",
                                                                "margin": 0.1}}),
                               st.just({"w1": {"better": "lower"}}), st.integers()),
}
SECTIONS = ("", "model", "image_model", "eval", "recipes.wgan-gp", "claims", "diagnostics",
            "gates", "gates.metrics.w1", "optimizers.0", "budget")


def _valid_suite() -> dict:
    suite = tiny_suite(
        optimizers=[{"name": "adam", "lr": 1e-3, "label": "adam"}],
        recipes={"wgan-gp": {"lr": 1e-4}},
        diagnostics={"critic_steps": 4},
        gates={"metrics": {"w1": {"better": "lower", "margin": 0.1}}},
    )
    return suite


def _set(suite: dict, path: str, value) -> dict:
    if path.startswith("budget."):  # one budget kind at a time
        suite["budget"] = {}
    node = suite
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return suite


def _assert_refused(tmp_path: Path, suite: dict, capsys) -> None:
    out = tmp_path / "out"
    assert _run(tmp_path, suite, out) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert "Traceback" not in captured.out + captured.err
    assert not out.exists()


def test_the_valid_base_suite_is_valid():
    from bench.config.suite import parse_suite

    parse_suite(_valid_suite())


@pytest.mark.parametrize("path", [p for p, _ in FIELDS] + sorted(OTHER_FIELDS))
def test_every_invalid_value_is_refused_before_any_write(path, tmp_path_factory, capsys):
    strategy = OTHER_FIELDS[path] if path in OTHER_FIELDS else _invalid_for(dict(FIELDS)[path])

    @slow_property(8)
    @given(value=strategy)
    def refused(value):
        _assert_refused(tmp_path_factory.mktemp("bad"), _set(_valid_suite(), path, value),
                        capsys)

    refused()


@pytest.mark.parametrize("section", SECTIONS)
def test_an_unknown_key_in_any_section_is_refused(section, tmp_path, capsys):
    path = f"{section}.bogus_key" if section else "bogus_key"
    suite = _valid_suite()
    if section == "optimizers.0":
        suite["optimizers"][0]["bogus_key"] = 1
    else:
        _set(suite, path, 1)
    _assert_refused(tmp_path, suite, capsys)
