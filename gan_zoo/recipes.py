"""Paper hyperparameters as data, one recipe per (GAN, data domain), each overridable, and the
optimizers a recipe may name (the built-ins and those plugins register, ``gan_zoo.plugins``).

Sources:
- WGAN (Arjovsky et al. 2017, Algorithm 1 and the reference code): RMSProp, lr 5e-5,
  c = 0.01, n_critic = 5; the reference code also runs 100 critic steps for the first 25
  generator steps and on every 500th (``warmup``), on for images, off for toy data because the
  WGAN-GP toy code, our 2-D reference, does not use it.
- WGAN-GP (Gulrajani et al. 2017): Adam 1e-4, betas (0.5, 0.9) as in the reference code (the
  paper's Algorithm 1 says (0, 0.9)), n_critic = 5, lambda = 10; the toy code uses lambda 0.1.
- GAN/DCGAN (Radford et al. 2016): Adam 2e-4, beta1 0.5, one discriminator step.
"""

from dataclasses import dataclass, fields, replace

DOMAINS = ("toy", "image")
RECIPE_OPTIMIZER = "recipe"
"""The optimizer-axis entry that gives each GAN its own recipe's optimizer: no optimizer may be
called so."""
OPTIMIZER_DESCRIPTIONS = {
    "adam": "Adam (Kingma & Ba 2015), torch's",
    "rmsprop": "RMSProp (alpha 0.99), torch's",
    "sgd": "SGD with momentum and Nesterov momentum (momentum 0: plain SGD), torch's",
    "adamw": "AdamW, decoupled weight decay (Loshchilov & Hutter 2019), torch's",
    "optimistic-adam": "optimistic Adam (Daskalakis et al. 2018, Algorithm 1)",
    "extra-adam": "extragradient with Adam steps (Gidel et al. 2019, Algorithm 4 Option 1): two "
                  "gradient evaluations per update",
    "extra-sgd": "extragradient with SGD steps (Gidel et al. 2019, Algorithm 2): two "
                 "gradient evaluations per update",
    "past-extra-adam": "extrapolation from the past with Adam steps (Gidel et al. 2019, "
                       "Algorithm 4 Option 2): one gradient evaluation per update",
    "past-extra-sgd": "extrapolation from the past with SGD steps (Gidel et al. 2019, "
                      "Algorithm 3): one gradient evaluation per update",
}
"""Every optimizer by name, with its description: the built-ins, then any a plugin registers
(``gan_zoo.plugins.register_optimizer``)."""
OPTIMIZERS = OPTIMIZER_DESCRIPTIONS.keys()
"""The optimizer algorithms a recipe (or a suite's optimizer axis) can name: a live view, so a
plugin's optimizer is valid wherever a built-in's is."""


@dataclass(frozen=True)
class PluginOptimizer:
    """An optimizer a plugin registered: its ``torch.optim.Optimizer`` subclass, held by this
    torch-free table as a plain object."""

    name: str
    implementation: type
    """The class, built as ``implementation(params, lr=..., **settings)``."""
    settings: tuple[str, ...]
    """The ``OptimizerSettings`` fields it takes besides the learning rate (``betas``,
    ``momentum``, ``nesterov``, ``weight_decay``)."""
    elementwise: bool
    """Its update of each parameter element reads only that element (its gradient and state)
    and the hyperparameters, so members of one batched group may share it; declared by the
    plugin."""


PLUGIN_OPTIMIZERS: dict[str, PluginOptimizer] = {}
"""The optimizers plugins registered, by name (their descriptions are in
``OPTIMIZER_DESCRIPTIONS``)."""


def batches_members(optimizer: str) -> bool:
    """Whether the members of one group may train through ``optimizer`` as one batched model:
    every built-in (each updates each member as it would alone), and a plugin's that declares
    its update element-wise. Otherwise each of its runs trains alone."""
    plugin = PLUGIN_OPTIMIZERS.get(optimizer)
    return plugin is None or plugin.elementwise


@dataclass(frozen=True)
class OptimizerSettings:
    """What an optimizer is built with besides its algorithm, each field and its default written
    once: a ``Recipe`` holds the paper's, a run's resolved ``bench.core.specs.OptimizerSpec`` the
    ones it trains with, and a suite's optimizer entry may give any of them.
    ``bench.core.hyperparameters`` declares each one's validator and the optimizers that use
    it."""

    lr: float
    """Learning rate of both networks, unless a network has its own (TTUR); a recipe's is kept
    when the optimizer axis switches algorithm."""
    betas: tuple[float, float]
    """The Adams' (beta1, beta2)."""
    lr_critic: float | None = None
    """The critic's own learning rate (TTUR, Heusel et al. 2017); None: ``lr``."""
    lr_generator: float | None = None
    """The generator's own learning rate (TTUR); None: ``lr``."""
    momentum: float = 0.0
    """SGD's momentum; 0 is plain SGD."""
    nesterov: bool = False
    """SGD's Nesterov momentum (needs momentum > 0)."""
    weight_decay: float = 0.01
    """AdamW's decoupled weight decay (torch's default)."""


OPTIMIZER_SETTINGS = tuple(f.name for f in fields(OptimizerSettings))
"""The settings an optimizer is built with, in the record's order."""


@dataclass(frozen=True)
class _RecipeOptimizer:
    # a base of its own so that the algorithm comes before its settings in a recipe's fields
    # (and in a run's config.json)
    optimizer: str
    """Default optimizer name (one of OPTIMIZERS); the suite's optimizer axis replaces it."""


@dataclass(frozen=True, kw_only=True)
class Recipe(OptimizerSettings, _RecipeOptimizer):
    """Hyperparameters of one GAN: its optimizer (the algorithm, then its settings) and its
    own; every field can be overridden from a suite YAML (each checked by its validator in
    bench.core.hyperparameters.RECIPE_CHECKS)."""

    n_critic: int
    """Critic steps per generator step."""
    clip_value: float
    """Weight clipping bound c (used by wgan-clip only)."""
    gp_weight: float
    """Gradient penalty weight lambda (used by wgan-gp only)."""
    warmup: bool
    """WGAN reference schedule: 100 critic steps for generator steps < 25 and every 500th."""
    simultaneous: bool = False
    """The generator steps simultaneously with the last critic step, both gradients taken at
    one point (Gidel et al. 2019's simultaneous form; with an extrapolating optimizer both
    extrapolate, then both update); False: it steps after the critic (alternated)."""


_GAN = Recipe("adam", 2e-4, (0.5, 0.999), n_critic=1, clip_value=0.01, gp_weight=10.0,
              warmup=False)
_WGAN_CLIP = Recipe("rmsprop", 5e-5, (0.5, 0.999), n_critic=5, clip_value=0.01,
                    gp_weight=10.0, warmup=True)
_WGAN_GP = Recipe("adam", 1e-4, (0.5, 0.9), n_critic=5, clip_value=0.01, gp_weight=10.0,
                  warmup=False)

RECIPES: dict[tuple[str, str], Recipe] = {  # and a plugin GAN's, per domain
    ("gan", "image"): _GAN,
    ("gan", "toy"): _GAN,
    ("wgan-clip", "image"): _WGAN_CLIP,
    ("wgan-clip", "toy"): replace(_WGAN_CLIP, warmup=False),
    ("wgan-gp", "image"): _WGAN_GP,
    ("wgan-gp", "toy"): replace(_WGAN_GP, gp_weight=0.1),
}

RECIPE_FIELDS = tuple(f.name for f in fields(Recipe))


def recipe_for(gan: str, domain: str, overrides: dict[str, object] | None = None) -> Recipe:
    """The paper recipe of ``gan`` on ``domain`` data with ``overrides`` applied."""
    recipe = RECIPES[(gan, domain)]
    if not overrides:
        return recipe
    unknown = sorted(set(overrides) - set(RECIPE_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown recipe field(s) {unknown} for {gan}; valid: {', '.join(RECIPE_FIELDS)}"
        )
    return replace(recipe, **overrides)
