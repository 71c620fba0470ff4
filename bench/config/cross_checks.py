"""Checks across a suite's sections, each known before anything trains: what no one section's
parser can see alone (a GAN's own recipe, labels a ``recipe`` entry gives, a search beside an
entry's rates, an optimizer resolved from a recipe, a metric's samples on a dataset)."""

from bench.config.suite_config import SuiteConfig
from bench.core.hyperparameters import RECIPE_CHECKS, check_exclusive
from bench.core.validators import fail
from bench.data import DATASETS
from bench.metrics.declarations import METRIC_SPECS


def check_suite(config: SuiteConfig) -> None:
    """BenchError at the first check ``config`` fails."""
    _check_recipes(config)
    _check_run_labels(config)
    _check_searched_rates(config)
    _check_nesterov(config)
    _check_metric_samples(config)


def _check_recipes(config: SuiteConfig) -> None:
    """Every recipe the suite's runs start from passes the validators its overrides pass: a
    plugin's recipe (``gan_zoo.plugins.register_gan``) is checked here, before anything
    trains."""
    for gan in config.gans:
        for dataset in config.datasets:
            recipe = config.recipe(gan, dataset)
            for key, check in RECIPE_CHECKS.items():
                if getattr(recipe, key) is not None:  # unset network rates: the shared lr
                    check(getattr(recipe, key), f"{gan}'s recipe for {dataset}: {key}")


def _check_run_labels(config: SuiteConfig) -> None:
    """A ``recipe`` entry's labels (``recipe-adam``) must not repeat another entry's."""
    for gan in config.gans:
        for dataset in config.datasets:
            recipe = config.recipe(gan, dataset)
            labels = [choice.run_label(recipe) for choice in config.optimizers]
            repeated = sorted({label for label in labels if labels.count(label) > 1})
            if repeated:
                raise fail("optimizers", f"{gan} would get two entries labelled "
                           f"{', '.join(repeated)}; give one of them another 'label'")


def _check_searched_rates(config: SuiteConfig) -> None:
    """A searched ``lr`` sets both networks' rates and would drop an entry's ``lr_critic`` /
    ``lr_generator`` unseen (a searched network rate would split an entry's ``lr``): README's
    TTUR rule, ``lr`` with either is an error, holds across the search and each entry."""
    if config.search is None:
        return
    searched = {name for name, _ in config.search.space}
    for i, choice in enumerate(config.optimizers):
        given = {key for key, _ in choice.settings}
        check_exclusive(searched | given, f"search.space with optimizers[{i}] ({choice.label})")


def _check_nesterov(config: SuiteConfig) -> None:
    """Nesterov momentum needs a momentum (torch's rule), known before anything trains."""
    for gan in config.gans:
        for dataset in config.datasets:
            recipe = config.recipe(gan, dataset)
            for choice in config.optimizers:
                optimizer = choice.resolve(recipe)
                if optimizer.nesterov and optimizer.momentum == 0:
                    raise fail("optimizers", f"{choice.label} with {gan}: nesterov needs "
                               "momentum > 0")


def _check_metric_samples(config: SuiteConfig) -> None:
    """Every metric that applies to a dataset of the suite gets at least the samples it can be
    computed on (k-NN metrics need k + 1, covariances 2): known before anything trains."""
    for dataset in config.datasets:
        for name in DATASETS[dataset].metrics:
            metric = METRIC_SPECS[name]
            n = metric.samples(config.eval)
            if 0 < n < metric.min_samples:
                raise fail(f"eval.{metric.samples_field}",
                           f"{metric.name} (on {dataset}) needs at least {metric.min_samples} "
                           f"samples, got {n}; raise eval.{metric.samples_field}")
