"""convviz.train(..., isolate=True): the epochs run in a worker process, the weights come back."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")
psutil = pytest.importorskip("psutil")

import convviz
from convviz import isolation
from convviz.profiles import get_profile

from _tiny import TINY, random_data as _data  # noqa: E402
from _tiny import tiny as _tiny_model  # noqa: E402


def tiny(seed=0):
    return _tiny_model(seed)


def test_the_class_profile_isolates_by_default(monkeypatch):
    monkeypatch.delenv(isolation.ENV_VAR, raising=False)
    assert isolation.wanted(None, get_profile("class"))
    assert not isolation.wanted(None, get_profile("quick"))
    assert not isolation.wanted(None, get_profile("full"))
    assert isolation.wanted(True, get_profile("quick"))
    monkeypatch.setenv(isolation.ENV_VAR, "0")
    assert not isolation.wanted(None, get_profile("class"))
    monkeypatch.setenv(isolation.ENV_VAR, "maybe")
    with pytest.raises(ValueError, match="CONVVIZ_ISOLATE must be 0 or 1"):
        convviz.train(tiny(), _data(), profile="quick")
    monkeypatch.delenv(isolation.ENV_VAR)
    with pytest.raises(ValueError, match="isolate must be True, False or None"):
        convviz.train(tiny(), _data(), profile="quick", isolate="yes")


def test_isolated_training_hands_back_the_trained_weights(tmp_path):
    data = _data()
    model = tiny()
    before = [w.copy() for w in model.get_weights()]
    r = convviz.train(model, data, profile="quick", epochs=2, run_dir=tmp_path, isolate=True)
    assert r.epochs == 2 and r.resumed_from == 0 and r.model is model
    assert len(r.history["test_accuracy"]) == 2 and r.wall_time > 0
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    # the caller's model now is the worker's: same test figures, computed here
    loss, acc = model.evaluate(data[1][0], data[1][1], verbose=0)
    assert acc == pytest.approx(r.test_accuracy, abs=1e-6)
    assert loss == pytest.approx(r.test_loss, rel=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.json", "model-2.weights.h5", "result.json", "state.json"]  # the job folder is gone
    again = convviz.train(tiny(), data, profile="quick", epochs=2, run_dir=tmp_path, isolate=True)
    assert again.resumed_from == 2 and again.history == r.history


class Unregistered(keras.layers.Layer):
    """A custom layer Keras cannot find by name in another process."""

    def call(self, x):
        return x * 1.0


def test_a_model_the_worker_cannot_rebuild_is_trained_here(tmp_path, capsys):
    i = keras.Input((32, 32, 3))
    h = Unregistered()(keras.layers.Rescaling(1 / 255)(i))
    h = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(h))
    model = keras.Model(i, keras.layers.Dense(10)(h))
    r = convviz.train(model, _data(), profile="quick", epochs=1, run_dir=tmp_path, isolate=True)
    assert r.epochs == 1 and r.resumed_from == 0
    assert "could not rebuild this model" in capsys.readouterr().out
    assert json.loads((tmp_path / "state.json").read_text())["epochs_done"] == 1


def test_distillation_runs_in_a_worker_and_keeps_the_teacher_out_of_checkpoints(tmp_path):
    h5py = pytest.importorskip("h5py")
    from convviz.models.compress import distill

    teacher = tiny(seed=1)
    convviz.train(teacher, _data(), profile="quick", epochs=1, run_dir=tmp_path / "teacher")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Ss]kipping variable loading")
        r = distill(tiny(seed=2), teacher, _data(), profile="quick", epochs=2,
                    run_dir=tmp_path / "student", isolate=True)
    assert r.epochs == 2 and r.model.name == "tiny"
    with h5py.File(tmp_path / "student" / "model-2.weights.h5") as f:
        names = []
        f.visit(names.append)
        n_opt = len(f["optimizer/vars"])
    assert not [n for n in names if "teacher" in n], "the teacher's weights are not the student's"
    assert n_opt == 1 + len(r.model.trainable_variables)  # step count + one momentum a variable


def test_images_already_in_a_file_are_linked_for_the_worker_not_copied(tmp_path, monkeypatch):
    import tempfile

    from convviz import isolation
    from convviz.data import file_backed, mapped_file

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (x_train, y_train), (x_test, y_test) = _data()
    (mapped,) = file_backed({"x_train": x_train}, prefix="test")
    folder = isolation._data_dir((mapped, y_train, x_test, y_test))
    assert (folder / "x_train.npy").is_symlink()
    assert (folder / "x_train.npy").resolve() == mapped_file(mapped).resolve()
    assert not (folder / "x_test.npy").is_symlink()  # an array in memory is written
    (xa, ya), (xb, yb) = isolation._mapped_data(folder)
    for got, want in ((xa, x_train), (ya, y_train), (xb, x_test), (yb, y_test)):
        np.testing.assert_array_equal(got, want)
    assert isolation._data_dir((mapped, y_train, x_test, y_test)) == folder  # written once


def test_the_worker_stops_when_the_kernel_dies_and_the_run_resumes(tmp_path):
    script = TINY + textwrap.dedent(f"""
        import numpy as np, convviz
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (2000, 32, 32, 3), dtype=np.uint8); y = rng.integers(0, 10, 2000)
        convviz.train(tiny(), ((x, y), (x[:100], y[:100])), profile="quick", epochs=40,
                      run_dir={str(tmp_path / "run")!r}, isolate=True)
    """)
    # its temporary folder (where the images go for the worker) is the test's: a killed kernel
    # cannot remove its copy at exit
    (tmp_path / "tmp").mkdir()
    kernel = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True,
                              env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
    run_dir = tmp_path / "run"
    state = run_dir / "state.json"
    deadline = time.monotonic() + 240
    workers = []
    try:
        while time.monotonic() < deadline and kernel.poll() is None:
            workers = psutil.Process(kernel.pid).children()
            if workers and state.exists() and json.loads(state.read_text())["epochs_done"] >= 2:
                break
            time.sleep(0.2)
        assert workers, "the training should run in a worker process"
        os.kill(kernel.pid, signal.SIGKILL)  # only the kernel: its worker is left running
        kernel.wait()
        gone, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, "the worker outlived its kernel"
    finally:
        os.killpg(kernel.pid, signal.SIGKILL) if kernel.poll() is None else None
        for w in workers:
            if w.is_running():
                w.kill()
    done = json.loads(state.read_text())["epochs_done"]
    assert 2 <= done < 40
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (2000, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 2000)
    r = convviz.train(tiny(), ((x, y), (x[:100], y[:100])), profile="quick", epochs=40,
                      run_dir=run_dir, isolate=True)
    assert r.resumed_from == done and len(r.history["loss"]) == 40
