"""Typed validators for suite values: one per kind of value, used wherever it appears.

A learning rate is checked by ``LEARNING_RATE`` whether it sits in the optimizer axis, a
recipe override or a search space; a pair of Adam betas by ``BETAS`` wherever betas appear.
Dataclass fields name their validator in ``field(metadata=checked(...))`` and
``parse_dataclass`` applies it, so a section of a suite is validated field by field with no
hand-written checks. Every failure is one BenchError naming the field (``where``), what was
given and what is valid. Numbers are real and finite unless a validator says otherwise: NaN
and infinity make no sense for any suite value.

This module imports no torch, and neither does the suite parser that uses it: names are checked
against torch-free declarations (datasets, GANs, architectures, metrics), so a suite is
refused before torch is imported (tests/benchmarks/test_bench_refusal.py).
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from bench.core.errors import BenchError

Validator = Callable[[Any, str], Any]
"""Takes a raw (YAML-loaded) value and where it sits; returns the checked value or raises."""

CHECK = "check"
"""The dataclass field metadata key holding the field's validator."""


def fail(where: str, message: str) -> BenchError:
    return BenchError(f"{where}: {message}")


def checked(validator: Validator) -> dict[str, Validator]:
    """Field metadata naming the field's validator: ``field(default=..., metadata=checked(V))``."""
    return {CHECK: validator}


@dataclass(frozen=True)
class Number:
    """A finite real number (an integer when ``integer``) within optional bounds."""

    minimum: float | None = None
    maximum: float | None = None
    low_open: bool = False
    """Exclude ``minimum`` itself."""
    high_open: bool = False
    """Exclude ``maximum`` itself."""
    integer: bool = False

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.minimum is None and self.maximum is None:
            return kind
        if self.maximum is None:
            return f"{kind} {'>' if self.low_open else '>='} {self.minimum:g}"
        if self.minimum is None:
            return f"{kind} {'<' if self.high_open else '<='} {self.maximum:g}"
        low, high = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"{kind} in {low}{self.minimum:g}, {self.maximum:g}{high}"

    def __call__(self, raw: Any, where: str) -> int | float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise fail(where, f"expected {self.describe()}, got {raw!r}")
        if not math.isfinite(raw):
            raise fail(where, f"expected {self.describe()}, got {raw!r} (not finite)")
        if self.integer:
            if raw != int(raw):
                raise fail(where, f"expected {self.describe()}, got {raw!r}")
            raw = int(raw)  # 1e3 written for 1000
        low, high = self.minimum, self.maximum
        if (low is not None and (raw < low or (self.low_open and raw == low))) or (
            high is not None and (raw > high or (self.high_open and raw == high))
        ):
            raise fail(where, f"expected {self.describe()}, got {raw!r}")
        return raw


POSITIVE_INT = Number(minimum=1, integer=True)
NON_NEGATIVE_INT = Number(minimum=0, integer=True)
"""Counts where 0 means 'off' (e.g. eval.fid_samples)."""
POSITIVE = Number(minimum=0, low_open=True)
NON_NEGATIVE = Number(minimum=0)
LEARNING_RATE = POSITIVE
BETA = Number(minimum=0, maximum=1, high_open=True)
"""An Adam beta: in [0, 1)."""
FRACTION = Number(minimum=0, maximum=1)
SHARE = Number(minimum=0, maximum=1, low_open=True)
"""A positive fraction: in (0, 1]."""
SIGNIFICANCE = Number(minimum=0, maximum=0.5, low_open=True)
"""A significance level alpha: in (0, 0.5]."""


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of names."""

    options: tuple[str, ...]

    def __call__(self, raw: Any, where: str) -> str:
        if not isinstance(raw, str) or raw not in self.options:
            raise fail(where, f"got {raw!r}; valid: {', '.join(self.options)}")
        return raw


@dataclass(frozen=True)
class ListOf:
    """A non-empty list of distinct values, each checked by ``item``; returned as a tuple."""

    item: Validator

    def __call__(self, raw: Any, where: str) -> tuple:
        if not isinstance(raw, list | tuple) or not raw:
            raise fail(where, f"expected a non-empty list, got {raw!r}")
        values = tuple(self.item(value, f"{where}[{i}]") for i, value in enumerate(raw))
        if len(set(values)) != len(values):
            raise fail(where, f"duplicate values in {list(raw)}")
        return values


def flag(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise fail(where, f"expected true or false, got {raw!r}")
    return raw


def text(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise fail(where, f"expected text, got {raw!r}")
    return raw


_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def identifier(raw: Any, where: str) -> str:
    """A name that is safe in a folder name: letters, digits, '-', '_' and '.'."""
    if not isinstance(raw, str) or not _IDENTIFIER.fullmatch(raw):
        raise fail(where, f"use letters, digits, '-', '_' or '.' (starting with a letter or "
                   f"digit), got {raw!r}")
    return raw


NAME_MAX = 255
"""Bytes in one file or folder name (ext4, XFS, Btrfs, tmpfs and most others)."""


def fits_name(name: str, where: str, reserve: int = 0) -> str:
    """A name that, with ``reserve`` bytes the store adds around it, is one the filesystem
    accepts: refused before anything is written, rather than an OSError mid-way."""
    size = len(name.encode()) + reserve
    if size > NAME_MAX:
        raise fail(where, f"{name[:40]}... makes a file name of {size} bytes, over the "
                   f"filesystem's {NAME_MAX}; shorten it by {size - NAME_MAX} characters")
    return name


def betas(raw: Any, where: str) -> tuple[float, float]:
    """Adam's (beta1, beta2), each in [0, 1)."""
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise fail(where, f"expected two numbers in [0, 1), e.g. [0.5, 0.999], got {raw!r}")
    return (float(BETA(raw[0], f"{where}[0]")), float(BETA(raw[1], f"{where}[1]")))


def names(raw: Any, valid: tuple[str, ...] | dict, where: str) -> tuple[str, ...]:
    """A non-empty list (or one name) of distinct names from ``valid``."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise fail(where, f"expected a non-empty list of names, got {raw!r}")
    for i, name in enumerate(raw):
        if not isinstance(name, str) or name not in valid:
            raise fail(f"{where}[{i}]", f"unknown name {name!r}; valid: {', '.join(valid)}")
    if len(set(raw)) != len(raw):
        raise fail(where, f"duplicate names in {raw}")
    return tuple(raw)


def mapping(raw: Any, where: str, allowed: tuple[str, ...] | None = None) -> dict:
    """A mapping, with only the ``allowed`` keys when given."""
    if not isinstance(raw, dict):
        raise fail(where, f"expected a mapping, got {raw!r}")
    if allowed is not None:
        unknown = sorted(map(str, set(raw) - set(allowed)))
        if unknown:
            raise fail(where, f"unknown key(s) {unknown}; valid: {', '.join(allowed)}")
    return raw


def validator_of(cls: type, name: str) -> Validator:
    """The validator a dataclass declares for its field ``name``."""
    for f in fields(cls):
        if f.name == name:
            return f.metadata[CHECK]
    raise KeyError(name)


def parse_dataclass(cls: type, raw: Any, where: str, base: Any = None) -> Any:
    """``base`` (else ``cls()``) with the fields in mapping ``raw`` replaced, each checked by
    its field's validator; None means no overrides."""
    base = cls() if base is None else base
    if raw is None:
        return base
    allowed = tuple(f.name for f in fields(cls))
    raw = mapping(raw, where, allowed)
    return replace(base, **{key: validator_of(cls, key)(value, f"{where}.{key}")
                            for key, value in raw.items()})
