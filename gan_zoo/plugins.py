"""Registering your own GANs, optimizers and image architectures (docs/plugins.md).

A plugin is a Python module that calls these functions when it is imported; a suite's
``plugins:``, ``--plugin MODULE`` or an installed package's ``ganbench.plugins`` entry point
imports it (``bench.config.plugins``) before the suite is checked, so its names are valid
wherever a built-in's are: suites, tables, plots, studies and the gate. The paper claims and
side experiments stay about the papers' GANs (``registry.GANS``).

Each function checks what it is given before it writes anything, and raises ``PluginError``
for a name that is taken (by a built-in or another plugin) or not a plain name, a function or
class that cannot be called as the harness calls it (checked with ``inspect``), a loss that
does not return one value per member, each member's own (probed on tiny scores), and an
optimizer that fails a step or, declared element-wise, moves a member with another's values
(probed). Registration writes into the torch-free declarations that suites are checked
against (``GAN_SPECS``, ``OPTIMIZER_DESCRIPTIONS``, ``IMAGE_ARCHS``) and into the tables that
implement them (``registry.PLUGIN_GANS``, ``recipes.RECIPES``, ``recipes.PLUGIN_OPTIMIZERS``).
"""

import inspect
import re
from collections.abc import Callable, Collection, Mapping

import torch
from torch import Tensor

from gan_zoo.architectures.declarations import IMAGE_ARCHS, PluginArch
from gan_zoo.constraints import Constraint
from gan_zoo.declarations import GAN_SPECS, GanSpec
from gan_zoo.losses import (
    AdversarialLoss,
    CriticLoss,
    DivergenceEstimate,
    GeneratorLoss,
    score_output,
)
from gan_zoo.recipes import (
    DOMAINS,
    OPTIMIZER_DESCRIPTIONS,
    OPTIMIZER_SETTINGS,
    PLUGIN_OPTIMIZERS,
    RECIPE_FIELDS,
    RECIPE_OPTIMIZER,
    RECIPES,
    PluginOptimizer,
    Recipe,
)
from gan_zoo.registry import PLUGIN_GANS, GanDefinition

NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
"""A plugin's names: lowercase letters, digits and '-' (they name run folders and columns)."""
RATES = ("lr", "lr_critic", "lr_generator")
"""Settings every optimizer takes, as its ``lr`` (each network's own rate where it has one)."""
OPTIONAL_SETTINGS = tuple(s for s in OPTIMIZER_SETTINGS if s not in RATES)
"""The settings an optimizer declares it takes besides its learning rate."""
PROBE_SETTINGS = {"lr": 1e-2, "betas": (0.9, 0.99), "momentum": 0.9, "nesterov": False,
                  "weight_decay": 0.01}
"""What an optimizer is built with when it is probed (one value of each setting's kind)."""
PROBE_MEMBERS, PROBE_SAMPLES, PROBE_STEPS = 3, 4, 3


class PluginError(ValueError):
    """A registration refused: what is wrong, and what would be right."""


def no_constraint(recipe: Recipe) -> Constraint:
    """No Lipschitz constraint (the vanilla GAN's)."""
    return Constraint()


def register_gan(
    name: str, *, critic_loss: CriticLoss, generator_loss: GeneratorLoss,
    recipe: Recipe | Mapping[str, Recipe],
    constraint: Callable[[Recipe], Constraint] = no_constraint,
    constraint_fields: tuple[str, ...] = (), estimate: DivergenceEstimate | None = None,
    description: str = "",
) -> None:
    """A GAN called ``name``: ``critic_loss(real_scores, fake_scores)`` and
    ``generator_loss(fake_scores)`` take scores of shape [K, B] (K members, B samples) and
    return one value per member, shape [K]; ``recipe`` is its hyperparameters, one ``Recipe``
    for every domain or one per domain (``toy``, ``image``); ``constraint(recipe)`` builds its
    Lipschitz constraint (``gan_zoo.constraints``), reading ``constraint_fields`` of the recipe
    (a study searches them for this GAN); ``estimate(real_scores, fake_scores)`` is the
    divergence its critic estimates, one value per member (default: minus the critic loss)."""
    where = f"register_gan({name!r})"
    _check_name(name, "GAN", where, GAN_SPECS, PLUGIN_GANS)
    _check_call(critic_loss, 2, "critic_loss", "(real_scores, fake_scores)", where)
    _check_call(generator_loss, 1, "generator_loss", "(fake_scores)", where)
    _check_call(constraint, 1, "constraint", "(recipe)", where)
    if estimate is not None:
        _check_call(estimate, 2, "estimate", "(real_scores, fake_scores)", where)
    recipes = _recipes(recipe, where)
    unknown = sorted(set(constraint_fields) - set(RECIPE_FIELDS))
    if unknown:
        raise PluginError(f"{where}: constraint_fields {unknown} are no recipe fields; valid: "
                          f"{', '.join(RECIPE_FIELDS)}")
    loss = AdversarialLoss(name, critic_loss, generator_loss, estimate or _negated(critic_loss),
                           "minus the critic loss" if estimate is None else f"{name} estimate",
                           score_output)
    _probe_loss(loss, where)
    made = constraint(recipes[DOMAINS[0]])
    if not isinstance(made, Constraint):
        raise PluginError(f"{where}: constraint(recipe) must return a gan_zoo.constraints."
                          f"Constraint, got {type(made).__name__}")
    spec = GanSpec(name, description or f"a GAN of {critic_loss.__module__}",
                   tuple(constraint_fields))
    GAN_SPECS[name] = spec
    PLUGIN_GANS[name] = GanDefinition(name=spec.name, description=spec.description,
                                      constraint_fields=spec.constraint_fields, loss=loss,
                                      make_constraint=constraint)
    RECIPES.update({(name, domain): r for domain, r in recipes.items()})


def register_optimizer(
    name: str, optimizer: type, *, settings: tuple[str, ...] = (), elementwise: bool = False,
    description: str = "",
) -> None:
    """An optimizer called ``name``: the ``torch.optim.Optimizer`` subclass ``optimizer``,
    built as ``optimizer(params, lr=..., **settings)`` with the run's values of ``settings``
    (``betas``, ``momentum``, ``nesterov``, ``weight_decay``: the fields of
    ``gan_zoo.recipes.OptimizerSettings`` it takes besides its learning rate).

    ``elementwise``: its update of each parameter element reads only that element (gradient
    and state) and its hyperparameters, as Adam's, RMSProp's and SGD's do. Then the members
    of a group (seeds, a study's trials with their own lr) train through it as one batched
    model, each exactly as it would alone; otherwise each run trains alone, in a group of its
    own. It is declared, not detected: a probe only refuses a declaration it contradicts."""
    where = f"register_optimizer({name!r})"
    _check_name(name, "optimizer", where, (*OPTIMIZER_DESCRIPTIONS, RECIPE_OPTIMIZER),
                PLUGIN_OPTIMIZERS)
    if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
        raise PluginError(f"{where}: expected a torch.optim.Optimizer subclass (the class, "
                          f"not an instance), got {optimizer!r}")
    unknown = [s for s in settings if s not in OPTIONAL_SETTINGS]
    if unknown or len(set(settings)) != len(settings):
        raise PluginError(f"{where}: settings must be distinct names among "
                          f"{', '.join(OPTIONAL_SETTINGS)}, got {list(settings)}")
    keywords = {key: PROBE_SETTINGS[key] for key in ("lr", *settings)}
    _check_keywords(optimizer, keywords, "optimizer", where, params=[])
    _probe_optimizer(optimizer, keywords, elementwise, where)
    PLUGIN_OPTIMIZERS[name] = PluginOptimizer(name, optimizer, tuple(settings), elementwise)
    OPTIMIZER_DESCRIPTIONS[name] = (
        description or f"{optimizer.__module__}.{optimizer.__qualname__}")


def register_architecture(
    name: str, build: Callable[..., tuple], *, description: str = "",
) -> None:
    """An image generator/critic pair called ``name`` (a suite's ``image_model.arch``):
    ``build(image_size=, channels=, latent_dim=, critic_norm=, filters=)`` returns
    ``(generator, critic)``, plain modules: the generator maps [B, latent_dim] to images
    [B, channels, image_size, image_size] in [-1, 1], the critic images to scores [B].
    ``critic_norm`` and ``filters`` are the suite's ``image_model`` values, to use or
    ignore. Image runs train one member per group, as the DCGANs do."""
    where = f"register_architecture({name!r})"
    plugins = [n for n, arch in IMAGE_ARCHS.items() if isinstance(arch, PluginArch)]
    _check_name(name, "image architecture", where, IMAGE_ARCHS, plugins)
    _check_keywords(build, {"image_size": 32, "channels": 3, "latent_dim": 100,
                            "critic_norm": "layer", "filters": 64}, "build", where)
    IMAGE_ARCHS[name] = PluginArch(description or f"an architecture of {build.__module__}",
                                   build)


def _check_name(name: str, what: str, where: str, taken: Collection[str],
                by_plugins: Collection[str]) -> None:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PluginError(f"{where}: a {what}'s name is lowercase letters, digits and '-' "
                          f"(it names run folders), got {name!r}")
    if name in by_plugins:
        raise PluginError(f"{where}: another plugin already registered a {what} called "
                          f"{name!r}; pick another name")
    if name in taken:
        raise PluginError(f"{where}: {name!r} clashes with a built-in {what}; pick another "
                          "name")


def _check_call(function: Callable, positional: int, what: str, expected: str,
                where: str) -> None:
    """``function`` can be called with ``positional`` arguments."""
    if not callable(function):
        raise PluginError(f"{where}: {what} must be a function {expected}, got {function!r}")
    try:
        inspect.signature(function).bind(*range(positional))
    except TypeError:
        raise PluginError(f"{where}: {what} must take {expected}; its signature is "
                          f"{inspect.signature(function)}") from None
    except ValueError:  # no signature to read (a builtin): its call will tell
        pass


def _check_keywords(function: Callable, keywords: dict, what: str, where: str,
                    **positional: object) -> None:
    """``function`` can be called with ``positional`` (by position) and ``keywords``."""
    call = ", ".join([*positional, *(f"{key}=..." for key in keywords)])
    try:
        inspect.signature(function).bind(*positional.values(), **keywords)
    except TypeError as exc:
        raise PluginError(f"{where}: {what} is called as ({call}), which its signature "
                          f"{inspect.signature(function)} does not take: {exc}") from None


def _recipes(recipe: Recipe | Mapping[str, Recipe], where: str) -> dict[str, Recipe]:
    """One recipe per domain, each naming a registered optimizer."""
    by_domain = (dict.fromkeys(DOMAINS, recipe) if isinstance(recipe, Recipe)
                 else dict(recipe) if isinstance(recipe, Mapping) else {})
    if set(by_domain) != set(DOMAINS) or not all(isinstance(r, Recipe)
                                                  for r in by_domain.values()):
        raise PluginError(f"{where}: recipe must be a gan_zoo.recipes.Recipe, or one per "
                          f"domain ({', '.join(DOMAINS)}), got {recipe!r}")
    for domain, r in by_domain.items():
        if r.optimizer not in OPTIMIZER_DESCRIPTIONS:
            raise PluginError(f"{where}: the {domain} recipe's optimizer {r.optimizer!r} is "
                              f"not registered; valid: {', '.join(OPTIMIZER_DESCRIPTIONS)} "
                              "(register a plugin's optimizer before the GAN that uses it)")
    return by_domain


def _negated(critic_loss: CriticLoss) -> DivergenceEstimate:
    def estimate(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return -critic_loss(real_scores, fake_scores)
    return estimate


def _probe_loss(loss: AdversarialLoss, where: str) -> None:
    """Each function returns one value per member, member k's from member k's scores only
    (members train as one batched model): probed on scores of 3 members, 4 samples each."""
    draw = torch.Generator().manual_seed(0)
    real, fake = (torch.randn(PROBE_MEMBERS, PROBE_SAMPLES, generator=draw) for _ in range(2))
    moved = real.clone(), fake.clone()
    for scores in moved:
        scores[0] += 1.0  # member 0's scores only
    for what, function in (("critic_loss", loss.critic), ("estimate", loss.estimate),
                           ("generator_loss", lambda r, f: loss.generator(f))):
        try:
            values, after = function(real, fake), function(*moved)
        except Exception as exc:
            raise PluginError(f"{where}: {what} fails on scores of shape [{PROBE_MEMBERS}, "
                              f"{PROBE_SAMPLES}]: {type(exc).__name__}: {exc}") from None
        shape = tuple(values.shape) if isinstance(values, Tensor) else type(values).__name__
        if shape != (PROBE_MEMBERS,):
            raise PluginError(
                f"{where}: {what} must return one value per member: scores of shape "
                f"[{PROBE_MEMBERS}, {PROBE_SAMPLES}] ({PROBE_MEMBERS} members) gave {shape}, "
                f"not ({PROBE_MEMBERS},); reduce over the last dimension only (.mean(-1))")
        if not torch.equal(values[1:], after[1:]):
            raise PluginError(f"{where}: {what} mixes members: changing member 0's scores "
                              "changed the others' values; reduce over the last dimension "
                              "only (.mean(-1))")


def _probe_optimizer(optimizer: type, keywords: dict, elementwise: bool, where: str) -> None:
    """A few steps on a parameter of 3 members: they must run, and, for an element-wise
    optimizer, move the members together as each one moves alone."""
    draw = torch.Generator().manual_seed(0)
    start = torch.randn(PROBE_MEMBERS, PROBE_SAMPLES, generator=draw)
    grads = [torch.randn(PROBE_MEMBERS, PROBE_SAMPLES, generator=draw)
             for _ in range(PROBE_STEPS)]

    def train(members: slice) -> Tensor:
        param = start[members].clone().requires_grad_(True)
        instance = optimizer([param], **keywords)
        for grad in grads:
            param.grad = grad[members].clone()
            instance.step()
        return param.detach()

    try:
        together = train(slice(None))
    except Exception as exc:
        raise PluginError(f"{where}: {optimizer.__name__} fails to step a parameter of shape "
                          f"[{PROBE_MEMBERS}, {PROBE_SAMPLES}] (step() without a closure): "
                          f"{type(exc).__name__}: {exc}") from None
    if elementwise:
        alone = torch.cat([train(slice(k, k + 1)) for k in range(PROBE_MEMBERS)])
        if not torch.allclose(together, alone, rtol=1e-5, atol=1e-7):
            raise PluginError(f"{where}: declared element-wise, but members stepped together "
                              "move differently from each stepped alone (its update reads "
                              "more than each element); register it with elementwise=False")
