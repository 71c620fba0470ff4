"""A hyperparameter study's analysis on hand-made summaries with planted final W1 values: the
best-trial rule, the trial, expected-best and rerun tables, tuned verdicts and the section."""

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from bench.analysis.pairwise import DIFFER, NONE_DIFFER
from bench.analysis.rules import EQUIVALENT, INCONCLUSIVE
from bench.analysis.study import (
    best_trial_params,
    best_trials,
    expected_best_table,
    rerun_table,
    trial_table,
    tuned_comparisons,
)
from bench.config.search_space import parse_search
from bench.config.suite import parse_suite
from bench.config.suite_config import SuiteConfig
from bench.report.study_section import expected_best_plot, study_section
from bench.stats import NONNEGATIVE, mean_ci
from tests.conftest import tiny_suite

SPACE = {"lr": {"log_uniform": [1.0e-5, 1.0e-2]}, "n_critic": {"choice": [1, 5]},
         "clip_value": {"uniform": [0.005, 0.05]}}
SETTINGS = [{"lr": 1.0e-4, "n_critic": 1, "clip_value": 0.01},
            {"lr": 1.0e-3, "n_critic": 5, "clip_value": 0.02},
            {"lr": 3.0e-5, "n_critic": 5, "clip_value": 0.04}]
"""Trial i's draw, the same in every cell (clip_value only for wgan-clip)."""
FIRST_SEED = {"recipe": 0, "trial": 0, "rerun": 100}  # reruns get fresh seeds


def study_config(**suite) -> SuiteConfig:
    search = {"trials": len(SETTINGS), "space": SPACE, "rerun_best": {"seeds": 5}}
    return replace(parse_suite(tiny_suite(**suite)), search=parse_search(search))


def runs(gan: str, phase: str, w1: list, trial: int = -1, optimizer: str = "adam",
         dataset: str = "ring8", arch: str = "mlp", metric: str = "w1") -> list[dict]:
    """A cell's runs of one phase (and trial), one per planted final W1 (or ``metric``);
    None: diverged."""
    params = {} if phase == "recipe" else {
        f"hp_{field}": value for field, value in SETTINGS[trial].items()
        if field != "clip_value" or gan == "wgan-clip"}
    return [{"run_id": f"{dataset}__{arch}__{gan}__{optimizer}__{phase}{trial}__s{seed}",
             "dataset": dataset, "arch": arch, "gan": gan, "optimizer": optimizer,
             "seed": seed, "status": "finished" if value is not None else "diverged",
             f"final_{metric}": math.nan if value is None else value,
             "final_modes_captured": math.nan if value is None else 8 - seed % 2,
             "final_step": 6, "phase": phase, "trial": trial, **params}
            for seed, value in enumerate(w1, start=FIRST_SEED[phase])]


def summary(*groups: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records([row for group in groups for row in group])


def trials(gan: str, *w1: list, **cell) -> list[dict]:
    """Every trial of a cell: trial i's seeds get the i-th list of final W1s."""
    return [row for i, values in enumerate(w1) for row in runs(gan, "trial", values, i, **cell)]


def test_best_trial_ranks_diverged_trials_last_and_breaks_ties_by_index():
    config = study_config(gans=["gan", "wgan-clip"])
    frame = summary(
        # trial 0 has the lowest finished mean but a diverged seed; 1 and 2 tie
        trials("gan", [0.1, None, 0.1], [0.5, 0.0, 0.25], [0.25, 0.25, 0.25]),
        # every trial diverged somewhere: fewest diverged seeds, then the finished mean
        trials("wgan-clip", [None, None, 0.1], [None, 0.9, 0.9], [0.4, None, 0.4]),
    )
    best = best_trials(frame, config).set_index("gan")
    assert best.loc["gan", "trial"] == 1 and best.loc["wgan-clip", "trial"] == 2
    params = best_trial_params(frame, config)
    assert params == {("ring8", "mlp", "gan", "adam"): (1, {"lr": 1.0e-3, "n_critic": 5}),
                      ("ring8", "mlp", "wgan-clip", "adam"):
                          (2, {"clip_value": 0.04, "lr": 3.0e-5, "n_critic": 5})}
    assert isinstance(params["ring8", "mlp", "gan", "adam"][1]["n_critic"], int)
    shuffled = frame.sample(frac=1.0, random_state=0)
    assert best_trial_params(shuffled, config) == params


def test_trial_table_counts_seeds_and_averages_the_finished_ones():
    config = study_config(gans=["gan"])  # no wgan-clip: the store writes no hp_clip_value
    frame = summary(trials("gan", [1.0, 2.0, 3.0], [0.5, None, 0.7]))
    table = trial_table(frame, config).set_index("trial")
    assert len(table) == 2 and set(table["setting"]) == {"ring8"}
    first, second = table.loc[0], table.loc[1]
    est = mean_ci([1.0, 2.0, 3.0], NONNEGATIVE)  # W1 is declared [0, inf)
    assert (first["seeds"], first["diverged"], first["quality_n"]) == (3, 0, 3)
    assert first["quality_metric"] == "w1" and first["quality_ci_method"] == "t"
    assert first[["quality_mean", "quality_ci_low", "quality_ci_high"]].tolist() == \
        pytest.approx([est.mean, est.low, est.high])
    assert first["modes_captured_mean"] == pytest.approx((8 + 7 + 8) / 3)
    assert "w1_mean" not in table  # the quality is already there, with its CI
    assert (second["seeds"], second["diverged"], second["quality_n"]) == (3, 1, 2)
    assert second["quality_mean"] == pytest.approx(0.6)
    assert (first["hp_lr"], first["hp_n_critic"]) == (1.0e-4, 1)
    assert table["hp_clip_value"].isna().all()


def test_expected_best_curve_per_cell_starts_at_the_mean_of_trial_means_and_improves():
    config = study_config(gans=["gan", "wgan-clip"])
    means = [[0.3, 0.3], [0.1, 0.2], [0.9, 0.7]]
    frame = summary(trials("gan", *means), trials("wgan-clip", [0.2, 0.2], [None, 0.1], [0.5, 0.5]))
    curves = expected_best_table(frame, config)
    assert len(curves) == 2 * len(SETTINGS)
    gan = curves[curves["gan"] == "gan"].set_index("k")
    assert gan.index.tolist() == [1, 2, 3] and (gan["n_trials"] == 3).all()
    assert gan.loc[1, "expected_best"] == pytest.approx(np.mean([np.mean(m) for m in means]))
    assert (np.diff(gan["expected_best"]) <= 0).all()
    assert (gan["ci_low"] <= gan["expected_best"]).all()
    assert (gan["expected_best"] <= gan["ci_high"]).all()
    # a trial with a diverged seed is +inf: every k might draw only it
    clip = curves[curves["gan"] == "wgan-clip"].set_index("k")
    assert np.isinf(clip["expected_best"]).all()
    assert clip.loc[1, "p_all_diverged"] == pytest.approx(1 / 3)
    assert clip.loc[1, "expected_best_converged"] == pytest.approx(0.35)


def test_expected_best_plot_has_a_panel_per_architecture(tmp_path):
    image = {"dataset": "stacked-digits", "metric": "fid"}
    frame = summary(*(trials(gan, [30.0, 32.0], [20.0, None], [25.0, 26.0], arch=arch, **image)
                      for gan in ("gan", "wgan-gp") for arch in ("dcgan", "mlp-g")))
    curves = expected_best_table(frame, study_config())
    assert set(curves["setting"]) == {"stacked-digits / dcgan", "stacked-digits / mlp-g"}
    assert (curves["quality_metric"] == "fid").all()
    path = tmp_path / "expected_best_stacked-digits.png"
    assert expected_best_plot(curves, "stacked-digits", ["wgan-gp", "gan"], path) == path
    assert path.is_file()


def test_rerun_table_pairs_the_best_trials_fresh_seeds_with_the_recipe():
    config = study_config(gans=["gan", "wgan-clip"])
    frame = summary(
        runs("gan", "recipe", [0.9, 1.1, 1.0]), trials("gan", [0.5, 0.5, 0.5], [0.2, 0.3, 0.4]),
        runs("gan", "rerun", [0.4, 0.5, 0.6, 0.5, 0.5], trial=1),
        runs("wgan-clip", "recipe", [0.3, None, 0.5]),
        trials("wgan-clip", [0.6, 0.6, 0.6], [0.7, 0.8, 0.9]),
        runs("wgan-clip", "rerun", [0.6, 0.7, None, 0.5, 0.6], trial=0),
    )
    table = rerun_table(frame, config).set_index("gan")
    gan, clip = table.loc["gan"], table.loc["wgan-clip"]
    assert (gan["trial"], gan["hp_lr"], gan["quality_metric"]) == (1, 1.0e-3, "w1")
    assert gan["search_quality_mean"] == pytest.approx(0.3)
    assert (gan["rerun_seeds"], gan["rerun_diverged"]) == (5, 0)
    assert gan["rerun_quality_mean"] == pytest.approx(0.5)
    assert (gan["recipe_seeds"], gan["recipe_quality_mean"]) == (3, pytest.approx(1.0))
    assert (clip["trial"], clip["hp_clip_value"]) == (0, 0.01)
    assert (clip["rerun_seeds"], clip["rerun_diverged"], clip["rerun_quality_n"]) == (5, 1, 4)
    assert clip["rerun_quality_mean"] == pytest.approx(0.6)
    assert (clip["recipe_diverged"], clip["recipe_quality_mean"]) == (1, pytest.approx(0.4))
    assert math.isnan(gan["hp_clip_value"])


def reruns(**w1_by_cell: list) -> pd.DataFrame:
    """Rerun seeds per ``<gan>__<optimizer>`` cell (GAN names with _ for -)."""
    return summary(*(runs(cell.split("__")[0].replace("_", "-"), "rerun", w1, trial=0,
                          optimizer=cell.split("__")[1]) for cell, w1 in w1_by_cell.items()))


def _verdicts(table: pd.DataFrame) -> dict:
    return {(kind, fixed, f"{a} vs {b}"): verdict for kind, fixed, a, b, verdict in
            table[["comparison", "held fixed", "a", "b", "verdict"]].itertuples(
                index=False, name=None)}


def test_tuned_comparisons_decide_separated_pairs_in_the_direction_the_data_show():
    config = study_config(gans=["gan", "wgan-gp"], optimizers=["adam", "rmsprop"])
    frame = reruns(gan__adam=[0.1, 0.2, 0.15, 0.12, 0.18],
                   wgan_gp__adam=[0.5, 0.6, None, 0.55, 0.7],
                   gan__rmsprop=[0.3, 0.31, 0.29, 0.33, 0.32],
                   wgan_gp__rmsprop=[0.4, 0.45, 0.5, 0.42, 0.48])
    table = tuned_comparisons(frame, config)
    assert _verdicts(table) == {
        ("GANs", "optimizer adam", "gan vs wgan-gp"): "gan better than wgan-gp",
        ("GANs", "optimizer rmsprop", "gan vs wgan-gp"): "gan better than wgan-gp",
        ("optimizers", "GAN gan", "adam vs rmsprop"): "adam better than rmsprop",
        ("optimizers", "GAN wgan-gp", "adam vs rmsprop"): "rmsprop better than adam",
    }
    assert (table["family_verdict"] == DIFFER).all()
    assert (table["basis"] == "tuned (best of 3 trials, rerun on 5 fresh seeds)").all()
    assert (table["metric"] == "w1").all() and (table["setting"] == "ring8").all()
    adam = table.iloc[0]  # gan vs wgan-gp at adam: 5 seeds each, one diverged
    assert adam["evidence"].startswith("gan ") and "1 diverged" in adam["evidence"]
    assert "Holm-adjusted p=0.00794 over the family's 2 tested checks" in adam["evidence"]
    assert (adam["seeds_a"], adam["seeds_b"], adam["winner"]) == (5, 5, "gan")
    # exact Mann-Whitney, complete separation: 1 / C(10, 5) each way
    assert adam["p_a_better"] == pytest.approx(1 / 252) and adam["p_b_better"] == 1.0
    assert adam["p_adjusted"] == pytest.approx(2 / 252)
    assert adam["cliffs_delta"] == 1.0 and -1 <= adam["delta_low"] < 1 == adam["delta_high"]
    assert math.isnan(adam["seeds_needed"])
    reversed_ = table.iloc[3]  # delta is oriented for a = adam, the worse one here (one tie)
    assert reversed_["cliffs_delta"] == -0.96 and reversed_["winner"] == "rmsprop"


def test_a_family_corrects_across_its_pairs_and_both_directions():
    """3 seeds a side: complete separation gives p = 0.05 one way, above Holm's 0.025 for a
    single pair's two directions; the pair is undecided and says what would decide it."""
    config = study_config(gans=["gan", "wgan-gp"])
    three = tuned_comparisons(reruns(gan__adam=[0.1, 0.2, 0.15],
                                     wgan_gp__adam=[0.5, 0.6, 0.55]), config)
    row = three.iloc[0]
    assert row["p_a_better"] == pytest.approx(0.05) and row["p_adjusted"] == pytest.approx(0.1)
    assert row["verdict"] == INCONCLUSIVE and row["family_verdict"] == INCONCLUSIVE
    assert row["seeds_needed"] >= 4 and "seeds per arm needed" in row["evidence"]
    # 5 seeds: 1/252 passes Holm over one pair (2 checks), not over six pairs (12 checks)
    config = study_config(gans=["gan"], optimizers=["adam", "rmsprop", "sgd", "adamw"])
    spread = {f"gan__{o}": [v + i for i in (0.0, 0.1, 0.2, 0.3, 0.4)]
              for o, v in (("adam", 0.0), ("rmsprop", 0.45), ("sgd", 0.9), ("adamw", 1.35))}
    table = tuned_comparisons(reruns(**spread), config)
    adjacent = table[(table["a"] == "adam") & (table["b"] == "rmsprop")].iloc[0]
    assert adjacent["p_a_better"] == pytest.approx(1 / 252)  # separated, but barely
    assert adjacent["verdict"] == "adam better than rmsprop"  # 12 x 1/252 = 0.048
    assert len(table) == 6 and table["p_adjusted"].max() <= 0.05


def test_tuned_comparisons_of_overlapping_or_too_few_seeds_are_inconclusive():
    config = study_config(gans=["gan", "wgan-gp"])
    overlap = tuned_comparisons(reruns(gan__adam=[0.1, 0.5, 0.3, 0.7, 0.2],
                                       wgan_gp__adam=[0.2, 0.6, 0.4, 0.1, 0.3]), config)
    assert overlap["verdict"].tolist() == [INCONCLUSIVE]
    few = tuned_comparisons(reruns(gan__adam=[0.1], wgan_gp__adam=[0.8, 0.9]), config)
    assert few["verdict"].tolist() == [INCONCLUSIVE]
    assert "too few seeds" in few["evidence"].iloc[0]


def test_interleaved_groups_of_many_seeds_are_equivalent_and_so_is_their_family():
    config = study_config(gans=["gan", "wgan-gp"])
    values = np.linspace(0.1, 0.9, 80)
    table = tuned_comparisons(reruns(gan__adam=values[::2].tolist(),
                                     wgan_gp__adam=values[1::2].tolist()), config)
    row = table.iloc[0]
    assert row["verdict"] == EQUIVALENT and row["family_verdict"] == NONE_DIFFER
    assert row["p_equivalent"] <= 0.05 and -0.33 < row["delta_low"] <= row["delta_high"] < 0.33
    assert "lies inside +-0.33" in row["evidence"]


def full_study() -> pd.DataFrame:
    """ring8: every phase of two GANs; grid25: every run diverged (no quality at all)."""
    groups = []
    for dataset, ok in (("ring8", True), ("grid25", False)):
        for gan, base in (("gan", 0.5), ("wgan-clip", 0.2)):
            def w1(*values, ok=ok, base=base):
                return [base + v if ok else None for v in values]
            groups += [runs(gan, "recipe", w1(0.3, 0.4, 0.35), dataset=dataset),
                       trials(gan, w1(0.1, 0.2, 0.1), w1(0.0, 0.05, 0.02),
                              w1(0.5, 0.6, 0.4), dataset=dataset),
                       runs(gan, "rerun", w1(0.0, 0.01, 0.03, 0.02, 0.04), trial=1,
                            dataset=dataset)]
    return summary(*groups)


def test_study_section_writes_every_table_and_figure_and_cites_them(tmp_path):
    config = study_config(datasets=["ring8", "grid25"], gans=["gan", "wgan-clip"])
    lines = study_section(tmp_path, config, full_study())
    text = "\n".join(lines)
    for table in ("search_trials", "expected_best", "search_rerun", "search_comparisons"):
        assert (tmp_path / "tables" / f"{table}.csv").is_file(), table
        assert f"tables/{table}.csv" in text
    assert len(pd.read_csv(tmp_path / "tables" / "search_trials.csv")) == 2 * 2 * 3
    for plot in ("expected_best_ring8", "search_sensitivity"):
        assert (tmp_path / "plots" / f"{plot}.png").is_file(), plot
        assert f"](plots/{plot}.png)" in text
    assert not (tmp_path / "plots" / "expected_best_grid25.png").exists()
    assert "left out: every trial on grid25 diverged or recorded no quality metric." in text
    assert lines[0] == "## Hyperparameter study"
    for words in ("random sampling", "log_uniform", "**Selection rule.**", "5 fresh seeds",
                  "paper recipe", "| ring8 | gan | adam | 1 |",
                  "tuned (best of 3 trials, rerun on 5 fresh seeds)",
                  "separate from the fixed-recipe claim verdicts", "Holm's correction",
                  "| GANs | ring8 | optimizer adam | some pair differs | 1 | 1 | 0 | 0 |",
                  "| GANs | ring8 | optimizer adam | gan vs wgan-clip | wgan-clip better than "
                  "gan | -1.00 [-1.00, -0.",
                  "| 5 + 5 | 0.00794 |"):
        assert words in text, words


def test_no_search_section_no_study():
    config = parse_suite(tiny_suite())
    assert config.search is None
    assert study_section(config=config, root="unused", summary=pd.DataFrame()) == []
