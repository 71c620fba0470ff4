"""Loss-quality correlation: the median filter, rank correlations and their sign convention."""

import math

import numpy as np
import pandas as pd
import pytest

from bench.analysis.correlation import (
    cell_correlations,
    median_filter,
    quality_metric,
    rank_correlation,
    run_correlations,
)


def test_median_filter_shrinks_at_the_ends_instead_of_padding_with_zeros():
    x = [5.0, 1.0, 9.0, 2.0, 8.0]
    # ends: median of [5, 1] and [2, 8]; zero padding (scipy's medfilt) would give 1 and 2
    assert median_filter(x, 3).tolist() == [3.0, 5.0, 2.0, 8.0, 5.0]
    assert median_filter(x, 1).tolist() == x
    with pytest.raises(ValueError):
        median_filter(x, 4)


def test_monotone_sequences_correlate_perfectly():
    quality = np.linspace(2.0, 0.1, 12)  # W1 falling as training goes on
    rho, tau, n = rank_correlation(np.exp(quality), quality)  # any increasing transform
    assert (rho, tau, n) == (pytest.approx(1.0), pytest.approx(1.0), 12)
    rho, tau, _ = rank_correlation(-quality, quality)
    assert rho == pytest.approx(-1.0) and tau == pytest.approx(-1.0)


def test_shuffled_sequences_are_uncorrelated():
    rng = np.random.default_rng(0)
    quality = np.arange(400.0)
    rho, tau, _ = rank_correlation(rng.permutation(quality), quality)
    assert abs(rho) < 0.1 and abs(tau) < 0.1


def test_undefined_correlations_are_nan_not_zero():
    assert math.isnan(rank_correlation([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0])[0])
    assert math.isnan(rank_correlation([1.0, 2.0], [1.0, 2.0], min_points=3)[0])
    rho, _, n = rank_correlation([1.0, np.nan, 3.0, 4.0], [1.0, 2.0, np.inf, 4.0], 2)
    assert n == 2 and rho == pytest.approx(1.0)


def _rows(run_id: str, w1: list[float], critic_loss: list[float], heldout: list[float]):
    rows = []
    for step, (q, loss, est) in enumerate(zip(w1, critic_loss, heldout, strict=True)):
        rows += [{"step": step * 10, "metric": "w1", "value": q},
                 {"step": step * 10, "metric": "divergence_estimate", "value": est}]
        if step:  # no training loss at step 0, as in the trainer
            rows.append({"step": step * 10, "metric": "critic_loss", "value": loss})
    frame = pd.DataFrame(rows)
    frame["run_id"] = run_id
    return frame


def test_an_estimate_that_falls_with_w1_has_positive_rho():
    w1 = [2.0, 1.5, 1.2, 0.9, 0.7, 0.5, 0.4]
    # a critic whose W estimate (= -loss) shrinks with W1: the WGAN paper's claim
    tracking = _rows("a", w1, [-q for q in w1], w1)
    # the estimate is flat-ish noise for the other run
    noise = _rows("b", w1, [0.3, -0.1, 0.2, -0.3, 0.1, 0.0, 0.25], [0.1, 0.3, 0.2, 0.0, 0.5,
                                                                  0.05, 0.4])
    summary = pd.DataFrame({"run_id": ["a", "b"], "dataset": "ring8", "arch": "mlp",
                            "gan": ["wgan-gp", "gan"],
                            "optimizer": "adam", "seed": [0, 0], "status": "finished"})
    per_run = run_correlations(pd.concat([tracking, noise]), summary, window=1,
                               min_checkpoints=5).set_index("run_id")
    assert per_run.loc["a", "rho_train"] == pytest.approx(1.0)
    assert per_run.loc["a", "rho_heldout"] == pytest.approx(1.0)
    assert per_run.loc["a", "n_train"] == 6 and per_run.loc["a", "n_heldout"] == 7
    assert per_run.loc["a", "quality_metric"] == "w1"
    assert abs(per_run.loc["b", "rho_train"]) < 0.5
    cells = cell_correlations(per_run.reset_index())
    spearman = cells[(cells["statistic"] == "spearman") & (cells["estimate"] == "train")]
    assert set(spearman["n"]) == {1}


def test_diverged_runs_get_no_correlation():
    summary = pd.DataFrame({"run_id": ["a"], "dataset": "ring8", "arch": "mlp", "gan": "gan",
                            "optimizer": "adam", "seed": [0], "status": "diverged"})
    rows = _rows("a", [3, 2, 1, 0.5, 0.2, 0.1], [-3, -2, -1, -0.5, -0.2, -0.1], [1] * 6)
    per_run = run_correlations(rows, summary, window=3, min_checkpoints=3)
    assert math.isnan(per_run.loc[0, "rho_train"])


def test_quality_metric_prefers_w1_then_image_distances():
    assert quality_metric(["fid", "w1"]) == "w1"
    assert quality_metric(["kid", "fid"]) == "fid"
    assert quality_metric(["modes_captured"]) is None
