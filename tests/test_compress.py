"""Knowledge distillation and TensorFlow Lite conversion (convviz.models.compress)."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from convviz.models.compress import (Distiller, distill, tflite_accuracy, tflite_predict,
                                     to_tflite)
from convviz.profiles import ENV_VAR, PROFILES
from convviz.training import train

PALETTE = np.random.default_rng(1).integers(40, 216, (10, 3))
# a few dozen steps are enough for the toy problem at this learning rate
FAST = PROFILES["quick"].scaled(learning_rate=0.1, augment=False)


def _colours(n, seed):
    """A learnable toy problem: the class is the image's mean colour, under noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = PALETTE[y][:, None, None, :] + rng.normal(0, 30, (n, 32, 32, 3))
    return np.clip(x, 0, 255).astype(np.uint8), y


def _net(width, name, softmax=False):
    inputs = keras.Input((32, 32, 3))
    h = keras.layers.Rescaling(1 / 255)(inputs)
    h = keras.layers.Conv2D(width, 3, strides=2, activation="relu")(h)
    h = keras.layers.Conv2D(2 * width, 3, strides=2, activation="relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(10, activation="softmax" if softmax else None)(h)
    return keras.Model(inputs, out, name=name)


@pytest.fixture(scope="module")
def data():
    return _colours(600, 0), _colours(200, 1)


@pytest.fixture(scope="module", autouse=True)
def fast_profile():
    """``CONVVIZ_PROFILE`` would override the FAST profile these tests train with."""
    saved = os.environ.pop(ENV_VAR, None)
    yield
    if saved is not None:
        os.environ[ENV_VAR] = saved


@pytest.fixture(scope="module")
def teacher(data, tmp_path_factory):
    """A trained network with enough weights (~75k) for the int8 file to be about 4x smaller."""
    model = _net(64, "teacher")
    keras.utils.set_random_seed(0)
    result = train(model, data, profile=FAST, epochs=5, batch_size=50, live_plot=False,
                   verbose=False, run_dir=tmp_path_factory.mktemp("teacher"))
    assert result.test_accuracy > 0.6, "the toy problem is learnable"
    return model


def test_distillation_loss_is_the_documented_mix(teacher, data):
    (x, y), _ = data
    x, y = x[:32], y[:32]
    student = _net(4, "student")
    s = keras.ops.convert_to_numpy(student(x))
    t = keras.ops.convert_to_numpy(teacher(x))
    T, alpha = 3.0, 0.7

    def log_softmax(z):
        z = z - z.max(-1, keepdims=True)
        return z - np.log(np.exp(z).sum(-1, keepdims=True))

    soft = np.mean(np.sum(np.exp(log_softmax(t / T)) * (log_softmax(t / T) - log_softmax(s / T)), -1))
    hard = -np.mean(log_softmax(s)[np.arange(len(y)), y])
    distiller = Distiller(student, teacher, temperature=T, alpha=alpha)
    distiller.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    loss = keras.ops.convert_to_numpy(distiller.compute_loss(x, y, student(x), training=True))
    assert loss == pytest.approx(alpha * T ** 2 * soft + (1 - alpha) * hard, rel=1e-4)
    # evaluation keeps the plain cross-entropy, so test losses compare with plain training
    test_loss = keras.ops.convert_to_numpy(distiller.compute_loss(x, y, student(x), training=False))
    assert test_loss == pytest.approx(hard, rel=1e-4)
    # alpha=0 is plain training on the labels
    plain = Distiller(student, teacher, alpha=0.0)
    plain.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    loss0 = keras.ops.convert_to_numpy(plain.compute_loss(x, y, student(x), training=True))
    assert loss0 == pytest.approx(hard, rel=1e-4)


def test_softmax_outputs_are_read_as_logits(teacher, data):
    (x, y), _ = data
    student = _net(4, "student")
    probs = _net(4, "student_softmax", softmax=True)
    probs.set_weights(student.get_weights())
    a = Distiller(student, teacher).distillation_loss(x[:16], y[:16], student(x[:16]))
    b = Distiller(probs, teacher).distillation_loss(x[:16], y[:16], probs(x[:16]))
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-3)


def test_distill_changes_the_loss_and_the_student_learns(teacher, data, tmp_path):
    # The soft term's gradient is T * (difference of softened outputs): up to T times the
    # labels' pull on an untrained student facing this toy teacher (100 % sure of every image).
    # SGD on this small net without batch norm needs a step size to match.
    kwargs = dict(profile=FAST.scaled(learning_rate=0.02), epochs=6, batch_size=50,
                  live_plot=False, verbose=False)
    keras.utils.set_random_seed(3)
    alone = train(_net(16, "student"), data, run_dir=tmp_path / "alone", **kwargs)
    keras.utils.set_random_seed(3)  # the same initial weights
    student = _net(16, "student")
    result = distill(student, teacher, data, temperature=2.0, alpha=0.9,
                     run_dir=tmp_path / "distilled", **kwargs)
    assert result.model is student
    assert not np.allclose(result.history["loss"], alone.history["loss"], rtol=0.05)
    assert result.test_accuracy > 0.6  # chance is 0.1
    # checkpoints hold the student alone: the run resumes into a fresh student
    state = (tmp_path / "distilled" / "state.json").read_text()
    assert f'"params": {student.count_params()}' in state
    again = distill(_net(16, "student"), teacher, data, run_dir=tmp_path / "distilled", **kwargs)
    assert again.resumed_from == 6
    (_, _), (x_test, _) = data
    np.testing.assert_allclose(again.model.predict(x_test[:8], verbose=0),
                               student.predict(x_test[:8], verbose=0), rtol=1e-5, atol=1e-6)


def test_float_tflite_agrees_with_keras(teacher, data):
    _, (x, y) = data
    flat = to_tflite(teacher)
    expected = teacher.predict(x, verbose=0)
    got = tflite_predict(flat, x, batch=64)  # 200 images: a ragged last batch
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert tflite_accuracy(flat, x, y) == pytest.approx(np.mean(expected.argmax(1) == y))


def test_int8_is_about_four_times_smaller_and_about_as_accurate(teacher, data):
    (x_train, _), (x, y) = data
    flat = to_tflite(teacher)
    small = to_tflite(teacher, representative_images=x_train[:200], int8=True)
    assert 3.0 < len(flat) / len(small) < 4.5
    keras_acc = float(np.mean(teacher.predict(x, verbose=0).argmax(1) == y))
    assert tflite_accuracy(small, x, y) == pytest.approx(keras_acc, abs=0.04)
    signed = to_tflite(teacher, representative_images=x_train[:200], int8=True, input_type="int8")
    agree = np.mean(tflite_predict(signed, x).argmax(1) == tflite_predict(small, x).argmax(1))
    assert agree > 0.95


@pytest.mark.parametrize("call, message", [
    (lambda t, s: Distiller("net", t), "student must be a keras.Model"),
    (lambda t, s: Distiller(s, t, temperature=0), "temperature must be a positive number"),
    (lambda t, s: Distiller(s, t, alpha=1.5), r"alpha must be a number in \[0, 1\]"),
    (lambda t, s: Distiller(s, s), "teacher must be a different model"),
    (lambda t, s: Distiller(s, keras.Sequential([keras.Input((8,)), keras.layers.Dense(10)])),
     r"teacher must take \(32, 32, 3\) images"),
    (lambda t, s: to_tflite(t, int8=True), "representative_images are required"),
    (lambda t, s: to_tflite(t, np.zeros((4, 32, 32, 3), "float32"), int8=True),
     "representative_images must be uint8"),
    (lambda t, s: to_tflite(t, np.zeros((4, 28, 28), "uint8"), int8=True),
     r"representative_images must be a non-empty array of shape \(N, 32, 32, 3\)"),
    (lambda t, s: to_tflite(t, int8="yes"), "int8 must be True or False"),
    (lambda t, s: to_tflite(t, input_type="float16"), r"input_type must be one of \('uint8', 'int8'\)"),
    (lambda t, s: tflite_accuracy(b"", np.zeros((2, 32, 32, 3), "uint8"), [0, 1]), "tflite_bytes"),
    (lambda t, s: tflite_accuracy(b"not a model", np.zeros((2, 32, 32, 3), "uint8"), [0, 1]),
     "tflite_bytes is not a TensorFlow Lite model"),
    (lambda t, s: tflite_accuracy(to_tflite(s), np.zeros((2, 32, 32, 3), "uint8"), [0, 1, 2]),
     "y must be a vector of 2 integer labels"),
    (lambda t, s: tflite_predict(to_tflite(s), np.zeros((2, 32, 32, 3), "uint8"), batch=0),
     "batch must be a positive int"),
])
def test_bad_arguments_are_named(teacher, call, message):
    with pytest.raises(ValueError, match=message):
        call(teacher, _net(4, "student"))
