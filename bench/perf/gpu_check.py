"""The Python side of ``scripts/gpu-check.sh``: the environment record, the derived suites it
runs (a slice of a built-in suite, or a suite at toy sizes for the CPU dry run) and its
summary (``bench/perf/gpu_check_summary.py``); the suites in gpu_check_suites.py.

    python -m bench.perf.gpu_check env OUT.json --device cuda
    python -m bench.perf.gpu_check derive SUITE OUT.yaml [--keep AXIS=V1,V2] [--set KEY=VALUE]
    python -m bench.perf.gpu_check summary DIR --device cuda
"""

import argparse
import json
import sys
from pathlib import Path

import yaml

from bench.config.suite_yaml import read_yaml
from bench.core.errors import BenchError
from bench.perf.gpu_check_suites import AXES, derive_suite


def environment_record(device: str) -> dict:
    """The suite's provenance for ``device`` plus the CUDA and cuDNN versions and, on CUDA,
    the device's memory; ``cuda_available`` says whether torch sees a GPU at all."""
    import torch

    from bench.storage.provenance import collect

    cuda = device == "cuda" and torch.cuda.is_available()
    record = {
        **collect(torch.device("cuda" if cuda else "cpu")),
        "requested_device": device,
        "cuda_available": torch.cuda.is_available(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
    }
    if cuda:
        props = torch.cuda.get_device_properties(0)
        record.update(device_count=torch.cuda.device_count(),
                      device_memory_gib=props.total_memory / 2**30,
                      compute_capability=f"{props.major}.{props.minor}")
    return record


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BenchError(f"{flag} {item!r}: use KEY=VALUE")
        out[key] = value
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.gpu_check",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    env = sub.add_parser("env", help="write the environment record as JSON")
    env.add_argument("out", type=Path)
    env.add_argument("--device", choices=("cpu", "cuda"), required=True)
    derive = sub.add_parser("derive", help="write a derived suite YAML")
    derive.add_argument("suite", help="built-in suite name or YAML path")
    derive.add_argument("out", type=Path)
    derive.add_argument("--keep", action="append", default=[], metavar="AXIS=V1,V2",
                        help=f"keep only these values of an axis ({', '.join(AXES)})")
    derive.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set a dotted key (model.width=16); VALUE is read as YAML")
    derive.add_argument("--name", help="the derived suite's name")
    summary = sub.add_parser("summary", help="write DIR/summary.md from the script's outputs")
    summary.add_argument("folder", type=Path)
    summary.add_argument("--device", choices=("cpu", "cuda"), required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "env":
            record = environment_record(args.device)
            args.out.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
            print(json.dumps(record, indent=2, sort_keys=True))
            if args.device == "cuda" and not record["cuda_available"]:
                print("error: --device cuda, but torch sees no CUDA device", file=sys.stderr)
                return 1
        elif args.command == "derive":
            keep = {axis: values.split(",") for axis, values in _pairs(args.keep,
                                                                        "--keep").items()}
            sets = {k: read_yaml(v, f"--set {k}") for k, v in _pairs(args.set, "--set").items()}
            raw = derive_suite(args.suite, keep, sets, args.name)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(yaml.safe_dump(raw, sort_keys=False))
            print(f"derived suite: {args.out}")
        else:
            from bench.perf.gpu_check_summary import write_summary

            print(f"summary: {write_summary(args.folder, args.device)}")
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
