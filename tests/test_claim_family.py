"""A claim's checks judged as one family (bench.analysis.family) on planted suite data:
convergence of the compared arms (and of their quality), the claim's logic (each check at
alpha for the claim, Holm against it), effect intervals, seeds needed, and
the correlation's minimum change in quality. Claims 1 and 2 are evaluated as production
evaluates them (Claim.evaluate)."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.analysis.claims import CLAIMS, ClaimCheck
from bench.analysis.correlation import quality_change, run_correlations
from bench.analysis.rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, REVERSED
from bench.analysis.suite_data import SuiteData
from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.results import IDENTITY
from bench.report.summary import final_metrics
from bench.stats.power import rank_difference_seeds, rank_equivalence_seeds
from tests.conftest import tiny_suite

STEPS = [0, 100, 200, 300, 400, 500, 600, 700, 800]
SUITE = {"datasets": ["ring8"], "gans": ["gan", "wgan-clip", "wgan-gp"],
         "optimizers": ["adam", "rmsprop"], "seeds": 5}
RECIPE = {"gan": "adam", "wgan-clip": "rmsprop", "wgan-gp": "adam"}


def flat(values: list[float]) -> list[list[float]]:
    """One series per seed that reached its value early and stayed there."""
    return [[v / 2] + [v] * (len(STEPS) - 1) for v in values]


def planted(series: dict[tuple[str, str], list[list[float]]], metric: str,
            suite: dict = SUITE, extra: dict[str, list[list[float]]] | None = None) -> SuiteData:
    """SuiteData of ``tiny_suite(**suite)`` where (dataset, gan) runs at its recipe's
    optimizer recorded ``metric`` (one series per seed, at STEPS); ``extra``: more metrics of
    every run, by name, one series per seed."""
    config = parse_suite(tiny_suite(**suite))
    specs = {(s.dataset, s.gan, s.optimizer_label, s.seed): s for s in expand(config)}
    frames, records, runs = [], [], []
    for (dataset, gan), per_seed in series.items():
        for seed, values in enumerate(per_seed):
            spec = specs[(dataset, gan, RECIPE[gan], seed)]
            identity = dict(zip(IDENTITY, (spec.run_id, dataset, "mlp", gan, RECIPE[gan],
                                           seed), strict=True))
            columns = {"step": STEPS, metric: values} | {
                name: rows[seed] for name, rows in (extra or {}).items()}
            rows = pd.DataFrame(columns).melt(id_vars="step", var_name="metric")
            frames.append(rows.dropna().assign(**identity))
            records.append(identity | {"status": "finished", "train_seconds": 1.0})
            runs.append({"run_id": spec.run_id, "gan": gan, "optimizer": RECIPE[gan],
                         "optimizer_name": spec.optimizer.name,
                         "recipe_optimizer": spec.recipe.optimizer,
                         "is_recipe_optimizer": True})
    metrics = pd.concat(frames, ignore_index=True)
    summary = pd.DataFrame.from_records(records).merge(final_metrics(metrics), on="run_id")
    return SuiteData(root=Path("no-results-folder"), config=config, summary=summary,
                     metrics=metrics, runs=pd.DataFrame.from_records(runs),
                     correlations=run_correlations(metrics, summary,
                                                   config.claims.median_window,
                                                   config.claims.min_checkpoints),
                     weights=pd.DataFrame(columns=[*IDENTITY, "clip_value", "piled_fraction"]),
                     gradients=None)


def evaluate(claim_id: str, data: SuiteData) -> tuple[str, dict[str, ClaimCheck]]:
    verdict, checks = next(c for c in CLAIMS if c.id == claim_id).evaluate(data)
    return verdict, {f"{c.dataset}: {c.subject}": c for c in checks}


GAN_MODES = [1, 2, 3, 4, 5]
CLIP, GP = "ring8: wgan-clip (rmsprop) vs gan (adam)", "ring8: wgan-gp (adam) vs gan (adam)"


def test_an_arm_still_improving_makes_the_check_inconclusive_and_says_which():
    rising = [[min(8.0, 0.8 * i + 0.1 * s) for i in range(len(STEPS))] for s in range(5)]
    data = planted({("ring8", "gan"): flat(GAN_MODES), ("ring8", "wgan-clip"): rising,
                    ("ring8", "wgan-gp"): flat([5.5, 6, 6.5, 7, 7.5])}, "modes_captured")
    verdict, checks = evaluate("2", data)
    clip, gp = checks[CLIP].outcome, checks[GP].outcome
    assert verdict == INCONCLUSIVE and clip.verdict == INCONCLUSIVE
    # 3.4 -> 6.6 modes over the last 5 checkpoints (the window's minimum): +94%
    assert "wgan-clip still improving: modes_captured +94% over the last 5 checkpoints" \
        in clip.evidence
    assert "more seeds do not decide it" in clip.evidence and math.isnan(checks[CLIP].seeds_needed)
    # both arms of the other check converged: decided as before
    assert gp.verdict == REPRODUCED and "still improving" not in gp.evidence


def test_an_arm_whose_quality_still_improves_is_not_compared():
    """On ring8 after a short run the GAN and WGAN-clip can sit at the same modes on every
    seed while their W1 still falls: the modes comparison must wait for W1 to settle."""
    w1_falling = [[2.0 - 0.15 * i + 0.01 * s for i in range(len(STEPS))] for s in range(5)]
    w1_flat = [[0.5 + 0.01 * s] * len(STEPS) for s in range(5)]
    data = planted({("ring8", "gan"): flat(GAN_MODES), ("ring8", "wgan-clip"): flat([7] * 5),
                    ("ring8", "wgan-gp"): flat([5.5, 6, 6.5, 7, 7.5])}, "modes_captured",
                   extra={"w1": w1_falling})
    _, checks = evaluate("2", data)
    assert checks[CLIP].outcome.verdict == INCONCLUSIVE
    assert "gan still improving: w1" in checks[CLIP].outcome.evidence
    data = planted({("ring8", "gan"): flat(GAN_MODES), ("ring8", "wgan-clip"): flat([7] * 5),
                    ("ring8", "wgan-gp"): flat([5.5, 6, 6.5, 7, 7.5])}, "modes_captured",
                   extra={"w1": w1_flat})
    _, checks = evaluate("2", data)
    assert checks[CLIP].outcome.verdict == REPRODUCED


def test_a_slowly_drifting_arm_below_max_final_change_counts_as_converged():
    creeping = [[7.0 + 0.01 * i + 0.1 * s for i in range(len(STEPS))] for s in range(5)]
    data = planted({("ring8", "gan"): flat(GAN_MODES), ("ring8", "wgan-clip"): creeping,
                    ("ring8", "wgan-gp"): flat([5.5, 6, 6.5, 7, 7.5])}, "modes_captured")
    _, checks = evaluate("2", data)
    assert checks[CLIP].outcome.verdict == REPRODUCED


def test_a_claim_that_needs_every_check_takes_each_at_alpha():
    """Intersection-union: every check significant on its own reproduces the claim, with no
    correction (the old Holm on this side left the two weaker checks undecided)."""
    suite = SUITE | {"datasets": ["ring8", "grid25"]}
    series = {}
    for dataset, clip, gp in (("ring8", [5.5, 6, 6.5, 7, 7.5], [3.5, 4.5, 6, 7, 8]),
                              ("grid25", [5.5, 6, 6.5, 7, 7.5], [2.5, 4.5, 6, 7, 8])):
        series |= {(dataset, "gan"): flat(GAN_MODES), (dataset, "wgan-clip"): flat(clip),
                   (dataset, "wgan-gp"): flat(gp)}
    verdict, checks = evaluate("2", planted(series, "modes_captured", suite))
    raw = {k: c.outcome.p_value for k, c in checks.items()}
    # p = 0.004, 0.028, 0.004, 0.048: each at most alpha
    assert all(p <= 0.05 for p in raw.values()) and max(raw.values()) > 0.05 / 2
    assert all(c.outcome.verdict == REPRODUCED for c in checks.values())
    assert verdict == REPRODUCED


def test_holm_corrects_the_side_where_one_check_refutes_the_claim():
    # the GAN captures more modes than both WGANs, each reversal at p = 0.028 on its own
    data = planted({("ring8", "gan"): flat([3.5, 4.5, 6, 7, 8]),
                    ("ring8", "wgan-clip"): flat(GAN_MODES),
                    ("ring8", "wgan-gp"): flat([1.2, 2.2, 3.2, 4.2, 5.2])}, "modes_captured")
    verdict, checks = evaluate("2", data)
    for check in checks.values():
        assert check.outcome.p_reversed == pytest.approx(0.0278, abs=1e-3)
        assert check.outcome.verdict == INCONCLUSIVE and check.p_adjusted > 0.05
        assert "Holm-adjusted p=0.0556 > alpha=0.05 over the claim's 2 tested checks" \
            in check.outcome.evidence
    assert verdict == INCONCLUSIVE
    # one strong reversal survives Holm and refutes the claim
    data = planted({("ring8", "gan"): flat([5.5, 6, 6.5, 7, 7.5]),
                    ("ring8", "wgan-clip"): flat(GAN_MODES),
                    ("ring8", "wgan-gp"): flat([5.5, 6, 6.5, 7, 7.5])}, "modes_captured")
    verdict, checks = evaluate("2", data)
    assert checks[CLIP].outcome.verdict == NOT_REPRODUCED
    assert checks[CLIP].outcome.refuted_by == REVERSED and verdict == NOT_REPRODUCED


def test_an_undecided_effect_plans_its_seeds_by_noether():
    suite = SUITE | {"seeds": 3}
    data = planted({("ring8", "gan"): flat([1, 2, 6]), ("ring8", "wgan-clip"): flat([7, 8, 5]),
                    ("ring8", "wgan-gp"): flat([6, 8, 7])}, "modes_captured", suite)
    _, checks = evaluate("2", data)
    check = checks[CLIP]
    assert check.outcome.verdict == INCONCLUSIVE
    delta = check.outcome.effect_size  # +0.78: a difference at the suite's alpha
    assert check.seeds_needed == rank_difference_seeds(delta, 0.05) == 7
    assert "seeds per arm needed: 7, to show a difference (planned on the observed Cliff's " \
        "delta +0.778)" in check.outcome.evidence


def test_a_null_effect_plans_seeds_for_equivalence():
    same = [2, 4, 6, 3, 5]
    data = planted({("ring8", "gan"): flat(same), ("ring8", "wgan-clip"): flat(same[::-1]),
                    ("ring8", "wgan-gp"): flat([5.5, 6, 6.5, 7, 7.5])}, "modes_captured")
    _, checks = evaluate("2", data)
    check = checks[CLIP]
    assert check.outcome.verdict == INCONCLUSIVE and check.outcome.effect_size == 0.0
    assert check.outcome.effect_low < 0 < check.outcome.effect_high
    # equivalence at Holm's strictest step over the claim's 2 checks
    expected = rank_equivalence_seeds(0.0, 0.33, 0.05 / 2)
    assert check.seeds_needed == expected
    assert f"seeds per arm needed: {int(expected)}, to show equivalence" in check.outcome.evidence


def _tracking(quality: list[float], swaps: list[int]) -> tuple[list[list[float]], list]:
    """Per seed: quality at STEPS and a critic loss whose minus tracks it, with ``swaps[s]``
    adjacent checkpoints of seed s swapped (rho just below 1, a spread over seeds)."""
    qualities, losses = [], []
    for s in swaps:
        estimate = list(quality[1:])
        for i in range(s):
            estimate[2 * i], estimate[2 * i + 1] = estimate[2 * i + 1], estimate[2 * i]
        qualities.append(quality)
        losses.append([np.nan] + [-e for e in estimate])
    return qualities, losses


def test_a_correlation_needs_quality_that_moves():
    swaps = [0, 1, 2, 1, 0]
    moving = [2.0 - 0.2 * i for i in range(len(STEPS))]  # W1 2.0 -> 0.4
    plateau = [0.50 - 0.005 * i for i in range(len(STEPS))]  # 0.50 -> 0.46: 8%
    for quality, verdict in ((moving, REPRODUCED), (plateau, INCONCLUSIVE)):
        w1, loss = _tracking(quality, swaps)
        series = {("ring8", gan): w1 for gan in ("wgan-clip", "wgan-gp")}
        # no median filter: it would smooth the swaps away
        data = planted(series, "w1", SUITE | {"gans": ["wgan-clip", "wgan-gp"],
                                              "claims": {"median_window": 1}},
                       extra={"critic_loss": loss})
        _, checks = evaluate("1", data)
        check = checks["ring8: wgan-clip (rmsprop): estimate tracks quality"]
        assert check.outcome.verdict == verdict, check.outcome.evidence
    assert "5 run(s) left out: quality changed less than 20% across their checkpoints, " \
        "nothing to correlate" in check.outcome.evidence


def test_claims_csv_gains_the_family_columns():
    from bench.analysis.claims import evaluate_claims
    data = planted({("ring8", "gan"): flat(GAN_MODES),
                    ("ring8", "wgan-clip"): flat([5.5, 6, 6.5, 7, 7.5]),
                    ("ring8", "wgan-gp"): flat([5.5, 6, 6.5, 7, 7.5])}, "modes_captured")
    table = evaluate_claims(data)
    assert {"p_against", "p_adjusted", "refuted_by", "effect_low", "effect_high", "margin",
            "seeds_needed", "logic"} <= set(table.columns)
    row = table[(table["claim"] == "2") & (table["check"] != "overall")].iloc[0]
    assert row["verdict"] == REPRODUCED and row["margin"] == 0.33 and row["logic"] == "all"
    assert row["p_adjusted"] == min(1.0, 2 * row["p_against"])  # Holm against the claim
    assert row["effect_low"] <= row["effect_size"] <= row["effect_high"]
    assert NOT_REPRODUCED not in set(table["verdict"])


def test_checkpoint_noise_is_no_change_in_quality():
    steps = np.array(STEPS, dtype=float)
    noise = 1.0 + 0.1 * np.random.default_rng(0).standard_normal(len(STEPS))  # W1's 10%
    assert quality_change(steps, noise) == 0.0
    assert quality_change(steps, 2.0 - 0.002 * steps) == pytest.approx(0.8)
    assert math.isnan(quality_change(steps[:2], noise[:2]))
