"""An optimizer setting is declared in two places: its field and default in the record
(``gan_zoo.recipes.OptimizerSettings``) and its entry in ``bench.core.hyperparameters``.

The test makes exactly those two edits, in a copy of the sources (a dataclass field cannot be
monkeypatched in: ``Recipe`` and ``OptimizerSpec`` take the record's fields when they are
defined), adding a dummy optimizer with a setting of its own, ``eps``. A fresh interpreter on
the copy then sees the setting validated (suite entries, recipe overrides, search bounds),
searchable, batchable (members of one group differ in it, each one's value in the optimizer)
and reported (``config.json``, the ``hp_`` column of a study), after a tiny training run.
"""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FIELD = '''    eps: float = 1e-8
    """The dummy optimizer's floor under |g|."""
'''
DESCRIPTION = '''    "dummy": "a dummy optimizer with a setting of its own, eps",
'''
DECLARATION = '''    Hyperparameter("eps", POSITIVE, "eps", batchable=True, optimizers=("dummy",)),
'''

SCRIPT = r'''
import json
import sys
from pathlib import Path

import torch

from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core.errors import BenchError
from bench.orchestration.runner import plan_groups
from bench.storage.store import ResultsStore
from bench.training import member_optimizers
from bench.training.trainer import GroupTrainer


class MemberDummy(member_optimizers.MemberOptimizer):
    """p -= lr g / (|g| + eps), each member with its own lr and eps: the dummy's arithmetic,
    where an optimizer's implementation lives."""

    def _update(self, grads):
        group = self.param_groups[0]
        for p, g in zip(self.params, grads, strict=True):
            lr, eps = (group[key].to(p.dtype).view(-1, *(1,) * (p.dim() - 1))
                       for key in ("lr", "eps"))
            p.sub_(lr * g / (g.abs() + eps))


member_optimizers.MEMBER_OPTIMIZERS["dummy"] = MemberDummy


def suite(**overrides):
    return {"name": "dummy", "datasets": ["ring8"], "gans": ["gan"], "optimizers": ["dummy"],
            "seeds": 1, "budget": {"generator_steps": 4}, "batch_size": 32,
            "model": {"width": 16, "depth": 2, "latent_dim": 2},
            "eval": {"every": 2, "samples": 200, "w1_samples": 50, "critic_samples": 100},
            **overrides}


def refusal(**overrides):
    try:
        parse_suite(suite(**overrides))
    except BenchError as exc:
        return str(exc)
    return None


facts = {"refusals": {
    "entry": refusal(optimizers=[{"name": "dummy", "eps": -1.0}]),
    "other optimizer": refusal(optimizers=[{"name": "adam", "eps": 1e-6}]),
    "recipe": refusal(recipes={"gan": {"eps": 0}}),
    "search": refusal(search={"trials": 2, "space": {"eps": {"uniform": [-1.0, 1.0]}}}),
    "valid entry": refusal(optimizers=[{"name": "dummy", "eps": 1e-6}]),
}}
(entry,) = expand(parse_suite(suite(optimizers=[{"name": "dummy", "eps": 1e-6}])))
facts["entry_eps"] = entry.optimizer.eps

config = parse_suite(suite(search={"trials": 3, "space": {"eps": {"log_uniform": [1e-9, 1e-6]}}}))
specs = expand(config)
trials = [s for s in specs if s.study.phase == "trial"]
facts["trials"] = [[s.optimizer.eps, s.recipe.eps, dict(s.study.params)["eps"]] for s in trials]
facts["groups"] = [len(group) for group in plan_groups(specs, config.group_size)]

trainer = GroupTrainer(trials, torch.device("cpu"))
facts["optimizer_eps"] = trainer.opt_d.param_groups[0]["eps"].tolist()
results = trainer.train()
store = ResultsStore(Path(sys.argv[1]))
store.init_suite(config)
for result in results:
    store.write_run(result, {})
store.verify()  # suite.yaml reads back, every run's config.json matches its spec
facts["statuses"] = [result.status for result in results]
facts["hp_eps"] = store.load_runs()["hp_eps"].tolist()
facts["config_eps"] = [json.loads((run / "config.json").read_text())["optimizer"]["eps"]
                       for run in store.run_dirs()]
print(json.dumps(facts))
'''


def _insert(path: Path, after_line: int, text: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:after_line]) + text + "".join(lines[after_line:]))


def _node(path: Path, name: str) -> ast.AST:
    """The class or assignment that defines ``name`` at the top of ``path``."""
    for node in ast.parse(path.read_text()).body:
        targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
        if getattr(node, "name", None) == name or any(getattr(t, "id", None) == name
                                                      for t in targets):
            return node
    raise LookupError(f"{name} is not defined at the top of {path}")


def declare_dummy(root: Path) -> None:
    """The two edits a new optimizer setting needs (and its optimizer's description)."""
    recipes = root / "gan_zoo" / "recipes.py"
    _insert(recipes, _node(recipes, "OptimizerSettings").end_lineno, FIELD)
    descriptions = _node(recipes, "OPTIMIZER_DESCRIPTIONS").value
    _insert(recipes, descriptions.end_lineno - 1, DESCRIPTION)  # before the closing brace
    hyperparameters = root / "bench" / "core" / "hyperparameters.py"
    entries = _node(hyperparameters, "HYPERPARAMETERS").value.generators[0].iter
    _insert(hyperparameters, entries.elts[-1].end_lineno, DECLARATION)


@pytest.fixture(scope="module")
def facts(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sources")
    for package in ("bench", "gan_zoo"):
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    declare_dummy(root)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(root / "results")], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_new_setting_is_validated_wherever_a_suite_gives_it(facts):
    refusals = facts["refusals"]
    assert refusals["entry"].startswith("optimizers[0].eps: expected a number > 0")
    assert refusals["other optimizer"] == ("optimizers[0].eps: adam does not use eps (only "
                                           "dummy do); drop it or pick one of those optimizers")
    assert refusals["recipe"].startswith("recipes.gan.eps: expected a number > 0")
    assert refusals["search"].startswith("search.space.eps.uniform[0]: expected a number > 0")
    assert refusals["valid entry"] is None
    assert facts["entry_eps"] == 1e-6


def test_a_new_setting_is_searchable(facts):
    values = [eps for eps, _, _ in facts["trials"]]
    assert len(set(values)) == 3 and all(1e-9 <= eps <= 1e-6 for eps in values)
    # the trial's value reaches its recipe, its optimizer and its study parameters alike
    assert all(optimizer == recipe == searched for optimizer, recipe, searched
               in facts["trials"])


def test_members_of_one_group_may_differ_in_a_new_setting(facts):
    assert facts["groups"] == [4]  # the recipe run and the three trials: one batched group
    assert facts["optimizer_eps"] == [eps for eps, _, _ in facts["trials"]]
    assert facts["statuses"] == ["finished"] * 3


def test_a_new_setting_is_reported(facts):
    trained = sorted(eps for eps, _, _ in facts["trials"])
    assert sorted(facts["hp_eps"]) == trained
    assert sorted(facts["config_eps"]) == trained
