"""The papers' claims, each checked against one suite's data by the rules in rules.py.

A claim is a statement, the paper figure it reproduces, our plot, and a function that
turns the suite's data into checks (one per dataset, comparison or setting). Nothing here
knows an outcome: every verdict comes from the seeds' numbers and the suite's thresholds.

Conventions shared by the checks:
- Each GAN is compared at its paper recipe's optimizer (GAN: Adam, WGAN-clip: RMSProp,
  WGAN-GP: Adam) unless the claim is about optimizers or says "per optimizer".
- Quality is the run's distance to the data (exact W1 on 2-D data; FID on images), lower is
  better. In rank comparisons of outcomes, a diverged run counts as the worst outcome
  (+inf distance, -inf modes); correlations and weight statistics leave diverged runs out.
- A check comparing arms' final values names its arms (``ClaimCheck.arms``): the claim's
  convergence test, Holm correction and power search (bench.analysis.family) act on them.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from bench.analysis.family import ALL, Arm, LevelOf, judge_family, overall
from bench.analysis.references import WGAN, WGAN_GP, Reference
from bench.analysis.rules import (
    INCONCLUSIVE,
    REPRODUCED,
    Outcome,
    directional,
    paired_success,
    threshold,
)
from bench.analysis.suite_data import Setting, SuiteData
from bench.core.outputs import ADAM_COSINE, HIGHER, LOWER, TRAIN_SECONDS, better
from bench.core.results import DIVERGED, FINISHED, diverged, final
from bench.core.specs import Cell, ClaimsSpec
from bench.data import IMAGE, get_dataset
from bench.metrics.declarations import output_range
from bench.stats import CORRELATION, NONNEGATIVE, UNIT
from bench.storage.critic_outputs import CLIP_VALUES, GRADIENT_DATASET
from bench.storage.experiment_outputs import MINIMAX

MODES = "modes_captured"
WEAK_GENERATORS = ("dcgan-nobn-g", "mlp-g")  # the WGAN paper's Figs. 6 and 7


@dataclass(frozen=True)
class ClaimCheck:
    """One verdict of a claim."""

    dataset: str
    subject: str
    """What is compared, e.g. 'wgan-gp vs wgan-clip (adam), matched generator steps'."""
    metric: str
    outcome: Outcome
    arms: tuple[Arm, ...] = ()
    """The arms whose final values it compares (their convergence is tested); none for
    checks about speed or without checkpoint series."""
    cells: tuple[Cell, ...] = ()
    """The cells whose seeds it reads besides its arms' (a correlation's, a speed
    comparison's, a weight statistic's): ``run --until-decided`` adds seeds to them too."""
    p_adjusted: float = math.nan
    """Holm-adjusted over the claim's checks on the side its logic corrects (set by
    Claim.evaluate)."""
    seeds_needed: float = math.nan
    """Seeds per arm that would decide it, where inconclusive (set by Claim.evaluate)."""
    seeds_plausible: float = math.nan
    """The same, planned on the largest effect its interval leaves plausible."""
    extra: str = ""
    """Why the check goes beyond the paper ("" for the claim's own): an extra is judged on
    its own by the same rules, outside the claim's family and verdict, and labelled so."""

    def seed_cells(self) -> tuple[Cell, ...]:
        """Every cell whose seeds the check reads: its arms' and ``cells``."""
        arms = tuple(cell_of(a.setting, a.gan, a.optimizer) for a in self.arms)
        return tuple(dict.fromkeys(arms + self.cells))


def cell_of(setting: Setting, gan: str, label: str) -> Cell:
    """The suite cell of ``gan`` at optimizer ``label`` in ``setting``."""
    return (setting.dataset, setting.arch, gan, label)


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    reference: Reference
    """The paper's section and figure it reproduces."""
    figures: tuple[str, ...]
    """Our plots, relative to the results folder (only those that exist are linked)."""
    checks: Callable[[SuiteData], list[ClaimCheck]]
    logic: str = ALL
    """ALL: the statement needs every check; ANY: any one of them (bench.analysis.family)."""

    def evaluate(self, data: SuiteData,
                 level_of: LevelOf | None = None) -> tuple[str, list[ClaimCheck]]:
        """The claim's checks judged as one family (bench.analysis.family) at the suite's
        alpha, or at each check's own look's level (``level_of``), and its verdict; each
        extra check judged as a family of its own, outside the verdict."""
        def judged(family: list[ClaimCheck]) -> list[ClaimCheck]:
            results = judge_family([(c.outcome, c.arms, c.seed_cells()) for c in family],
                                   data, data.config.claims, self.logic, level_of)
            return [replace(c, outcome=j.outcome, p_adjusted=j.p_adjusted,
                            seeds_needed=j.seeds_needed, seeds_plausible=j.seeds_plausible)
                    for c, j in zip(family, results, strict=True)]

        checks = self.checks(data)
        core = iter(judged([c for c in checks if not c.extra]))
        checks = [judged([c])[0] if c.extra else next(core) for c in checks]
        return overall([c.outcome.verdict for c in checks if not c.extra], self.logic), checks


def _missing(dataset: str, subject: str, metric: str, why: str) -> ClaimCheck:
    return ClaimCheck(dataset, subject, metric, Outcome(INCONCLUSIVE, why))


def _no_recipe_runs(data: SuiteData, dataset: str, *gans: str) -> str:
    """Why a check of ``gans`` at their recipes' optimizers has no cell: the GANs without
    such runs (a suite may run a GAN, but only with other optimizers)."""
    missing = [f"{gan} runs with its recipe's optimizer "
               f"({data.config.recipe(gan, dataset).optimizer})"
               for gan in gans if data.recipe_label(gan) is None]
    return "the suite has no " + " and no ".join(missing)


def _worst(metric: str) -> float:
    """A diverged run's value of ``metric`` in rank comparisons: the worst there is, in the
    direction its output declares better."""
    return math.inf if better(metric) == LOWER else -math.inf


def _outcomes(cell: pd.DataFrame, metric: str) -> np.ndarray:
    """Final values of ``metric`` per seed, diverged runs as the worst outcome."""
    column = final(metric)
    values = cell[column].to_numpy(dtype=float).copy() if column in cell else np.full(
        len(cell), math.nan)
    values[diverged(cell).to_numpy()] = _worst(metric)
    return values


# --- claim 1: the estimate tracks quality ------------------------------------------------


def _correlation_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, checks = data.config.claims, []
    expectations = (("wgan-clip", "above", "tracks"), ("wgan-gp", "above", "tracks"),
                    ("gan", "below", "does not track"))
    for setting in data.settings:
        quality = data.quality(setting.dataset)
        metric = f"Spearman rho(-critic loss, {quality})"
        for gan, side, verb in expectations:
            label = data.recipe_label(gan)
            subject = f"{gan} ({label}): estimate {verb} quality"
            if label is None:
                checks.append(_missing(setting.label, subject, metric,
                                       _no_recipe_runs(data, setting.dataset, gan)))
                continue
            cell = data.select(data.correlations, setting, gan, label)
            # a run whose quality hardly moved has only noise to correlate
            flat = (cell["quality_change"] < spec.min_quality_change).to_numpy()
            rho = cell["rho_train"].where(~flat)
            outcome = threshold(rho, spec.min_rho, side, spec, name="mean rho",
                                value_range=CORRELATION)
            notes = ""
            if flat.any():
                notes += (f"; {int(flat.sum())} run(s) left out: quality changed less than "
                          f"{spec.min_quality_change:.0%} across their checkpoints, nothing to "
                          "correlate")
            short = int((cell["n_train"] < spec.min_checkpoints).sum())
            if short:
                notes += (f"; {short} run(s) had fewer than {spec.min_checkpoints} "
                          "checkpoints or diverged")
            heldout = cell["rho_heldout"].to_numpy(dtype=float)
            heldout = heldout[np.isfinite(heldout)]
            if len(heldout):
                notes += f"; held-out estimate: mean rho {heldout.mean():.2f} (n={len(heldout)})"
            checks.append(ClaimCheck(setting.label, subject, metric,
                                     outcome.noted(notes),
                                     cells=(cell_of(setting, gan, label),)))
    return checks


# --- claim 2: more modes than the GAN ----------------------------------------------------


def _mode_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, checks = data.config.claims, []
    with_modes = [s for s in data.settings if get_dataset(s.dataset).modes is not None]
    if not with_modes:
        return [_missing("-", "WGANs vs gan", "modes_captured",
                         "no dataset with modes in this suite")]
    gan_label = data.recipe_label("gan")
    for setting in with_modes:
        for wgan in ("wgan-clip", "wgan-gp"):
            label = data.recipe_label(wgan)
            subject = f"{wgan} ({label}) vs gan ({gan_label})"
            if label is None or gan_label is None:
                checks.append(_missing(setting.label, subject, "final modes_captured",
                                       _no_recipe_runs(data, setting.dataset, wgan, "gan")))
                continue
            a = _outcomes(data.cell(setting, wgan, label), MODES)
            b = _outcomes(data.cell(setting, "gan", gan_label), MODES)
            modes = output_range(MODES, get_dataset(setting.dataset))
            # modes can sit at 0 on every seed while W1 still falls: quality must settle too
            quality = data.quality(setting.dataset)
            arms = (Arm(wgan, setting, wgan, label, MODES, better(MODES), quality),
                    Arm("gan", setting, "gan", gan_label, MODES, better(MODES), quality))
            checks.append(ClaimCheck(setting.label, subject,
                                     f"final {MODES} ({better(MODES)} is better)",
                                     directional(a, b, better(MODES), spec, (wgan, "gan"),
                                                 modes),
                                     arms))
    return checks


# --- claim 3: Adam destabilises WGAN-clip ------------------------------------------------


def _cosine_note(data: SuiteData, setting: Setting, label: str) -> str:
    m = data.select(data.metrics, setting, "wgan-clip", label)
    rows = m[m["metric"] == ADAM_COSINE]
    if rows.empty:
        return ""
    negative = (rows["value"] < 0).mean()
    return (f"; Adam-gradient cosine: min {rows['value'].min():+.2f}, negative at "
            f"{negative:.0%} of checkpoints")


def _std(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.std(finite)) if len(finite) else math.nan


def _optimizer_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, checks = data.config.claims, []
    clip_runs = data.runs[data.runs["gan"] == "wgan-clip"]  # its labels, not other GANs'
    names = dict(zip(clip_runs["optimizer"], clip_runs["optimizer_name"], strict=True))
    labels = [label for label in data.optimizer_labels if label in names]
    adam = [label for label in labels if names[label] == "adam"]
    rmsprop = [label for label in labels if names[label] == "rmsprop"]
    if "wgan-clip" not in data.config.gans or not adam or not rmsprop:
        return [_missing("-", "wgan-clip: rmsprop vs adam", "final quality",
                         "the suite has no wgan-clip runs with both adam and rmsprop")]
    for setting in data.settings:
        quality = data.quality(setting.dataset)
        if quality is None:
            checks.append(_missing(setting.label, "wgan-clip: rmsprop vs adam", "quality",
                                   "its runs record no quality metric"))
            continue
        for r, a in ((r, a) for r in rmsprop for a in adam):
            x = _outcomes(data.cell(setting, "wgan-clip", r), quality)
            y = _outcomes(data.cell(setting, "wgan-clip", a), quality)
            outcome = directional(x, y, better(quality), spec, (r, a),
                                  output_range(quality, get_dataset(setting.dataset)))
            spread = f"; std over seeds {_std(x):.3g} ({r}) vs {_std(y):.3g} ({a})"
            outcome = outcome.noted(spread + _cosine_note(data, setting, a))
            arms = tuple(Arm(f"wgan-clip ({label})", setting, "wgan-clip", label, quality,
                             better(quality)) for label in (r, a))
            checks.append(ClaimCheck(setting.label, f"wgan-clip: {r} vs {a}",
                                     f"final {quality}, diverged = worst "
                                     f"({better(quality)} is better)",
                                     outcome, arms))
    return checks


# --- claim 4: GP beats clipping at matched steps and time ---------------------------------


def _quality_at(data: SuiteData, runs: pd.DataFrame, quality: str, x: str,
                at: float) -> np.ndarray:
    """Each run's ``quality`` at its last checkpoint with ``x`` (step or train_seconds) <=
    ``at``; the worst value for a run that diverged before reaching ``at``."""
    m = data.metrics
    values = []
    for run in runs.itertuples(index=False):
        rows = m[m["run_id"] == run.run_id].pivot_table(index="step", columns="metric",
                                                        values="value").reset_index()
        reached = rows[rows[x] <= at] if x in rows else rows.iloc[:0]
        if run.status == DIVERGED and (rows.empty or rows[x].max() < at):
            values.append(_worst(quality))
        elif reached.empty or quality not in reached:
            values.append(math.nan)
        else:
            values.append(float(reached[quality].iloc[-1]))
    return np.array(values)


def _matched_pairs(data: SuiteData) -> list[tuple[str, str]]:
    """(wgan-gp label, wgan-clip label) pairs to compare: every optimizer both ran with
    ("either optimizer"), and each at its own recipe's optimizer (the paper's Fig. 3)."""
    ran = {gan: set(data.runs.loc[data.runs["gan"] == gan, "optimizer"])
           for gan in ("wgan-gp", "wgan-clip")}
    pairs = [(label, label) for label in data.optimizer_labels
             if label in ran["wgan-gp"] and label in ran["wgan-clip"]]
    recipes = (data.recipe_label("wgan-gp"), data.recipe_label("wgan-clip"))
    if None not in recipes and recipes not in pairs:
        pairs.append(recipes)
    return pairs


def _matched_comparisons(data: SuiteData, settings: list[Setting],
                         metric_of: Callable[[str], str | None]) -> list[ClaimCheck]:
    """WGAN-GP vs WGAN-clip in each setting on ``metric_of(dataset)`` (its better direction
    the metric registry's), read at the step and the training time every finished run of
    the pair reached."""
    spec, checks = data.config.claims, []
    pairs = _matched_pairs(data)
    if not pairs:
        return [_missing("-", "wgan-gp vs wgan-clip", "quality",
                         "the suite lacks wgan-gp or wgan-clip runs")]
    for setting in settings:
        quality = metric_of(setting.dataset)
        if quality is None:
            checks.append(_missing(setting.label, "wgan-gp vs wgan-clip", "quality",
                                   "its runs record no such metric"))
            continue
        for gp_label, clip_label in pairs:
            gp = data.cell(setting, "wgan-gp", gp_label)
            clip = data.cell(setting, "wgan-clip", clip_label)
            subject = (f"wgan-gp vs wgan-clip ({gp_label})" if gp_label == clip_label
                       else f"wgan-gp ({gp_label}) vs wgan-clip ({clip_label})")
            both = pd.concat([gp, clip])
            finished = both[both["status"] == FINISHED]
            if finished.empty:
                checks.append(_missing(setting.label, subject, quality, "every run diverged"))
                continue
            for x, at, unit in (
                ("step", finished[final("step")].min(), "matched generator steps"),
                (TRAIN_SECONDS, finished[TRAIN_SECONDS].min(), "matched wall-clock"),
            ):
                a = _quality_at(data, gp, quality, x, at)
                b = _quality_at(data, clip, quality, x, at)
                # about speed: exempt from the convergence test (no arms)
                outcome = directional(a, b, better(quality), spec, ("wgan-gp", "wgan-clip"),
                                      output_range(quality, get_dataset(setting.dataset)))
                where = f"at step {at:g}" if x == "step" else f"within {at:.1f} s of training"
                checks.append(ClaimCheck(setting.label, f"{subject}, {unit}",
                                         f"{quality} {where} ({better(quality)} is better)",
                                         outcome, cells=(cell_of(setting, "wgan-gp", gp_label),
                                                         cell_of(setting, "wgan-clip",
                                                                 clip_label))))
    return checks


def _matched_checks(data: SuiteData) -> list[ClaimCheck]:
    return _matched_comparisons(data, data.settings, data.quality)


# --- claim 5: clipping piles weights at +-c ------------------------------------------------


def _weight_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, checks, w = data.config.claims, [], data.weights
    pairs = _matched_pairs(data)
    if not pairs:
        return [_missing("-", "critic weights", "piled fraction",
                         "the suite lacks wgan-clip or wgan-gp runs")]
    for setting in data.settings:
        piled = set()  # a clipped cell in two pairs is tested against the bound once
        for gp_label, label in pairs:
            clip = data.select(w, setting, "wgan-clip", label)
            gp = data.select(w, setting, "wgan-gp", gp_label)
            # an unfinished suite may have no clipped runs in this setting yet
            c = clip["clip_value"].iloc[0] if len(clip) else data.config.recipe(
                "wgan-clip", setting.dataset).clip_value
            metric = f"fraction of critic weights within {spec.pile_tolerance:.0%} of +-c={c:g}"
            clip_cell = cell_of(setting, "wgan-clip", label)
            if label not in piled:
                piled.add(label)
                checks.append(ClaimCheck(setting.label,
                                         f"wgan-clip ({label}): weights piled at +-c", metric,
                                         threshold(clip["piled_fraction"],
                                                   spec.min_pile_fraction, "above", spec,
                                                   name="mean fraction", value_range=UNIT),
                                         cells=(clip_cell,)))
            checks.append(ClaimCheck(setting.label,
                                     f"wgan-clip ({label}) vs wgan-gp ({gp_label})", metric,
                                     directional(clip["piled_fraction"], gp["piled_fraction"],
                                                 HIGHER, spec, ("wgan-clip", "wgan-gp"),
                                                 UNIT),
                                     cells=(clip_cell, cell_of(setting, "wgan-gp", gp_label))))
    return checks


# --- claim 6: gradient norms explode or vanish under clipping -----------------------------


def _gradient_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, g = data.config.claims, data.gradients
    decades = "largest abs(log10 weight-gradient norm) over layers (decades from norm 1)"
    if g is None:
        return [_missing(GRADIENT_DATASET, "deep critic gradient norms", decades,
                         "no critic diagnostics in this suite (set 'diagnostics: true')")]
    gp = g[g["clip_value"].isna()]
    checks = [
        ClaimCheck(GRADIENT_DATASET, f"clip {c:g} vs gradient penalty: explode or vanish", decades,
                   directional(g.loc[np.isclose(g["clip_value"], c), "decades"], gp["decades"],
                               HIGHER, spec, (f"clip {c:g}", "penalty"), NONNEGATIVE))
        for c in CLIP_VALUES
    ]
    checks.append(ClaimCheck(GRADIENT_DATASET, "gradient penalty: norms flat across layers",
                             "span of log10 weight-gradient norm over layers (decades)",
                             threshold(gp["span"], spec.flat_decades, "below", spec,
                                       name="mean span", value_range=NONNEGATIVE)))
    return checks


# --- claim 7: weak image generators --------------------------------------------------------


def _weak_generator_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, checks = data.config.claims, []
    images = [s for s in data.settings if get_dataset(s.dataset).domain == IMAGE]
    if not images:
        return [_missing("-", "wgan-clip vs gan, no-BN / MLP generator", "FID",
                         "no image runs in this suite")]
    weak = [s for s in images if s.arch in WEAK_GENERATORS]
    if not weak:
        return [_missing(", ".join(s.label for s in images), "wgan-clip vs gan, weak generator",
                         "quality", f"needs image_model.arch {' or '.join(WEAK_GENERATORS)}")]
    wgan, gan = data.recipe_label("wgan-clip"), data.recipe_label("gan")
    for setting in weak:
        quality = data.quality(setting.dataset)
        subject = f"wgan-clip ({wgan}) vs gan ({gan}), generator {setting.arch}"
        if wgan is None or gan is None or quality is None:
            why = ("its runs record no quality metric" if wgan and gan
                   else _no_recipe_runs(data, setting.dataset, "wgan-clip", "gan"))
            checks.append(_missing(setting.label, subject, str(quality), why))
            continue
        a = _outcomes(data.cell(setting, "wgan-clip", wgan), quality)
        b = _outcomes(data.cell(setting, "gan", gan), quality)
        arms = (Arm("wgan-clip", setting, "wgan-clip", wgan, quality, better(quality)),
                Arm("gan", setting, "gan", gan, quality, better(quality)))
        checks.append(ClaimCheck(setting.label, subject,
                                 f"final {quality} ({better(quality)} is better)",
                                 directional(a, b, better(quality), spec, ("wgan-clip", "gan"),
                                             output_range(quality,
                                                          get_dataset(setting.dataset))),
                                 arms))
    return checks


# --- claim 10: the Inception Score ---------------------------------------------------------------

INCEPTION_SCORE = "is"


def _inception_score_checks(data: SuiteData) -> list[ClaimCheck]:
    scored = sorted(set(data.metrics.loc[data.metrics["metric"] == INCEPTION_SCORE, "dataset"]))
    settings = [s for s in data.settings if s.dataset in scored]
    if not settings:
        return [_missing("-", "wgan-gp vs wgan-clip", "Inception Score",
                         "no run in this suite records the Inception Score (image data with "
                         "eval.fid_samples > 0)")]
    return _matched_comparisons(data, settings, lambda dataset: INCEPTION_SCORE)


# --- claim 8: learning parallel lines (WGAN Sec. 2, Example 1, Fig. 1) -----------------------
# The paper: "Let P0 be the distribution of (0, Z) [...] let g_theta(z) = (theta, z) [...]
# W(P0, P_theta) = |theta|, JS(P0, P_theta) = log 2 if theta != 0, 0 if theta = 0"; Fig. 1:
# "The EM plot is continuous and provides a usable gradient everywhere. The JS plot is not
# continuous and does not provide a usable gradient." Analytic there; here critics trained
# at each theta of a grid stand for the divergences, and theta learns by plain SGD
# (bench/experiments/parallel_lines.py).

WGANS = ("wgan-clip", "wgan-gp")
LINES = "parallel lines"


def _every_seed(outcome: Outcome, values: np.ndarray, bound: float) -> Outcome:
    """``outcome`` of "mean below bound", reproduced only if every value is below it too
    (a run at or above the bound withdraws the test for the claim: no p-value for it, and
    no seeds plan: more runs only add chances of one above the bound)."""
    above = int((values >= bound).sum())
    if outcome.verdict != REPRODUCED or not above:
        return outcome
    facts = f"{outcome.facts}, but {above} of {len(values)} run(s) end at or above {bound:g}"
    return replace(outcome, verdict=INCONCLUSIVE, p_value=1.0, facts=facts, evidence=facts,
                   seeds_for=None)


def _estimate_check(errors: pd.DataFrame, gan: str, subject: str,
                    spec: ClaimsSpec) -> ClaimCheck:
    """Is ``gan``'s estimate Example 1's curve: the mean over seeds of its largest distance
    from the exact value on the theta grid below ``spec.estimate_tolerance``?"""
    rows = errors[errors["gan"] == gan]
    name = rows["estimate_name"].iloc[0] if len(rows) else "divergence"
    return ClaimCheck(LINES, subject, f"largest |estimate - exact {name}| over the theta grid, "
                      f"as a share of the exact value's largest",
                      threshold(rows["error"], spec.estimate_tolerance, "below", spec,
                                name="mean largest distance", value_range=NONNEGATIVE))


def _parallel_lines_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, errors, rows = data.config.claims, data.lines_estimates, data.lines_theta
    if errors is None or rows is None:
        return [_missing(LINES, "estimates vs theta and theta learned by each GAN",
                         "estimate vs theta, final |theta|",
                         "no parallel-lines experiment in this suite (set "
                         "'parallel_lines: true')")]
    # "The EM plot is continuous [...]": a K-Lipschitz critic estimates K * W1 (WGAN Sec. 3),
    # so divided by its measured Lipschitz constant it should be |theta| at every theta
    checks = [_estimate_check(errors, wgan, f"{wgan}: estimate / Lipschitz constant is "
                              "|theta| (continuous, grows with |theta|)", spec)
              for wgan in WGANS]
    # "The JS plot is not continuous [...]": log 2 at every theta != 0, whatever |theta|
    checks.append(_estimate_check(errors, "gan", "gan: JS estimate is log 2 at every "
                                  "theta != 0 (flat: no information on |theta|)", spec))
    # "[...] provides a usable gradient everywhere" / "does not provide a usable gradient";
    # Sec. 2: "Example 1 gives us a case where we can learn a probability distribution over a
    # low dimensional manifold by doing gradient descent on the EM distance." theta by plain
    # SGD, so the gradient's size shows; the minimax loss is the game whose inner maximum is
    # the JS divergence
    minimax = rows[rows["generator_loss"] == MINIMAX]
    for wgan in WGANS:
        final = minimax.loc[minimax["gan"] == wgan, "abs_theta"].to_numpy(dtype=float)
        outcome = threshold(final, spec.theta_tolerance, "below", spec, name="mean |theta_T|")
        checks.append(ClaimCheck(LINES, f"{wgan}: plain SGD drives |theta| below the "
                                 "tolerance", "final |theta| over seeds and theta_0 (every "
                                 "run below)", _every_seed(outcome, final,
                                                           spec.theta_tolerance)))
    left = minimax.loc[minimax["gan"] == "gan", "remaining"]
    checks.append(ClaimCheck(LINES, "gan (minimax loss): theta stalls under plain SGD",
                             "|theta_T| / |theta_0|",
                             threshold(left, spec.stall_fraction, "above", spec,
                                       name="mean fraction left")))
    # a GAN's own generator loss where it is not the minimax one: the same question, to show
    # what that loss does where the JS argument does not reach it
    for (gan, loss), own in rows[rows["generator_loss"] != MINIMAX].groupby(
            ["gan", "generator_loss"], sort=False):
        checks.append(ClaimCheck(LINES, f"{gan} ({loss} loss): theta stalls under plain SGD",
                                 "|theta_T| / |theta_0|",
                                 threshold(own["remaining"], spec.stall_fraction, "above",
                                           spec, name="mean fraction left"),
                                 extra=f"the {loss} loss, not the minimax game of Example "
                                       "1's argument"))
    return checks


# --- claim 9: the discriminator's gradient vanishes at the fakes -------------------------------


def _two_gaussians_checks(data: SuiteData) -> list[ClaimCheck]:
    spec, rows = data.config.claims, data.gaussian_gradients
    dataset, metric = "two gaussians", "log10(|gradient at fakes| / steepest slope)"
    if rows is None:
        return [_missing(dataset, "critic vs discriminator gradient at the fakes", metric,
                         "no two-Gaussians experiment in this suite (set 'two_gaussians: "
                         "true')")]
    gan = rows[rows["gan"] == "gan"].sort_values("seed")
    checks = []
    for wgan in WGANS:
        critic = rows[rows["gan"] == wgan].sort_values("seed")
        checks.append(ClaimCheck(dataset, f"{wgan} vs gan: larger gradient at the fakes", metric,
                                 directional(critic["log10_relative"], gan["log10_relative"],
                                             HIGHER, spec, (wgan, "gan"))))
        # seeds are independent draws on both sides: pair them by index
        pairs = critic.merge(gan, on="seed", suffixes=("", "_gan"))
        gap = pairs["log10_relative"] - pairs["log10_relative_gan"]
        checks.append(ClaimCheck(dataset, f"{wgan} vs gan: orders of magnitude apart",
                                 f"{wgan}'s minus gan's {metric} (decades)",
                                 threshold(gap, spec.gradient_decades, "above", spec,
                                           name="mean gap")))
    return checks


# --- claim 11: random architectures ---------------------------------------------------------


def _random_architecture_checks(data: SuiteData) -> list[ClaimCheck]:
    rows, spec = data.random_architectures, data.config.random_architectures
    if rows is None or spec is None:
        return [_missing("random architectures", "wgan-gp vs gan", "success",
                         "no random-architectures experiment in this suite (set "
                         "'random_architectures: true')")]
    success = rows.pivot(index="architecture", columns="gan", values="success")
    modes = get_dataset(spec.dataset).modes.n_modes
    metric = (f"architectures whose final samples capture all {modes} modes well with at "
              f"least {spec.success_hq:.0%} high quality (diverged: failure)")

    def check(other: str, extra: str = "") -> ClaimCheck:
        pairs = success[["wgan-gp", other]].dropna().astype(bool)  # the same architectures
        outcome = paired_success(pairs["wgan-gp"], pairs[other], data.config.claims,
                                 ("wgan-gp", other))
        if outcome.tested and not pairs.to_numpy().any():
            # no success on either side says the budget trains nothing, not that the two
            # train equally: no test (like arms that have not converged)
            why = (f"{outcome.facts}; neither GAN trained any architecture to the success "
                   "rule: nothing to compare (more generator steps would)")
            outcome = Outcome(INCONCLUSIVE, why, facts=why)
        return ClaimCheck(f"{spec.dataset}, random architectures",
                          f"wgan-gp vs {other}: more architectures succeed", metric, outcome,
                          extra=extra)

    # Table 2: "the number of instances where either: only the standard GAN succeeded, only
    # WGAN-GP succeeded, both succeeded, or both failed"
    return [check("gan"), check("wgan-clip", "Table 2 has no WGAN-clip")]


CLAIMS: tuple[Claim, ...] = (
    Claim("1", "The WGAN critic's estimate tracks sample quality; the GAN discriminator's "
          "(JS) estimate does not.",
          Reference(WGAN, "4.2", "Figs. 3, 4", "We can see a clear correlation between lower "
                    "error and better sample quality.", "LSUN bedrooms 64x64, judged by eye; "
                    "Fig. 4: the GAN's JS estimate correlates poorly with sample quality"),
          ("plots/claims/estimate_vs_quality.png", "plots/claims/estimate_and_quality.png"),
          _correlation_checks),
    Claim("2", "WGAN and WGAN-GP capture more modes than the GAN.",
          Reference(WGAN, "4.3", "Fig. 7", "In no experiment did we see evidence of mode "
                    "collapse for the WGAN algorithm.", "LSUN bedrooms, judged by eye; the "
                    "WGAN paper has no WGAN-GP"),
          ("plots/final_metrics.png", "plots/modes_vs_step.png"), _mode_checks),
    Claim("3", "WGAN-clip is less stable with Adam on the critic than with RMSProp.",
          Reference(WGAN, "4.2", "", "WGAN training becomes unstable at times when one uses a "
                    "momentum based optimizer such as Adam (with beta1 > 0) on the critic, or "
                    "when one uses high learning rates.", "a remark, no figure: as the loss "
                    "blew up, the cosine between the Adam step and the gradient usually turned "
                    "negative, so the paper switched to RMSProp"),
          ("plots/claims/optimizers.png", "plots/claims/adam_cosine.png"), _optimizer_checks),
    Claim("4", "WGAN-GP reaches better quality than WGAN-clip at matched generator steps and "
          "at matched wall-clock time, with either optimizer.",
          Reference(WGAN_GP, "5.3", "Fig. 3", "Even with the same optimizer, our method "
                    "converges faster and to a better score than weight clipping.",
                    "CIFAR-10 Inception Score over generator iterations (left) and wall-clock "
                    "time (right); here each dataset's quality metric, claim 10 the Inception "
                    "Score"),
          ("plots/w1_vs_step.png", "plots/w1_vs_time.png"), _matched_checks),
    Claim("5", "Weight clipping piles critic weights at +-c; the gradient penalty does not.",
          Reference(WGAN_GP, "3", "Fig. 1b (right)", "Weight clipping (top) pushes weights "
                    "towards two values (the extremes of the clipping range), unlike gradient "
                    "penalty (bottom)."),
          ("plots/claims/critic_weights.png",), _weight_checks),
    Claim("6", "Clipped critics' per-layer gradient norms explode or vanish; with the "
          "gradient penalty they stay flat across layers.",
          Reference(WGAN_GP, "3.2", "Fig. 1b (left)", "Gradient norms of deep WGAN critics "
                    "during training on the Swiss Roll dataset either explode or vanish when "
                    "using weight clipping, but not when using a gradient penalty.",
                    "12-layer ReLU MLPs without batch norm; the value surfaces drawn beside "
                    "it are Sec. 3.1's Fig. 1a, judged by no claim"),
          ("plots/claims/gradient_norms.png", "plots/claims/value_surfaces.png"),
          _gradient_checks),
    Claim("7", "WGAN trains image generators without batch norm, and MLP generators, where "
          "the GAN fails.",
          Reference(WGAN, "4.3", "Figs. 6, 7", "We observe that WGANs are much more robust "
                    "than GANs when one varies the architectural choices for the generator.",
                    "LSUN bedrooms 64x64 with a DCGAN critic; here stacked digits"),
          (), _weak_generator_checks),
    Claim("8", "Learning parallel lines: each WGAN critic's estimate is |theta| (W1) up to its "
          "Lipschitz constant and gives theta a usable gradient; the GAN's JS estimate is "
          "log 2 at every theta != 0, and under the minimax loss theta stalls.",
          Reference(WGAN, "2", "Example 1, Fig. 1", "The EM plot is continuous and provides a "
                    "usable gradient everywhere. The JS plot is not continuous and does not "
                    "provide a usable gradient.", "analytic: the paper trains nothing; here "
                    "critics trained at each theta of a grid stand for the divergences, and "
                    "theta learns by plain SGD (the minimax loss for the GAN; its "
                    "non-saturating loss an extra arm)"),
          ("plots/claims/parallel_lines_estimates.png", "plots/claims/parallel_lines_theta.png"),
          _parallel_lines_checks),
    Claim("9", "On two far-apart Gaussians the GAN discriminator saturates: its gradient at "
          "the fakes is orders of magnitude below the WGAN critics'.",
          Reference(WGAN, "3", "Fig. 2", "As we can see, the discriminator of a minimax GAN "
                    "saturates and results in vanishing gradients. Our WGAN critic provides "
                    "very clean gradients on all parts of the space."),
          ("plots/claims/two_gaussians.png",), _two_gaussians_checks),
    Claim("10", "WGAN-GP reaches a higher Inception Score than WGAN-clip at matched generator "
          "steps and at matched wall-clock time.",
          Reference(WGAN_GP, "5.3", "Fig. 3", "WGAN-GP significantly outperforms weight "
                    "clipping and performs comparably to DCGAN.", "CIFAR-10; the same figure "
                    "as claim 4, whose quality metric is each dataset's own"),
          ("plots/is_vs_step.png", "plots/is_vs_time.png"), _inception_score_checks),
    Claim("11", "WGAN-GP trains a larger fraction of random architectures than the GAN "
          "(success: every mode captured, most samples high quality).",
          Reference(WGAN_GP, "5.1", "Table 2", "For most choices of score threshold, WGAN-GP "
                    "successfully trains many architectures from this set which we were unable "
                    "to train with the standard GAN objective.", "200 DCGAN-like architectures "
                    "on 32x32 ImageNet, WGAN-GP (Algorithm 1's lambda = 10, n_critic = 5, "
                    "Adam 1e-4, betas (0, 0.9)) and the standard GAN only, success = "
                    "Inception Score above a threshold; here 2-D MLPs on ring8, success by "
                    "the VEEGAN/PacGAN mode counts, WGAN-clip an extra check"),
          ("plots/claims/random_architectures.png",), _random_architecture_checks),
)


def evaluate_claims(data: SuiteData, level_of: LevelOf | None = None) -> pd.DataFrame:
    """claims.csv: one 'overall' row per claim, then one row per check; ``figure`` lists the
    claim's plots that exist in the results folder (draw them first)."""
    records = []
    for claim in CLAIMS:
        verdict, checks = claim.evaluate(data, level_of)
        base = {"claim": claim.id, "text": claim.text, "paper": claim.reference.citation,
                "figure": ";".join(f for f in claim.figures if (data.root / f).is_file())}
        datasets = sorted({c.dataset for c in checks})
        own = [c for c in checks if not c.extra]
        extras = len(checks) - len(own)
        records.append(base | {"check": "overall", "verdict": verdict,
                               "evidence": f"{len(own)} check(s): " + ", ".join(
                                   f"{sum(c.outcome.verdict == v for c in own)} {v}"
                                   for v in ("reproduced", "not reproduced", "inconclusive"))
                               + (f"; {extras} extra check(s), not in the verdict"
                                  if extras else ""),
                               "dataset": ",".join(datasets), "metric": "",
                               "logic": claim.logic, "extra": ""})
        for check in checks:
            o = check.outcome
            records.append(base | {"check": check.subject, "verdict": o.verdict,
                                   "refuted_by": o.refuted_by, "evidence": o.evidence,
                                   "dataset": check.dataset, "metric": check.metric,
                                   "p_value": o.p_value, "p_against": o.p_against,
                                   "p_adjusted": check.p_adjusted, "effect_size": o.effect_size,
                                   "effect_low": o.effect_low, "effect_high": o.effect_high,
                                   "margin": o.margin, "seeds_needed": check.seeds_needed,
                                   "seeds_plausible": check.seeds_plausible,
                                   "logic": claim.logic, "extra": check.extra})
    return pd.DataFrame.from_records(records, columns=[
        "claim", "check", "verdict", "refuted_by", "evidence", "dataset", "metric", "p_value",
        "p_against", "p_adjusted", "effect_size", "effect_low", "effect_high", "margin",
        "seeds_needed", "seeds_plausible", "logic", "extra", "text", "paper", "figure"])
