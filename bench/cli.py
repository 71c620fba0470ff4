"""Command line: parse, dispatch, and turn input errors into one line and exit code 2."""

import argparse
import re
import sys
import time
from pathlib import Path
from typing import NoReturn

from bench.core.errors import BenchError
from bench.core.validators import NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT
from bench.training.accel import MODES


class _Parser(argparse.ArgumentParser):
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


def _checked(validator):
    """An argparse type that reads a number and checks it with the suite's own validator for
    that kind of value (bench.core.validators), so a flag and a suite field agree."""
    def parse(text: str):
        try:
            value = int(text) if text.strip().lstrip("+-").isdigit() else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        try:
            return validator(value, "value")
        except BenchError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix("value: ")) from None
    return parse


_positive_int = _checked(POSITIVE_INT)
_non_negative_int = _checked(NON_NEGATIVE_INT)
_positive_seconds = _checked(POSITIVE)


def _add_acceleration_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compile", choices=MODES, default="auto",
                        help="torch.compile the training networks (default: auto = on CUDA "
                        "only; a critic under a gradient penalty is never compiled)")
    parser.add_argument("--cuda-graphs", choices=MODES, default="auto",
                        help="capture each training iteration as a CUDA graph (default: auto "
                        "= the toy MLPs on CUDA); falls back to eager if capture fails")
    parser.add_argument("--channels-last", choices=MODES, default="auto",
                        help="channels_last memory format for the DCGANs and the FID Inception "
                        "(default: auto = on)")


def _add_tensorboard_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tensorboard", type=Path, metavar="DIR",
                        help="also export every run's metric curves and image grids, and a "
                        "study's trials as HParams, to DIR for 'tensorboard --logdir DIR' "
                        "(needs pip install -e \".[tensorboard]\")")


def _export_tensorboard(results: Path, log_dir: Path | None) -> None:
    if log_dir is not None:
        from bench.report.tensorboard import write_tensorboard

        print(f"tensorboard: {write_tensorboard(results, log_dir)}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run_bench.py",
        description="GAN benchmark suite: train GAN / WGAN-clip / WGAN-GP under matched "
        "budgets and report quality, mode coverage, critic estimates and throughput. "
        "With no command, runs the 'quick' suite.",
    )
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run a suite (the default command)")
    run.add_argument("--suite",
                     help="built-in suite name (see 'list') or a YAML path (default: quick)")
    run.add_argument("--out", type=Path,
                     help="results folder (default: results/<suite>-<time>); an existing "
                     "folder of the same suite is resumed, skipping finished runs")
    run.add_argument("--resume", type=Path, metavar="DIR",
                     help="continue the suite in DIR (its suite.yaml): skip finished runs, "
                     "continue unfinished ones from their checkpoints")
    run.add_argument("--executor", choices=("local", "ray"), default="local",
                     help="where groups train: local processes (default) or a Ray cluster "
                     "(needs pip install -e \".[ray]\")")
    run.add_argument("--address",
                     help="Ray cluster to join: auto or HOST:PORT (default: start a local "
                     "Ray instance)")
    run.add_argument("--ray-timeout", type=_positive_seconds, default=60.0, metavar="SECONDS",
                     help="how long to wait for the Ray cluster at --address to answer before "
                     "giving up with an error (default: 60)")
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                     help="training device (default: auto = CUDA if available)")
    run.add_argument("--seeds", type=_positive_int, help="override the number of seeds")
    run.add_argument("--budget", type=_budget, metavar="KIND=AMOUNT",
                     help="override the budget: generator_steps, critic_steps, real_samples, "
                     "gradient_evaluations "
                     "or seconds, e.g. generator_steps=500")
    run.add_argument("--workers", type=_positive_int,
                     help="worker processes on CPU, for training and then for the report's "
                     "figures (default: one per core)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.add_argument("--no-report", action="store_true",
                     help="train and store the runs only; 'report DIR' builds the report later")
    run.add_argument("--data-root", type=Path,
                     help="image datasets' root in torchvision's layout (default: "
                     "$GANBENCH_DATA_ROOT or ~/.cache/ganbench/data)")
    run.add_argument("--download", action="store_true",
                     help="download absent datasets and FID weights (needs a network)")
    run.add_argument("--fid-weights", type=Path,
                     help="pytorch-fid Inception weights pt_inception-2015-12-05-6726825d.pth "
                     "(default: $GANBENCH_FID_WEIGHTS or the torch hub cache)")
    run.add_argument("--cache-dir", type=Path,
                     help="reference statistics / classifier cache (default: "
                     "$GANBENCH_CACHE_DIR or ~/.cache/ganbench)")

    from bench.storage.rounds import Design

    run.add_argument("--until-decided", action="store_true",
                     help="after the planned seeds, add --seed-step seeds to every cell an "
                     "undecided claim check needs and judge again (alpha spent across the "
                     "looks), until every check is decided or the cells hold --max-seeds")
    run.add_argument("--max-seeds", type=_positive_int,
                     help=f"--until-decided: most seeds per cell (default: {Design.max_seeds})")
    run.add_argument("--seed-step", type=_positive_int,
                     help=f"--until-decided: seeds added per round (default: {Design.seed_step})")

    _add_acceleration_arguments(run)
    _add_tensorboard_argument(run)

    report = sub.add_parser("report", help="rebuild tables, plots and report.md from results")
    report.add_argument("results", type=Path, help="a folder written by 'run'")
    report.add_argument("--workers", type=_positive_int,
                        help="processes drawing the figures, this one included (default: one "
                        "per core, at most 4; 1 draws them all in this process)")
    report.add_argument("--no-progress", action="store_true",
                        help="no stage lines on stderr while the report builds")
    _add_tensorboard_argument(report)

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

    # defaults come from PerfOptions / StudyOptions, declared once there
    from bench.perf.options import PerfOptions, RooflineOptions, StudyOptions

    perf = sub.add_parser(
        "perf", help="time the suite's training loop and FID pieces against the reference "
        "implementations (WGAN-GP toy loop, pytorch-fid), side by side in one process")
    perf.add_argument("--device", choices=("auto", "cpu", "cuda"), default=PerfOptions.device,
                      help="device of both sides (default: auto = CUDA if available)")
    perf.add_argument("--steps", type=_positive_int,
                      help=f"generator steps timed per loop (default: {PerfOptions.steps}; "
                      f"--study: {StudyOptions.steps})")
    perf.add_argument("--warmup", type=_positive_int,
                      help=f"untimed generator steps per loop before timing (default: "
                      f"{PerfOptions.warmup}; --study: {StudyOptions.warmup})")
    perf.add_argument("--width", type=_positive_int,
                      help=f"hidden units of the 3-layer MLPs (default: {PerfOptions.width}, the "
                      f"reference's; --study: {StudyOptions.width})")
    perf.add_argument("--seeds", type=_positive_int, nargs="+",
                      help="seed-batch sizes K of the suite's loop (default: "
                      f"{' '.join(map(str, PerfOptions.seeds))})")
    perf.add_argument("--threads", type=_positive_int,
                      help="torch threads for every side (default: torch's default)")
    perf.add_argument("--repeats", type=_positive_int,
                      help="interleaved rounds of all loops; each reports its median "
                      f"(default: {PerfOptions.repeats}; use 3 or more on a shared machine)")
    perf.add_argument("--fid-dim", type=_positive_int,
                      help=f"feature dimension of the FID statistics (default: "
                      f"{PerfOptions.fid_dim})")
    perf.add_argument("--fid-samples", type=_positive_int,
                      help=f"feature rows per statistics set (default: {PerfOptions.fid_samples})")
    perf.add_argument("--no-fid", action="store_true", help="time the training loops only")
    perf.add_argument("--json", action="store_true", help="print JSON instead of the table")
    perf.add_argument("--out", type=Path, help="also write the JSON results to this file")
    perf.add_argument("--no-progress", action="store_true",
                      help="no stage lines on stderr while the timings run")
    perf.add_argument("--study", action="store_true",
                      help="time trial batching instead: one WGAN-GP cell's --trials settings "
                      "x --study-seeds seeds as one batched group against one seed-batched "
                      "group per trial")
    perf.add_argument("--trials", type=_positive_int,
                      help=f"trials of --study (default: {StudyOptions.trials})")
    perf.add_argument("--study-seeds", type=_positive_int,
                      help=f"seeds per trial of --study (default: {StudyOptions.seeds})")
    perf.add_argument("--roofline", action="store_true",
                      help="measure each GAN's iteration against the matrix-product peak "
                      "instead: FLOPs, achieved FLOP/s, fraction of peak, where the time goes")
    perf.add_argument("--members", type=_positive_int, nargs="+",
                      help="member counts K of --roofline (default: "
                      f"{' '.join(map(str, RooflineOptions.members))})")
    perf.add_argument("--widths", type=_positive_int, nargs="+",
                      help="MLP widths of --roofline (default: "
                      f"{' '.join(map(str, RooflineOptions.widths))})")
    perf.add_argument("--min-seconds", type=_positive_seconds,
                      help="--roofline repeats each timing until this long (default: "
                      f"{RooflineOptions.min_seconds:g})")
    perf.add_argument("--fid-images", type=_non_negative_int, metavar="N",
                      help="images of the end-to-end FID timing (default: 10000 on CUDA, 200 on "
                      "a CPU; 0 skips it)")
    perf.add_argument("--fid-weights", type=Path,
                      help="pytorch-fid Inception weights for the end-to-end FID (default: "
                      "random weights: same arithmetic, so same time, meaningless values)")
    _add_acceleration_arguments(perf)

    verify = sub.add_parser(
        "verify", help="check every run of a results folder against its manifest, and seal "
        "the runs of a folder written before manifests existed (after checking their files)")
    verify.add_argument("results", type=Path, help="a folder written by 'run'")

    sub.add_parser("list", help="list GANs, datasets, optimizers, suites and metrics")
    return parser


def _rounds_design(args: argparse.Namespace, config, out: Path):
    """The design of ``--until-decided`` (a resumed folder's own, from its rounds file), or
    None for a plain run."""
    from bench.storage.rounds import Design
    from bench.storage.run_files import load_rounds

    rounds = load_rounds(out) if out.is_dir() else None
    sizes = {k: v for k, v in (("max_seeds", args.max_seeds), ("seed_step", args.seed_step))
             if v is not None}
    if sizes and not args.until_decided:
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
    if not args.until_decided:
        return None
    design = Design(len(config.seeds), **sizes)
    if design.max_seeds <= design.start_seeds:
        raise BenchError(f"--max-seeds {design.max_seeds} leaves no seeds to add to the "
                         f"suite's {design.start_seeds}; raise it")
    return design


def _warn_if_the_gate_cannot_fire(config) -> None:
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


def _cmd_run(args: argparse.Namespace) -> int:
    # only what checks the suite is imported before it is checked: the training stack
    # (torchvision, pytorch-fid, POT's solvers) would make every refusal seconds slower
    from bench.config.suite import load_suite, with_overrides
    from bench.storage.store import ResultsStore

    if args.resume is not None:
        if args.suite or args.out or args.seeds or args.budget:
            raise BenchError("--resume DIR runs the suite saved in DIR/suite.yaml; drop "
                             "--suite, --out, --seeds and --budget")
        config, out = ResultsStore(args.resume).load_suite(), args.resume
    else:
        config = with_overrides(load_suite(args.suite or "quick"), seeds=args.seeds,
                                budget=args.budget)
        out = args.out or Path("results") / f"{config.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    design = _rounds_design(args, config, out)
    if args.tensorboard is not None:  # before training: the export must not fail after it
        from bench.report.tensorboard import check_tensorboard

        check_tensorboard(out, args.tensorboard)
    from bench.core.environment import Environment
    from bench.orchestration.runner import run_suite

    print(f"suite '{config.name}': {config.n_runs} runs, budget {config.budget} -> {out}")
    if args.resume is None:  # a resumed folder was warned about when it started
        _warn_if_the_gate_cannot_fire(config)
    start = time.perf_counter()
    env = Environment(args.data_root, args.download, args.fid_weights, args.cache_dir,
                      compile=args.compile, cuda_graphs=args.cuda_graphs,
                      channels_last=args.channels_last)
    options = {"device_name": args.device, "workers": args.workers,
               "show_progress": not args.no_progress, "env": env, "executor": args.executor,
               "address": args.address, "connect_timeout": args.ray_timeout}
    if design is not None:
        from bench.orchestration.until_decided import run_until_decided

        outcome = run_until_decided(config, out, design, **options)
    else:
        outcome = run_suite(config, out, **options)
    print(f"trained {outcome.ran} runs ({outcome.diverged} diverged, {outcome.skipped} "
          f"already done) in {time.perf_counter() - start:.0f} s")
    if outcome.ran + outcome.skipped:
        if not args.no_report:
            from bench.report.build import build_report  # plotting libraries: only if used
            from bench.report.render import figure_workers

            print(f"report: {build_report(out, figure_workers(args.workers), _progress(args))}")
        _export_tensorboard(out, args.tensorboard)
    for failure in outcome.failures:
        print(f"error: failed: {failure}", file=sys.stderr)  # a run group or side experiment
    if outcome.failures:
        print(f"'run_bench.py run --resume {out}' retries what failed (groups from their "
              "checkpoints)", file=sys.stderr)
    return 1 if outcome.failures else 0


def _progress(args: argparse.Namespace, command: str = "report"):
    """Stage lines on stderr while ``command`` works, unless --no-progress."""
    if args.no_progress:
        return None
    return lambda stage: print(f"{command}: {stage}", file=sys.stderr, flush=True)


def _cmd_report(args: argparse.Namespace) -> int:
    from bench.report.build import build_report
    from bench.report.render import figure_workers

    if not args.results.is_dir():
        raise BenchError(f"no such results folder: {args.results}")
    if args.tensorboard is not None:  # an export that would fail writes no report either
        from bench.report.tensorboard import check_tensorboard

        check_tensorboard(args.results, args.tensorboard)
    print(f"report: {build_report(args.results, figure_workers(args.workers), _progress(args))}")
    _export_tensorboard(args.results, args.tensorboard)
    return 0


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


def _check_file_to_write(path: Path, option: str) -> None:
    """Refuse, before any work, an output file that could not be written: a folder, or a path
    whose nearest existing folder takes no file (probed with an unnamed temporary file:
    permission bits alone miss read-only mounts and root). The file is written atomically, a
    rename in that folder, so the folder is all that must be writable."""
    import tempfile

    if path.is_dir():
        raise BenchError(f"{option} {path} is a directory; name the file to write")
    folder = next(p for p in path.absolute().parents if p.exists())
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise BenchError(f"{option} {path}: cannot write in {folder} "
                         f"({exc.strerror or exc})") from None


def _cmd_compare(args: argparse.Namespace) -> int:
    from bench.core.atomic import write_text_atomic
    from bench.gate.compare import run_gate
    from bench.gate.output import format_markdown, format_table, to_json

    if args.markdown is not None:
        _check_file_to_write(args.markdown, "--markdown")
    result = run_gate(args.baseline, args.candidate, _progress(args, "compare"))
    print(to_json(result) if args.json else format_table(result))
    if args.markdown is not None:  # written on a regression too: the comment reports it
        write_text_atomic(args.markdown, format_markdown(result) + "\n")
    return 1 if result.regressions else 0


def _given(**values) -> dict:
    """The options the command line set (None: left to the options' declared default)."""
    return {key: value for key, value in values.items() if value is not None}


def _perf_output(args: argparse.Namespace, json_text: str, table: str) -> int:
    """Print a perf result (JSON with --json, else the table) and write its JSON to --out."""
    print(json_text if args.json else table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json_text + "\n")
    return 0


PERF_MODE_OPTIONS = {"study": ("trials", "study_seeds"),
                     "roofline": ("members", "widths", "min_seconds")}
"""Each perf mode and the options only it reads."""


def _check_perf_options(args: argparse.Namespace) -> None:
    """Refuse a perf call whose options would be silently ignored, before any timing."""
    modes = [mode for mode in PERF_MODE_OPTIONS if getattr(args, mode)]
    if len(modes) > 1:
        raise BenchError("--study and --roofline are two measurements; run them one at a time")
    for mode, options in PERF_MODE_OPTIONS.items():
        unused = [f"--{o.replace('_', '-')}" for o in options
                  if getattr(args, o) is not None and mode not in modes]
        if unused:
            raise BenchError(f"{' '.join(unused)} only apply to --{mode}; add --{mode} or "
                             "drop them")
    if args.out is not None and args.out.is_dir():
        raise BenchError(f"--out {args.out} is a directory; name the JSON file to write")


def _cmd_perf(args: argparse.Namespace) -> int:
    _check_perf_options(args)
    if args.study:
        return _perf_study(args)
    if args.roofline:
        return _perf_roofline(args)
    from bench.perf.options import PerfOptions
    from bench.perf.side_by_side import format_report, run_perf, to_json

    options = PerfOptions(**_given(
        device=args.device, steps=args.steps, warmup=args.warmup, width=args.width,
        seeds=tuple(args.seeds) if args.seeds else None, threads=args.threads,
        repeats=args.repeats, fid_dim=args.fid_dim, fid_samples=args.fid_samples,
        fid=not args.no_fid, compile=args.compile, cuda_graphs=args.cuda_graphs,
        channels_last=args.channels_last, fid_images=args.fid_images,
        fid_weights=str(args.fid_weights) if args.fid_weights else None,
    ))
    result = run_perf(options, _progress(args, "perf"))
    return _perf_output(args, to_json(result), format_report(result))


def _perf_study(args: argparse.Namespace) -> int:
    import json

    from bench.perf.study_timing import StudyOptions, format_study, time_study

    timing = time_study(StudyOptions(**_given(
        trials=args.trials, seeds=args.study_seeds, width=args.width, steps=args.steps,
        warmup=args.warmup, device=args.device, threads=args.threads)), _progress(args, "perf"))
    text = json.dumps(timing.to_dict(), indent=2)
    return _perf_output(args, text, format_study(timing, args.device))


def _perf_roofline(args: argparse.Namespace) -> int:
    import json

    from bench.perf.options import RooflineOptions
    from bench.perf.roofline import format_roofline, run_roofline

    options = RooflineOptions(**_given(
        members=tuple(args.members) if args.members else None,
        widths=tuple(args.widths) if args.widths else None, min_seconds=args.min_seconds))
    result = run_roofline(args.device, options.members, options.widths, args.threads,
                          options.min_seconds, _progress(args, "perf"))
    text = json.dumps(result.to_dict(), indent=2)
    return _perf_output(args, text, format_roofline(result))


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
    from gan_zoo.architectures.dcgan import IMAGE_ARCHS
    from gan_zoo.recipes import OPTIMIZER_DESCRIPTIONS
    from gan_zoo.registry import GANS

    _entries("GANs:", [(name, gan.description) for name, gan in GANS.items()])
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
        return commands[args.command](args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs and checkpoints are kept; 'run --resume DIR' "
              "continues", file=sys.stderr)
        return 130
