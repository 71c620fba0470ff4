"""Options declared once, on the dataclass fields that hold them (cleanrl's idea): a field's
default, its help and how its flag reads and checks a value sit together; the command line's
flags, their --help and the Python API's checks are generated from them.

Every flag parses to None when not given, so what a command line sets is known and the rest
keeps its declared default. --help shows each default as its declaration has it, looked up only
when help is shown: a declaration whose module loads torch (the Environment) costs a refused
command nothing.
"""

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bench.core.errors import BenchError
from bench.core.validators import Number, Validator

FLAG = "flag"
"""The dataclass field metadata key holding the field's Flag."""


@dataclass(frozen=True)
class Flag:
    """How the command line sets one option."""

    help: str
    name: str = ""
    """The flag without its dashes (default: the field's name dashed, after "no-" for a
    switch that sets False)."""
    default_is: str = ""
    """What the default means, in words: shown after the default, or instead of a None."""
    choices: tuple[str, ...] | None = None
    check: Validator | None = None
    """The value's validator (bench.core.validators); a Number also reads the text as one."""
    parse: Callable[[str], Any] = str
    many: bool = False
    """One or more values, as a tuple."""
    switch: bool | None = None
    """A flag with no value, which sets this; None: the flag takes a value."""
    metavar: str | None = None

    def flag_name(self, field_name: str) -> str:
        dashed = field_name.replace("_", "-")
        return self.name or (f"no-{dashed}" if self.switch is False else dashed)

    def dest(self, field_name: str) -> str:
        return self.flag_name(field_name).replace("-", "_")

    def checked(self, value: Any, where: str) -> Any:
        """A Python caller's ``value`` as this option takes it (text read as the command line
        reads it, but for numbers), or a BenchError naming ``where``."""
        if self.many:
            return tuple(self._checked_one(v, where) for v in value)
        return self._checked_one(value, where)

    def _checked_one(self, value: Any, where: str) -> Any:
        value = self.parse(value) if isinstance(value, str) else value
        if self.choices is not None and value not in self.choices:
            raise BenchError(f"{where}: got {value!r}; valid: {', '.join(self.choices)}")
        return value if self.check is None else self.check(value, where)

    def read(self, text: str) -> Any:
        """An argparse type: the text read and checked, refused in argparse's words."""
        try:
            return self._checked_one(_number(text) if isinstance(self.check, Number) else text,
                                     "value")
        except BenchError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix("value: ")) from None


def value_reader(check: Validator) -> Callable[[str], Any]:
    """An argparse type for a flag declared by hand: the text read as a number and checked."""
    return Flag("", check=check).read


def _number(text: str) -> int | float:
    try:
        return int(text) if text.strip().lstrip("+-").isdigit() else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def option(default: Any, help: str, **how: Any) -> Any:
    """A dataclass field with its flag: ``steps: int = option(20, "steps timed", ...)``."""
    return field(default=default, metadata={FLAG: Flag(help, **how)})


DEVICES = ("auto", "cpu", "cuda")
"""What --device takes; auto is CUDA when available (bench.core.environment.resolve_device)."""


def device_option(help: str) -> Any:
    """A --device option: one default and one set of choices wherever a command takes it."""
    return option(DEVICES[0], help, choices=DEVICES, default_is="CUDA if available")


Declaring = type | Callable[[], type]
"""A dataclass, or a function that imports and returns one (read only when --help is shown)."""


def _dataclass(declaring: Declaring) -> type:
    return declaring if isinstance(declaring, type) else declaring()


def flags_of(cls: type) -> dict[str, Flag]:
    """The declared flags of dataclass ``cls``, by field name."""
    return {f.name: f.metadata[FLAG] for f in fields(cls) if FLAG in f.metadata}


@dataclass(frozen=True)
class _Declared:
    """Where a flag's default is declared: a field of a dataclass, for a mode of a command."""

    mode: str
    declaring: Declaring
    field_name: str
    flag: Flag

    def describe(self) -> str:
        default = next(f.default for f in fields(_dataclass(self.declaring))
                       if f.name == self.field_name)
        if default is None or isinstance(default, bool):
            return self.flag.default_is
        shown = " ".join(map(_shown, default)) if isinstance(default, tuple) else _shown(default)
        return f"{shown} = {self.flag.default_is}" if self.flag.default_is else shown


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class _DefaultsFromDeclarations(argparse.HelpFormatter):
    """Help with each declared default, as "(default: X; --mode: Y)"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        declared: list[_Declared] | None = getattr(action, "declared", None)
        if not declared:
            return action.help
        first, *modes = [(d.mode, d.describe()) for d in declared]
        parts = [first[1]] * bool(first[1]) + [f"{mode}: {text}" for mode, text in modes
                                              if text != first[1]]
        text = f"{action.help} (default: {'; '.join(parts)})" if parts else action.help
        return text.replace("%", "%%")  # argparse formats help with %


class FlagParser(argparse.ArgumentParser):
    """An ArgumentParser that adds flags from declarations and shows their defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFromDeclarations)
        super().__init__(*args, **kwargs)
        self._declared: dict[str, argparse.Action] = {}

    def add_flags(self, declaring: Declaring, flags: Mapping[str, Flag] | None = None,
                  mode: str = "") -> list[str]:
        """A flag per declared option of ``declaring`` (``flags``: the flags of a dataclass
        whose fields declare none, by field name). A flag this parser already has, shared by
        another mode of the command, shows ``mode``'s default too. Returns the new flags'
        destinations."""
        flags = flags_of(_dataclass(declaring)) if flags is None else flags
        added = []
        for name, flag in flags.items():
            dest = flag.dest(name)
            declared = _Declared(mode, declaring, name, flag)
            if dest in self._declared:
                self._declared[dest].declared.append(declared)
                continue
            how: dict[str, Any] = (
                {"action": "store_const", "const": flag.switch} if flag.switch is not None
                else {"type": flag.read, "choices": flag.choices, "metavar": flag.metavar,
                      "nargs": "+" if flag.many else None})
            action = self.add_argument(f"--{flag.flag_name(name)}", dest=dest, help=flag.help,
                                       **how)
            action.declared = [declared]
            self._declared[dest] = action
            added.append(dest)
        return added


def chosen(args: argparse.Namespace, flags: Mapping[str, Flag]) -> dict[str, Any]:
    """The options of ``flags`` (by field name) that the command line set; the others keep
    their declared defaults."""
    given = {name: getattr(args, flag.dest(name)) for name, flag in flags.items()}
    return {name: tuple(value) if flags[name].many else value
            for name, value in given.items() if value is not None}


def checked_settings(settings: Mapping[str, Any], flags: Mapping[str, Flag]) -> dict[str, Any]:
    """The entries of ``settings`` (a Python caller's keywords) that are options of ``flags``,
    each checked as its flag checks a value."""
    return {name: flags[name].checked(value, name)
            for name, value in settings.items() if name in flags and value is not None}
