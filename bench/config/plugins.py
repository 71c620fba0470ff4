"""Loading plugins: the modules that register GANs, optimizers and architectures
(``gan_zoo.plugins``), imported before a suite's names are checked (docs/plugins.md).

Three ways name them: a suite's ``plugins:`` list (``bench.config.suite``), ``--plugin MODULE``
on the command line, and the ``ganbench.plugins`` entry points of installed packages, loaded
once per process whenever plugins are loaded. A module is imported by name, from the current
folder or wherever Python finds it; importing it again does nothing. Whatever fails while a
plugin loads (an import error, a refused registration, any exception its code raises) is one
BenchError naming the plugin. Loading no plugin loads no torch.
"""

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from bench.core.errors import BenchError
from bench.core.validators import ListOf, Validator, fail

ENTRY_POINT_GROUP = "ganbench.plugins"
"""Installed packages name their plugin module (or a function of no arguments that registers)
under this entry-point group."""
_entry_points_loaded = False
_loaded: list[str] = []
"""The plugin modules this process loaded by name, in order."""


def _module_name(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not all(part.isidentifier() for part in raw.split(".")):
        raise fail(where, f"expected a Python module name (my_gans, package.module), got "
                   f"{raw!r}")
    return raw


MODULES: Validator = ListOf(_module_name)
"""A suite's ``plugins:``: module names, each once."""


def load_plugins(modules: Iterable[str] = ()) -> None:
    """Import each plugin module of ``modules`` (``--plugin``, a suite's ``plugins:``), after
    the installed packages' entry points; BenchError at the first that fails."""
    _load_entry_points()
    for module in modules:
        _load(f"plugin {_module_name(module, 'plugin')}", _import, module)


def loaded_plugins() -> tuple[str, ...]:
    """The plugin modules this process loaded by name (a suite's, ``--plugin``'s): what a
    worker process loads before it trains (``bench.orchestration.executors.task.run_task``);
    entry points it loads itself."""
    return tuple(_loaded)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    for point in entry_points(group=ENTRY_POINT_GROUP):
        _load(f"plugin entry point {point.name} ({point.value})", _load_entry_point, point)
    _entry_points_loaded = True


def _load_entry_point(point: EntryPoint) -> None:
    loaded = point.load()
    if callable(loaded):  # a function that registers; a module registered as it was imported
        loaded()


def _import(module: str) -> None:
    """``module`` imported, the current folder searched first as ``python -m`` does."""
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        importlib.import_module(module)
        if module not in _loaded:
            _loaded.append(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not f"{module}.".startswith(f"{exc.name}."):
            raise  # the plugin was found, and imports a module that is missing
        raise BenchError(f"no module {module} in the current folder or on the Python "
                         "path") from None
    finally:
        if added:
            sys.path.remove(here)


def _load(what: str, load: Callable[[Any], None], argument: Any) -> None:
    try:
        load(argument)
    except BenchError as exc:
        raise BenchError(f"{what}: {exc}") from None
    except Exception as exc:  # a plugin is arbitrary code: whatever it raises refuses it
        # a refused registration (gan_zoo.plugins.PluginError) is a ValueError that says it all
        kind = "" if isinstance(exc, ValueError) else f"{type(exc).__name__}: "
        raise BenchError(f"{what}: {kind}{' '.join(str(exc).split())}") from None
