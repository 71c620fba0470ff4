"""Plugins (docs/plugins.md): a module registers GANs, optimizers and image architectures
(``gan_zoo.plugins``), loaded by a suite's ``plugins:``, ``load_plugins`` (``--plugin``) or an
installed package's entry point, before the suite's names are checked.

Members of a group trained through a plugin's element-wise optimizer equal the same runs
trained alone with the plugin's class; an optimizer not declared element-wise trains one run
per group; bad plugins are refused with one BenchError before anything trains.
"""

import copy
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

from bench.cli import main
from bench.config import plugins as plugin_loading
from bench.config.expansion import expand
from bench.config.plugins import load_plugins
from bench.config.suite import parse_suite
from bench.core.errors import BenchError
from bench.core.hyperparameters import used_fields
from bench.orchestration.runner import plan_groups
from bench.report.build import _trained_alone
from bench.training import workload as workload_module
from bench.training.accel.state import TrainingState
from bench.training.member_optimizers import make_optimizer
from bench.training.plugin_optimizers import PluginMembers
from bench.training.streams import MemberStreams
from bench.training.trainer import GroupTrainer
from gan_zoo import declarations, recipes, registry
from gan_zoo.architectures import declarations as architectures
from gan_zoo.architectures.dcgan import build_image_models
from tests.conftest import tiny_suite

ROOT = Path(__file__).resolve().parent.parent
TABLES = (declarations.GAN_SPECS, registry.PLUGIN_GANS, recipes.RECIPES,
          recipes.OPTIMIZER_DESCRIPTIONS, recipes.PLUGIN_OPTIMIZERS, architectures.IMAGE_ARCHS)
"""Every table a registration writes into."""

HEADER = '''
from dataclasses import replace

import torch

from gan_zoo.constraints import Constraint, GradientPenalty
from gan_zoo.plugins import register_architecture, register_gan, register_optimizer
from gan_zoo.recipes import Recipe


def critic_loss(real_scores, fake_scores):
    return 0.5 * ((real_scores - 1) ** 2).mean(-1) + 0.5 * (fake_scores ** 2).mean(-1)


def generator_loss(fake_scores):
    return 0.5 * ((fake_scores - 1) ** 2).mean(-1)


RECIPE = Recipe("adam", 2e-4, (0.5, 0.999), n_critic=1, clip_value=0.01, gp_weight=10.0,
                warmup=False)


class Lion(torch.optim.Optimizer):
    """Lion (Chen et al. 2023), by hand: the sign of an interpolated momentum."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99)):
        super().__init__(params, {"lr": lr, "betas": betas})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                p.add_(torch.sign(m * beta1 + p.grad * (1 - beta1)), alpha=-group["lr"])
                m.mul_(beta2).add_(p.grad, alpha=1 - beta2)


class NormalizedSGD(torch.optim.Optimizer):
    """p -= lr g / ||g||, the norm over the whole tensor: not element-wise."""

    def __init__(self, params, lr=1e-3):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad / (p.grad.norm() + 1e-12), alpha=-group["lr"])
'''

GOOD = HEADER + '''
register_optimizer("adamax", torch.optim.Adamax, settings=("betas",), elementwise=True)
register_optimizer("lion", Lion, settings=("betas",), elementwise=True)
register_optimizer("normalized-sgd", NormalizedSGD)
register_gan("lsgan", critic_loss=critic_loss, generator_loss=generator_loss, recipe=RECIPE,
             description="least-squares GAN (Mao et al. 2017)")
register_gan("lsgan-gp", critic_loss=critic_loss, generator_loss=generator_loss,
             recipe={"toy": replace(RECIPE, gp_weight=0.1), "image": RECIPE},
             constraint=lambda recipe: GradientPenalty(recipe.gp_weight),
             constraint_fields=("gp_weight",))
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Writes a plugin module into the current folder (``plugin(name, source)``); every table
    and module is as before after the test."""
    saved = [dict(table) for table in TABLES]
    # the modules this process loaded by name go to every worker process: forget the test's
    monkeypatch.setattr(plugin_loading, "_loaded", [])
    monkeypatch.chdir(tmp_path)
    written = []

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(source)
        written.append(name)
        return name

    yield write
    for table, before in zip(TABLES, saved, strict=True):
        table.clear()
        table.update(before)
    for name in written:
        sys.modules.pop(name, None)


def _suite(**overrides) -> dict:
    return tiny_suite(plugins=["good_plugin"], **overrides)


def test_a_suites_plugins_make_their_names_valid(plugin):
    with pytest.raises(BenchError, match="unknown name 'lsgan'"):
        parse_suite(tiny_suite(gans=["lsgan"]))
    plugin("good_plugin", GOOD)
    config = parse_suite(_suite(gans=["gan", "lsgan"], optimizers=[
        "adam", "adamax", {"name": "lion", "betas": [0.9, 0.98]}, "recipe"]))
    assert config.plugins == ("good_plugin",)
    assert yaml.safe_load(yaml.safe_dump(config.to_dict()))["plugins"] == ["good_plugin"]
    assert parse_suite(config.to_dict()) == config  # a results folder's suite.yaml reloads
    assert {s.optimizer.name for s in expand(config)} == {"adam", "adamax", "lion"}


def test_a_plugin_optimizer_takes_the_settings_it_declares(plugin):
    plugin("good_plugin", GOOD)
    load_plugins(["good_plugin"])
    assert used_fields((), "adamax") == {"lr", "lr_critic", "lr_generator", "beta1", "beta2",
                                         "n_critic"}
    assert "beta1" not in used_fields((), "normalized-sgd")
    assert used_fields(("gp_weight",), "lion") >= {"gp_weight", "beta1"}
    with pytest.raises(BenchError, match="adamax does not use momentum"):
        parse_suite(_suite(optimizers=[{"name": "adamax", "momentum": 0.9}]))
    study = parse_suite(_suite(gans=["lsgan-gp"], optimizers=["adamax", "normalized-sgd"],
                               search={"trials": 2, "space": {
                                   "lr": {"log_uniform": [1e-4, 1e-2]},
                                   "beta1": {"uniform": [0.0, 0.9]},
                                   "gp_weight": {"log_uniform": [0.1, 10.0]}}}))
    trials = [s for s in expand(study) if s.study.phase == "trial"]
    searched = {(s.optimizer.name, frozenset(dict(s.study.params))) for s in trials}
    assert searched == {("adamax", frozenset({"lr", "beta1", "gp_weight"})),
                        ("normalized-sgd", frozenset({"lr", "gp_weight"}))}


QUALITY = ("w1", "critic_gap", "divergence_estimate", "critic_loss", "generator_loss",
           "precision", "recall")


def _final(result) -> dict[str, float]:
    last = max(r["step"] for r in result.rows)
    return {r["metric"]: r["value"] for r in result.rows if r["step"] == last}


def _alone(name, params, values, *, members, capturable=False):
    """The plugin's class itself over a member trained alone: the reference."""
    return make_optimizer(name, params, values, members=False, capturable=capturable)


@pytest.mark.parametrize(("gan", "optimizer"), [("lsgan", "adamax"), ("lsgan-gp", "lion"),
                                                ("wgan-gp", "adamax")])
def test_members_of_an_elementwise_plugin_optimizer_equal_runs_trained_alone(
        plugin, monkeypatch, gan, optimizer):
    plugin("good_plugin", GOOD)
    config = parse_suite(_suite(datasets=["ring8", "grid25"], gans=[gan],
                                optimizers=[optimizer], seeds=[0, 1]))
    specs = []
    for spec, lr, betas, gp in zip(expand(config), (1e-3, 3e-4, 1e-4, 1e-3),
                                   ((0.5, 0.9), (0.0, 0.99), (0.9, 0.999), (0.5, 0.9)),
                                   (0.1, 1.0, 10.0, 0.1), strict=True):
        specs.append(replace(spec, optimizer=replace(spec.optimizer, lr=lr, betas=betas),
                             recipe=replace(spec.recipe, gp_weight=gp)))
    (group,) = plan_groups(specs, 8)  # seeds, datasets and settings differ: one group
    together = GroupTrainer(group, torch.device("cpu")).train()
    monkeypatch.setattr(workload_module, "make_optimizer", _alone)
    for member, spec in enumerate(group):
        (alone,) = GroupTrainer([spec], torch.device("cpu")).train()
        batched, single = _final(together[member]), _final(alone)
        assert batched.keys() == single.keys()
        for metric in QUALITY:
            assert batched[metric] == pytest.approx(single[metric], rel=1e-4, abs=1e-6), metric
        for name, tensor in alone.state.items():
            torch.testing.assert_close(together[member].state[name], tensor, rtol=1e-4,
                                       atol=1e-6)


def test_an_optimizer_not_declared_elementwise_trains_one_run_per_group(plugin):
    plugin("good_plugin", GOOD)
    config = parse_suite(_suite(gans=["lsgan"], optimizers=[
        "normalized-sgd", {"name": "normalized-sgd", "lr": 1e-2, "label": "fast"}, "adamax"]))
    groups = plan_groups(expand(config), 8)
    assert sorted((g[0].optimizer.name, len(g)) for g in groups) == [
        ("adamax", 2), *[("normalized-sgd", 1)] * 4]
    for group in groups:
        results = GroupTrainer(group, torch.device("cpu")).train()
        assert [r.status for r in results] == ["finished"] * len(group)
    (line,) = _trained_alone(config)
    assert "normalized-sgd" in line and "adamax" not in line
    params = [torch.zeros(2, 3, requires_grad=True)]
    with pytest.raises(ValueError, match="not declared element-wise"):
        make_optimizer("normalized-sgd", params, {"lr": [1e-3, 1e-3]}, members=True)


def _members_optimizer(lrs: list[float]) -> tuple[torch.Tensor, PluginMembers]:
    param = torch.zeros(len(lrs), 4, requires_grad=True)
    return param, make_optimizer("lion", [param], {"lr": lrs, "beta1": [0.9] * len(lrs),
                                                   "beta2": [0.99] * len(lrs)}, members=True)


def test_a_plugin_optimizers_state_saves_loads_and_rolls_back(plugin):
    plugin("good_plugin", GOOD)
    load_plugins(["good_plugin"])
    lrs = [1e-2, 1e-2, 1e-3]  # two runs of settings: two instances
    param, optimizer = _members_optimizer(lrs)
    grads = torch.randn(4, 3, 4, generator=torch.Generator().manual_seed(0))

    def step(p, opt, grad):
        p.grad = grad.clone()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step(param, optimizer, grads[0])
    twin, restored = _members_optimizer(lrs)
    with torch.no_grad():
        twin.copy_(param)
    restored.load_state_dict(copy.deepcopy(optimizer.state_dict()))  # as from a file
    for grad in grads[1:]:
        step(param, optimizer, grad)
        step(twin, restored, grad)
    torch.testing.assert_close(twin, param, rtol=0, atol=0)

    module = torch.nn.Module()
    module.weight = torch.nn.Parameter(torch.zeros(3, 4))
    fresh = make_optimizer("lion", [module.weight], {"lr": lrs, "beta1": [0.9] * 3,
                                                      "beta2": [0.99] * 3}, members=True)
    state = TrainingState([module], [fresh], [], MemberStreams([0, 1, 2], torch.device("cpu"),
                                                                purpose="train"))
    saved = state.save()
    step(module.weight, fresh, grads[0])
    assert len(fresh.state) == 2  # each instance's state, created by its first step
    state.restore(saved)
    assert len(fresh.state) == 0 and not module.weight.detach().any()


def test_the_docs_gan_with_a_constraint_of_its_own_trains_as_written(plugin):
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "docs" / "plugins.md").read_text(),
                        re.M | re.S)
    (example,) = [block for block in blocks if block.startswith("# wgan_lp.py\n")]
    plugin("wgan_lp", example)
    config = parse_suite(tiny_suite(plugins=["wgan_lp"], gans=["wgan-lp"]))
    specs = [replace(spec, recipe=replace(spec.recipe, gp_weight=weight))
             for spec, weight in zip(expand(config), (0.1, 10.0), strict=True)]
    (group,) = plan_groups(specs, 8)  # members with their own penalty weight
    results = GroupTrainer(group, torch.device("cpu")).train()
    assert [r.status for r in results] == ["finished"] * 2
    assert all(_final(r)["penalty"] >= 0 for r in results)


def test_a_plugin_architecture_trains_image_runs(plugin):
    plugin("arch_plugin", HEADER + '''
from torch import nn


def build(*, image_size, channels, latent_dim, critic_norm, filters):
    pixels = channels * image_size * image_size
    generator = nn.Sequential(nn.Linear(latent_dim, filters), nn.ReLU(),
                              nn.Linear(filters, pixels), nn.Tanh(),
                              nn.Unflatten(1, (channels, image_size, image_size)))
    critic = nn.Sequential(nn.Flatten(), nn.Linear(pixels, filters), nn.LeakyReLU(0.2),
                           nn.Linear(filters, 1), nn.Flatten(0))
    return generator, critic


register_architecture("tiny-mlp", build, description="two small MLPs")
''')
    config = parse_suite(tiny_suite(
        plugins=["arch_plugin"], datasets=["digits"], gans=["wgan-gp"], seeds=1,
        budget={"generator_steps": 2}, batch_size=16,
        image_model={"arch": "tiny-mlp", "filters": 8, "latent_dim": 16},
        eval={"every": 1, "samples": 300, "critic_samples": 64}))
    generator, critic = build_image_models("tiny-mlp", image_size=16, channels=1,
                                           latent_dim=16, critic_norm="layer", base_filters=8)
    assert critic(generator(torch.zeros(5, 16))).shape == (5,)
    (spec,) = expand(config)
    (result,) = GroupTrainer([spec], torch.device("cpu")).train()
    assert result.status == "finished" and "fd_digits" in _final(result)


def test_installed_packages_entry_points_are_loaded(plugin, tmp_path, monkeypatch):
    site = tmp_path / "site"
    info = site / "ganbench_example-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ganbench-example\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[ganbench.plugins]\n"
                                           "example = ep_plugin:register\n")
    (site / "ep_plugin.py").write_text(HEADER + '''
def register():
    register_optimizer("ep-lion", Lion, settings=("betas",), elementwise=True)
''')
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(plugin_loading, "_entry_points_loaded", False)
    parse_suite(tiny_suite(optimizers=["ep-lion"]))
    assert "ep-lion" in recipes.PLUGIN_OPTIMIZERS
    sys.modules.pop("ep_plugin", None)


BAD = {  # the module after HEADER -> what the one error line says
    "missing": (None, "plugin {module}: no module {module} in the current folder"),
    "dependency": ("import lion_pytorch_not_installed\n",
                   "ModuleNotFoundError: No module named 'lion_pytorch_not_installed'"),
    "raises": ("raise RuntimeError('no GPU here')\n", "RuntimeError: no GPU here"),
    "signature": ("register_gan('lsgan', critic_loss=generator_loss, "
                  "generator_loss=generator_loss, recipe=RECIPE)\n",
                  "critic_loss must take (real_scores, fake_scores); its signature is "
                  "(fake_scores)"),
    "scalar loss": ("register_gan('lsgan', critic_loss=lambda r, f: (r - f).mean(), "
                    "generator_loss=generator_loss, recipe=RECIPE)\n",
                    "critic_loss must return one value per member: scores of shape [3, 4] "
                    "(3 members) gave (), not (3,)"),
    "mixing loss": ("register_gan('lsgan', critic_loss=critic_loss, "
                    "generator_loss=lambda f: generator_loss(f) + f.mean(), recipe=RECIPE)\n",
                    "generator_loss mixes members"),
    "built-in GAN": ("register_gan('wgan-gp', critic_loss=critic_loss, "
                     "generator_loss=generator_loss, recipe=RECIPE)\n",
                     "'wgan-gp' clashes with a built-in GAN"),
    "built-in optimizer": ("register_optimizer('adam', torch.optim.Adamax)\n",
                           "'adam' clashes with a built-in optimizer"),
    "reserved name": ("register_optimizer('recipe', torch.optim.Adamax)\n",
                      "'recipe' clashes with a built-in optimizer"),
    "unsafe name": ("register_optimizer('My_Adamax', torch.optim.Adamax)\n",
                    "name is lowercase letters, digits and '-'"),
    "not a class": ("register_optimizer('adamax', torch.optim.Adamax([torch.zeros(1, "
                    "requires_grad=True)]))\n", "expected a torch.optim.Optimizer subclass"),
    "setting it lacks": ("register_optimizer('adamax', torch.optim.Adamax, "
                         "settings=('momentum',))\n",
                         "optimizer is called as (params, lr=..., momentum=...), which its "
                         "signature"),
    "not element-wise": ("register_optimizer('nsgd', NormalizedSGD, elementwise=True)\n",
                         "declared element-wise, but members stepped together move "
                         "differently"),
    "closure": ("register_optimizer('lbfgs', torch.optim.LBFGS)\n",
                "fails to step a parameter"),
    "constraint": ("register_gan('lsgan', critic_loss=critic_loss, "
                   "generator_loss=generator_loss, recipe=RECIPE, constraint=lambda r: None)\n",
                   "constraint(recipe) must return a gan_zoo.constraints.Constraint"),
    "recipe's optimizer": ("register_gan('lsgan', critic_loss=critic_loss, generator_loss="
                           "generator_loss, recipe=replace(RECIPE, optimizer='lion'))\n",
                           "the toy recipe's optimizer 'lion' is not registered"),
    "architecture": ("register_architecture('tiny', lambda image_size, channels: None)\n",
                     "build is called as (image_size=..., channels=..., latent_dim=..., "
                     "critic_norm=..., filters=...), which its signature"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_plugin_is_refused_with_one_line_naming_it(plugin, case):
    source, message = BAD[case]
    module = "bad_plugin"
    if source is not None:
        plugin(module, HEADER + source)
    tables = [dict(table) for table in TABLES]
    with pytest.raises(BenchError) as refusal:
        parse_suite(tiny_suite(plugins=[module]))
    text = str(refusal.value)
    assert text.startswith(f"plugin {module}: ") and "\n" not in text
    assert message.format(module=module) in text
    assert [dict(table) for table in TABLES] == tables  # a refused registration writes nothing


def test_a_recipe_the_validators_refuse_is_refused_before_training(plugin):
    plugin("good_plugin", GOOD + '''
register_gan("lsgan-bad", critic_loss=critic_loss, generator_loss=generator_loss,
             recipe=replace(RECIPE, lr=-1.0))
''')
    with pytest.raises(BenchError, match="lsgan-bad's recipe for ring8: lr: expected"):
        parse_suite(_suite(gans=["lsgan-bad"]))


def test_the_command_line_refuses_a_bad_plugin_with_one_error_line(tmp_path):
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(tiny_suite(plugins=["absent_plugin"])))
    done = subprocess.run([sys.executable, str(ROOT / "run_bench.py"), "run", "--suite",
                           "suite.yaml", "--out", "out"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: plugin absent_plugin: no module absent_plugin in the current folder or on the "
        "Python path"]
    assert not (tmp_path / "out").exists()


def test_dash_dash_plugin_loads_a_module_for_any_command(plugin, capsys):
    """``--plugin MODULE`` makes its names valid where no suite lists it: ``list`` shows the
    plugin's GAN and optimizer; a module that does not import is one error: line, exit 2."""
    plugin("good_plugin", GOOD)
    assert main(["list", "--plugin", "good_plugin"]) == 0
    listed = capsys.readouterr().out
    assert "lsgan " in listed and "least-squares GAN" in listed and "adamax" in listed
    assert main(["list", "--plugin", "missing_plugin"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: plugin missing_plugin") and err.count("\n") == 1
