"""A suite's runs: every cell at its recipe on every seed (dataset x arch x GAN x optimizer x
seed, one budget), a study's trials, and its reruns of each cell's best trial."""

from dataclasses import replace

from bench.config.suite_config import SuiteConfig
from bench.core.hyperparameters import used_fields, with_setting
from bench.core.specs import RERUN_PHASE, TOY_ARCH, TRIAL_PHASE, RunSpec, StudyRole
from bench.core.validators import fits_name
from bench.data import DATASETS
from gan_zoo.declarations import GAN_SPECS

RUN_FOLDER_RESERVE = len("..") + 8
"""What the store adds to a run id: its temporary folder ``.<run_id>.<8 random>``."""


def _with_trial(spec: RunSpec, phase: str, trial: int, setting: dict[str, float | int],
                seed: int) -> RunSpec:
    """``spec`` at a trial's setting (the fields its GAN and optimizer use) and ``seed``."""
    used = used_fields(GAN_SPECS[spec.gan].constraint_fields, spec.optimizer.name)
    params = {k: v for k, v in setting.items() if k in used}
    return replace(with_setting(spec, params), seed=seed,
                   study=StudyRole(phase, trial, tuple(sorted(params.items()))))


def _cells(config: SuiteConfig) -> list[RunSpec]:
    """One recipe run per cell (at the suite's first seed): the template of its runs."""
    cells = []
    for dataset, arch, gan, choice in config.grid():
        recipe = config.recipe(gan, dataset)
        cells.append(RunSpec(
            suite=config.name,
            dataset=dataset,
            gan=gan,
            optimizer_label=choice.run_label(recipe),
            optimizer=choice.resolve(recipe),
            recipe=recipe,
            seed=config.seeds[0],
            budget=config.budget,
            batch_size=config.batch_size,
            model=config.model,
            # every run holds one architecture (2-D runs ignore theirs)
            image_model=replace(config.image_model,
                                arch=config.image_archs[0] if arch == TOY_ARCH else arch),
            eval=config.eval,
            domain=DATASETS[dataset].domain,
            data_shape=DATASETS[dataset].shape,
        ))
    return cells


def _fitting(specs: list[RunSpec]) -> list[RunSpec]:
    """``specs``, refused (before anything is written) when a run's folder name would be
    longer than the filesystem allows: the optimizer label is the part a suite chooses."""
    for spec in specs:
        fits_name(spec.run_id, f"optimizers: label {spec.optimizer_label[:30]!r}: its run "
                  "folder", RUN_FOLDER_RESERVE)
    return specs


def expand(config: SuiteConfig) -> list[RunSpec]:
    """The runs known before training: every cell at its recipe on every seed (dataset x
    arch x GAN x optimizer x seed, one budget), and for a study every trial on every seed."""
    cells = _cells(config)
    specs = [replace(cell, seed=seed) for cell in cells for seed in config.seeds_of(cell.cell)]
    if config.search is not None:
        specs += [_with_trial(cell, TRIAL_PHASE, i, setting, seed) for cell in cells
                  for i, setting in enumerate(config.trial_settings(cell.optimizer.name))
                  for seed in config.seeds]
    return _fitting(specs)


def expand_reruns(
    config: SuiteConfig, best: dict[tuple, tuple[int, dict[str, float | int]]]
) -> list[RunSpec]:
    """A study's reruns: each cell's best trial (``best``: cell -> (trial, setting)) on the
    fresh ``rerun_seeds``."""
    return _fitting([_with_trial(cell, RERUN_PHASE, *best[cell.cell], seed)
                     for cell in _cells(config) if cell.cell in best
                     for seed in config.rerun_seeds])
