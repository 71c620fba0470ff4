"""A hyperparameter study end to end: recipe runs, trials batched as one model per GAN and
optimizer, each cell's best trial rerun on fresh seeds, and the report's study section."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.analysis.study import best_trial_params
from bench.cli import main
from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.specs import RERUN_PHASE, TRIAL_PHASE
from bench.orchestration.runner import plan_groups
from bench.report.summary import build_summary
from bench.storage.store import ResultsStore
from tests.conftest import tiny_suite

SEARCH = {"trials": 3, "sampler": "sobol",
          "space": {"lr": {"log_uniform": [1e-4, 1e-2]}, "beta1": {"uniform": [0.0, 0.9]},
                    "clip_value": {"log_uniform": [0.001, 0.1]},
                    "gp_weight": {"log_uniform": [0.01, 10.0]}},
          "rerun_best": {"seeds": 3}}
STUDY = tiny_suite(name="study", datasets=["ring8", "grid25"], gans=["wgan-clip", "wgan-gp"],
                   optimizers=["adam", "rmsprop"], seeds=2, group_size=32, search=SEARCH)


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("study")
    suite = tmp / "study.yaml"
    suite.write_text(yaml.safe_dump(STUDY))
    out = tmp / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out), "--device", "cpu",
                 "--workers", "1", "--no-progress"]) == 0
    return out


def test_trials_are_drawn_reproducibly_and_batch_per_gan_and_optimizer():
    config = parse_suite(STUDY)
    assert config.trial_settings("adam") == parse_suite(STUDY).trial_settings("adam")
    specs = expand(config)
    cells = 2 * 2 * 2
    assert len(specs) == cells * 2 + cells * 3 * 2  # recipe runs + trials, reruns come later
    # one group per GAN x optimizer: both datasets, every trial and seed in one model
    assert sorted(len(g) for g in plan_groups(specs, 32)) == [16] * 4
    clip = [s for s in specs if s.gan == "wgan-clip" and s.study.phase == TRIAL_PHASE]
    assert all(dict(s.study.params).keys() <= {"lr", "beta1", "clip_value"} for s in clip)
    rms = [s for s in specs if s.optimizer.name == "rmsprop" and s.study.phase == TRIAL_PHASE]
    assert all("beta1" not in dict(s.study.params) for s in rms)  # Adam's only


def test_an_optimizers_own_range_reaches_its_runs_at_the_same_trial_points():
    search = SEARCH | {"by_optimizer": {"rmsprop": {"lr": {"log_uniform": [1e-3, 1e-1]}}}}
    config = parse_suite(STUDY | {"search": search})
    lrs = {}
    for spec in expand(config):
        if spec.study.phase == TRIAL_PHASE and spec.dataset == "ring8" and spec.seed == 0:
            lrs.setdefault(spec.optimizer.name, {})[(spec.gan, spec.study.trial)] = (
                spec.optimizer.lr)
    assert lrs["adam"].keys() == lrs["rmsprop"].keys()
    for key, adam in lrs["adam"].items():
        assert 1e-4 <= adam <= 1e-2 and 1e-3 <= lrs["rmsprop"][key] <= 1e-1
        assert lrs["rmsprop"][key] == pytest.approx(adam * 10)  # the same point, a decade up


def test_every_phase_is_stored_with_its_role(study):
    summary = pd.read_csv(study / "summary.csv")
    config = parse_suite(STUDY)
    assert len(summary) == config.n_runs == 8 * (2 + 3 * 2 + 3)
    assert summary["phase"].value_counts().to_dict() == {"recipe": 16, "trial": 48, "rerun": 24}
    reruns = summary[summary["phase"] == RERUN_PHASE]
    assert set(reruns["seed"]) == {2, 3, 4}  # fresh: the trials used 0 and 1
    best = best_trial_params(build_summary(ResultsStore(study)), config)
    for run_dir in (study / "runs").glob("*__best__s*"):
        run = json.loads((run_dir / "config.json").read_text())
        trial, params = best[(run["dataset"], run["arch"], run["gan"],
                              run["optimizer_label"])]
        assert run["study"] == {"phase": "rerun", "trial": trial, "params": params}
        assert run["optimizer"]["lr"] == params["lr"]


def test_the_report_has_the_study_section_and_recipe_tables(study):
    report = (study / "report.md").read_text()
    assert "## Hyperparameter study" in report and "### Tuned comparisons" in report
    for name in ("search_trials.csv", "expected_best.csv", "search_rerun.csv",
                 "search_comparisons.csv"):
        assert (study / "tables" / name).is_file(), name
    assert (study / "plots" / "expected_best_ring8.png").is_file()
    cells = pd.read_csv(study / "tables" / "cells.csv")  # the recipe runs only
    assert (cells.loc[cells["metric"] == "w1", "n"] == 2).all()
    trials = pd.read_csv(study / "tables" / "search_trials.csv")
    assert len(trials) == 8 * 3 and {"hp_lr", "hp_clip_value", "hp_gp_weight"} <= set(trials)


def test_a_rerun_of_the_finished_study_trains_nothing(study, capsys):
    assert main(["run", "--resume", str(study), "--device", "cpu", "--workers", "1",
                 "--no-progress"]) == 0
    assert "trained 0 runs" in capsys.readouterr().out
