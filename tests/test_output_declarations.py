"""The output table (bench.core.outputs): torch-free, refusing declarations that cannot work,
and the one place a metric's outputs are declared. A dummy metric, declared and registered
here alone, reaches the report's tables, the TensorBoard export and the gate (``compare``)
with no other edit; its results folders are written through the store, without training."""

import pytest

from bench.cli import main
from bench.config.expansion import expand
from bench.config.suite import parse_suite
from bench.core import outputs
from bench.core.outputs import HIGHER, LOWER, Output, declare, plot_label
from bench.core.results import Counters, RunResult
from bench.gate.compare import run_gate
from bench.metrics import declarations, registry
from bench.metrics.registry import MetricInput, register
from bench.report.summary import build_summary
from bench.report.tables import cell_statistics, markdown_table
from bench.stats import UNIT
from bench.storage.store import ResultsStore
from tests.conftest import tiny_suite
from tests.test_layers import _loaded_by

DUMMY = "sharpness"


@pytest.fixture
def own_table(monkeypatch):
    """A copy of the output table and of the metric declarations and registry for this test
    alone."""
    monkeypatch.setattr(outputs, "OUTPUTS", dict(outputs.OUTPUTS))
    monkeypatch.setattr(declarations, "METRIC_SPECS", dict(declarations.METRIC_SPECS))
    monkeypatch.setattr(registry, "METRICS", dict(registry.METRICS))


@pytest.fixture
def dummy_metric(own_table) -> None:
    """A metric declared in one place: its output's declaration, the metric's and its
    function."""
    declare(Output(DUMMY, HIGHER, UNIT, label="edge sharpness", heading="sharpness",
                   group="quality", hparams_outcome=True))
    declarations.declare("edge_sharpness", (DUMMY,), "points", "samples",
                         lambda spec, _: f"sharpness_n{spec.samples}")

    @register("edge_sharpness")
    def edge_sharpness(x: MetricInput) -> dict[str, float]:
        return {DUMMY: 0.5}


def test_the_table_loads_no_torch_and_no_registry():
    loaded = _loaded_by(("bench.core.outputs",))
    heavy = ("torch", "yaml", "bench.metrics", "bench.data", "bench.config", "gan_zoo")
    assert sorted(m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in heavy)) == []
    assert "bench.core.outputs" in loaded  # the probe saw the import


@pytest.mark.parametrize(("declaration", "message"), [
    (Output("probe", "up"), "direction 'up'"),
    (Output("probe", HIGHER, quality=True), "a quality output is a distance, lower"),
    (Output("probe", LOWER, source="optimizer"), "unknown source 'optimizer'"),
    (Output("w1", LOWER), "declared twice"),
])
def test_a_declaration_that_cannot_work_is_refused(own_table, declaration, message):
    with pytest.raises(ValueError, match=message):
        declare(declaration)
    assert "probe" not in outputs.OUTPUTS


def _results(root, sharpness: float):
    """A folder of the gated suite (4 seeds of one cell) whose runs recorded ``sharpness``
    around ``sharpness`` at steps 0 and 10."""
    suite = tiny_suite(gans=["wgan-gp"], seeds=4,
                       gates={"metrics": {DUMMY: {"margin": 0.1}}})
    config = parse_suite(suite)
    store = ResultsStore(root)
    store.init_suite(config)
    for spec in expand(config):
        values = {DUMMY: sharpness + 0.01 * spec.seed, "gen_steps_per_s": 50.0}
        rows = [{"step": step, "metric": name, "value": value}
                for step in (0, 10) for name, value in values.items()]
        store.write_run(RunResult(spec, rows, counters=Counters(generator_steps=10)),
                        provenance={})
    return root


def test_a_dummy_metric_reaches_the_tables_tensorboard_and_the_gate(dummy_metric, tmp_path,
                                                                    capsys):
    sharp, blunt = _results(tmp_path / "sharp", 0.8), _results(tmp_path / "blunt", 0.2)
    summary = build_summary(ResultsStore(sharp))

    table = markdown_table(summary, "ring8")
    assert "| sharpness (higher better) |" in table.splitlines()[0]
    cells = cell_statistics(summary)
    assert cells.loc[cells["metric"] == DUMMY, "mean"].item() == pytest.approx(0.815)
    assert plot_label(DUMMY) == "edge sharpness (higher is better)"

    tensorboard = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    from bench.report.tensorboard import final_outcomes, write_tensorboard

    log_dir = write_tensorboard(sharp, tmp_path / "tb")
    run = summary["run_id"].iloc[0]
    events = tensorboard.EventAccumulator(str(log_dir / run)).Reload()
    assert f"quality/{DUMMY}" in events.Tags()["scalars"]
    assert f"final/{DUMMY}" in final_outcomes(summary.iloc[0])

    # higher is better: the blunt candidate is worse than the sharp baseline, not better
    regressions = {c.metric for c in run_gate(sharp, blunt).regressions}
    assert regressions == {DUMMY}
    assert not run_gate(blunt, sharp).regressions
    assert main(["compare", str(sharp), str(blunt)]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if f" {DUMMY} " in x)
    assert "REGRESSION" in line
