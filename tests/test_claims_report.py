"""The claims report end to end (the quick suite's grid, scaled down), and its config."""

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from bench.analysis.claims import CLAIMS
from bench.analysis.family import overall as combined
from bench.config.suite import load_suite, parse_suite
from bench.core.errors import BenchError
from bench.core.specs import Budget, ModelSpec
from bench.orchestration.runner import run_suite
from bench.report.build import build_report
from bench.storage.store import ResultsStore
from tests.conftest import tiny_suite


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """The quick suite (its datasets, GANs, optimizers, seeds and claim thresholds) with tiny
    networks, a 24-step budget and tiny diagnostics, trained and reported (its figures
    drawn by two workers and the report's process)."""
    quick = load_suite("quick")
    config = replace(
        quick,
        budget=Budget("generator_steps", 24),
        batch_size=32,
        model=ModelSpec(width=16, depth=2, latent_dim=2),
        eval=replace(quick.eval, every=4, samples=200, w1_samples=50, critic_samples=100),
        diagnostics=replace(quick.diagnostics, critic_steps=6, width=8, batch_size=16),
    )
    out = tmp_path_factory.mktemp("claims") / "quick"
    outcome = run_suite(config, out, "cpu", workers=1, show_progress=False)
    assert not outcome.failures
    build_report(out, workers=2)
    return out


def test_every_claim_gets_a_verdict_in_claims_csv_and_the_report(quick_results):
    claims = pd.read_csv(quick_results / "claims.csv")
    assert {"claim", "verdict", "evidence", "dataset", "metric"} <= set(claims.columns)
    assert claims["evidence"].notna().all()
    overall = claims[claims["check"] == "overall"].set_index("claim")["verdict"]
    for claim, verdict in overall.items():  # each claim's verdict is its checks' verdict
        checks = claims[(claims["claim"] == claim) & (claims["check"] != "overall")
                        & claims["extra"].isna()]  # checks beyond the paper stay out of it
        assert verdict == combined(checks["verdict"].tolist()), claim
    assert list(overall.index.astype(str)) == [c.id for c in CLAIMS]
    report = (quick_results / "report.md").read_text()
    assert "## Claims" in report
    for claim in CLAIMS:
        assert f"### Claim {claim.id}: {overall[int(claim.id)]}" in report
    image_claim = claims[(claims["claim"] == 7) & (claims["check"] != "overall")]
    assert image_claim["verdict"].tolist() == ["inconclusive"]
    assert "no image runs" in image_claim["evidence"].iloc[0]


def test_claims_cite_their_plots_and_the_diagnostics_ran(quick_results):
    report = (quick_results / "report.md").read_text()
    for name in ("estimate_vs_quality", "optimizers", "adam_cosine", "critic_weights",
                 "gradient_norms", "value_surfaces"):
        assert (quick_results / "plots" / "claims" / f"{name}.png").is_file(), name
        assert f"plots/claims/{name}.png" in report, name
    assert (quick_results / "diagnostics" / "gradient_norms.csv").is_file()
    for table in ("correlation", "correlation_runs", "optimizers", "critic_weights"):
        assert (quick_results / "tables" / f"{table}.csv").is_file()


def test_figures_drawn_beside_the_report_are_the_files_drawn_in_place(quick_results, tmp_path):
    in_place = tmp_path / "quick"
    shutil.copytree(quick_results, in_place)
    for figure in (in_place / "plots").rglob("*.png"):
        figure.unlink()
    build_report(in_place, workers=0)
    drawn = sorted(p.relative_to(in_place) for p in (in_place / "plots").rglob("*.png"))
    report = (in_place / "report.md").read_text()
    linked = {Path(link) for link in re.findall(r"\]\((plots/[^)]+\.png)\)", report)}
    assert len(drawn) >= 15 and set(drawn) == linked  # each figure drawn and shown
    for figure in drawn:
        assert (quick_results / figure).read_bytes() == (in_place / figure).read_bytes(), figure
    pooled = (quick_results / "report.md").read_text()
    assert pooled.replace(str(quick_results), str(in_place)) == report


def test_adam_cosine_is_recorded_for_adam_runs_only(quick_results):
    metrics = ResultsStore(quick_results).load_metrics()
    cosine = metrics[metrics["metric"] == "critic_adam_cosine"]
    assert set(cosine["optimizer"]) == {"adam"}
    assert cosine["value"].between(-1, 1).all()
    adam_checkpoints = metrics[(metrics["optimizer"] == "adam") & (metrics["metric"] == "w1")
                               & (metrics["step"] > 0)]
    assert len(cosine) == len(adam_checkpoints)


def test_claims_and_diagnostics_config():
    config = parse_suite(tiny_suite())
    assert config.diagnostics is None and config.claims.alpha == 0.05
    config = parse_suite(tiny_suite(diagnostics=True, claims={"alpha": 0.01, "min_seeds": 5}))
    assert config.diagnostics.depth == 12 and config.claims.min_seeds == 5
    assert parse_suite(tiny_suite(diagnostics={"critic_steps": 7})).diagnostics.critic_steps == 7
    assert parse_suite(tiny_suite(diagnostics=False)).diagnostics is None
    for config in (parse_suite(tiny_suite()), parse_suite(tiny_suite(diagnostics=True))):
        assert parse_suite(config.to_dict()) == config


@pytest.mark.parametrize("claims, message", [
    ({"median_window": 4}, "claims.median_window: expected an odd integer"),
    ({"alpha": 0.7}, "claims.alpha"),
    ({"min_seeds": 1}, "claims.min_seeds: expected an integer >= 2, got 1"),
    ({"min_rho": 2}, "claims.min_rho"),
    ({"min_seed": 3}, "unknown key"),
    ({"min_checkpoints": 4.5}, "expected an integer"),
])
def test_bad_claims_thresholds_are_input_errors(claims, message):
    with pytest.raises(BenchError, match=message):
        parse_suite(tiny_suite(claims=claims))


def test_bad_diagnostics_are_input_errors():
    with pytest.raises(BenchError, match="diagnostics.width"):
        parse_suite(tiny_suite(diagnostics={"width": 0}))
    with pytest.raises(BenchError, match="diagnostics"):
        parse_suite(tiny_suite(diagnostics="yes"))
