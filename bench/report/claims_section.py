"""The claims section of report.md, with claims.csv and the tables and plots it cites."""

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.claims import CLAIMS, evaluate_claims
from bench.analysis.correlation import cell_correlations
from bench.analysis.family import LOGIC_CAPTIONS, LevelOf
from bench.analysis.optimizers import optimizer_markdown, optimizer_table
from bench.analysis.suite_data import SuiteData, load_suite_data
from bench.config.suite_config import SuiteConfig
from bench.core.atomic import write_text_atomic
from bench.core.outputs import QUALITY_BETTER
from bench.core.results import CELL, SETTING, with_settings
from bench.report import claim_plots as plots
from bench.report import critic_plots as diagnostic_plots
from bench.report import experiment_plots as experiment_plots
from bench.report.plots import LeftOut
from bench.report.render import FigurePool, PendingFigure, finished, left_out
from bench.report.tables import frame_to_markdown
from bench.stats import Estimate
from bench.storage.critic_outputs import DIAGNOSTICS_DIR, GRADIENT_FILE, SURFACE_FILE
from bench.storage.experiment_outputs import (
    ARCHITECTURES_FILE,
    EXPERIMENTS_DIR,
    GAUSSIANS_CURVES_FILE,
    GAUSSIANS_GRADIENTS_FILE,
    LINES_ESTIMATES_FILE,
    LINES_THETA_FILE,
    architecture_table,
)

CLAIMS_FILE = "claims.csv"
EMBEDDED_CLAIMS = ("8", "9", "11")
"""Claims whose plots report.md shows in the claim's own section (their experiments have no
other place in the report)."""
PLOTS = Path("plots") / "claims"


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, frame.to_csv(index=False))


def _draw(pool: FigurePool, data: SuiteData, table: pd.DataFrame) -> list[PendingFigure]:
    """Every claims figure, drawing in ``pool``; Claim.figures names the files."""
    root = data.root
    figures = [
        pool.draw("Critic estimate vs sample quality", plots.estimate_scatter_plot, data,
                  root / PLOTS / "estimate_vs_quality.png"),
        pool.draw("Sample quality and critic estimate vs step", plots.estimate_curves_plot,
                  data, root / PLOTS / "estimate_and_quality.png"),
        pool.draw("Optimizer comparison", plots.optimizer_plot, data.summary, table,
                  root / PLOTS / "optimizers.png"),
        pool.draw("Adam step-gradient cosine", plots.adam_cosine_plot, data.metrics,
                  root / PLOTS / "adam_cosine.png"),
        pool.draw("Critic weights", plots.critic_weights_plot, data,
                  root / PLOTS / "critic_weights.png"),
    ]
    diagnostics = root / DIAGNOSTICS_DIR
    none = LeftOut("no critic diagnostics in this suite (add 'diagnostics: true')")
    title = "Deep critic gradient norms"
    figures.append(
        pool.draw(title, diagnostic_plots.gradient_norms_plot,
                  pd.read_csv(diagnostics / GRADIENT_FILE), root / PLOTS / "gradient_norms.png")
        if (diagnostics / GRADIENT_FILE).is_file() else left_out(title, none))
    title = "Critic value surfaces"
    if (diagnostics / SURFACE_FILE).is_file():
        with np.load(diagnostics / SURFACE_FILE) as arrays:
            figures.append(pool.draw(title, diagnostic_plots.value_surfaces_plot, dict(arrays),
                                     root / PLOTS / "value_surfaces.png"))
    else:
        figures.append(left_out(title, none))
    return figures + _experiment_figures(pool, data)


def _experiment_figures(pool: FigurePool, data: SuiteData) -> list[PendingFigure]:
    """The parallel-lines, two-Gaussians and random-architectures figures, from the
    experiments' files."""
    root, folder = data.root, data.root / EXPERIMENTS_DIR
    none = LeftOut("no parallel-lines experiment in this suite (add 'parallel_lines: true')")
    title = "Parallel lines: estimate vs theta"
    figures = [
        pool.draw(title, experiment_plots.parallel_lines_estimates_plot,
                  pd.read_csv(folder / LINES_ESTIMATES_FILE),
                  root / PLOTS / "parallel_lines_estimates.png")
        if (folder / LINES_ESTIMATES_FILE).is_file() else left_out(title, none)]
    title = "Parallel lines: learning theta"
    figures.append(
        pool.draw(title, experiment_plots.parallel_lines_theta_plot,
                  pd.read_csv(folder / LINES_THETA_FILE), data.config.claims.theta_tolerance,
                  root / PLOTS / "parallel_lines_theta.png")
        if (folder / LINES_THETA_FILE).is_file() else left_out(title, none))
    title = "Two Gaussians: outputs and gradients at the fakes"
    if (folder / GAUSSIANS_CURVES_FILE).is_file() and data.config.two_gaussians is not None:
        figures.append(pool.draw(
            title, experiment_plots.two_gaussians_plot,
            pd.read_csv(folder / GAUSSIANS_CURVES_FILE),
            pd.read_csv(folder / GAUSSIANS_GRADIENTS_FILE), data.config.two_gaussians.distance,
            root / PLOTS / "two_gaussians.png"))
    else:
        figures.append(left_out(title, LeftOut(
            "no two-Gaussians experiment in this suite (add 'two_gaussians: true')")))
    title = "Random architectures: success, modes and high-quality samples"
    if data.random_architectures is not None:
        figures.append(pool.draw(title, experiment_plots.random_architectures_plot,
                                 data.random_architectures,
                                 data.config.random_architectures.success_hq,
                                 root / PLOTS / "random_architectures.png"))
    else:
        figures.append(left_out(title, LeftOut(
            "no random-architectures experiment in this suite (add "
            "'random_architectures: true')")))
    return figures


def _architectures_markdown(data: SuiteData) -> list[str]:
    """The drawn architectures and each GAN's final W1 (claim 11's runs), where the suite
    ran the experiment."""
    if data.random_architectures is None:
        return []
    spec = data.config.random_architectures
    draws = pd.read_csv(data.root / EXPERIMENTS_DIR / ARCHITECTURES_FILE)
    return ["### Random architectures", "",
            f"{spec.architectures} generator/critic pairs drawn with seed {spec.seed} (hidden "
            f"layers x units, activation; normalised: batch norm, layer norm in a critic under "
            f"a gradient penalty), each trained once by every GAN for {spec.generator_steps} "
            f"generator steps on {spec.dataset}; per GAN the final samples' modes well "
            f"captured of all, their high-quality fraction ({spec.mode_samples} samples, "
            f"within {spec.hq_threshold:g} std of a mode) and exact W1 ({spec.w1_samples} "
            f"samples), **bold** where it succeeds (every mode, at least "
            f"{spec.success_hq:.0%} high quality) (`{EXPERIMENTS_DIR}/{ARCHITECTURES_FILE}`).",
            "", frame_to_markdown(architecture_table(draws, data.random_architectures)), ""]


def _rules(config: SuiteConfig) -> list[str]:
    s = config.claims
    return [
        "Verdicts are computed from this suite's runs by fixed rules; thresholds come from the "
        "suite's `claims:` section:",
        "",
        f"- **Each check asks two questions at alpha = {s.alpha:g}**, one-sided each: does "
        "the claimed effect exist (reproduced), and is it absent (not reproduced: the "
        "opposite effect is significant, or equivalence shows the effect smaller than the "
        "claim's margin; two one-sided tests, the (1 - 2 alpha) interval inside the margin). "
        "A wrong verdict of either kind has chance at most alpha (simulated in the tests).",
        f"- *A better than B*: Mann-Whitney U over seeds (exact permutation p-values); the "
        f"effect is Cliff's delta (> 0 supports the claim) with its score interval "
        f"(Newcombe's method 5, t quantile), margin +-{s.min_effect:g}. A diverged run ranks "
        "as the worst outcome.",
        f"- *a mean above / below a bound*: the mean over seeds' interval inside the "
        "quantity's range (Wilson on the effective number of seeds for bounded quantities, "
        "Student-t below 20 seeds and BCa from 20 otherwise); the tests are the ones the "
        f"interval inverts, margin {s.bound_margin:.0%} of |bound|. A diverged run counts as "
        "the worst outcome where the check says so in its evidence.",
        f"- *A succeeds on more units than B* (random architectures): exact McNemar tests "
        f"on the discordant pairs; the effect is the difference of success fractions with "
        f"Newcombe's paired interval, margin +-{s.paired_margin:g}.",
        "- **A claim's logic** is stated in its caption. A claim that needs all its checks "
        "is reproduced when each is at alpha (an intersection-union test needs no "
        "correction) and not reproduced when any is reversed or equivalent after Holm's "
        "correction across its checks (`p_adjusted` in claims.csv: the Holm-adjusted p "
        "against the claim). The per-check p-values stay raw.",
        f"- **Converged arms only**: where a check compares arms' final values, each arm's "
        f"compared metric and its quality (W1 or the Frechet distance) are tested over the "
        f"last {s.trend_fraction:.0%} of its checkpoints (at least 5): each seed's "
        "least-squares slope, then a one-sided t-test over the seeds (exact under "
        f"autocorrelated checkpoints) at {s.convergence_alpha:g}; an arm significantly "
        f"improving by at least {s.max_final_change:.0%} over the window makes the check "
        "inconclusive (its final values measure speed). Claim 4's matched-steps and "
        "matched-time checks are about speed and exempt.",
        "- **Seeds needed**: an inconclusive check states the seeds per arm that would decide "
        "it with 80% power, at the level it will face at its last look (Holm's strictest "
        "step on the corrected side): textbook sample sizes (Noether's for Mann-Whitney, the "
        "TOST sizes for equivalence, Connor's for McNemar), planned on the observed effect "
        "(`seeds_needed`), and on the end of its interval (`seeds_plausible`: what "
        "`run --until-decided` tries; a small pilot's effect is often near 0 by chance).",
        f"- Any check with fewer than {s.min_seeds} seeds in a group is inconclusive.",
        f"- Loss-quality correlation: Spearman rho between minus the critic's training loss "
        f"(median filter of {s.median_window} checkpoints) and the distance to the data "
        f"({QUALITY_BETTER} is better), over >= {s.min_checkpoints} checkpoints per run; "
        "**rho > 0 means "
        f"the estimate tracks quality**; it tracks when rho's CI lies above {s.min_rho:g}. "
        f"A run whose quality moved less than {s.min_quality_change:.0%} across those "
        "checkpoints (Theil-Sen fitted change; 0 when the slope's CI holds 0) is left out: "
        "nothing to correlate. "
        "For the GAN, minus the BCE loss is an increasing function of its JS estimate.",
        f"- Weight pile-up: fraction of critic weights within {s.pile_tolerance:.0%} of +-c, "
        f"piled when above {s.min_pile_fraction:g}. Deep-critic gradient norms: a clipped "
        "critic's explode or vanish when its largest abs(log10 norm) over layers exceeds the "
        "penalty's (a norm that underflows to 0 counts as 30 decades); the penalty's are flat "
        "when their span over layers is below "
        f"{s.flat_decades:g} decade(s). (Per-layer weight-gradient norms scale with width and "
        "activations, so 'near 1' is tested as 'flat'.)",
        f"- Parallel lines (WGAN Example 1): a critic's estimate is the paper's curve when "
        f"the CI of the mean over seeds of its largest distance from the exact value on the "
        f"theta grid (a WGAN critic's estimate divided by its measured Lipschitz constant, "
        f"against |theta|; the GAN's JS estimate against log 2 off 0), as a share of the "
        f"exact value's largest, lies below {s.estimate_tolerance:g}. theta learns by plain "
        f"SGD, each step in units of the critic's slope at the fakes: a WGAN learns theta "
        f"when the CI of its mean final |theta| (over seeds and starts) lies below "
        f"{s.theta_tolerance:g} and every run ends below it; the GAN under the minimax loss "
        f"stalls when the CI of the mean fraction |theta_T| / |theta_0| lies above "
        f"{s.stall_fraction:g} (its non-saturating loss: an extra check). Two Gaussians: "
        "gradients at the fakes are compared as a "
        "fraction of each network's steepest slope over x (a clipped critic is Lipschitz only "
        "up to a small unknown constant); 'orders of magnitude' is a mean per-seed gap above "
        f"{s.gradient_decades:g} decades.",
        "- Random architectures (WGAN-GP Table 2): a run succeeds when its final samples "
        "capture every mode of the dataset well and at least the section's `success_hq` of "
        "them lie within its `hq_threshold` std of a mode (the VEEGAN/PacGAN protocol's "
        "counts; a diverged run fails). Every GAN trains the same architectures, so "
        "WGAN-GP's successes are compared with the GAN's (Table 2) by the one-sided exact "
        "McNemar test on the architectures where exactly one of the two succeeds; the "
        "effect is the difference of success fractions with Newcombe's paired interval. "
        "WGAN-GP vs WGAN-clip is an extra check (Table 2 has no WGAN-clip). Its 'seeds "
        "needed' are architectures.",
        "",
    ]


def _p(p: float) -> str:
    return "" if math.isnan(p) else f"{p:.3g}"


def _claim_markdown(claim, verdict: str, checks: pd.DataFrame, root: Path,
                    alpha: float) -> list[str]:
    ref = claim.reference
    lines = [f"### Claim {claim.id}: {verdict}", "", f"{claim.text} *({ref.citation})*", "",
             f'> "{ref.quote}"', ""]
    if ref.setting:
        lines += [f"The paper's setting: {ref.setting}.", ""]
    lines += [f"Rule: {LOGIC_CAPTIONS[claim.logic]}.", ""]
    links = [f"[{Path(f).name}]({f})" for f in claim.figures if (root / f).is_file()]
    if links:
        lines += ["Plots: " + ", ".join(links), ""]
    if claim.id in EMBEDDED_CLAIMS:  # figures no other section shows
        lines += [f"![{Path(f).stem}]({f})" for f in claim.figures if (root / f).is_file()]
        lines += [""]
    extra = checks["extra"].fillna("")
    labelled = [f"*extra, not in the verdict ({why})*: {check}" if why else check
                for check, why in zip(checks["check"], extra, strict=True)]
    table = checks[["dataset", "check", "metric", "verdict"]].assign(check=labelled, **{
        "p": checks["p_value"].map(_p),
        "p against": checks["p_against"].map(_p),
        "p against (Holm)": checks["p_adjusted"].map(_p),
        f"effect [{1 - 2 * alpha:.0%} CI]": [
            "" if math.isnan(d) else f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]"
            for d, lo, hi in checks[["effect_size", "effect_low", "effect_high"]].itertuples(
                index=False)],
        "seeds needed": checks["seeds_needed"].map(
            lambda n: "" if math.isnan(n) else str(int(n))),
        "evidence": checks["evidence"]})
    lines += [frame_to_markdown(table.replace("|", r"\|", regex=False)), ""]
    return lines


def _correlation_markdown(cells: pd.DataFrame) -> str:
    spearman = with_settings(cells[cells["statistic"] == "spearman"])
    rows = []
    for _, cell in spearman.groupby(CELL, sort=True):
        by = cell.set_index("estimate")
        first = cell.iloc[0]
        rows.append({"setting": first[SETTING], "GAN": first["gan"],
                     "optimizer": first["optimizer"]} | {
            f"rho, {name} estimate": Estimate(*by.loc[name, ["mean", "ci_low", "ci_high"]],
                                              int(by.loc[name, "n"])).format(2)
            for name in ("train", "heldout")})
    return frame_to_markdown(pd.DataFrame.from_records(rows))


def claims_section(
    root: Path, config: SuiteConfig, summary: pd.DataFrame, metrics: pd.DataFrame,
    pool: FigurePool, level_of: LevelOf | None = None,
) -> list[str]:
    """Write claims.csv, the claims' tables and plots (drawing in ``pool`` while the claims
    are judged, each check at ``level_of``'s level under --until-decided); return the
    report's Markdown lines."""
    root = Path(root)
    data = load_suite_data(root, config, summary, metrics)
    table = optimizer_table(summary, metrics)
    _csv(data.correlations, root / "tables" / "correlation_runs.csv")
    cells = cell_correlations(data.correlations)
    _csv(cells, root / "tables" / "correlation.csv")
    _csv(table, root / "tables" / "optimizers.csv")
    _csv(data.weights, root / "tables" / "critic_weights.csv")
    pending = _draw(pool, data, table)
    claims = evaluate_claims(data, level_of)
    _csv(claims, root / CLAIMS_FILE)
    figures = finished(pending)  # a claim links the plots that exist

    overall = claims[claims["check"] == "overall"].set_index("claim")
    lines = ["## Claims", "", *_rules(config),
             "| claim | verdict | reproduces |", "|---|---|---|"]
    lines += [f"| {c.id}. {c.text} | **{overall.loc[c.id, 'verdict']}** | {c.reference.citation} |"
              for c in CLAIMS]
    lines += ["", f"Every check, with its evidence: `{CLAIMS_FILE}`.", ""]
    for claim in CLAIMS:
        checks = claims[(claims["claim"] == claim.id) & (claims["check"] != "overall")]
        lines += _claim_markdown(claim, overall.loc[claim.id, "verdict"], checks, root,
                                 config.claims.alpha)
    lines += _architectures_markdown(data)
    lines += ["### Loss-quality correlation", "",
              "Mean Spearman rho over seeds [95% CI inside [-1, 1]: Wilson on the effective "
              "number of seeds] of the critic's estimate against "
              "the distance to the data; > 0: the estimate tracks quality "
              "(`tables/correlation.csv`, per run: `tables/correlation_runs.csv`).", "",
              _correlation_markdown(cells), ""]
    lines += ["### Optimizer comparison", "",
              "Stability per cell: divergence rate and the spread of final quality over seeds; "
              "the Adam cosine is the critic's cos(-Adam step, gradient), averaged between "
              "checkpoints (`tables/optimizers.csv`).", "", optimizer_markdown(table), ""]
    left_out = [f"- {title}: {drawn.reason}." for title, drawn in figures
                if isinstance(drawn, LeftOut)]
    if left_out:
        lines += ["### Claims figures left out", "", *left_out, ""]
    return lines
