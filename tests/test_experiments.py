"""The experiments runner: one complete JSON record per run, written atomically, read back."""
import datetime
import inspect
import json
import subprocess
import sys

import pytest

from convviz import experiments
from convviz.experiments import EXPERIMENTS, load_results

RECORD_KEYS = {"name", "model", "date", "config", "history", "test_accuracy", "test_loss",
               "wall_time", "images_per_second", "params", "mult_adds", "cost_notes", "data",
               "hardware", "versions"}


def test_every_experiment_names_a_builder_and_its_arguments():
    from convviz.models import teaching

    for name, (builder, kwargs) in EXPERIMENTS.items():
        assert "/" not in name and not name.startswith(".")
        inspect.signature(getattr(teaching, builder)).bind(**kwargs)


def test_list_runs_without_tensorflow():
    code = ("import sys; from convviz.experiments import main; main(['list']); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(EXPERIMENTS)
    assert any(line.startswith("mobilenet_twin_alpha0.5 ") and "mobilenet_twin(alpha=0.5)" in line
               for line in lines)
    assert any(line.startswith("separable ") and "order='spatial_first'" in line for line in lines)


def test_unknown_model_is_named(capsys):
    with pytest.raises(SystemExit) as exit_:
        experiments.main(["run", "--models", "mobilenet,resnet"])
    assert exit_.value.code == 2
    assert "'resnet'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="models must name experiments from"):
        experiments.run(["nope"])


def test_run_writes_a_complete_record_atomically(cifar10_env, tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")
    monkeypatch.delenv("CONVVIZ_PROFILE", raising=False)
    monkeypatch.setitem(EXPERIMENTS, "tiny", ("baseline_cnn", {"width": 4}))
    out = tmp_path / "results"
    assert experiments.main(["run", "--profile", "quick", "--models", "tiny", "--out", str(out),
                             "--runs", str(tmp_path / "runs")]) == 0
    assert sorted(p.name for p in (out / "quick").iterdir()) == ["tiny.json"]  # no temp files
    record = json.loads((out / "quick" / "tiny.json").read_text())
    assert RECORD_KEYS <= set(record)
    assert record["config"]["builder"] == "baseline_cnn"
    assert record["config"]["kwargs"] == {"width": 4}
    assert record["config"]["profile"]["name"] == "quick" and record["config"]["epochs"] == 2
    assert record["config"]["precision"] == "float32"  # no GPU, not the full profile
    assert len(record["history"]["test_accuracy"]) == 2
    assert record["test_accuracy"] == pytest.approx(record["history"]["test_accuracy"][-1])
    assert 0 <= record["test_accuracy"] <= 1 and record["test_loss"] > 0
    from convviz.models.teaching import baseline_cnn

    assert record["params"] == baseline_cnn(width=4).count_params() and record["mult_adds"] > 0
    assert record["data"]["n_train"] == 1000 and record["data"]["n_test"] == 500
    assert "CONVVIZ_CIFAR10" in record["data"]["source"] and "/" not in record["data"]["source"]
    assert record["hardware"]["cpu_count"] >= 1 and "gpu" in record["hardware"]
    assert record["versions"]["keras"] == keras.__version__
    assert record["versions"]["backend"] == keras.backend.backend()
    assert record["wall_time"] > 0 and record["images_per_second"] > 0
    assert datetime.datetime.fromisoformat(record["date"]).tzinfo is not None
    assert load_results("quick", folder=out)["tiny"] == record


def test_full_profile_on_a_gpu_builds_in_mixed_precision_with_float32_logits():
    keras = pytest.importorskip("keras")
    from convviz.experiments import precision_policy

    assert precision_policy("full", "NVIDIA H200") == "mixed_float16"
    assert precision_policy("full", None) == precision_policy("class", "NVIDIA H200") == "float32"
    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        built = {name: experiments.build(name) for name in ("mobilenet", "baseline", "small_cnn_fc")}
    finally:
        keras.mixed_precision.set_global_policy(before)
    for name, model in built.items():
        assert model.get_layer("logits").compute_dtype == "float32", name  # a stable softmax
        convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
        assert convs and all(l.compute_dtype == "float16" for l in convs), name
        assert model.output.dtype == "float32", name


def _fake(root, profile, name):
    (root / profile).mkdir(parents=True, exist_ok=True)
    (root / profile / f"{name}.json").write_text(json.dumps({"name": name, "profile": profile}))


def test_load_results_prefers_full_then_class(tmp_path, monkeypatch, capsys):
    root = tmp_path / "results"
    with pytest.raises(FileNotFoundError, match="python -m convviz.experiments run"):
        load_results(folder=root)
    _fake(root, "quick", "a")
    _fake(root, "class", "b")
    (root / "class" / ".c.json.tmp").write_text("{")  # a write in progress is not a record
    assert list(load_results(folder=root)) == ["b"]
    assert "profile 'class'" in capsys.readouterr().out
    _fake(root, "full", "a")
    assert load_results(folder=root) == {"a": {"name": "a", "profile": "full"}}
    assert list(load_results("quick", folder=root)) == ["a"]
    monkeypatch.chdir(tmp_path / "results" / "..")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # notebooks run from notebooks/
    assert list(load_results("class")) == ["b"]
    with pytest.raises(ValueError, match=r"profile must be one of \['class', 'full', 'quick'\]"):
        load_results("huge", folder=root)


def _committed_records():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "results"
    return [(p.parent.name, p.stem, json.loads(p.read_text()))
            for p in sorted(root.glob("*/*.json"))]


@pytest.mark.parametrize("profile, name, record", _committed_records(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_committed_reference_records_match_the_models_of_today(profile, name, record):
    """A reference in results/ is only worth plotting against while it describes the model
    that the experiment of that name builds now, in the profile its folder names."""
    from convviz.profiles import PROFILES

    assert RECORD_KEYS <= set(record) and record["name"] == name
    builder, kwargs = EXPERIMENTS[name]
    assert record["config"]["builder"] == builder and record["config"]["kwargs"] == kwargs
    assert record["config"]["profile"]["name"] == profile
    assert record["config"]["profile"]["epochs"] == PROFILES[profile].epochs == record["config"]["epochs"]
    assert record["params"] == experiments.build(name).count_params()
    assert len(record["history"]["test_accuracy"]) == record["config"]["epochs"]
    assert record["test_accuracy"] == pytest.approx(record["history"]["test_accuracy"][-1])
    assert record["data"]["n_train"] == (PROFILES[profile].train_size or 50_000)
    from convviz.notebooks import MACHINE_PATH

    assert not MACHINE_PATH.search(json.dumps(record))  # no home, temp or venv folder
