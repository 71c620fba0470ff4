"""Regression tests for suites a new user wrote: each case was once a crash, a traceback, a
late failure or a hang, and is now either a complete run or one error line before any write."""

import re
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from bench.cli import main
from bench.config.expansion import expand
from bench.config.suite import builtin_suites, load_suite, parse_suite
from bench.config.suite_yaml import read_yaml
from bench.core.errors import BenchError
from bench.core.specs import Budget
from bench.data import DATASETS
from bench.metrics.registry import METRICS
from bench.orchestration.runner import plan_groups
from bench.training import resources
from bench.training.resources import MAX_OT_SAMPLES, check_resources, estimate_memory
from tests.conftest import tiny_suite

SUITE_YAML = """\
name: mine
datasets: [ring8]
gans: [wgan-gp]
optimizers: [{optimizers}]
seeds: 1
budget: {{generator_steps: 6}}
batch_size: {batch_size}
model: {{width: 8, depth: 1}}
eval: {{every: 3, samples: 100, w1_samples: 50, critic_samples: 100}}
{extra}
"""


def _suite_file(tmp_path: Path, optimizers: str = "adam", batch_size: str = "16",
                extra: str = "") -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(SUITE_YAML.format(optimizers=optimizers, batch_size=batch_size,
                                      extra=extra))
    return path


def _refused(tmp_path: Path, suite: Path, capsys, *args: str) -> str:
    out = tmp_path / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out), "--no-progress",
                 *args]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    err = captured.err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert not out.exists()
    return err


def test_one_optimizer_suite_gets_its_report(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out),
                 "--no-progress", "--workers", "1"]) == 0
    report = (out / "report.md").read_text()
    assert "one optimizer: no optimizer comparison" in report
    assert main(["report", str(out), "--workers", "1"]) == 0


@pytest.mark.parametrize(("extra", "expected"), [
    ("recipes: {wgan-gp: {betas: 0.5}}", "recipes.wgan-gp.betas: expected two numbers"),
    ("recipes: {wgan-gp: {betas: [0.5, 2]}}", "recipes.wgan-gp.betas[1]: expected a number "
     "in [0, 1), got 2"),
    ("recipes: {wgan-gp: {lr: .nan}}", "recipes.wgan-gp.lr: expected a number > 0, got nan"),
    ("recipes: {wgan-gp: {lr: -1e-4}}", "recipes.wgan-gp.lr: expected a number > 0"),
    ("recipes: {wgan-clip: {clip_value: 0}}", "recipes.wgan-clip.clip_value"),
    ("recipes: {wgan-gp: {gp_weight: .inf}}", "not finite"),
])
def test_bad_recipe_values_are_refused_before_any_write(extra, expected, tmp_path, capsys):
    err = _refused(tmp_path, _suite_file(tmp_path, extra=extra), capsys)
    assert expected in err


def test_yaml_12_numbers_are_numbers(tmp_path):
    path = _suite_file(tmp_path, optimizers="{name: adam, lr: 2e-4}", batch_size="1E3",
                       extra="recipes: {wgan-gp: {lr: 5E-5, gp_weight: 1e1}}")
    config = load_suite(str(path))
    assert dict(config.optimizers[0].settings)["lr"] == 2e-4 and config.batch_size == 1000
    spec = expand(config)[0]
    assert spec.recipe.lr == 5e-5 and spec.recipe.gp_weight == 10.0


def test_an_impossible_batch_is_refused_with_its_memory(tmp_path, capsys):
    err = _refused(tmp_path, _suite_file(tmp_path, batch_size="100000000"), capsys)
    assert "GiB" in err and "lower batch_size" in err


def test_exact_ot_sizes_that_take_hours_are_refused(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda device: 2**50)  # time, not memory
    cpu = torch.device("cpu")
    big = parse_suite(tiny_suite(eval={"w1_samples": MAX_OT_SAMPLES + 1}))
    with pytest.raises(BenchError, match=f"exceeds {MAX_OT_SAMPLES}"):
        check_resources(plan_groups(expand(big), big.group_size), cpu)
    many = parse_suite(tiny_suite(budget={"generator_steps": 1_000_000},
                                  eval={"every": 10, "w1_samples": 5000}))
    with pytest.raises(BenchError, match="hours"):
        check_resources(plan_groups(expand(many), many.group_size), cpu)
    paper = load_suite("paper-claims-toy")  # the paper-size suites stay affordable
    check_resources(plan_groups(expand(paper), paper.group_size), cpu)


def test_memory_estimate_grows_with_what_it_holds():
    base = parse_suite(tiny_suite())
    (group, *_) = plan_groups(expand(base), base.group_size)
    small = estimate_memory(group)
    bigger = parse_suite(tiny_suite(batch_size=64, eval={"w1_samples": 100}))
    (group, *_) = plan_groups(expand(bigger), bigger.group_size)
    large = estimate_memory(group)
    assert large.training == 2 * small.training  # batch 32 -> 64
    assert large.transport == 4 * small.transport  # N 50 -> 100
    assert small.total > 0


def test_image_memory_is_counted_from_the_networks():
    config = parse_suite(tiny_suite(datasets=["stacked-digits"], gans=["wgan-gp"],
                                    batch_size=64))
    estimate = estimate_memory(plan_groups(expand(config), 8)[0])
    # a 16 px DCGAN keeps tens of thousands of activations per sample and per network
    assert 64 * 4 * 10_000 < estimate.training < 64 * 4 * 10**7


def test_an_unreachable_ray_cluster_is_an_error_naming_it(tmp_path, capsys):
    pytest.importorskip("ray")
    start = time.monotonic()
    err = _refused(tmp_path, _suite_file(tmp_path), capsys, "--executor", "ray",
                   "--address", "127.0.0.1:1", "--ray-timeout", "2")
    assert "127.0.0.1:1" in err and "within 2 s" in err
    assert time.monotonic() - start < 30


def test_a_malformed_ray_address_is_an_error(tmp_path, capsys):
    pytest.importorskip("ray")
    err = _refused(tmp_path, _suite_file(tmp_path), capsys, "--executor", "ray",
                   "--address", "nohost")
    assert "expected auto or HOST:PORT" in err


def test_recipe_entry_gives_each_gan_its_recipe_optimizer(tmp_path):
    config = parse_suite(tiny_suite(optimizers=["recipe", "adam"]))
    runs = {(s.gan, s.optimizer_label): s.optimizer.name for s in expand(config)}
    assert runs[("gan", "recipe-adam")] == "adam"
    assert runs[("wgan-clip", "recipe-rmsprop")] == "rmsprop"
    assert runs[("wgan-gp", "recipe-adam")] == "adam"
    assert runs[("wgan-clip", "adam")] == "adam"
    assert config.run_labels() == ["recipe-adam", "recipe-rmsprop", "adam"]
    out = tmp_path / "out"
    suite = tmp_path / "s.yaml"
    suite.write_text(_suite_file(tmp_path).read_text().replace(
        "gans: [wgan-gp]", "gans: [gan, wgan-clip]").replace("[adam]", "[recipe]"))
    assert main(["run", "--suite", str(suite), "--out", str(out), "--no-progress",
                 "--workers", "1"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert sorted(zip(summary["gan"], summary["optimizer"], strict=True)) == [
        ("gan", "recipe-adam"), ("wgan-clip", "recipe-rmsprop")]


def test_recipe_labels_must_not_collide():
    with pytest.raises(BenchError, match="two entries labelled recipe-adam"):
        parse_suite(tiny_suite(optimizers=["recipe", {"name": "adam", "label": "recipe-adam"}]))


# --- issue 19: crashes off the tested paths ------------------------------------------------


def test_a_study_without_rerun_best_runs_to_its_report(tmp_path):
    search = "search: {trials: 2, space: {lr: {log_uniform: [1.0e-4, 1.0e-3]}}}"
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_suite_file(tmp_path, extra=search)), "--out",
                 str(out), "--no-progress", "--workers", "1"]) == 0
    config = load_suite(str(out / "suite.yaml"))
    assert config.search.rerun_seed_count == 0 and config.rerun_seeds == ()
    assert len(list((out / "runs").iterdir())) == 3  # the recipe run and two trials
    assert "No rerun" in (out / "report.md").read_text()


@pytest.mark.parametrize(("metric", "value"), sorted({
    (m.name, value) for m in METRICS.values() for value in (1, m.min_samples - 1)
    if 0 < value < m.min_samples}))
def test_too_few_samples_for_any_metric_is_refused_before_any_write(tmp_path, capsys, metric,
                                                                     value):
    """Every registered metric's minimum sample count, on the first dataset it applies to."""
    field = METRICS[metric].samples_field
    dataset = next(d for d in DATASETS.values() if metric in d.metrics)
    eval_ = {"every": 3, "samples": 100, "w1_samples": 50, "critic_samples": 100, field: value}
    suite = tmp_path / "few.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite(datasets=[dataset.name], eval=eval_)))
    err = _refused(tmp_path, suite, capsys)
    assert f"eval.{field}" in err and "at least" in err and f"got {value}" in err


def test_out_naming_a_file_is_one_error_line(tmp_path, capsys):
    out = tmp_path / "results.txt"
    out.write_text("not a folder")
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "is a file, not a folder" in err and "\n" not in err
    assert out.read_text() == "not a folder"


def test_resuming_a_folder_whose_budget_was_edited_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out),
                 "--no-progress", "--workers", "1"]) == 0
    suite_yaml = out / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace("generator_steps: 6",
                                                         "generator_steps: 12"))
    before = sorted(p.name for p in out.rglob("*"))
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert "ring8__wgan-gp__adam__s0" in err and "budget.amount: 6 vs 12" in err
    assert "new --out folder" in err
    assert sorted(p.name for p in out.rglob("*")) == before


def test_report_refuses_a_suite_whose_budget_was_edited_after_training(tmp_path, capsys):
    """An edited training setting would have the report describe runs that never happened:
    it is refused (the run folder is verified before it is read), and nothing is written."""
    out = tmp_path / "out"
    assert main(["run", "--suite", str(_suite_file(tmp_path)), "--out", str(out),
                 "--no-progress", "--workers", "1"]) == 0
    report = (out / "report.md").read_text()
    assert ("Matched budget for every run: **generator_steps=6 (matches "
            f"{Budget('generator_steps', 6).matches})**") in report
    suite_yaml = out / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace("generator_steps: 6",
                                                         "generator_steps: 40"))
    capsys.readouterr()
    assert main(["report", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "budget.amount: 6 vs 40" in err
    assert (out / "report.md").read_text() == report


@pytest.mark.parametrize("name", sorted(builtin_suites()))
def test_every_builtin_suite_parses_into_runs(name: str):
    config = load_suite(name)
    assert config.name == name and expand(config)


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "docs" / "suites").glob(
    "*.yaml")), ids=lambda path: path.stem)
def test_every_suite_the_docs_run_parses_into_runs(path: Path):
    config = load_suite(str(path))
    assert config.name == path.stem and expand(config)


@pytest.mark.parametrize("entry, says", [
    ({"name": "sgd", "weight_decay": 0.1}, "sgd does not use weight_decay (only adamw do)"),
    ({"name": "rmsprop", "momentum": 0.5}, "rmsprop does not use momentum"),
    ({"name": "adam", "nesterov": True}, "adam does not use nesterov"),
])
def test_a_setting_the_named_optimizer_does_not_use_is_an_error(entry, says):
    with pytest.raises(BenchError, match=re.escape(says)):
        parse_suite(tiny_suite(optimizers=[entry]))


def test_a_yaml_key_written_twice_is_an_error_naming_it_and_both_lines():
    with pytest.raises(BenchError, match=r"key 'seeds' is written twice \(lines 2 and 4\)"):
        read_yaml("name: x\nseeds: 3\nbudget: {generator_steps: 5}\nseeds: 4\n", "x.yaml")
