"""The seven claim checks on planted suite data (no training): each planted suite is written
here as a real results folder through the store, from a compact description of its runs where
the answer is known, and loaded with load_suite_data as the report loads it; each claim's
verdict and evidence are checked against it.

Groups of 5 seeds that do not overlap give the smallest exact one-sided Mann-Whitney p-value,
1 / C(10, 5) = 0.00397 < alpha = 0.05, and Cliff's delta = +-1: verdicts are decided by the
data with a margin, not by luck.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bench.analysis.claims import CLAIMS, ClaimCheck
from bench.analysis.rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from bench.analysis.suite_data import SuiteData, load_suite_data
from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.results import Counters, RunResult
from bench.report.summary import build_summary
from bench.storage.critic_outputs import (
    CLIP_VALUES,
    DIAGNOSTICS_DIR,
    GRADIENT_DATASET,
    GRADIENT_FILE,
)
from bench.storage.store import ResultsStore
from tests.conftest import tiny_suite

NAN = math.nan
R, NR, INC = REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE
P_SEPARATED = "p=0.00397, Cliff's delta=+1.00"  # 5 vs 5 seeds, no overlap, as claimed
P_OPPOSITE = "not reproduced: the opposite holds (p=0.00397"
TOY_GANS = {"gans": ["gan", "wgan-clip", "wgan-gp"], "optimizers": ["adam", "rmsprop"],
            "seeds": 5}
IMAGES = {"datasets": ["stacked-digits"], "gans": ["gan", "wgan-clip"],
          "optimizers": ["recipe"], "seeds": 5,
          "image_model": {"arch": ["dcgan", "dcgan-nobn-g", "mlp-g"], "filters": 8}}


# --- planted suites -----------------------------------------------------------------------


@dataclass
class Run:
    """One planted run of a suite's grid and what it recorded."""

    gan: str
    optimizer: str
    """The run's optimizer label (adam, rmsprop, recipe-adam, ...)."""
    seed: int
    checkpoints: dict[str, list[float]]
    """'step' and each recorded metric, one value per checkpoint (NaN: not recorded)."""
    status: str = "finished"
    dataset: str = "ring8"
    arch: str = "mlp"


def finals(gan: str, optimizer: str, values: list[float | None], metric: str = "w1",
           dataset: str = "ring8", arch: str = "mlp") -> list[Run]:
    """Seeds 0, 1, ... recording ``metric`` once, at step 100; None: that seed diverged
    before recording anything."""
    return [Run(gan, optimizer, seed, {"step": [100], metric: [NAN if v is None else v]},
                "finished" if v is not None else "diverged", dataset, arch)
            for seed, v in enumerate(values)]


def spread(low: float, step: float = 0.01, n: int = 5) -> list[float]:
    """``n`` distinct values from ``low`` up (distinct seeds, no ties)."""
    return [round(low + i * step, 6) for i in range(n)]


PILE_SIZE = 10_000
"""Critic weights of a planted models.pt: piled fractions to 1e-4."""


def critic_state(fraction: float, clip_value: float) -> dict[str, torch.Tensor]:
    """A toy critic (leading member dimension 1) whose weights sit at +-``clip_value`` in
    the share ``fraction`` and at half of it otherwise."""
    piled = round(fraction * PILE_SIZE)
    weights = torch.full((PILE_SIZE,), clip_value / 2)
    weights[:piled] = clip_value
    weights[::2] *= -1
    return {"critic.net.0.weight": weights.reshape(1, 100, 100),
            "critic.net.0.bias": torch.zeros(1, 100)}


def suite_data(parent: Path, suite: dict, runs: list[Run],
               weights: dict[tuple[str, str], list[float]] | None = None,
               gradients: pd.DataFrame | None = None) -> SuiteData:
    """``tiny_suite(**suite)`` holding ``runs`` (each must be in the suite's grid), written
    as a new results folder under ``parent`` through the store and loaded as the report
    loads it:
    each run's metric rows, status and config; a critic whose weights are piled at +-c in the
    share ``weights[(gan, optimizer)][seed]`` (none where not given); ``gradients`` as the
    diagnostics' gradient_norms.csv."""
    config = parse_suite(tiny_suite(**suite))
    specs = {(s.dataset, s.arch, s.gan, s.optimizer_label, s.seed): s for s in expand(config)}
    root = parent / f"results-{len(list(parent.iterdir()))}"
    store = ResultsStore(root)
    store.init_suite(config)
    for run in runs:
        spec = specs[(run.dataset, run.arch, run.gan, run.optimizer, run.seed)]
        rows = pd.DataFrame(run.checkpoints).melt(id_vars="step", var_name="metric").dropna()
        fraction = (weights or {}).get((run.gan, run.optimizer), {})
        state = {}
        if run.seed < len(fraction) and run.status == "finished":
            state = critic_state(fraction[run.seed],
                                 config.recipe("wgan-clip", run.dataset).clip_value)
        steps = run.checkpoints["step"]
        # a run diverges right after its last recorded checkpoint (the store checks it)
        last = int(rows["step"].max()) if len(rows) else 0
        store.write_run(RunResult(
            spec, rows.to_dict("records"), run.status,
            diverged_step=last if run.status == "diverged" else None,
            counters=Counters(generator_steps=steps[-1], train_seconds=run.checkpoints.get(
                "train_seconds", [0.0])[-1]),
            state=state), provenance={})
    if gradients is not None:
        (root / DIAGNOSTICS_DIR).mkdir()
        gradients.to_csv(root / DIAGNOSTICS_DIR / GRADIENT_FILE, index=False)
    return load_suite_data(root, config, build_summary(store), store.load_metrics())


def test_load_suite_data_reads_configs_critics_and_diagnostics(tmp_path):
    rounded = 5e-5 * (1 + 1e-15)  # wgan-clip's recipe lr, as arithmetic may have left it
    suite = PILED | {"optimizers": ["adam", {"name": "rmsprop", "lr": rounded, "label": "rms"}],
                     "seeds": 2}
    runs = [run for gan in ("wgan-clip", "wgan-gp") for label in ("adam", "rms")
            for run in finals(gan, label, [0.1, None])]  # seed 1 diverged
    raw = gradients(paper_norms, seeds=2)
    data = suite_data(tmp_path, suite, runs, {("wgan-clip", "rms"): [0.25, 0.5],
                                              ("wgan-gp", "adam"): [0.0375, 0.5]}, raw)
    assert data.root == tmp_path / "results-0"
    assert data.summary["status"].tolist() == ["finished", "diverged"] * 4
    assert data.metrics["run_id"].nunique() == 4  # the diverged runs recorded nothing
    # configs: recipe optimizers (wgan-clip: RMSProp 5e-5; wgan-gp: Adam at its recipe's
    # lr and betas), an lr equal to the recipe's up to rounding counting as the recipe's
    recipe = data.runs.set_index("run_id")["is_recipe_optimizer"].to_dict()
    assert recipe == {f"ring8__{gan}__{label}__s{seed}": (gan, label) in {
        ("wgan-clip", "rms"), ("wgan-gp", "adam")}
        for gan in ("wgan-clip", "wgan-gp") for label in ("adam", "rms") for seed in (0, 1)}
    assert data.recipe_label("wgan-clip") == "rms" and data.recipe_label("wgan-gp") == "adam"
    # critics read from models.pt: the planted share at +-c; none saved or diverged: NaN
    piled = data.weights.set_index("run_id")
    assert set(piled["clip_value"]) == {0.01}
    assert piled.loc["ring8__wgan-clip__rms__s0", "piled_fraction"] == pytest.approx(0.25)
    assert piled.loc["ring8__wgan-gp__adam__s0", "piled_fraction"] == pytest.approx(0.0375)
    assert piled["piled_fraction"].isna().sum() == 6
    # gradient_norms.csv, summarised per setting and seed: clip 0.1 spans 0.5 to 6 decades
    by_setting = data.gradients.set_index(["setting", "seed"])
    assert by_setting.loc[("clip 0.1", 0), "decades"] == pytest.approx(6.0)
    assert by_setting.loc[("clip 0.1", 1), "span"] == pytest.approx(5.5)
    assert len(data.gradients) == 4 * 2


def evaluate(claim_id: str, data: SuiteData) -> tuple[str, list[ClaimCheck]]:
    return next(c for c in CLAIMS if c.id == claim_id).evaluate(data)


def by_subject(checks: list[ClaimCheck]) -> dict[str, ClaimCheck]:
    return {f"{c.dataset}: {c.subject}": c for c in checks}


def assert_evidence(check: ClaimCheck, *parts: str) -> None:
    for part in parts:
        assert part in check.outcome.evidence, (part, check.outcome.evidence)


# --- claim 1: the estimate tracks quality -------------------------------------------------

STEPS = [0, 100, 200, 300, 400, 500, 600, 700]  # 8 checkpoints, 7 with a training loss
FALLING = [1.4, 1.2, 1.0, 0.8, 0.6, 0.4, 0.2]  # falls with W1: rho = +1 (tracks)
RISING = FALLING[::-1]  # rho = -1
V_SHAPE = [0.6, 0.4, 0.2, 0.0, 0.2, 0.4, 0.6]  # symmetric, median-filtered too: rho = 0


SWAPPED_RHO = 1 - 6 * 2 / (7 * (7**2 - 1))
"""Spearman rho of 7 points whose ranks agree but for one swapped adjacent pair (0.964)."""


def _w1(points: int, seed: int) -> list[float]:
    """W1 falling at every checkpoint, but seed s > 0 swaps checkpoints s and s + 1: the
    seeds' correlations spread (a bounded interval over seeds that all agree exactly is as
    wide as the data allow, bench.stats), and the quality still falls."""
    w1 = [2.0 - 0.25 * i + 0.01 * seed for i in range(points)]
    if 0 < seed < points - 1:
        w1[seed], w1[seed + 1] = w1[seed + 1], w1[seed]
    return w1


def tracking(gan: str, optimizer: str, estimate: list[float], seeds: int = 5) -> list[Run]:
    """Runs whose W1 falls (``_w1``) and whose critic estimate (minus the training loss, and
    the held-out estimate) is ``estimate`` from step 100 on."""
    return [Run(gan, optimizer, seed, {
        "step": STEPS[:len(estimate) + 1],
        "w1": _w1(len(estimate) + 1, seed),
        "critic_loss": [NAN] + [-e for e in estimate],
        "divergence_estimate": [NAN, *estimate]}) for seed in range(seeds)]


def test_claim1_wgan_estimates_track_w1_and_the_gan_estimate_does_not(tmp_path):
    data = suite_data(tmp_path, TOY_GANS, tracking("wgan-clip", "rmsprop", FALLING)
                      + tracking("wgan-gp", "adam", FALLING) + tracking("gan", "adam", V_SHAPE))
    rho = data.correlations.set_index(["gan", "seed"])["rho_train"]
    for gan in ("wgan-clip", "wgan-gp"):
        assert rho[gan].to_list() == pytest.approx([1.0] + [SWAPPED_RHO] * 4)
    assert abs(rho["gan"]).max() < 0.2  # the V-shaped estimate: no rank agreement
    verdict, checks = evaluate("1", data)
    assert verdict == R
    checks = by_subject(checks)
    mean = (1 + 4 * SWAPPED_RHO) / 5
    for gan, label in (("wgan-clip", "rmsprop"), ("wgan-gp", "adam")):
        check = checks[f"ring8: {gan} ({label}): estimate tracks quality"]
        assert check.outcome.verdict == R
        assert check.metric == "Spearman rho(-critic loss, w1)"
        assert_evidence(check, f"mean rho {mean:.3g} [", "(n=5) against 0.5", "lies above",
                        f"held-out estimate: mean rho {mean:.2f} (n=5)")
    check = checks["ring8: gan (adam): estimate does not track quality"]
    assert check.outcome.verdict == R
    assert_evidence(check, "(n=5) against 0.5", "lies below")


def test_claim1_an_estimate_rising_as_w1_falls_does_not_track(tmp_path):
    data = suite_data(tmp_path, TOY_GANS, tracking("wgan-clip", "rmsprop", RISING)
                      + tracking("wgan-gp", "adam", FALLING) + tracking("gan", "adam", FALLING))
    verdict, checks = evaluate("1", data)
    assert verdict == NR
    assert [c.outcome.verdict for c in checks] == [NR, R, NR]  # clip, gp, gan
    mean = (1 + 4 * SWAPPED_RHO) / 5
    assert_evidence(checks[0], f"mean rho {-mean:.3g} [", "(n=5) against 0.5", "lies below")
    assert_evidence(checks[2], f"mean rho {mean:.3g} [", "(n=5) against 0.5", "lies above")


@pytest.mark.parametrize("suite, clip_runs, why", [
    # 3 seeds track, 2 run the other way: mean rho 0.2, its CI holds 0.5
    (TOY_GANS, tracking("wgan-clip", "rmsprop", FALLING)[:3]
     + tracking("wgan-clip", "rmsprop", RISING)[3:], "mean rho 0.2 ["),
    # 4 checkpoints with a loss, 5 needed: no correlation at all
    (TOY_GANS, tracking("wgan-clip", "rmsprop", FALLING[:4]),
     "5 run(s) had fewer than 5 checkpoints or diverged"),
    (TOY_GANS | {"seeds": 2}, tracking("wgan-clip", "rmsprop", FALLING, seeds=2),
     "too few seeds (fewer than 3)"),
    (TOY_GANS | {"gans": ["gan", "wgan-gp"]}, [],
     "the suite has no wgan-clip runs with its recipe's optimizer (rmsprop)"),
    # wgan-clip ran, but only with Adam: not at its recipe's optimizer
    (TOY_GANS | {"optimizers": ["adam"]}, tracking("wgan-clip", "adam", FALLING),
     "the suite has no wgan-clip runs with its recipe's optimizer (rmsprop)"),
])
def test_claim1_inconclusive(suite: dict, clip_runs: list[Run], why: str, tmp_path):
    seeds = suite["seeds"]
    data = suite_data(tmp_path, suite, clip_runs + tracking("wgan-gp", "adam", FALLING, seeds)
                      + tracking("gan", "adam", V_SHAPE, seeds))
    verdict, checks = evaluate("1", data)
    assert verdict == INC
    assert checks[0].subject.startswith("wgan-clip") and checks[0].outcome.verdict == INC
    assert_evidence(checks[0], why)


# --- claim 2: more modes than the GAN ------------------------------------------------------


def modes(gan: str, values: list[float | None], dataset: str = "ring8") -> list[Run]:
    label = {"gan": "adam", "wgan-clip": "rmsprop", "wgan-gp": "adam"}[gan]  # the recipes'
    return finals(gan, label, values, "modes_captured", dataset)


def test_claim2_wgans_capture_every_mode_where_the_gan_collapses(tmp_path):
    data = suite_data(tmp_path, TOY_GANS, modes("wgan-clip", [8] * 5) + modes("wgan-gp", [8] * 5)
                      + modes("gan", [1, 2, 1, 2, 1]))
    verdict, checks = evaluate("2", data)
    assert verdict == R
    assert [c.subject for c in checks] == ["wgan-clip (rmsprop) vs gan (adam)",
                                           "wgan-gp (adam) vs gan (adam)"]
    for check, wgan in zip(checks, ("wgan-clip", "wgan-gp"), strict=True):
        assert check.outcome.verdict == R and check.dataset == "ring8"
        # 5 seeds at 8 of 8 modes: the bounded interval is as wide as 5 agreeing seeds allow
        assert_evidence(check, f"{wgan} 8 [3.15, 8] (n=5) vs gan 1.4 [", "] (n=5)",
                        P_SEPARATED)


def test_claim2_a_gan_with_more_modes_is_not_reproduced(tmp_path):
    data = suite_data(tmp_path, TOY_GANS, modes("wgan-clip", [1, 2, 1, 2, 1])
                      + modes("wgan-gp", [8] * 5) + modes("gan", [7] * 5))
    verdict, checks = evaluate("2", data)
    assert verdict == NR and [c.outcome.verdict for c in checks] == [NR, R]
    assert_evidence(checks[0], "wgan-clip 1.4 [", "gan 7 [", "] (n=5)", P_OPPOSITE)


def test_claim2_diverged_runs_rank_below_any_mode_count(tmp_path):
    # every GAN run diverged: no final modes, yet the worst outcome, below 3 modes
    data = suite_data(tmp_path, TOY_GANS, modes("wgan-clip", [3, 4, 3, 4, 3])
                      + modes("wgan-gp", [None] * 5) + modes("gan", [None] * 5))
    _, checks = evaluate("2", data)
    assert checks[0].outcome.verdict == R
    assert_evidence(checks[0], "gan n/a (n=5, 5 diverged)", P_SEPARATED)
    # diverged on both sides: tied, not a win
    assert checks[1].outcome.verdict == INC
    # a WGAN that diverged loses even to a GAN with one mode
    data = suite_data(tmp_path, TOY_GANS, modes("wgan-clip", [None] * 5) + modes("wgan-gp", [8] * 5)
                      + modes("gan", [1] * 5))
    verdict, checks = evaluate("2", data)
    assert verdict == NR and checks[0].outcome.verdict == NR
    assert_evidence(checks[0], "wgan-clip n/a (n=5, 5 diverged)", P_OPPOSITE)


@pytest.mark.parametrize("suite, runs, why", [
    (TOY_GANS, modes("wgan-clip", [2, 5, 8, 3, 6]) + modes("gan", [4, 1, 7, 2, 8]),
     "neither the effect nor its absence within +-0.33"),
    (TOY_GANS | {"seeds": 2}, modes("wgan-clip", [8, 8]) + modes("gan", [1, 1]),
     "too few seeds (fewer than 3)"),
    (TOY_GANS | {"gans": ["wgan-clip", "wgan-gp"]}, modes("wgan-clip", [8] * 5),
     "the suite has no gan runs with its recipe's optimizer (adam)"),
    (TOY_GANS | {"optimizers": ["adam"]}, finals("wgan-clip", "adam", [8] * 5,
                                                "modes_captured") + modes("gan", [1] * 5),
     "the suite has no wgan-clip runs with its recipe's optimizer (rmsprop)"),
    (TOY_GANS | {"datasets": ["swissroll"]}, finals("gan", "adam", spread(0.1), "w1", "swissroll"),
     "no dataset with modes in this suite"),
])
def test_claim2_inconclusive(suite: dict, runs: list[Run], why: str, tmp_path):
    verdict, checks = evaluate("2", suite_data(tmp_path, suite, runs))
    assert verdict == INC and checks[0].outcome.verdict == INC
    assert_evidence(checks[0], why)


# --- claim 3: Adam destabilises WGAN-clip ----------------------------------------------------

CLIP_ONLY = {"gans": ["wgan-clip"], "optimizers": ["adam", "rmsprop"], "seeds": 5}


def adam_clip(values: list[float | None]) -> list[Run]:
    """wgan-clip Adam runs: Adam-gradient cosine +0.2 at step 50, then final W1 and cosine
    -0.4 at step 100 (a diverged run stops after step 50)."""
    return [Run("wgan-clip", "adam", seed, {
        "step": [50, 100], "w1": [1.5, NAN if v is None else v],
        "critic_adam_cosine": [0.2, NAN if v is None else -0.4]},
        "finished" if v is not None else "diverged") for seed, v in enumerate(values)]


def test_claim3_rmsprop_beats_adam_that_diverges(tmp_path):
    data = suite_data(tmp_path, CLIP_ONLY, finals("wgan-clip", "rmsprop", spread(0.10))
                      + adam_clip([None, 0.8, None, 0.9, None]))
    verdict, (check,) = evaluate("3", data)
    assert verdict == R and check.subject == "wgan-clip: rmsprop vs adam"
    assert check.metric == "final w1, diverged = worst (lower is better)"
    assert_evidence(check, "rmsprop 0.12 [", "adam 0.85 [", "(n=5, 3 diverged)", P_SEPARATED,
                    "std over seeds 0.0141 (rmsprop) vs 0.05 (adam)",
                    "Adam-gradient cosine: min -0.40, negative at 29% of checkpoints")


def test_claim3_adam_better_than_rmsprop_is_not_reproduced(tmp_path):
    data = suite_data(tmp_path, CLIP_ONLY, finals("wgan-clip", "rmsprop", [None] * 5)
                      + adam_clip(spread(0.10)))
    verdict, (check,) = evaluate("3", data)
    assert verdict == NR
    assert_evidence(check, "rmsprop n/a (n=5, 5 diverged) vs adam 0.12 [", P_OPPOSITE)


@pytest.mark.parametrize("suite, runs, why", [
    (CLIP_ONLY, finals("wgan-clip", "rmsprop", [0.1, 0.3, 0.5, 0.2, 0.4])
     + adam_clip([0.25, 0.15, 0.45, 0.35, 0.05]),
     "neither the effect nor its absence within +-0.33"),
    (CLIP_ONLY | {"optimizers": ["rmsprop"]}, finals("wgan-clip", "rmsprop", spread(0.1)),
     "the suite has no wgan-clip runs with both adam and rmsprop"),
    # each GAN at its recipe's optimizer: wgan-clip never ran with Adam
    (TOY_GANS | {"optimizers": ["recipe"]}, finals("wgan-clip", "recipe-rmsprop", spread(0.1))
     + finals("wgan-gp", "recipe-adam", spread(0.1)),
     "the suite has no wgan-clip runs with both adam and rmsprop"),
])
def test_claim3_inconclusive(suite: dict, runs: list[Run], why: str, tmp_path):
    verdict, checks = evaluate("3", suite_data(tmp_path, suite, runs))
    assert verdict == INC and [c.outcome.verdict for c in checks] == [INC]
    assert_evidence(checks[0], why)


# --- claim 4: GP beats clipping at matched steps and time ----------------------------------

MATCHED = {"gans": ["wgan-clip", "wgan-gp"], "optimizers": ["recipe"], "seeds": 5}
CLIP_CURVE = {"step": [0, 250, 500], "train_seconds": [0, 5, 10], "w1": [2.0, 0.8, 0.6]}


def curves(gan: str, optimizer: str, checkpoints: dict[str, list[float]]) -> list[Run]:
    """5 seeds with these checkpoints, seed s adding 0.01 s to W1."""
    return [Run(gan, optimizer, seed, checkpoints | {
        "w1": [w + 0.01 * seed for w in checkpoints["w1"]]}) for seed in range(5)]


@pytest.mark.parametrize("gp_w1, gp_seconds, step_verdict, time_verdict, at_step, at_time", [
    # GP's checkpoints: steps 0, 400, 800, 1200; clipping's last step (500) is matched, read
    # at GP's step 400; clipping's 10 s at GP's last checkpoint within 10 s
    ([2.0, 0.3, 0.2, 0.1], [0, 4, 8, 12], R, R, "wgan-gp 0.32 [", "wgan-gp 0.22 ["),
    # better at the end (0.1), worse at step 400: matched steps say no
    ([2.0, 0.9, 0.2, 0.1], [0, 4, 8, 12], NR, R, "wgan-gp 0.92 [", "wgan-gp 0.22 ["),
    # 10x slower per step: within 10 s only its step-0 samples
    ([2.0, 0.3, 0.2, 0.1], [0, 40, 80, 120], R, NR, "wgan-gp 0.32 [", "wgan-gp 2.02 ["),
])
def test_claim4_quality_is_read_at_the_matched_step_and_time(
        gp_w1: list[float], gp_seconds: list[float], step_verdict: str, time_verdict: str,
        at_step: str, at_time: str, tmp_path):
    gp = {"step": [0, 400, 800, 1200], "train_seconds": gp_seconds, "w1": gp_w1}
    data = suite_data(tmp_path, MATCHED, curves("wgan-gp", "recipe-adam", gp)
                      + curves("wgan-clip", "recipe-rmsprop", CLIP_CURVE))
    verdict, (steps, seconds) = evaluate("4", data)
    subject = "wgan-gp (recipe-adam) vs wgan-clip (recipe-rmsprop)"
    assert steps.subject == f"{subject}, matched generator steps"
    assert seconds.subject == f"{subject}, matched wall-clock"
    assert (steps.metric, seconds.metric) == ("w1 at step 500 (lower is better)",
                                              "w1 within 10.0 s of training (lower is better)")
    assert (steps.outcome.verdict, seconds.outcome.verdict) == (step_verdict, time_verdict)
    assert verdict == (NR if NR in (step_verdict, time_verdict) else R)
    assert_evidence(steps, at_step, "(n=5) vs wgan-clip 0.62 [")
    assert_evidence(seconds, at_time, "(n=5) vs wgan-clip 0.62 [")


def test_claim4_compares_every_shared_optimizer_and_the_recipes(tmp_path):
    gp = {"step": [0, 500], "train_seconds": [0, 10], "w1": [2.0, 0.2]}
    data = suite_data(tmp_path, MATCHED | {"optimizers": ["adam", "rmsprop"]},
                      curves("wgan-gp", "adam", gp) + curves("wgan-gp", "rmsprop", gp)
                      + curves("wgan-clip", "adam", CLIP_CURVE)
                      + curves("wgan-clip", "rmsprop", CLIP_CURVE))
    verdict, checks = evaluate("4", data)
    assert verdict == R and [c.outcome.verdict for c in checks] == [R] * 6
    assert [c.subject for c in checks[::2]] == [  # the step checks; each has a time check
        f"{pair}, matched generator steps" for pair in (
            "wgan-gp vs wgan-clip (adam)", "wgan-gp vs wgan-clip (rmsprop)",
            "wgan-gp (adam) vs wgan-clip (rmsprop)")]
    # about speed, so no arms to test for convergence, but --until-decided seeds both cells
    assert [c.arms for c in checks] == [()] * 6
    assert [c.seed_cells() for c in checks[::2]] == [
        (("ring8", "mlp", "wgan-gp", gp), ("ring8", "mlp", "wgan-clip", clip))
        for gp, clip in (("adam", "adam"), ("rmsprop", "rmsprop"), ("adam", "rmsprop"))]


@pytest.mark.parametrize("suite, why", [
    (MATCHED | {"seeds": 2}, "too few seeds (fewer than 3)"),
    (MATCHED | {"gans": ["gan", "wgan-gp"]}, "the suite lacks wgan-gp or wgan-clip runs"),
])
def test_claim4_inconclusive(suite: dict, why: str, tmp_path):
    gp = {"step": [0, 500], "train_seconds": [0, 10], "w1": [2.0, 0.2]}
    runs = curves("wgan-gp", "recipe-adam", gp)[:suite["seeds"]]
    if "wgan-clip" in suite["gans"]:
        runs += curves("wgan-clip", "recipe-rmsprop", CLIP_CURVE)[:suite["seeds"]]
    verdict, checks = evaluate("4", suite_data(tmp_path, suite, runs))
    assert verdict == INC and {c.outcome.verdict for c in checks} == {INC}
    assert_evidence(checks[0], why)


# --- claim 5: clipping piles weights at +-c --------------------------------------------------

PILED = {"gans": ["wgan-clip", "wgan-gp"], "optimizers": ["adam"], "seeds": 5}


def piled_suite(parent: Path, clip: list[float], gp: list[float],
                **suite: object) -> SuiteData:
    """wgan-clip and wgan-gp with Adam, one seed per piled fraction."""
    runs = finals("wgan-clip", "adam", [0.1] * len(clip)) + finals("wgan-gp", "adam",
                                                                    [0.1] * len(gp))
    return suite_data(parent, PILED | suite, runs, {("wgan-clip", "adam"): clip,
                                            ("wgan-gp", "adam"): gp})


def test_claim5_clipping_piles_weights_and_the_penalty_does_not(tmp_path):
    gp = [0.0, 0.01, 0.02, 0.01, 0.0]
    verdict, (piled, versus) = evaluate("5", piled_suite(tmp_path, spread(0.6), gp))
    assert verdict == R
    assert piled.metric == "fraction of critic weights within 1% of +-c=0.01"
    assert piled.subject == "wgan-clip (adam): weights piled at +-c"
    assert_evidence(piled, "mean fraction 0.62 [", "(n=5) against 0.2", "lies above")
    assert versus.subject == "wgan-clip (adam) vs wgan-gp (adam)"
    assert_evidence(versus, "wgan-clip 0.62 [", "wgan-gp 0.008 [", P_SEPARATED)


def test_claim5_tests_each_clipped_cell_against_the_bound_once(tmp_path):
    """wgan-clip (rmsprop) is in two pairs (with wgan-gp at rmsprop and at its recipe's
    adam): one bound check for it, not two in the Holm family."""
    optimizers = ("adam", "rmsprop")
    runs = [run for gan in ("wgan-clip", "wgan-gp") for label in optimizers
            for run in finals(gan, label, [0.1] * 5)]
    fractions = {("wgan-clip", label): spread(0.6) for label in optimizers} | {
        ("wgan-gp", label): [0.0, 0.01, 0.02, 0.01, 0.0] for label in optimizers}
    data = suite_data(tmp_path, PILED | {"optimizers": list(optimizers)}, runs, fractions)
    verdict, checks = evaluate("5", data)
    assert verdict == R
    assert [c.subject for c in checks] == [
        "wgan-clip (adam): weights piled at +-c", "wgan-clip (adam) vs wgan-gp (adam)",
        "wgan-clip (rmsprop): weights piled at +-c", "wgan-clip (rmsprop) vs wgan-gp (rmsprop)",
        "wgan-clip (rmsprop) vs wgan-gp (adam)"]
    assert checks[0].seed_cells() == (("ring8", "mlp", "wgan-clip", "adam"),)
    assert checks[-1].seed_cells() == (("ring8", "mlp", "wgan-clip", "rmsprop"),
                                       ("ring8", "mlp", "wgan-gp", "adam"))


def test_claim5_few_weights_at_the_bound_is_not_reproduced(tmp_path):
    verdict, (piled, _) = evaluate("5", piled_suite(tmp_path, spread(0.01), spread(0.0)))
    assert verdict == NR and piled.outcome.verdict == NR
    assert_evidence(piled, "mean fraction 0.03 [", "against 0.2", "lies below")


def test_claim5_inconclusive(tmp_path):
    verdict, checks = evaluate("5", piled_suite(tmp_path, [0.6, 0.7], [0.0, 0.01], seeds=2))
    assert verdict == INC and [c.outcome.verdict for c in checks] == [INC, INC]
    assert_evidence(checks[0], "too few seeds (fewer than 3)")
    data = suite_data(tmp_path, PILED | {"gans": ["wgan-clip"]},
                      finals("wgan-clip", "adam", [0.1] * 5), {("wgan-clip", "adam"): spread(0.6)})
    verdict, (check,) = evaluate("5", data)
    assert verdict == INC
    assert_evidence(check, "the suite lacks wgan-clip or wgan-gp runs")


def test_claim5_a_setting_without_clipped_runs_yet_is_inconclusive(tmp_path):
    # an unfinished suite: grid25 has its wgan-gp runs but none of wgan-clip yet
    runs = (finals("wgan-clip", "adam", [0.1] * 5) + finals("wgan-gp", "adam", [0.1] * 5)
            + finals("wgan-gp", "adam", [0.1] * 5, dataset="grid25"))
    data = suite_data(tmp_path, PILED | {"datasets": ["ring8", "grid25"]}, runs,
                      {("wgan-clip", "adam"): spread(0.6), ("wgan-gp", "adam"): spread(0.0)})
    verdict, checks = evaluate("5", data)
    assert verdict == INC
    assert [(c.dataset, c.outcome.verdict) for c in checks] == [
        ("ring8", R), ("ring8", R), ("grid25", INC), ("grid25", INC)]
    assert_evidence(checks[2], "mean fraction n/a (n=0)")


# --- claim 6: gradient norms explode or vanish under clipping -------------------------------

LAYERS = range(1, 13)


def gradients(log_norms: Callable[[float, int], float], seeds: int = 5) -> pd.DataFrame:
    """gradient_norms.csv rows, per layer, for the three clipping bounds and the penalty
    (clip_value NaN); ``log_norms(c, layer)`` is log10 of the norm, + 0.01 x seed."""
    rows = [{"setting": "gradient penalty" if np.isnan(c) else f"clip {c:g}",
             "clip_value": c, "seed": seed, "layer": layer,
             "grad_norm": 10 ** (log_norms(c, layer) + 0.01 * seed)}
            for c in (*CLIP_VALUES, NAN) for seed in range(seeds) for layer in LAYERS]
    return pd.DataFrame(rows)


def paper_norms(c: float, layer: int) -> float:
    """Clip 0.1 explodes towards the input (6 decades), smaller bounds vanish; the penalty
    stays within 0.1 decade of norm 1."""
    if np.isnan(c):
        return 0.1 if layer % 2 else -0.1
    return {0.1: layer / 2, 0.01: -layer / 2, 0.001: -layer}[c]


def diagnostics_data(parent: Path, g: pd.DataFrame | None) -> SuiteData:
    runs = finals("wgan-clip", "rmsprop", [0.1] * 5) + finals("wgan-gp", "adam", [0.1] * 5)
    return suite_data(parent, TOY_GANS | {"datasets": [GRADIENT_DATASET]} | {"diagnostics": True},
                      [Run(r.gan, r.optimizer, r.seed, r.checkpoints, dataset=GRADIENT_DATASET)
                       for r in runs], gradients=g)


def test_claim6_clipped_norms_explode_or_vanish_the_penalty_stays_flat(tmp_path):
    verdict, checks = evaluate("6", diagnostics_data(tmp_path, gradients(paper_norms)))
    assert verdict == R and [c.outcome.verdict for c in checks] == [R] * 4
    assert {c.dataset for c in checks} == {GRADIENT_DATASET}
    assert_evidence(checks[0], "clip 0.1 6.02 [", "penalty 0.12 [", P_SEPARATED)
    assert_evidence(checks[2], "clip 0.001 12 [", P_SEPARATED)
    assert checks[3].subject == "gradient penalty: norms flat across layers"
    assert_evidence(checks[3], "mean span 0.2 [0.2, 0.2] (n=5) against 1", "lies below")


def test_claim6_a_penalty_spanning_decades_is_not_reproduced(tmp_path):
    def reversed_norms(c: float, layer: int) -> float:
        return -layer / 4 if np.isnan(c) else 0.0  # flat clipped critics, a sloped penalty
    verdict, checks = evaluate("6", diagnostics_data(tmp_path, gradients(reversed_norms)))
    assert verdict == NR and [c.outcome.verdict for c in checks] == [NR] * 4
    assert_evidence(checks[0], "clip 0.1 0.02 [", "penalty 2.98 [", P_OPPOSITE)
    assert_evidence(checks[3], "mean span 2.75 [2.75, 2.75] (n=5) against 1", "lies above")


def test_claim6_inconclusive(tmp_path):
    verdict, (check,) = evaluate("6", diagnostics_data(tmp_path, None))
    assert verdict == INC and check.dataset == GRADIENT_DATASET
    assert_evidence(check, "no critic diagnostics in this suite (set 'diagnostics: true')")
    verdict, checks = evaluate("6", diagnostics_data(tmp_path, gradients(paper_norms, seeds=2)))
    assert verdict == INC and {c.outcome.verdict for c in checks} == {INC}
    assert_evidence(checks[0], "too few seeds (fewer than 3)")


# --- claim 7: weak image generators ----------------------------------------------------------


def fd(gan: str, arch: str, values: list[float | None]) -> list[Run]:
    label = {"gan": "recipe-adam", "wgan-clip": "recipe-rmsprop"}[gan]
    return finals(gan, label, values, "fd_digits", "stacked-digits", arch)


def test_claim7_wgan_trains_weak_generators_where_the_gan_fails(tmp_path):
    data = suite_data(tmp_path, IMAGES, [
        # DCGAN with batch norm: the GAN is fine and better; not what claim 7 compares
        *fd("gan", "dcgan", spread(20.0)), *fd("wgan-clip", "dcgan", spread(40.0)),
        *fd("gan", "dcgan-nobn-g", [None] * 5), *fd("wgan-clip", "dcgan-nobn-g", spread(30.0)),
        *fd("gan", "mlp-g", spread(150.0)), *fd("wgan-clip", "mlp-g", spread(50.0))])
    verdict, checks = evaluate("7", data)
    assert verdict == R
    assert [(c.dataset, c.subject) for c in checks] == [
        ("stacked-digits / dcgan-nobn-g",
         "wgan-clip (recipe-rmsprop) vs gan (recipe-adam), generator dcgan-nobn-g"),
        ("stacked-digits / mlp-g",
         "wgan-clip (recipe-rmsprop) vs gan (recipe-adam), generator mlp-g")]
    assert all(c.metric == "final fd_digits (lower is better)" for c in checks)
    assert_evidence(checks[0], "wgan-clip 30 [", "gan n/a (n=5, 5 diverged)", P_SEPARATED)
    assert_evidence(checks[1], "wgan-clip 50 [", "gan 150 [", P_SEPARATED)


def test_claim7_a_gan_better_with_the_mlp_generator_is_not_reproduced(tmp_path):
    data = suite_data(tmp_path, IMAGES, [
        *fd("gan", "dcgan-nobn-g", spread(90.0)), *fd("wgan-clip", "dcgan-nobn-g", spread(30.0)),
        *fd("gan", "mlp-g", spread(40.0)), *fd("wgan-clip", "mlp-g", [None, 60, None, 61, 62])])
    verdict, checks = evaluate("7", data)
    assert verdict == NR and [c.outcome.verdict for c in checks] == [R, NR]
    assert_evidence(checks[1], "wgan-clip 61 [", "(n=5, 2 diverged)", P_OPPOSITE)


@pytest.mark.parametrize("suite, runs, why", [
    (IMAGES | {"image_model": {"arch": "dcgan"}},
     fd("gan", "dcgan", [None] * 5) + fd("wgan-clip", "dcgan", spread(30.0)),
     "needs image_model.arch dcgan-nobn-g or mlp-g"),
    (TOY_GANS, finals("gan", "adam", [None] * 5) + finals("wgan-clip", "rmsprop", spread(0.1)),
     "no image runs in this suite"),
    (IMAGES | {"optimizers": ["adam"], "image_model": {"arch": "mlp-g"}},
     finals("gan", "adam", [None] * 5, "fd_digits", "stacked-digits", "mlp-g")
     + finals("wgan-clip", "adam", spread(30.0), "fd_digits", "stacked-digits", "mlp-g"),
     "the suite has no wgan-clip runs with its recipe's optimizer (rmsprop)"),
    (IMAGES | {"image_model": {"arch": "mlp-g"}},
     fd("gan", "mlp-g", spread(31.0, 2)) + fd("wgan-clip", "mlp-g", spread(30.0, 2)),
     "neither the effect nor its absence within +-0.33"),
])
def test_claim7_inconclusive(suite: dict, runs: list[Run], why: str, tmp_path):
    verdict, checks = evaluate("7", suite_data(tmp_path, suite, runs))
    assert verdict == INC and [c.outcome.verdict for c in checks] == [INC]
    assert_evidence(checks[0], why)
