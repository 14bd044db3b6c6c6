"""Making a trained network smaller after the fact: knowledge distillation and int8 TensorFlow Lite.

- :func:`distill` trains a small *student* on a trained *teacher*'s softened outputs as well as
  the labels (Hinton, Vinyals & Dean, 2015). It is :func:`convviz.train` underneath (same
  pipeline, augmentation, schedule, run folder, checkpoints and resuming); only the training loss
  changes, through :class:`Distiller`.
- :func:`to_tflite` converts a Keras model to a TensorFlow Lite flatbuffer, as float32 or with
  post-training full-integer (int8) quantization calibrated on a few hundred images;
  :func:`tflite_predict` and :func:`tflite_accuracy` run it with the TFLite interpreter.

The distillation loss, for student logits ``s``, teacher logits ``t``, labels ``y``, temperature
``T`` and weight ``alpha``::

    alpha * T**2 * KL(softmax(t / T) || softmax(s / T))  +  (1 - alpha) * CE(y, softmax(s))

The ``T**2`` keeps the soft term's gradients the same size whatever ``T`` (they shrink as
``1/T**2``). Test loss and accuracy are always those of the student against the labels, so a
distilled run's history reads like a plain one.
"""
from __future__ import annotations

import contextlib
import io
import logging
import numbers
import os
import sys
import warnings

import keras
import numpy as np

from convviz.training import IMAGE_SHAPE, NUM_CLASSES, _outputs_probabilities

INPUT_TYPES = ("uint8", "int8")


# --------------------------------------------------------------------------- distillation


class _Frozen:
    """Holds a model outside Keras' tracking. For the teacher: its weights are neither trained,
    nor saved in the student's checkpoints, nor counted in the run's parameters."""

    def __init__(self, model):
        self.model = model


def _check_model(arg: str, model):
    if not isinstance(model, keras.Model):
        raise ValueError(f"{arg} must be a keras.Model; got {type(model).__name__}")
    if tuple(model.input_shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"{arg} must take (32, 32, 3) images; its input shape is {model.input_shape}")
    if tuple(model.output_shape[1:]) != (NUM_CLASSES,):
        raise ValueError(f"{arg} must output {NUM_CLASSES} classes; its output shape is "
                         f"{model.output_shape}")


def _check_loss_args(temperature, alpha):
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number; got {temperature!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1] (the weight of the teacher's soft "
                         f"targets); got {alpha!r}")
    return float(temperature), float(alpha)


def _logits(outputs, probabilities: bool):
    ops = keras.ops
    return ops.log(ops.clip(outputs, 1e-7, 1.0)) if probabilities else outputs


class Distiller(keras.Model):
    """The student's own graph (same layers, same weights) with the distillation loss.

    ``Distiller(student, teacher)`` is a functional model over ``student``'s inputs and outputs,
    so :func:`convviz.train` builds, compiles, checkpoints and evaluates it as it would the
    student, and training it trains the student. ``compute_loss`` replaces the compiled loss in
    training by the mix in the module docstring; in evaluation it keeps the compiled
    cross-entropy. The teacher runs in inference mode and is never updated. Either network may
    end in logits or in a softmax.
    """

    def __init__(self, student, teacher, temperature: float = 4.0, alpha: float = 0.9):
        _check_model("student", student)
        _check_model("teacher", teacher)
        if teacher is student:
            raise ValueError("teacher must be a different model from student")
        temperature, alpha = _check_loss_args(temperature, alpha)
        super().__init__(inputs=student.inputs, outputs=student.outputs,
                         name=f"{student.name}_distiller")
        self._teacher = _Frozen(teacher)
        self._student = _Frozen(student)  # the same layers as this model's; kept to save it alone
        self.temperature, self.alpha = temperature, alpha
        self._student_probs = _outputs_probabilities(student)
        self._teacher_probs = _outputs_probabilities(teacher)

    # The teacher and student are reached through these methods, not properties or attributes:
    # Keras' weight saving walks every public attribute, and would put the teacher's weights
    # (and its optimizer's) in each of the student's checkpoints.
    def get_teacher(self):
        return self._teacher.model

    def get_student(self):
        return self._student.model

    def __deepcopy__(self, memo):
        # A view over the student, not a model of its own. convviz.train copies its result with
        # dataclasses.asdict, which would otherwise round-trip the whole model through a file.
        return self

    def distillation_loss(self, x, y, y_pred):
        """The soft (KL at temperature T, times T²) and hard (cross-entropy) terms, batch means."""
        ops = keras.ops
        t = ops.stop_gradient(_logits(self.get_teacher()(x, training=False), self._teacher_probs))
        s = _logits(y_pred, self._student_probs)
        T = self.temperature
        p_teacher = ops.softmax(t / T, axis=-1)
        kl = ops.sum(p_teacher * (ops.log_softmax(t / T, axis=-1) - ops.log_softmax(s / T, axis=-1)),
                     axis=-1)
        soft = ops.mean(kl) * T ** 2
        hard = ops.mean(keras.losses.sparse_categorical_crossentropy(y, s, from_logits=True))
        return soft, hard

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not training:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        soft, hard = self.distillation_loss(x, y, y_pred)
        loss = self.alpha * soft + (1 - self.alpha) * hard
        for extra in self.losses:  # regularisers of the student's layers, if any
            loss = loss + keras.ops.cast(extra, loss.dtype)
        return loss


def distill(student, teacher, data=None, *, profile=None, temperature: float = 4.0,
            alpha: float = 0.9, name: str | None = None, **train_kwargs):
    """Train ``student`` to match ``teacher``'s softened outputs and the labels.

    :func:`convviz.train` on a :class:`Distiller`; ``data``, ``profile`` and ``train_kwargs``
    (``epochs``, ``batch_size``, ``run_dir``, ``resume``, ``live_plot``, ``seed``, ``verbose``)
    are passed on. ``teacher`` is a trained keras.Model (or the :class:`TrainResult` of one);
    ``temperature`` > 0 softens both distributions, ``alpha`` in [0, 1] weights the teacher's
    term (``alpha=0`` is plain training on the labels). The run name defaults to
    ``"<student name>_distilled"``; the run folder does not record ``temperature`` or ``alpha``,
    so give each setting its own ``name``.

    Returns the :class:`convviz.training.TrainResult`, whose ``model`` is the trained student.
    """
    import dataclasses

    from convviz.training import train

    if not isinstance(teacher, keras.Model) and isinstance(getattr(teacher, "model", None), keras.Model):
        teacher = teacher.model  # a TrainResult
    distiller = Distiller(student, teacher, temperature=temperature, alpha=alpha)
    result = train(distiller, data, profile=profile, name=name or f"{student.name}_distilled",
                   **train_kwargs)
    return dataclasses.replace(result, model=student)


# --------------------------------------------------------------------------- TensorFlow Lite


@contextlib.contextmanager
def _quiet():
    """Silence the converter: Keras' export prints a temporary folder, TensorFlow logs another
    through its logger, TFLite's C++ code writes its settings to the process's stderr, and it
    warns about input statistics that it then infers."""
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with open(os.devnull, "w") as null, warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        for fd in saved:
            os.close(fd)
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _check_images(arg: str, x, shape=IMAGE_SHAPE):
    x = np.asarray(x)
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(shape) or len(x) == 0:
        raise ValueError(f"{arg} must be a non-empty array of shape (N, {', '.join(map(str, shape))}); "
                         f"got {x.shape}")
    if x.dtype != np.uint8:
        raise ValueError(f"{arg} must be uint8 images (0..255, as CIFAR-10 is stored); got dtype {x.dtype}")
    return x


def to_tflite(model, representative_images=None, int8: bool = False, input_type: str = "uint8",
              calibration_batch: int = 50) -> bytes:
    """The TensorFlow Lite flatbuffer of a Keras ``model``.

    ``int8=False``: float32 weights and arithmetic, the same predictions as the Keras model.
    ``int8=True``: post-training full-integer quantization: weights and activations as 8-bit
    integers, each tensor with a scale and zero point calibrated by running
    ``representative_images`` (uint8, a few hundred training images, required) through the
    float model. The input is ``input_type`` (``"uint8"``: the raw pixels; ``"int8"``), the
    output stays float32 logits. Only the model's weights shrink (about 4x); a small model's
    file also carries a fixed overhead.
    """
    import tensorflow as tf

    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model; got {type(model).__name__}")
    if int8 not in (True, False):
        raise ValueError(f"int8 must be True or False; got {int8!r}")
    if input_type not in INPUT_TYPES:
        raise ValueError(f"input_type must be one of {INPUT_TYPES}; got {input_type!r}")
    if isinstance(calibration_batch, bool) or not isinstance(calibration_batch, numbers.Integral) \
            or calibration_batch < 1:
        raise ValueError(f"calibration_batch must be a positive int; got {calibration_batch!r}")
    if int8 and representative_images is None:
        raise ValueError("representative_images are required with int8=True: a few hundred uint8 "
                         "training images to calibrate the activations' ranges")
    if representative_images is not None:
        images = _check_images("representative_images", representative_images, model.input_shape[1:])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        dtype = model.inputs[0].dtype
        dtype = getattr(dtype, "name", dtype)

        def representative():
            for i in range(0, len(images), calibration_batch):
                yield [images[i:i + calibration_batch].astype(dtype)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8 if input_type == "uint8" else tf.int8
        converter.inference_output_type = tf.float32
    with _quiet():
        return converter.convert()


def _interpreter(tflite_bytes):
    if not isinstance(tflite_bytes, (bytes, bytearray)) or not tflite_bytes:
        raise ValueError(f"tflite_bytes must be the non-empty bytes to_tflite returns; got "
                         f"{type(tflite_bytes).__name__}")
    try:  # LiteRT, TensorFlow Lite's successor, when installed
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    from convviz.backend import _silenced_fd2

    # _silenced_fd2: TFLite's C++ code prints an INFO line to the process's stderr when it
    # applies its XNNPACK delegate, on the first model of a process.
    with warnings.catch_warnings(), _silenced_fd2():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        try:
            interpreter = Interpreter(model_content=bytes(tflite_bytes))
            interpreter.allocate_tensors()
            return interpreter
        except ValueError as err:
            raise ValueError(f"tflite_bytes is not a TensorFlow Lite model: {err}") from None


def tflite_predict(tflite_bytes, x, batch: int = 100) -> np.ndarray:
    """The outputs (as float32) of a TFLite model on uint8 images ``x``, ``batch`` images per call.

    Quantized inputs and outputs are handled: pixels are mapped to the input's integer scale
    (``q = round(x / scale) + zero_point``), integer outputs back to floats.
    """
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
        raise ValueError(f"batch must be a positive int; got {batch!r}")
    interpreter = _interpreter(tflite_bytes)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = _check_images("x", x, tuple(inp["shape"][1:]))
    in_dtype = np.dtype(inp["dtype"])
    if np.issubdtype(in_dtype, np.integer):
        scale, zero = inp["quantization"]
        info = np.iinfo(in_dtype)
        scale = scale or 1.0
        x = np.clip(np.round(x / scale) + zero, info.min, info.max).astype(in_dtype)
    else:
        x = x.astype(in_dtype)
    outputs, size = [], None
    for i in range(0, len(x), batch):
        chunk = x[i:i + batch]
        if len(chunk) != size:
            interpreter.resize_tensor_input(inp["index"], (len(chunk), *inp["shape"][1:]))
            interpreter.allocate_tensors()
            size = len(chunk)
        interpreter.set_tensor(inp["index"], chunk)
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"])
        if np.issubdtype(y.dtype, np.integer):
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        outputs.append(np.asarray(y, dtype=np.float32))
    return np.concatenate(outputs)


def tflite_accuracy(tflite_bytes, x, y, batch: int = 100) -> float:
    """Share of the uint8 images ``x`` whose top TFLite output is the label in ``y``."""
    y = np.asarray(y)
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    n = len(x) if hasattr(x, "__len__") else None
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or len(y) != n:
        raise ValueError(f"y must be a vector of {n} integer labels, one per image of x; "
                         f"got shape {y.shape}, dtype {y.dtype}")
    predictions = tflite_predict(tflite_bytes, x, batch=batch)
    return float(np.mean(predictions.argmax(axis=-1) == y))
