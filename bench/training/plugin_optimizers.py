"""A plugin's optimizer (``gan_zoo.plugins.register_optimizer``) over a group's networks.

The plugin's class is torch.optim's kind: one value of each hyperparameter per instance. Over
an ensemble (every parameter has a leading member dimension K), ``PluginMembers`` builds one
instance per run of consecutive members with equal settings, over those members' slices of
every parameter: views, so its in-place updates write into the networks. An update the plugin
declares element-wise then moves each member exactly as it would move that member alone,
whatever the other members' values; an optimizer not declared element-wise trains one member
per group (``bench.orchestration.runner.plan_groups``). A single network (an image run) gets
the plugin's class itself.
"""

from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import torch
from torch import Tensor

from bench.core.hyperparameters import HYPERPARAMETERS, optimizer_arguments
from gan_zoo.recipes import PluginOptimizer


@dataclass
class _Run:
    """The members one instance steps: their slice, and their views of every parameter."""

    members: slice
    views: list[Tensor]
    optimizer: torch.optim.Optimizer


class _States(MutableMapping):
    """Each view's state, in the instance that steps it: what ``TrainingState`` saves and
    restores, as it does a torch optimizer's ``state``."""

    def __init__(self, runs: list[_Run]) -> None:
        self._owner = {view: run.optimizer for run in runs for view in run.views}
        self._optimizers = [run.optimizer for run in runs]

    def __getitem__(self, view: Tensor) -> dict:
        return self._owner[view].state[view]

    def __setitem__(self, view: Tensor, value: dict) -> None:
        self._owner[view].state[view] = value

    def __delitem__(self, view: Tensor) -> None:
        del self._owner[view].state[view]

    def __iter__(self) -> Iterator[Tensor]:
        return (view for optimizer in self._optimizers for view in optimizer.state)

    def __len__(self) -> int:
        return sum(len(optimizer.state) for optimizer in self._optimizers)


class PluginMembers:
    """A plugin's optimizer over an ensemble, each member with its own hyperparameters (one
    list per keyword of ``optimizer_arguments``, one value per member)."""

    extrapolation = None
    """It only steps (``bench.training.member_optimizers.MemberOptimizer.extrapolation``)."""

    def __init__(self, plugin: PluginOptimizer, params: Iterable[Tensor],
                 values: dict[str, list]) -> None:
        self.params = list(params)
        members = len(values["lr"])
        if any(p.dim() == 0 or p.shape[0] != members for p in self.params):
            raise ValueError(f"{members} members, but not every parameter has a leading member "
                             f"dimension of size {members}")
        if members > 1 and not plugin.elementwise:
            raise ValueError(f"{plugin.name} is not declared element-wise, so it trains one "
                             f"member per group; got {members}")
        settings = [_keywords({key: value[m] for key, value in values.items()})
                    for m in range(members)]
        self._runs: list[_Run] = []
        for setting, run in groupby(settings):
            start = self._runs[-1].members.stop if self._runs else 0
            members_of_run = slice(start, start + len(list(run)))
            views = [p.detach()[members_of_run] for p in self.params]
            self._runs.append(_Run(members_of_run, views,
                                   plugin.implementation(views, **setting)))
        self.state = _States(self._runs)

    @property
    def param_groups(self) -> list[dict]:
        """Every instance's groups (over the views)."""
        return [group for run in self._runs for group in run.optimizer.param_groups]

    @torch.no_grad()
    def step(self) -> None:  # no closure: the trainer passes none
        grads = [p.grad for p in self.params]
        if all(g is None for g in grads):
            return
        for run in self._runs:
            for view, grad in zip(run.views, grads, strict=True):
                view.grad = None if grad is None else grad[run.members]
            run.optimizer.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()
        for run in self._runs:  # the views' gradients are slices of the parameters'
            run.optimizer.zero_grad(set_to_none=True)

    def state_dict(self) -> dict[str, list]:
        return {"runs": [run.optimizer.state_dict() for run in self._runs]}

    def load_state_dict(self, state_dict: dict[str, list]) -> None:
        saved = state_dict.get("runs", ())
        if len(saved) != len(self._runs):
            raise ValueError(f"not the state of a {type(self).__name__} of {len(self._runs)} "
                             "runs of settings")
        for run, state in zip(self._runs, saved, strict=True):
            run.optimizer.load_state_dict(state)


def _keywords(values: dict[str, Any]) -> dict[str, Any]:
    """One member's values by hyperparameter name (lr, beta1, beta2, momentum, ...) as the
    optimizer's keywords: a pair (Adam's beta1 and beta2) under its ``OptimizerSettings``
    field (``betas``), as torch.optim takes it."""
    keywords: dict[str, Any] = {}
    for name, value in values.items():
        h = HYPERPARAMETERS[name]
        if h.index is None:
            keywords[name] = value
        else:
            pair = list(keywords.get(h.recipe_field, (None, None)))
            pair[h.index] = value
            keywords[h.recipe_field] = tuple(pair)
    return keywords


def make_plugin_optimizer(
    plugin: PluginOptimizer, params: Iterable[Tensor], values: dict[str, Any], *, members: bool,
) -> torch.optim.Optimizer | PluginMembers:
    """The plugin's optimizer over ``params`` with ``values`` of the hyperparameters it takes
    (``optimizer_arguments``): one value, or one per member, each: per member over an
    ensemble (``members``), the plugin's class itself over a single network."""
    expected = optimizer_arguments(plugin.name)
    if set(values) != set(expected):
        raise ValueError(f"{plugin.name} takes {', '.join(expected)}; got "
                         f"{', '.join(sorted(values)) or 'none'}")
    per_member = {key: list(value) if isinstance(value, list | tuple) else [value]
                  for key, value in values.items()}
    if members:
        return PluginMembers(plugin, params, per_member)
    if any(len(set(value)) != 1 for value in per_member.values()):
        raise ValueError(f"a single network takes one value of each setting, got {values}")
    return plugin.implementation(list(params), **_keywords(
        {key: value[0] for key, value in per_member.items()}))
