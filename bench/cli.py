"""Command line: parse, call the Python API (bench.api) or perf, and turn input errors into one
line and exit code 2. Options and their --help come from their declarations (bench.core.flags):
the API's RunOptions and ReportOptions, the Environment's flags, perf's options."""

import argparse
import re
import sys
from pathlib import Path
from typing import NoReturn

from bench.api.options import (
    DEFAULT_SUITE,
    ENVIRONMENT_FLAGS,
    SPEED_UP_FLAGS,
    ReportOptions,
    RunOptions,
    environment_class,
)
from bench.api.stages import stage_printer
from bench.core.errors import BenchError
from bench.core.flags import FlagParser, chosen, flags_of, value_reader
from bench.core.output_paths import check_file_to_write
from bench.core.validators import POSITIVE_INT
from bench.perf.options import PerfOptions, RooflineOptions, StudyOptions


def _prog() -> str:
    """How the command line was called: the installed ``ganbench``, or run_bench.py."""
    return "ganbench" if Path(sys.argv[0]).name == "ganbench" else "run_bench.py"


class _Parser(FlagParser):
    """Bad arguments are bad input like any other: one ``error:`` line and exit 2 (argparse's
    default prints the whole usage first). Subcommands' parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        raise BenchError(f"{message} (see '{self.prog} --help')")


def _budget(text: str):
    from bench.config.suite import parse_budget

    kind, sep, amount = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("use KIND=AMOUNT, e.g. generator_steps=500")
    try:
        value = float(amount)  # 1e3 is 1000; the budget's own validator checks the kind
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{amount}' is not a number") from None
    try:
        return parse_budget({kind: value}, "--budget")
    except BenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


PERF_MODES = {"": (flags_of(PerfOptions), SPEED_UP_FLAGS), "--study": (flags_of(StudyOptions),),
              "--roofline": (flags_of(RooflineOptions),)}
"""Each measurement of perf (plain, --study, --roofline) and the declared options it reads."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_prog(),
        description="GAN benchmark suite: train GAN / WGAN-clip / WGAN-GP under matched "
        "budgets and report quality, mode coverage, critic estimates and throughput. "
        f"With no command, runs the '{DEFAULT_SUITE}' suite.",
    )
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run a suite (the default command)")
    run.add_argument("--suite", help="built-in suite name (see 'list') or a YAML path "
                     f"(default: {DEFAULT_SUITE})")
    run.add_argument("--out", type=Path,
                     help="results folder (default: results/<suite>-<time>); an existing "
                     "folder of the same suite is resumed, skipping finished runs")
    run.add_argument("--resume", type=Path, metavar="DIR",
                     help="continue the suite in DIR (its suite.yaml): skip finished runs, "
                     "continue unfinished ones from their checkpoints")
    run.add_argument("--seeds", type=value_reader(POSITIVE_INT),
                     help="override the number of seeds")
    run.add_argument("--budget", type=_budget, metavar="KIND=AMOUNT",
                     help="override the budget: generator_steps, critic_steps, real_samples, "
                     "gradient_evaluations or seconds, e.g. generator_steps=500")
    run.add_flags(RunOptions)
    run.add_flags(environment_class, ENVIRONMENT_FLAGS)

    report = sub.add_parser("report", help="rebuild tables, plots and report.md from results")
    report.add_argument("results", type=Path, help="a folder written by 'run'")
    report.add_flags(ReportOptions)

    compare = sub.add_parser(
        "compare", help="regression gate: judge CANDIDATE results against BASELINE results "
        "with the suite's gates; exit 1 on any regression")
    compare.add_argument("baseline", type=Path, help="a results folder of the suite")
    compare.add_argument("candidate", type=Path, help="a results folder of the same suite")
    compare.add_argument("--json", action="store_true",
                         help="print stable JSON (sorted keys, no timestamps) instead of a table")
    compare.add_argument("--markdown", type=Path, metavar="FILE",
                         help="also write the verdicts as Markdown, regressions first, to FILE "
                         "(for a pull-request comment); stdout keeps the table or --json's "
                         "JSON. FILE is written whenever the gate judges (exit 0 or 1)")
    compare.add_argument("--no-progress", action="store_true",
                         help="no stage lines on stderr while the folders are read and tested")

    perf = sub.add_parser(
        "perf", help="time the suite's training loop and FID pieces against the reference "
        "implementations (WGAN-GP toy loop, pytorch-fid), side by side in one process")
    perf.add_argument("--study", action="store_true",
                      help="time trial batching instead: one WGAN-GP cell's --trials settings "
                      "x --study-seeds seeds as one batched group against one seed-batched "
                      "group per trial")
    perf.add_argument("--roofline", action="store_true",
                      help="measure each GAN's iteration against the matrix-product peak "
                      "instead: FLOPs, achieved FLOP/s, fraction of peak, where the time goes")
    perf.add_flags(PerfOptions)
    perf.add_flags(StudyOptions, mode="--study")
    perf.add_flags(RooflineOptions, mode="--roofline")
    perf.add_flags(environment_class, SPEED_UP_FLAGS)
    perf.add_argument("--json", action="store_true", help="print JSON instead of the table")
    perf.add_argument("--out", type=Path, help="also write the JSON results to this file")
    perf.add_argument("--no-progress", action="store_true",
                      help="no stage lines on stderr while the timings run")

    verify = sub.add_parser(
        "verify", help="check every run of a results folder against its manifest, and seal "
        "the runs of a folder written before manifests existed (after checking their files)")
    verify.add_argument("results", type=Path, help="a folder written by 'run'")

    listing = sub.add_parser("list", help="list GANs, datasets, optimizers, suites and metrics")
    for command in (run, report, compare, perf, verify, listing):
        command.add_argument(
            "--plugin", action="append", default=[], metavar="MODULE",
            help="import MODULE first: its GANs, optimizers and architectures can then be "
            "named (repeatable; a suite's plugins: and installed ganbench.plugins entry "
            "points load anyway; docs/plugins.md)")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from bench import api

    settings = chosen(args, flags_of(RunOptions)) | chosen(args, ENVIRONMENT_FLAGS)
    if args.resume is not None:
        if args.suite or args.out or args.seeds or args.budget:
            raise BenchError("--resume DIR runs the suite saved in DIR/suite.yaml; drop "
                             "--suite, --out, --seeds and --budget")
        results = api.resume(args.resume, **settings)
    else:
        results = api.run(args.suite or DEFAULT_SUITE, args.out, seeds=args.seeds,
                          budget=args.budget, **settings)
    for failure in results.failures:
        print(f"error: failed: {failure}", file=sys.stderr)  # a run group or side experiment
    if results.failures:
        print(f"'{_prog()} run --resume {results.folder}' retries what failed (groups from "
              "their checkpoints)", file=sys.stderr)
    return 1 if results.failures else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from bench import api

    api.report(args.results, **chosen(args, flags_of(ReportOptions)))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from bench import api

    comparison = api.compare(args.baseline, args.candidate, markdown=args.markdown,
                             progress=not args.no_progress)
    print(comparison.to_json() if args.json else comparison.table())
    return 0 if comparison.passed else 1


def _cmd_verify(args: argparse.Namespace) -> int:
    from bench.storage.lock import SuiteLock
    from bench.storage.manifest import unsealed
    from bench.storage.store import ResultsStore

    if not args.results.is_dir():
        raise BenchError(f"no such results folder: {args.results}")
    store = ResultsStore(args.results)
    store.load_suite()  # a folder that is none gets no lock file either
    with SuiteLock(store.root):  # no driver writes runs while they are sealed
        runs, sealed = len(store.run_dirs()), len(unsealed(store.run_dirs()))
        store.verify(seal=True)
    print(f"{store.root}: {runs} runs verified ({sealed} sealed now)")
    return 0


def _given_flags(args: argparse.Namespace, declared: tuple) -> set[str]:
    """The flags of ``declared`` (flag mappings) that the command line set."""
    return {f"--{flag.flag_name(name)}" for flags in declared for name, flag in flags.items()
            if getattr(args, flag.dest(name)) is not None}


def _perf_mode(args: argparse.Namespace) -> str:
    """The measurement perf is asked for; a BenchError, before any timing, for options it
    would silently ignore or an --out it could not write."""
    modes = [mode for mode in PERF_MODES if mode and getattr(args, mode.removeprefix("--"))]
    if len(modes) > 1:
        raise BenchError("--study and --roofline are two measurements; run them one at a time")
    mode = modes[0] if modes else ""
    read = _given_flags(args, PERF_MODES[mode])
    for other, declared in PERF_MODES.items():
        unused = sorted(_given_flags(args, declared) - read)
        if unused:
            where = other or "perf without --study or --roofline"
            add = f"add {other} or " if other and not mode else ""
            raise BenchError(f"{' '.join(unused)} only apply to {where}; {add}drop them")
    if args.out is not None:
        check_file_to_write(args.out, "--out")
    return mode


def _cmd_perf(args: argparse.Namespace) -> int:
    import json

    mode, progress = _perf_mode(args), stage_printer("perf", not args.no_progress)
    if mode == "--study":
        from bench.perf.study_timing import format_study, time_study

        options = StudyOptions(**chosen(args, flags_of(StudyOptions)))
        timing = time_study(options, progress)
        text, table = json.dumps(timing.to_dict(), indent=2), format_study(timing, options.device)
    elif mode == "--roofline":
        from bench.perf.roofline import format_roofline, run_roofline

        roofline = run_roofline(RooflineOptions(**chosen(args, flags_of(RooflineOptions))),
                                progress)
        text, table = json.dumps(roofline.to_dict(), indent=2), format_roofline(roofline)
    else:
        from bench.perf.side_by_side import format_report, run_perf, to_json

        result = run_perf(PerfOptions(**chosen(args, flags_of(PerfOptions))),
                          environment_class()(**chosen(args, SPEED_UP_FLAGS)), progress)
        text, table = to_json(result), format_report(result)
    print(text if args.json else table)
    if args.out is not None:
        from bench.core.atomic import write_text_atomic

        write_text_atomic(args.out, text + "\n")
    return 0


LIST_WIDTH = 100
"""Columns of `list`'s output: entries wrap under their text, never mid-word."""


def _entries(title: str, rows: list[tuple[str, str]]) -> None:
    """A titled list: names in one column as wide as the longest, text wrapped beside it."""
    import textwrap

    print(title)
    width = max(len(name) for name, _ in rows) + 2
    for name, text in rows:
        print(textwrap.fill(" ".join(text.split()), LIST_WIDTH, initial_indent=f"  {name:{width}}",
                            subsequent_indent=" " * (width + 2)))


SENTENCE_END = re.compile(r"(?<!\bal)(?<!\bFig)(?<!\bSec)(?<!\bvs)(?<!\be\.g)\.\s+(?=[A-Z'\"(])")
"""A full stop that ends a sentence: not "et al.", "Fig.", "Sec.", "vs.", "e.g."."""


def _first_sentence(text: str) -> str:
    """The first sentence of a description (its lines joined), or all of it."""
    joined = " ".join(text.split())
    end = SENTENCE_END.search(joined)
    return joined if end is None else joined[:end.start() + 1]


def _cmd_list(args: argparse.Namespace) -> int:
    from bench.config.suite import builtin_suites, load_suite
    from bench.core.hyperparameters import HYPERPARAMETERS
    from bench.core.outputs import CRITIC, TRAINING, outputs_from
    from bench.core.specs import BUDGET_KINDS
    from bench.data import DATASETS
    from bench.metrics.registry import METRICS
    from gan_zoo.architectures.declarations import IMAGE_ARCHS
    from gan_zoo.declarations import GAN_SPECS
    from gan_zoo.recipes import OPTIMIZER_DESCRIPTIONS

    _entries("GANs:", [(name, gan.description) for name, gan in GAN_SPECS.items()])
    _entries("datasets:", [
        (name, f"[{d.domain}{f', {d.modes.n_modes} modes' if d.modes else ''}] {d.description}")
        for name, d in DATASETS.items()])
    _entries("image architectures (suite key image_model.arch):",
             [(name, arch.description) for name, arch in IMAGE_ARCHS.items()])
    _entries("optimizers (settings: bench/core/hyperparameters.py; 'recipe': each GAN's own):", [
        (name, f"{description}; settings: " + ", ".join(
            h.name for h in HYPERPARAMETERS.values() if h.in_optimizer and h.used_by((), name)))
        for name, description in OPTIMIZER_DESCRIPTIONS.items()])
    print(f"budgets: {', '.join(BUDGET_KINDS)}")
    _entries("suites (each one's first sentence; the whole description: its YAML):", [
        (name, _first_sentence(load_suite(name).description or "")) for name in builtin_suites()])
    _entries("metrics (registered in bench/metrics/registry.py; datasets declare which apply):", [
        (metric.name, ", ".join(f"{o.name} ({o.better} is better)" if o.better else o.name
                                for o in metric.outputs)
         + ": " + _first_sentence(metric.compute.__doc__ or ""))
        for metric in METRICS.values()])
    _entries("also recorded at every checkpoint (declared in bench/core/outputs.py):",
             [(o.name, o.words) for o in (*outputs_from(CRITIC), *outputs_from(TRAINING))])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    commands = {"run": _cmd_run, "report": _cmd_report, "list": _cmd_list,
                "compare": _cmd_compare, "perf": _cmd_perf, "verify": _cmd_verify}
    try:
        args = build_parser().parse_args(argv)
        if args.plugin or args.command == "list":  # list shows the entry points' plugins too
            from bench.config.plugins import load_plugins

            load_plugins(args.plugin)
        return commands[args.command](args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs and checkpoints are kept; 'run --resume DIR' "
              "continues", file=sys.stderr)
        return 130
