"""Options declared once (bench.core.flags): the command line's flags, their --help and the
Python API's checks come from the dataclass fields that hold each option's default."""

from dataclasses import dataclass

import pytest

from bench.api.options import SPEED_UP_FLAGS
from bench.cli import main
from bench.core.environment import Environment
from bench.core.errors import BenchError
from bench.core.flags import Flag, FlagParser, checked_settings, chosen, flags_of, option
from bench.core.validators import POSITIVE_INT
from bench.perf.options import FID_IMAGES, PerfOptions, RooflineOptions, StudyOptions


@dataclass(frozen=True)
class Sizes:
    width: int = option(64, "hidden units", check=POSITIVE_INT)
    members: tuple[int, ...] = option((1, 8), "member counts", check=POSITIVE_INT, many=True)
    device: str = option("auto", "where", choices=("auto", "cpu"), default_is="the best one")
    workers: int | None = option(None, "processes", check=POSITIVE_INT, default_is="one per core")
    progress: bool = option(True, "no progress lines", switch=False)


@dataclass(frozen=True)
class WiderSizes:
    width: int = option(512, "hidden units", check=POSITIVE_INT)
    depth: int = option(3, "hidden layers", check=POSITIVE_INT)


class _Refusing(FlagParser):
    def error(self, message: str):
        raise BenchError(message)


def _parser() -> FlagParser:
    parser = _Refusing(prog="test")
    parser.add_flags(Sizes)
    assert parser.add_flags(WiderSizes, mode="--wide") == ["depth"]  # width is shared
    return parser


def test_flags_their_names_and_what_the_command_line_set():
    args = _parser().parse_args(["--members", "2", "3", "--no-progress", "--depth", "4"])
    assert chosen(args, flags_of(Sizes)) == {"members": (2, 3), "progress": False}
    assert chosen(args, flags_of(WiderSizes)) == {"depth": 4}
    assert Sizes(**chosen(args, flags_of(Sizes))) == Sizes(members=(2, 3), progress=False)
    assert chosen(_parser().parse_args([]), flags_of(Sizes)) == {}


def test_help_shows_each_declared_default():
    text = " ".join(_parser().format_help().split())
    assert "--width WIDTH hidden units (default: 64; --wide: 512)" in text
    assert "member counts (default: 1 8)" in text
    assert "where (default: auto = the best one)" in text
    assert "processes (default: one per core)" in text
    assert "--no-progress no progress lines --" in text  # a switch has no default to show


def test_a_declaration_behind_a_heavy_import_is_read_only_for_help():
    loaded = []

    def declaring() -> type:
        loaded.append(True)
        return Sizes

    parser = _Refusing(prog="test")
    parser.add_flags(declaring, {"width": Flag("hidden units", check=POSITIVE_INT)})
    assert chosen(parser.parse_args(["--width", "3"]), {"width": Flag("")}) == {"width": 3}
    assert loaded == []
    assert "(default: 64)" in parser.format_help() and loaded


@pytest.mark.parametrize("argv, says", [
    (["--width", "0"], "argument --width: expected an integer >= 1, got 0"),
    (["--width", "wide"], "argument --width: 'wide' is not a number"),
    (["--device", "gpu"], "argument --device: got 'gpu'; valid: auto, cpu"),
])
def test_bad_values_are_refused_by_the_declared_check(argv, says):
    with pytest.raises(BenchError, match=says):
        _parser().parse_args(argv)


def test_a_python_caller_is_checked_as_the_command_line_is():
    flags = flags_of(Sizes)
    assert checked_settings({"members": [2, 3], "workers": None}, flags) == {"members": (2, 3)}
    with pytest.raises(BenchError, match="width: expected an integer >= 1, got 0"):
        checked_settings({"width": 0}, flags)
    with pytest.raises(BenchError, match="device: got 'gpu'; valid: auto, cpu"):
        checked_settings({"device": "gpu"}, flags)


def _help(command: str, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: no wrapping at hyphens
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_perf_help_shows_the_perf_declarations_defaults(capsys, monkeypatch):
    text = _help("perf", capsys, monkeypatch)
    assert f"(default: {PerfOptions.width}; --study: {StudyOptions.width})" in text
    assert f"(default: {PerfOptions.steps}; --study: {StudyOptions.steps})" in text
    assert f"(default: {FID_IMAGES['cuda']} on CUDA, {FID_IMAGES['cpu']} on a CPU;" in text
    assert "(default: " + " ".join(map(str, RooflineOptions.widths)) + ")" in text
    assert f"(default: {Environment.compile} = on CUDA only;" in text  # the run's speed-ups


def test_run_help_shows_the_environments_defaults(capsys, monkeypatch):
    text = _help("run", capsys, monkeypatch)
    for name, flag in SPEED_UP_FLAGS.items():
        assert f"{flag.help} (default: {getattr(Environment, name)} = {flag.default_is})" in text


@pytest.mark.parametrize("command", ["run", "report", "compare", "perf", "verify", "list"])
def test_every_help_builds(command, capsys, monkeypatch):
    assert "usage:" in _help(command, capsys, monkeypatch)
