"""Where a training iteration's CPU time goes, by sampling, without an op profiler.

``torch.profiler`` (``perf --roofline``'s split) records every op, and at the quick suite's
width 64 that costs as much as the ops: a profiled WGAN-GP iteration of 6 members takes ~2.5x
its unprofiled time, and a ReLU that takes 17 us when timed alone shows as ~240 us. Linux
``perf`` samples instead. Two steps (``perf`` 5.9 or later, for ``--control``)::

    mkfifo /tmp/ctl
    perf record -g -D -1 --control fifo:/tmp/ctl -o /tmp/it.data \\
        python -m bench.perf.native_split run wgan-gp 6 64 300 --perf-control /tmp/ctl
    python -m bench.perf.native_split split /tmp/it.data

``run`` builds the group of the roofline's cases (ring8, the recipe's optimizer, 3 hidden
layers, batch 256), runs warm-up iterations, then enables sampling for the timed ones only;
``split`` sorts the samples by shared object and symbol into the buckets of ``BUCKETS``.
"""

import argparse
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MATMUL = "matrix products (MKL/BLAS gemm, packing included)"
OPTIMIZER = "optimizer kernels"
ELEMENTWISE = "element-wise and reduction kernels"
PYTHON = "Python interpreter"
ALLOCATOR = "malloc / free"
KERNEL = "operating system (page faults, scheduling)"
DISPATCH = "torch dispatch, autograd engine, tensor bookkeeping"
BUCKETS = (MATMUL, OPTIMIZER, ELEMENTWISE, PYTHON, ALLOCATOR, KERNEL, DISPATCH)

_GEMM = re.compile(r"gemm", re.IGNORECASE)
_OPTIMIZER = re.compile(r"adam|rmsprop|_foreach", re.IGNORECASE)
_KERNEL_LOOP = re.compile(r"VectorizedLoop|vectorized_|Loop2d|loop_2d|reduce|cpu_kernel|"
                          r"copy_kernel|cat_serial|vml|sqrt", re.IGNORECASE)
_ROW = re.compile(r"\s+([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)")


def bucket_of(dso: str, symbol: str) -> str:
    """The bucket of one sampled symbol in one shared object."""
    if _GEMM.search(symbol):
        return MATMUL
    if _OPTIMIZER.search(symbol):
        return OPTIMIZER
    if dso.startswith("libtorch_cpu") and _KERNEL_LOOP.search(symbol):
        return ELEMENTWISE
    if dso.startswith("libpython"):
        return PYTHON  # libpython's symbols are approximate: read the bucket, not the name
    if dso.startswith("libc.so") or "malloc" in symbol or "free" in symbol:
        return ALLOCATOR
    if dso.startswith("[kernel"):
        return KERNEL
    return DISPATCH


def split_report(report: str) -> dict[str, float]:
    """Shares (summing to 1) of the buckets in ``perf report --no-children --sort dso,sym -g
    none --percent-limit 0`` output."""
    totals = dict.fromkeys(BUCKETS, 0.0)
    for line in report.splitlines():
        row = _ROW.match(line)
        if row:
            totals[bucket_of(row[2], row[3])] += float(row[1])
    whole = sum(totals.values())
    if whole == 0:
        raise ValueError("no samples in the perf report")
    return {name: share / whole for name, share in totals.items()}


@contextmanager
def _sampled(perf_control: str | None) -> Iterator[None]:
    """perf samples inside the block only (through its control FIFO); without one, a no-op."""
    if perf_control is None:
        yield
        return
    with open(perf_control, "w") as control:
        control.write("enable\n")
        control.flush()
        try:
            yield
        finally:
            control.write("disable\n")
            control.flush()


def run_iterations(gan: str, members: int, width: int, iterations: int,
                   perf_control: str | None = None, warmup: int = 5) -> float:
    """Seconds per iteration of ``gan``'s group of K = ``members`` (sampling enabled through
    ``perf_control``, perf's control FIFO, for the timed iterations only)."""
    import torch

    from bench.perf.roofline import roofline_specs
    from bench.training.trainer import GroupTrainer

    trainer = GroupTrainer(roofline_specs(gan, members, width), torch.device("cpu"))
    n_critic = trainer.schedule.critic_steps_before(0)
    for _ in range(warmup):
        trainer.run_iteration(n_critic)
    with _sampled(perf_control):
        start = time.perf_counter()
        for _ in range(iterations):
            trainer.run_iteration(n_critic)
        return (time.perf_counter() - start) / iterations


def main(argv: list[str] | None = None) -> None:
    from gan_zoo.registry import GANS

    parser = argparse.ArgumentParser(prog="python -m bench.perf.native_split",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="iterations of one group, to run under perf record")
    run.add_argument("gan", choices=sorted(GANS))
    run.add_argument("members", type=int)
    run.add_argument("width", type=int)
    run.add_argument("iterations", type=int)
    run.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as "
                     "a suite's pool worker)")
    run.add_argument("--perf-control", metavar="FIFO",
                     help="perf record's --control FIFO: sample the timed iterations only")
    split = sub.add_parser("split", help="bucket the samples of a perf.data file")
    split.add_argument("data")
    args = parser.parse_args(argv)
    if args.command == "run":
        import torch

        if min(args.members, args.width, args.iterations, args.threads) < 1:
            parser.error("members, width, iterations and --threads must be at least 1")

        torch.set_num_threads(args.threads)
        seconds = run_iterations(args.gan, args.members, args.width, args.iterations,
                                 args.perf_control)
        print(f"{args.gan} K={args.members} W={args.width}: {seconds * 1e3:.1f} ms/iteration")
        return
    if shutil.which("perf") is None:
        parser.error("Linux perf is not installed (e.g. apt install linux-tools-generic)")
    if not Path(args.data).is_file():
        parser.error(f"no such perf data file: {args.data}; 'perf record ... run' writes it")
    report = subprocess.run(
        ["perf", "report", "-i", args.data, "--no-children", "--sort", "dso,sym",
         "-g", "none", "--percent-limit", "0"], capture_output=True, text=True, check=True)
    for name, share in sorted(split_report(report.stdout).items(), key=lambda kv: -kv[1]):
        print(f"{share:6.1%}  {name}")


if __name__ == "__main__":
    main()
