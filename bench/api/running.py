"""Training a suite and building its report: ``bench.run``, ``resume`` and ``report``, which the
command line's ``run`` and ``report`` call as they are.

Everything that can be refused is checked before anything is written, and the suite before
the training stack is imported: a refusal stays fast (tests/benchmarks/test_bench_refusal.py).
"""

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.api.options import (
    DEFAULT_SUITE,
    ENVIRONMENT_FLAGS,
    ReportOptions,
    RunOptions,
    environment_class,
)
from bench.api.results import SuiteResults
from bench.api.stages import stage_printer
from bench.core.errors import BenchError
from bench.core.flags import Flag, checked_settings, flags_of
from bench.core.output_paths import RESULTS_FOLDER, check_folder_to_write
from bench.core.specs import Budget

if TYPE_CHECKING:
    from bench.config.suite_config import SuiteConfig
    from bench.storage.rounds import Design

def run(suite: str | Path | Mapping[str, Any] = DEFAULT_SUITE, out: str | Path | None = None,
        *, seeds: int | None = None, budget: Budget | Mapping[str, float] | None = None,
        **settings: Any) -> SuiteResults:
    """Train ``suite`` (a built-in suite's name, a YAML file's path, or the suite as a dict)
    into the folder ``out`` (default: results/<suite>-<time>; a folder of the same suite is
    resumed, its finished runs skipped), then build its report.

    ``seeds`` (a count) and ``budget`` (``{"generator_steps": 500}``) override the suite's.
    ``settings`` are ``RunOptions``' fields (device, workers, report, until_decided, ...) and
    ``Environment``'s (compile, cuda_graphs, data_root, ...), checked as the command line
    checks its flags. Bad input raises one BenchError before anything is written.
    """
    from bench.config.suite import load_suite, parse_budget, parse_suite, with_overrides

    config = (parse_suite(dict(suite), "suite") if isinstance(suite, Mapping)
              else load_suite(str(suite)))
    if budget is not None and not isinstance(budget, Budget):
        budget = parse_budget(dict(budget), "budget")
    config = with_overrides(config, seeds=seeds, budget=budget)
    out = Path("results") / f"{config.name}-{time.strftime('%Y%m%d-%H%M%S')}" \
        if out is None else Path(out)
    return _train(config, out, "--out", settings)


def resume(folder: str | Path, **settings: Any) -> SuiteResults:
    """Continue the suite saved in ``folder`` (its suite.yaml): skip finished runs, continue
    unfinished ones from their checkpoints, retry what failed; ``settings`` as ``run``'s."""
    from bench.storage.store import ResultsStore

    folder = Path(folder)
    return _train(ResultsStore(folder).load_suite(), folder, "--resume", settings)


def report(folder: str | Path, **settings: Any) -> SuiteResults:
    """Build (again) the report of the results folder ``folder`` from its runs; ``settings``
    are ``ReportOptions``' fields (workers, progress, tensorboard)."""
    (values,) = _split(settings, flags_of(ReportOptions))
    options = ReportOptions(**values)
    folder = Path(folder)
    if not folder.is_dir():
        raise BenchError(f"no such results folder: {folder}")
    check_folder_to_write(folder, "report")
    if options.tensorboard is not None:  # an export that would fail writes no report either
        _check_export(folder, options.tensorboard)
    _build_report(folder, options.workers, options.progress)
    _export(folder, options.tensorboard)
    return SuiteResults(folder)


def _split(settings: Mapping[str, Any], *declared: Mapping[str, Flag]) -> list[dict[str, Any]]:
    """``settings`` checked and split by the declarations that hold them; a name none of them
    declares is refused."""
    valid = [name for flags in declared for name in flags]
    unknown = sorted(set(settings) - set(valid))
    if unknown:
        raise BenchError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    return [checked_settings(settings, flags) for flags in declared]


def _train(config: "SuiteConfig", out: Path, out_option: str,
           settings: Mapping[str, Any]) -> SuiteResults:
    values, environment = _split(settings, flags_of(RunOptions), ENVIRONMENT_FLAGS)
    options = RunOptions(**values)
    check_folder_to_write(out, out_option, RESULTS_FOLDER)
    design = _rounds_design(options, config, out)
    if options.tensorboard is not None:  # before training: the export must not fail after it
        _check_export(out, options.tensorboard)
    from bench.orchestration.runner import run_suite

    print(f"suite '{config.name}': {config.n_runs} runs, budget {config.budget} -> {out}")
    if out_option != "--resume":  # a resumed folder was warned about when it started
        warn_if_the_gate_cannot_fire(config)
    start = time.perf_counter()
    how = {"device_name": options.device, "workers": options.workers,
           "show_progress": options.progress, "env": environment_class()(**environment),
           "executor": options.executor, "address": options.address,
           "connect_timeout": options.ray_timeout}
    if design is not None:
        from bench.orchestration.until_decided import run_until_decided

        outcome = run_until_decided(config, out, design, **how)
    else:
        outcome = run_suite(config, out, **how)
    print(f"trained {outcome.ran} runs ({outcome.diverged} diverged, {outcome.skipped} "
          f"already done) in {time.perf_counter() - start:.0f} s")
    if outcome.ran + outcome.skipped:
        if options.report:
            _build_report(out, options.workers, options.progress)
        _export(out, options.tensorboard)
    return SuiteResults(out, tuple(outcome.failures))


def _rounds_design(options: RunOptions, config: "SuiteConfig", out: Path) -> "Design | None":
    """The design of ``until_decided`` (a resumed folder's own, from its rounds file), or
    None for a plain run."""
    from bench.storage.rounds import Design
    from bench.storage.run_files import load_rounds

    rounds = load_rounds(out) if out.is_dir() else None
    sizes = {k: v for k, v in (("max_seeds", options.max_seeds),
                               ("seed_step", options.seed_step)) if v is not None}
    if sizes and not options.until_decided:
        raise BenchError("--max-seeds and --seed-step size the rounds of --until-decided; add "
                         "--until-decided or drop them")
    if rounds is not None:
        changed = {k: v for k, v in sizes.items() if getattr(rounds.design, k) != v}
        if changed:
            # the looks already taken spent alpha under this design: it cannot change now
            raise BenchError(
                f"{out} was run with --max-seeds {rounds.design.max_seeds} --seed-step "
                f"{rounds.design.seed_step}, and its looks spent alpha under that design; "
                "resume it without them, or run the suite into a new --out folder")
        return rounds.design
    if not options.until_decided:
        return None
    design = Design(len(config.seeds), **sizes)
    if design.max_seeds <= design.start_seeds:
        raise BenchError(f"--max-seeds {design.max_seeds} leaves no seeds to add to the "
                         f"suite's {design.start_seeds}; raise it")
    return design


def warn_if_the_gate_cannot_fire(config: "SuiteConfig") -> None:
    """Before training: a suite whose gates: could never fire against a baseline of its own
    seeds trains in vain for `compare` (which refuses it then)."""
    if config.gates is None:
        return
    from bench.gate.compare import fewest_seeds

    needed, seeds = fewest_seeds(config), len(config.seeds)
    if seeds < needed:
        print(f"warning: with {seeds} seeds per cell this suite's gates: can never fire "
              f"against a baseline of {seeds} seeds (compare will refuse it); the fewest "
              f"that can: {needed}", file=sys.stderr)


def _build_report(folder: Path, workers: int | None, progress: bool) -> None:
    from bench.report.build import build_report  # plotting libraries: only if used
    from bench.report.render import figure_workers

    path = build_report(folder, figure_workers(workers), stage_printer("report", progress))
    print(f"report: {path}")


def _check_export(folder: Path, log_dir: Path) -> None:
    """Refuse, writing nothing, a TensorBoard export that would fail."""
    from bench.report.tensorboard import check_tensorboard

    check_tensorboard(folder, log_dir)
    check_folder_to_write(log_dir, "--tensorboard")


def _export(folder: Path, log_dir: Path | None) -> None:
    if log_dir is not None:
        from bench.report.tensorboard import write_tensorboard

        print(f"tensorboard: {write_tensorboard(folder, log_dir)}")
