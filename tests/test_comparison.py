"""convviz.comparison: the course's runs and reference records as rows, and their chart."""
import json
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import pytest

from convviz import comparison
from convviz.plots.comparison import accuracy_vs_mult_adds


def _run(root, profile, name, params=1000, epochs_done=2, epochs=2, result=True, costs=None):
    folder = root / profile / name
    folder.mkdir(parents=True)
    (folder / "state.json").write_text(json.dumps({
        "epochs_done": epochs_done, "epochs": epochs, "params": params, "wall_time": 12.0,
        "n_train": 1000, "profile": profile, "name": name}))
    (folder / "history.json").write_text(json.dumps({"test_accuracy": [0.2, 0.3][:epochs_done]}))
    if result:
        (folder / "result.json").write_text(json.dumps({"test_accuracy": 0.3}))
    if costs is not None:
        (folder / "costs.json").write_text(json.dumps(costs))
    return folder


def _record(folder, profile, name, accuracy, mult_adds, params, notes=()):
    path = folder / profile / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "name": name, "test_accuracy": accuracy, "params": params, "mult_adds": mult_adds,
        "cost_notes": list(notes), "wall_time": 60.0, "data": {"n_train": 50000},
        "config": {"builder": "small_cnn", "kwargs": {"width": 8},
                   "profile": {"name": profile}, "epochs": 8}}))


def test_runs_are_read_with_their_costs_and_state(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVVIZ_PROFILE", raising=False)
    _run(tmp_path, "quick", "costed", params=1000,
         costs={"params": 1000, "mult_adds": 5_000_000, "unknown_layers": []})
    _run(tmp_path, "quick", "partial", epochs_done=1, result=False)
    _run(tmp_path, "quick", "stale_costs", params=2000,
         costs={"params": 1000, "mult_adds": 5_000_000, "unknown_layers": []})
    _run(tmp_path, "class", "other_profile")
    (tmp_path / "quick" / "not_a_run").mkdir()
    rows = {r["name"]: r for r in comparison.run_rows("quick", runs_dir=tmp_path)}
    assert sorted(rows) == ["costed", "partial", "stale_costs"]
    costed = rows["costed"]
    assert costed["mult_adds"] == 5_000_000 and costed["mult_adds_complete"]
    assert costed["costs_from"] == "costs.json" and costed["finished"] and costed["kind"] == "run"
    assert costed["source"] == "your run (runs/quick/costed/)"
    assert str(tmp_path) not in json.dumps(rows)  # no machine path
    assert rows["partial"]["test_accuracy"] == 0.2 and not rows["partial"]["finished"]
    # costs of another model (same name, other parameters) are not trusted
    assert rows["stale_costs"]["mult_adds"] is None and rows["stale_costs"]["costs_from"] is None


def test_reference_records_become_rows(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVVIZ_PROFILE", raising=False)
    _record(tmp_path / "results", "class", "small", 0.6, 2_000_000, 20_000)
    _record(tmp_path / "results", "class", "grouped", 0.5, 1_000_000, 10_000,
            notes=["2 layer(s) are listed as unknown (mult-adds not counted): a, b"])
    _run(tmp_path / "runs", "quick", "mine", costs={"params": 1000, "mult_adds": 10})
    rows = comparison.collect("quick", runs_dir=tmp_path / "runs", results_folder=tmp_path / "results")
    by = {(r["kind"], r["name"]): r for r in rows}
    assert set(by) == {("run", "mine"), ("reference", "small"), ("reference", "grouped")}
    assert by["reference", "small"]["source"] == "reference (results/class/small.json)"
    assert by["reference", "small"]["mult_adds_complete"]
    assert not by["reference", "grouped"]["mult_adds_complete"]
    assert comparison.collect("quick", runs_dir=tmp_path / "runs", results_folder=tmp_path / "none") \
        == [by["run", "mine"]]
    assert comparison.collect("quick", runs_dir=tmp_path / "runs", references=False) == [by["run", "mine"]]


def test_a_reference_recorded_from_your_run_is_listed_once(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVVIZ_PROFILE", raising=False)
    _run(tmp_path / "runs", "class", "same", params=20_000, epochs_done=8, epochs=8)
    _run(tmp_path / "runs", "class", "retrained", params=20_000, epochs_done=8, epochs=8)
    for name, seconds in (("same", 12.0), ("retrained", 99.0)):
        _record(tmp_path / "results", "class", name, 0.3, 2_000_000, 20_000)
        path = tmp_path / "results" / "class" / f"{name}.json"
        path.write_text(path.read_text().replace('"wall_time": 60.0', f'"wall_time": {seconds}'))
    rows = comparison.collect("class", runs_dir=tmp_path / "runs", results_folder=tmp_path / "results")
    assert [(r["kind"], r["name"]) for r in rows] == [("run", "retrained"), ("run", "same"),
                                                      ("reference", "retrained")]
    same = rows[1]
    assert same["source"] == "your run (runs/class/same/), also the reference (results/class/same.json)"


def test_pareto_front_keeps_only_unbeaten_models():
    rows = [dict(name=n, test_accuracy=a, mult_adds=m) for n, a, m in
            [("cheap", 0.5, 1), ("dominated", 0.45, 2), ("mid", 0.6, 3), ("tie", 0.6, 4),
             ("best", 0.7, 10), ("unknown", 0.9, None)]]
    assert [r["name"] for r in comparison.pareto_front(rows)] == ["cheap", "mid", "best"]


def test_record_costs_and_latency_for_a_rebuilt_architecture(tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")
    monkeypatch.delenv("CONVVIZ_PROFILE", raising=False)
    from convviz.models.teaching import ChannelShuffle

    inputs = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(8, 3, name="conv")(keras.layers.Rescaling(1 / 255)(inputs))
    h = ChannelShuffle(2)(h)
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(h)))
    folder = _run(tmp_path, "quick", "tiny", params=model.count_params())
    written = comparison.record_costs(SimpleNamespace(name="tiny", run_dir=str(folder), model=model))
    assert written["mult_adds"] == 30 * 30 * 27 * 8 + 8 * 10 and written["params"] == model.count_params()
    _run(tmp_path, "quick", "no_architecture")
    rows = comparison.add_latency(comparison.run_rows("quick", runs_dir=tmp_path))
    by = {r["name"]: r for r in rows}
    assert by["tiny"]["latency_ms"] > 0 and by["no_architecture"]["latency_ms"] is None
    with pytest.raises(ValueError, match="result must be a TrainResult whose run folder exists"):
        comparison.record_costs(SimpleNamespace(name="x", run_dir=str(tmp_path / "gone"), model=model))
    with pytest.raises(ValueError, match="model must be a keras.Model"):
        comparison.record_costs(SimpleNamespace(name="x", run_dir=str(folder), model="net"))


def test_chart_draws_runs_filled_references_hollow_and_names_the_rest():
    rows = [dict(name="a", test_accuracy=0.7, mult_adds=1e7, params=7e4, kind="run"),
            dict(name="b", test_accuracy=0.6, mult_adds=1e6, params=6e4, kind="run",
                 mult_adds_complete=False),
            dict(name="a", test_accuracy=0.75, mult_adds=1e7, params=7e4, kind="reference"),
            dict(name="c", test_accuracy=0.5, mult_adds=None, params=1e5, kind="run")]
    fig = accuracy_vs_mult_adds(rows)
    (runs,) = fig.findobj(lambda o: o.get_gid() == "run-markers")
    (refs,) = fig.findobj(lambda o: o.get_gid() == "reference-markers")
    assert len(runs.get_offsets()) == 2 and len(refs.get_offsets()) == 1
    areas = list(runs.get_sizes())
    assert areas[0] / areas[1] == pytest.approx(7 / 6)  # area proportional to parameters
    labels = [t.get_text() for t in fig.findobj(lambda o: o.get_gid() == "label")]
    assert sorted(labels) == ["a", "a", "b*"]
    (notes,) = fig.findobj(lambda o: o.get_gid() == "notes")
    assert "lower bound" in notes.get_text() and "not drawn (mult-adds unknown): c" in notes.get_text()
    assert fig.axes[0].get_xscale() == "log"


@pytest.mark.parametrize("rows, message", [
    ([], "rows must be a non-empty list"),
    ([{"name": "a"}], "rows must be dicts with keys"),
    ([dict(name="a", test_accuracy=0.5, mult_adds=1, params=1, kind="mine")], "kind must be 'run' or 'reference'"),
])
def test_chart_names_bad_rows(rows, message):
    with pytest.raises(ValueError, match=message):
        accuracy_vs_mult_adds(rows)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="runs_dir must be None or a folder path"):
        comparison.run_rows("quick", runs_dir=3)
    with pytest.raises(ValueError, match="references must be True or False"):
        comparison.collect("quick", runs_dir=tmp_path, references="yes")
