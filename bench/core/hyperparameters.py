"""Every hyperparameter a run holds, declared once: where it lives, its validator, whether a
study may search it, whether the members of one batched group may differ in it, and which
GANs and optimizers use it.

Everything else is derived from ``HYPERPARAMETERS``: the fields a ``search:`` space accepts,
a trial's setting applied to a run, the fields a run's GAN and optimizer use, the recipe
overrides a suite accepts, a group's batch key (``RunSpec.batch_key`` blanks the batchable
fields, so a field that is not declared batchable splits groups) and the per-member values the
trainer hands its optimizers and constraint.

A value sits in the run's ``Recipe`` (the paper default, with the suite's overrides) and, for
optimizer settings (the fields of ``gan_zoo.recipes.OptimizerSettings``), also in its resolved
``OptimizerSpec`` (what the optimizer is built with): setting one sets both, so the two never
disagree. A new optimizer setting is one field of that record and one entry here; the suite's
optimizer entries, recipe overrides and search spaces, the batch key, ``config.json`` and the
per-member optimizers (``bench.training.member_optimizers``) follow. A plugin's optimizer
declares the settings it takes (``gan_zoo.recipes.PluginOptimizer.settings``); each one
counts among that setting's optimizers.

No torch: the CLI validates suites with this table before loading the training stack.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bench.core.errors import BenchError
from bench.core.validators import (
    BETA,
    LEARNING_RATE,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    Number,
    Validator,
    flag,
)
from bench.core.validators import Choice as ChoiceValidator
from bench.core.validators import betas as betas_pair
from gan_zoo.recipes import OPTIMIZER_SETTINGS, OPTIMIZERS, PLUGIN_OPTIMIZERS, RECIPE_FIELDS

EVERY_OPTIMIZER: tuple[str, ...] = ()
"""``Hyperparameter.optimizers`` for a setting every optimizer uses."""


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter of a run (a number, or a flag that no study searches)."""

    name: str
    """Its name in ``search:`` spaces, ``hp_<name>`` columns and per-member optimizers."""
    validator: Validator
    recipe_field: str
    """The ``Recipe`` field that holds it (the paper default)."""
    index: int | None = None
    """Its element when ``recipe_field`` is a pair (Adam's betas)."""
    searchable: bool = True
    batchable: bool = False
    """Members of one batched group may differ in it (one value per member)."""
    optimizers: tuple[str, ...] = EVERY_OPTIMIZER
    """The optimizers that use it; empty: every optimizer."""
    constraint: bool = False
    """Used only by GANs whose constraint declares it (``constraint_fields`` of
    ``gan_zoo.declarations.GanSpec``)."""
    network: str | None = None
    """Given to this network's optimizer only (``critic`` or ``generator``); None: both."""
    option: str = ""
    """The optimizer setting it gives (``lr_critic`` gives the critic's ``lr``); empty: its
    name."""
    clears: tuple[str, ...] = ()
    """Fields that setting it unsets (None): ``lr`` sets both networks' rates."""
    excludes: tuple[str, ...] = ()
    """Hyperparameters that one suite entry, recipe override or search space may not name
    together with it."""

    @property
    def in_optimizer(self) -> bool:
        """An optimizer setting: also held by the run's resolved ``OptimizerSpec`` (under
        ``recipe_field``)."""
        return self.recipe_field in OPTIMIZER_SETTINGS

    def used_by(self, constraint_fields: tuple[str, ...], optimizer: str) -> bool:
        """Whether a run whose GAN's constraint takes ``constraint_fields``, trained with
        ``optimizer`` (a built-in, or a plugin's that declares the settings it takes), uses
        this value."""
        if self.optimizers and optimizer not in self.optimizers and not _declared_by(
                optimizer, self.recipe_field):
            return False
        return not self.constraint or self.recipe_field in constraint_fields

    def get(self, spec: Any) -> Any:
        """Its value in a RunSpec."""
        holder = spec.optimizer if self.in_optimizer else spec.recipe
        value = getattr(holder, self.recipe_field)
        return value if self.index is None else value[self.index]

    def read(self, config: Mapping[str, Any]) -> Any:
        """Its value in a run's ``config.json`` (``RunSpec.to_dict``); None where the folder
        predates it."""
        holder = config["optimizer"] if self.in_optimizer else config["recipe"]
        value = holder.get(self.recipe_field)
        return value if value is None or self.index is None else value[self.index]

    def _put(self, holder: Any, value: Any) -> Any:
        if self.index is not None:
            pair = list(getattr(holder, self.recipe_field))
            pair[self.index] = value
            value = tuple(pair)
        return replace(holder, **{self.recipe_field: value})

    def set(self, spec: Any, value: Any) -> Any:
        """The RunSpec with this value (in its recipe and, for optimizer settings, in its
        resolved optimizer)."""
        cleared = {name: None for name in self.clears}
        spec = replace(spec, recipe=replace(self._put(spec.recipe, value), **cleared))
        if self.in_optimizer:
            spec = replace(spec, optimizer=replace(self._put(spec.optimizer, value), **cleared))
        return spec


_ADAMS = ("adam", "adamw", "optimistic-adam", "extra-adam", "past-extra-adam")
_SGDS = ("sgd", "extra-sgd", "past-extra-sgd")
_TTUR = ("lr_critic", "lr_generator")


def _declared_by(optimizer: str, setting: str) -> bool:
    """Whether a plugin's ``optimizer`` declares that it takes ``setting`` (a ``Recipe``
    field)."""
    plugin = PLUGIN_OPTIMIZERS.get(optimizer)
    return plugin is not None and setting in plugin.settings


HYPERPARAMETERS: dict[str, Hyperparameter] = {h.name: h for h in (
    Hyperparameter("lr", LEARNING_RATE, "lr", batchable=True, clears=_TTUR, excludes=_TTUR),
    # TTUR (Heusel et al. 2017): after ``lr`` so a network's own rate replaces the shared one
    Hyperparameter("lr_critic", LEARNING_RATE, "lr_critic", batchable=True, network="critic",
                   option="lr", excludes=("lr",)),
    Hyperparameter("lr_generator", LEARNING_RATE, "lr_generator", batchable=True,
                   network="generator", option="lr", excludes=("lr",)),
    Hyperparameter("beta1", BETA, "betas", index=0, batchable=True, optimizers=_ADAMS),
    Hyperparameter("beta2", BETA, "betas", index=1, batchable=True, optimizers=_ADAMS),
    Hyperparameter("momentum", BETA, "momentum", batchable=True, optimizers=_SGDS),
    Hyperparameter("nesterov", flag, "nesterov", searchable=False, optimizers=_SGDS),
    Hyperparameter("weight_decay", NON_NEGATIVE, "weight_decay", batchable=True,
                   optimizers=("adamw",)),
    Hyperparameter("n_critic", POSITIVE_INT, "n_critic"),
    Hyperparameter("clip_value", POSITIVE, "clip_value", batchable=True, constraint=True),
    Hyperparameter("gp_weight", POSITIVE, "gp_weight", batchable=True, constraint=True),
)}
"""Every hyperparameter, by name."""


def optimizers_using(setting: str) -> tuple[str, ...]:
    """The optimizers that use an optimizer entry's ``setting`` (a ``Recipe`` field such as
    ``betas`` or ``weight_decay``); () when every optimizer does."""
    users = {h.optimizers for h in HYPERPARAMETERS.values()
             if h.in_optimizer and h.recipe_field == setting}
    if () in users or not users:
        return ()
    plugins = {name for name in PLUGIN_OPTIMIZERS if _declared_by(name, setting)}
    return tuple(sorted(set().union(*users, plugins)))


def settings_used_by(optimizer: str) -> tuple[str, ...]:
    """The settings (``OptimizerSettings`` fields) ``optimizer`` is built with."""
    return tuple(key for key in OPTIMIZER_SETTINGS
                 if not optimizers_using(key) or optimizer in optimizers_using(key))


SEARCH_FIELDS: dict[str, Number] = {
    name: h.validator for name, h in HYPERPARAMETERS.items() if h.searchable}
"""The fields a ``search:`` space may name, with the validator their values pass."""

BATCHABLE = tuple(h for h in HYPERPARAMETERS.values() if h.batchable)

RECIPE_CHECKS: dict[str, Validator] = {
    "optimizer": ChoiceValidator(OPTIMIZERS),
    "betas": betas_pair,
    "warmup": flag,
    "simultaneous": flag,
    **{h.recipe_field: h.validator for h in HYPERPARAMETERS.values() if h.index is None},
}
"""The validator of every ``Recipe`` field: what a suite's ``recipes:`` overrides pass."""
assert set(RECIPE_CHECKS) == set(RECIPE_FIELDS), "every recipe field needs its validator"


def used_fields(constraint_fields: tuple[str, ...], optimizer: str) -> frozenset[str]:
    """The hyperparameters a run uses whose GAN's constraint takes ``constraint_fields``,
    trained with ``optimizer`` (a ``recipe`` axis entry resolved first)."""
    return frozenset(name for name, h in HYPERPARAMETERS.items()
                     if h.used_by(constraint_fields, optimizer))


def with_setting(spec: Any, setting: dict[str, Any]) -> Any:
    """``spec`` with each hyperparameter of ``setting`` set."""
    for name, value in setting.items():
        spec = HYPERPARAMETERS[name].set(spec, value)
    return spec


def without_batchable(spec: Any) -> Any:
    """``spec`` with every batchable hyperparameter blanked (None): what members of one
    group must share."""
    for h in BATCHABLE:
        spec = h.set(spec, None)
    return spec


def cleared_by(settings: Collection[str]) -> set[str]:
    """The optimizer settings that giving ``settings`` (``OptimizerSettings`` fields) unsets:
    ``lr`` sets both networks' rates, so it unsets their own."""
    return {cleared for h in HYPERPARAMETERS.values() if h.recipe_field in settings
            for cleared in h.clears}


def check_exclusive(names: set[str] | dict, where: str) -> None:
    """BenchError unless ``names`` (of one entry, override or search space) holds no two
    hyperparameters that exclude each other (``lr`` with ``lr_critic`` / ``lr_generator``)."""
    for name in sorted(names):
        h = HYPERPARAMETERS.get(name)
        clash = sorted(set(h.excludes) & set(names)) if h else []
        if clash:
            raise BenchError(f"{where}: give {name} (both networks) or {' / '.join(clash)} "
                             "(one network each), not both")


def _builds(h: Hyperparameter, optimizer: str) -> bool:
    """Whether ``optimizer`` is built with ``h``."""
    return h.in_optimizer and h.used_by((), optimizer)


def optimizer_arguments(optimizer: str) -> dict[str, bool]:
    """The values ``optimizer`` is built with, by the names it takes them under (``lr``,
    ``beta1``, ``nesterov``, ...): True where each member of a group has its own (a batchable
    setting), False where one value serves them all."""
    return {h.option or h.name: h.batchable for h in HYPERPARAMETERS.values()
            if _builds(h, optimizer)}


def optimizer_values(optimizer: Any, network: str) -> dict[str, Any]:
    """The hyperparameters a resolved ``OptimizerSpec`` builds ``network``'s optimizer with,
    by the optimizer's names (``lr``, ``beta1``, ``momentum``, ...): a network's own rate
    (TTUR) replaces the shared ``lr`` where it is set."""
    values = {}
    for h in HYPERPARAMETERS.values():
        if _builds(h, optimizer.name) and h.network in (None, network):
            value = getattr(optimizer, h.recipe_field)
            if value is not None:
                values[h.option or h.name] = value if h.index is None else value[h.index]
    return values


def member_values(specs: list[Any], network: str) -> dict[str, list[Any]]:
    """The group's per-member hyperparameters of ``network``'s optimizer, one value per
    member."""
    per_spec = [optimizer_values(s.optimizer, network) for s in specs]
    return {name: [values[name] for values in per_spec] for name in per_spec[0]}


def constraint_values(specs: list[Any]) -> dict[str, list[Any]]:
    """The group's batchable recipe fields (the constraint's: clipping bound, penalty weight),
    one value per member."""
    return {h.recipe_field: [h.get(s) for s in specs] for h in BATCHABLE
            if not h.in_optimizer}
