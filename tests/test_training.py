"""convviz.train: validation, run folders, and resuming after the kernel died."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import convviz
from convviz.profiles import PROFILES, get_profile

from _tiny import TINY, random_data as _data, tiny  # noqa: E402


def test_profiles_and_env_override(monkeypatch):
    monkeypatch.delenv("CONVVIZ_PROFILE", raising=False)
    assert get_profile().name == "class"
    assert get_profile("quick").name == "quick"
    monkeypatch.setenv("CONVVIZ_PROFILE", "quick")
    assert get_profile("full").name == "quick"
    monkeypatch.setenv("CONVVIZ_PROFILE", "huge")
    with pytest.raises(ValueError, match="CONVVIZ_PROFILE.*'class', 'full', 'quick'"):
        get_profile()
    monkeypatch.delenv("CONVVIZ_PROFILE")
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        get_profile("fast")
    assert PROFILES["quick"].train_size < PROFILES["class"].epochs * 1000


@pytest.mark.parametrize("bad, message", [
    (lambda d: (((d[0][0][..., :1], d[0][1]), d[1])), r"x_train must have shape \(N, 32, 32, 3\)"),
    (lambda d: (((d[0][0].astype("float32"), d[0][1]), d[1])), "x_train must be uint8"),
    (lambda d: (((d[0][0], d[0][1] + 10), d[1])), r"y_train must be in 0\.\.9"),
    (lambda d: ((d[0], (d[1][0], d[1][1][:3]))), "y_test must be a vector of 50"),
    (lambda d: "nope", "data must be the result of convviz.data.load_cifar10"),
])
def test_bad_data_is_named(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        convviz.train(tiny(), bad(_data()), profile="quick", run_dir=tmp_path)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        convviz.train(tiny(), _data(), profile="quick", epochs=0, run_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown profile 'slow'"):
        convviz.train(tiny(), _data(), profile="slow", run_dir=tmp_path)
    with pytest.raises(ValueError, match="model must output 10 classes"):
        i = keras.Input((32, 32, 3))
        m = keras.Model(i, keras.layers.Dense(3)(keras.layers.Flatten()(i)))
        convviz.train(m, _data(), profile="quick", run_dir=tmp_path)


def test_train_returns_figures_and_writes_run_folder(tmp_path):
    r = convviz.train(tiny(), _data(), profile="quick", epochs=2, run_dir=tmp_path)
    assert r.epochs == 2 and r.resumed_from == 0
    assert len(r.history["test_accuracy"]) == 2 and 0 <= r.test_accuracy <= 1
    assert r.test_accuracy == pytest.approx(r.history["test_accuracy"][-1])
    assert r.wall_time > 0 and r.images_per_second > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.json", "model-2.weights.h5", "result.json", "state.json"]  # no temporary files left
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["epochs_done"] == 2 and state["profile"] == "quick"
    # the learning rate followed the schedule down to (near) zero by the end
    assert r.history["lr"][-1] < r.history["lr"][0] or r.history["lr"][0] == 0


def test_load_run_reads_a_finished_run_without_its_model(tmp_path):
    runs = tmp_path / "runs"
    assert convviz.load_run("tiny", profile="quick", runs_dir=runs) is None  # none yet
    r = convviz.train(tiny(), _data(), profile="quick", name="tiny",
                      run_dir=runs / "quick" / "tiny")
    got = convviz.load_run("tiny", profile="quick", runs_dir=runs)
    assert got["test_accuracy"] == pytest.approx(r.test_accuracy) and got["epochs"] == r.epochs
    assert got["history"]["test_accuracy"] == pytest.approx(r.history["test_accuracy"])
    assert convviz.load_run("tiny", profile="class", runs_dir=runs) is None  # another profile
    with pytest.raises(ValueError, match="name must be a run name"):
        convviz.load_run("../tiny", profile="quick", runs_dir=runs)


def test_calling_again_loads_instead_of_retraining(tmp_path, capsys):
    convviz.train(tiny(), _data(), profile="quick", epochs=2, run_dir=tmp_path)
    again = convviz.train(tiny(), _data(), profile="quick", epochs=2, run_dir=tmp_path)
    assert again.resumed_from == 2
    assert "already trained for 2 epochs" in capsys.readouterr().out
    fresh = convviz.train(tiny(), _data(), profile="quick", epochs=2, run_dir=tmp_path, resume=False)
    assert fresh.resumed_from == 0


def test_a_killed_training_resumes_from_the_last_finished_epoch(tmp_path):
    """The kernel dies mid-run (SIGKILL); the same call then continues where it stopped."""
    script = TINY + textwrap.dedent(f"""
        import numpy as np, convviz
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (2000, 32, 32, 3), dtype=np.uint8); y = rng.integers(0, 10, 2000)
        convviz.train(tiny(), ((x, y), (x[:100], y[:100])), profile="quick", epochs=40,
                      run_dir={str(tmp_path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    state = tmp_path / "state.json"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if state.exists() and json.loads(state.read_text())["epochs_done"] >= 2:
                break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = json.loads(state.read_text())["epochs_done"]
    assert 2 <= done < 40, "the run should have been killed mid-way"
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (2000, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 2000)
    # Resume the same 40-epoch run, but interrupt it after one more epoch to keep the test
    # short: the first epoch it trains must be the one after the last finished.
    seen = []
    model = tiny()
    orig_fit = model.fit

    def fit_once(*a, **k):
        seen.append(k["initial_epoch"])
        if len(seen) > 1:
            raise KeyboardInterrupt
        return orig_fit(*a, **k)

    model.fit = fit_once
    with pytest.raises(KeyboardInterrupt):
        convviz.train(model, ((x, y), (x[:100], y[:100])), profile="quick", epochs=40, run_dir=tmp_path)
    assert seen[0] == json.loads(state.read_text())["epochs_done"] - 1 == done
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == done + 1
    assert not list(tmp_path.glob(".*tmp*")), "no half-written files after the kill"


def _is_shifted_crop(out, img, pad=4):
    padded = np.pad(img, ((pad, pad), (pad, pad), (0, 0)))
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            crop = padded[dy:dy + 32, dx:dx + 32]
            if np.array_equal(out, crop) or np.array_equal(out, crop[:, ::-1]):
                return True
    return False


def test_augmentation_is_a_padded_crop_with_optional_flip():
    from convviz.training import augment_batch, augment_batch_numpy

    x = np.random.default_rng(1).integers(1, 256, (16, 32, 32, 3), dtype=np.uint8)
    tf_out = np.asarray(augment_batch(x))
    np_out = augment_batch_numpy(x, np.random.default_rng(0))
    for out in (tf_out, np_out):
        assert out.shape == x.shape and out.dtype == np.uint8
        assert all(_is_shifted_crop(o, i) for o, i in zip(out, x))
        assert not np.array_equal(out, x), "16 images all left unchanged: no augmentation happened"


def test_crop_flip_reads_the_padded_image_at_the_drawn_offsets_and_draws_change_per_batch():
    import tensorflow as tf

    from convviz.training import augment_batch, crop_flip

    x = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    padded = np.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0)))
    oy, ox, flip = [0, 8, 3, 8], [0, 8, 5, 0], [False, True, True, False]
    out = np.asarray(crop_flip(tf.constant(x), tf.constant(oy), tf.constant(ox), tf.constant(flip)))
    for i in range(4):
        want = padded[i, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32]
        assert np.array_equal(out[i], want[:, ::-1] if flip[i] else want)
    outs = [np.asarray(augment_batch(x)) for _ in range(3)]
    assert not (np.array_equal(outs[0], outs[1]) and np.array_equal(outs[1], outs[2]))


def test_training_batches_cover_each_image_once_per_epoch_and_reshuffle():
    from convviz.training import make_dataset

    n, bs = 70, 16
    x = np.zeros((n, 32, 32, 3), np.uint8)
    x[:, 0, 0, 0] = np.arange(n)  # each image carries its own index in one pixel
    y = np.arange(n, dtype=np.int32)
    ds = make_dataset(x, y, bs, training=True, augment=False, seed=3)
    epochs = []
    for _ in range(2):
        seen = [(xb[:, 0, 0, 0].astype(int), yb) for xb, yb in ((np.asarray(a), np.asarray(b)) for a, b in ds)]
        assert all(len(yb) == bs for _, yb in seen), "training drops the last partial batch"
        assert all(np.array_equal(xi, yb) for xi, yb in seen), "images and labels stay paired"
        order = np.concatenate([yb for _, yb in seen])
        assert len(order) == (n // bs) * bs and len(set(order)) == len(order)
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1]), "a new order every epoch"
    again = np.concatenate([np.asarray(b) for _, b in make_dataset(x, y, bs, training=True,
                                                                   augment=False, seed=3)])
    assert np.array_equal(again, epochs[0]), "the same seed gives the same first epoch"
    test = np.concatenate([np.asarray(b) for _, b in make_dataset(x, y, bs, training=False)])
    assert np.array_equal(test, y), "evaluation sees every image once, in order"


def test_input_pipeline_runs_without_the_tf_data_autotuner():
    # With the autotuner on, about half of the epochs on a 2-core machine trained on one core
    # (benchmarks/README.md): the pipeline keeps it off and sets its threads and prefetch itself.
    from convviz.training import MAX_INPUT_THREADS, _input_threads, make_dataset

    x = np.zeros((8, 32, 32, 3), np.uint8)
    y = np.zeros(8, np.int32)
    for training in (True, False):
        ds = make_dataset(x, y, 4, training=training)
        assert ds.options().autotune.enabled is False
        assert sum(len(np.asarray(b)) for _, b in ds) == 8
    assert 1 <= _input_threads() <= MAX_INPUT_THREADS
