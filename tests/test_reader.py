"""The Keras reader against Keras itself and against the papers' printed numbers.

- Parameters: ``model_costs(m).total_params == m.count_params()`` for every CNN in
  ``keras.applications`` (weights=None, default size; MobileNetV3, whose default size
  is open, at 224). Every layer's output shape is checked against Keras on the way.
- MobileNet (Howard et al. 2017), Tables 6 and 7, and Table 2's breakdown; the Xception
  paper's 22,855,952 parameters.
"""
from __future__ import annotations

import json
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402
from keras import layers  # noqa: E402

from convviz.core import costs  # noqa: E402
from convviz.models.applications import application_names, build  # noqa: E402
from convviz.models.graph import flatten  # noqa: E402
from convviz.models.reader import model_costs  # noqa: E402

FAST = ["DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1",
        "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetV2B0",
        "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "InceptionResNetV2",
        "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small",
        "NASNetMobile", "ResNet50", "ResNet50V2", "ResNet101", "ResNet101V2", "ResNet152",
        "ResNet152V2", "VGG19", "Xception", "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase"]
# Several seconds each to build on a laptop CPU (hundreds of millions of weights or 300+ px).
SLOW = ["VGG16", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7", "EfficientNetV2S",
        "EfficientNetV2M", "EfficientNetV2L", "NASNetLarge", "ConvNeXtLarge", "ConvNeXtXLarge"]


def quiet_costs(model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # strides that skip input (ResNet)
        return model_costs(model, **kwargs)


def test_every_application_is_checked():
    assert sorted(FAST + SLOW) == application_names()


@pytest.mark.parametrize("name", FAST + [pytest.param(n, marks=pytest.mark.slow) for n in SLOW])
def test_params_agree_with_keras(name):
    model = build(name)
    report = quiet_costs(model)
    assert not report.unknown
    assert (name, report.total_params) == (name, model.count_params())
    assert report.rows[-1]["output_shape"] == tuple(model.outputs[0].shape[1:])
    assert report.total_mult_adds > 0
    keras.backend.clear_session()


def printed(value: float, like: str) -> set[str]:
    """``value`` in millions, written to the paper's decimals, rounded and truncated."""
    decimals = len(like.partition(".")[2])
    scaled = value / 1e6 * 10**decimals
    return {f"{round(scaled) / 10**decimals:.{decimals}f}",
            f"{int(scaled) / 10**decimals:.{decimals}f}"}


# MobileNet paper, Tables 6 (width multiplier) and 7 (resolution): million mult-adds and
# million parameters, no batch-norm parameters.
MOBILENET_TABLES = [
    (1.0, 224, "569", "4.2"), (0.75, 224, "325", "2.6"), (0.5, 224, "149", "1.3"),
    (0.25, 224, "41", "0.5"), (1.0, 192, "418", "4.2"), (1.0, 160, "290", "4.2"),
    (1.0, 128, "186", "4.2"),
]


@pytest.mark.parametrize("alpha,size,paper_madds,paper_params", MOBILENET_TABLES)
def test_mobilenet_tables_6_and_7(alpha, size, paper_madds, paper_params):
    model = build(f"MobileNet:alpha={alpha},input={size}")
    report = model_costs(model, include_batchnorm=False)
    # The paper rounds 568.7 up to 569 but prints 290.7 as 290: accept either reading.
    assert paper_madds in printed(report.total_mult_adds, paper_madds), report.total_mult_adds
    assert paper_params in printed(report.total_params, paper_params), report.total_params


def test_mobilenet_table_2_breakdown():
    # Table 2 (no biases, no batch norm). The paper prints 1.19% for Conv 3x3 mult-adds,
    # the digits of 1.91% swapped: the four printed shares then sum to 99.29%, ours to 100%.
    report = model_costs(build("MobileNet"), include_bias=False, include_batchnorm=False)
    ours = {d["kind"]: (f"{100 * d['mult_adds_share']:.2f}", f"{100 * d['params_share']:.2f}")
            for d in report.by_kind()}
    paper = {"Conv 1x1": ("94.86", "74.59"), "Conv DW 3x3": ("3.06", "1.06"),
             "Conv 3x3": ("1.91", "0.02"), "Fully connected": ("0.18", "24.33")}
    assert ours == paper
    assert [d["kind"] for d in report.by_kind()] == list(paper)  # the paper's row order


def test_xception_paper_parameter_count():
    # The paper's 22,855,952 are Keras's trainable weights: every convolution and the
    # classifier (with its bias) plus batch-norm gamma and beta, without the moving
    # mean and variance (which Keras counts as 54,528 non-trainable parameters).
    model = build("Xception")
    assert quiet_costs(model, include_batchnorm="trainable").total_params == 22_855_952
    assert quiet_costs(model).total_params == model.count_params() == 22_910_480


# ------------------------------------------------------------ graphs, by hand
def branchy_model():
    """Inception-style concatenation, an Xception-style residual add, a nested model,
    a layer called twice, and a Sequential inside."""
    inner_in = keras.Input((16, 16, 8))
    inner_out = layers.SeparableConv2D(8, 3, padding="same", name="sep")(inner_in)
    inner = keras.Model(inner_in, inner_out, name="block")
    head = keras.Sequential([keras.Input((8, 8, 24)), layers.GlobalAveragePooling2D(name="gap"),
                             layers.Dense(10, name="fc")], name="head")
    shared = layers.Conv2D(8, 1, name="shared")
    x = keras.Input((16, 16, 3), name="image")
    stem = layers.Conv2D(8, 3, padding="same", name="stem")(x)
    a = shared(stem)
    b = layers.Conv2D(8, 3, padding="same", name="branch3x3")(stem)
    c = layers.MaxPooling2D(3, strides=1, padding="same", name="pool")(stem)
    cat = layers.Concatenate(name="mixed")([a, b, c])
    y = layers.Conv2D(8, 1, name="reduce")(cat)
    y = layers.Add(name="residual")([inner(y), shared(y)])
    y = layers.MaxPooling2D(2, name="down")(layers.Concatenate(name="mixed2")([y, y, y]))
    return keras.Model(x, head(y), name="branchy")


def test_flatten_follows_branches_nested_models_and_shared_layers():
    nodes = flatten(branchy_model())
    names = [n.name for n in nodes]
    assert names[0] == "image" and nodes[0].inputs == [] and nodes[0].kind == "InputLayer"
    assert {"block/sep", "head/gap", "head/fc", "shared", "shared#2"} <= set(names)
    by_name = {n.name: n for n in nodes}
    assert by_name["mixed"].inputs == ["shared", "branch3x3", "pool"]
    assert by_name["residual"].inputs == ["block/sep", "shared#2"]
    assert by_name["block/sep"].inputs == ["reduce"]
    assert by_name["head/gap"].inputs == ["down"]
    assert by_name["mixed"].output_shape == (16, 16, 24)
    assert by_name["residual"].input_shapes == [(16, 16, 8), (16, 16, 8)]
    assert by_name["shared#2"].layer is by_name["shared"].layer
    for i, node in enumerate(nodes):  # topological: every input comes earlier
        assert all(names.index(src) < i for src in node.inputs)


def test_costs_of_a_branchy_model_by_hand():
    model = branchy_model()
    report = model_costs(model)
    rows = {r["name"]: r for r in report.rows}
    assert report.total_params == model.count_params()
    assert rows["stem"]["mult_adds"] == 16 * 16 * (3 * 3 * 3) * 8
    assert rows["shared"]["params"] == 8 * 8 + 8
    assert rows["shared#2"]["params"] == 0 and "shared" in rows["shared#2"]["note"]
    assert rows["shared#2"]["mult_adds"] == rows["shared"]["mult_adds"] == 16 * 16 * 8 * 8
    assert rows["block/sep"]["mult_adds"] == 16 * 16 * (3 * 3 * 8 + 8 * 8)
    assert rows["head/fc"]["params"] == 24 * 10 + 10
    assert sum(r["mult_adds"] for r in report.rows) == report.total_mult_adds
    assert sum(r["share"] for r in report.rows) == pytest.approx(1.0)
    kinds = {d["kind"]: d for d in report.by_kind()}
    # the separable layer counts half in 'Conv DW 3x3', half in 'Conv 1x1'
    assert kinds["Conv DW 3x3"]["mult_adds"] == 16 * 16 * 3 * 3 * 8
    assert sum(d["params"] for d in kinds.values()) == report.total_params


def test_unknown_layers_are_listed_and_warned_never_zero_in_silence():
    x = keras.Input((8, 8, 3))
    y = layers.Lambda(lambda t: t * 2.0, name="double")(x)
    y = layers.Conv2D(4, 3, name="conv")(y)
    model = keras.Model(x, layers.Conv3D(2, 1, name="conv3d")(layers.Reshape((6, 6, 4, 1))(y)))
    with pytest.warns(UserWarning, match="double"):
        report = model_costs(model)
    assert report.unknown == ["double", "conv3d"]
    rows = {r["name"]: r for r in report.rows}
    assert rows["conv3d"]["mult_adds"] is None and rows["conv3d"]["share"] is None
    assert rows["conv3d"]["params"] == model.get_layer("conv3d").count_params() == 4
    assert report.total_params == model.count_params()
    assert "unknown" in rows["double"]["note"] and "double" in report.to_text()
    assert any(d["kind"] == "Unknown" and d["mult_adds"] is None for d in report.by_kind())


def test_a_formula_that_disagrees_with_keras_is_unknown_not_wrong():
    class Flatten(layers.Layer):  # a user's layer that shares a Keras name, not its meaning
        def call(self, x):
            return keras.ops.reshape(x, (-1, x.shape[1], x.shape[2] * x.shape[3]))

        def compute_output_shape(self, shape):
            return (shape[0], shape[1], shape[2] * shape[3])

    x = keras.Input((4, 4, 3))
    model = keras.Model(x, Flatten(name="rows")(x))
    with pytest.warns(UserWarning, match="rows"):
        report = model_costs(model)
    assert report.unknown == ["rows"] and "disagrees with Keras" in report.rows[-1]["note"]


def test_strides_that_skip_input():
    x = keras.Input((8, 8, 4))
    model = keras.Model(x, layers.Conv2D(4, 1, strides=2, name="shortcut")(x))
    with pytest.warns(UserWarning, match="shortcut"):
        report = model_costs(model)
    assert "75%" in report.rows[-1]["note"]
    with pytest.raises(ValueError, match="strides"):
        model_costs(model, allow_gaps=False)


def test_options_and_output_forms():
    model = build("MobileNet:alpha=0.25,input=128")
    plain, flops = model_costs(model), model_costs(model, unit="flops")
    assert flops.total_flops == 2 * plain.total_mult_adds
    assert all(r["flops"] == 2 * r["mult_adds"] for r in flops.rows)
    assert model_costs(model, include_bias=False).total_params < plain.total_params
    data = json.loads(json.dumps(plain.to_dict()))
    assert set(data) == {"model", "unit", "conventions", "total_params", "total_mult_adds",
                         "total_flops", "layers", "by_kind", "unknown"}
    assert data["layers"][1]["output_shape"] == list(plain.rows[1]["output_shape"])
    text = str(flops)
    assert "FLOPs" in text and f"{plain.total_params:,}" in text and "Conv DW 3x3" in text
    for kwargs, argument in [({"unit": "macs"}, "unit"), ({"include_bias": "no"}, "include_bias"),
                             ({"include_batchnorm": 2}, "include_batchnorm")]:
        with pytest.raises(ValueError, match=argument):
            model_costs(model, **kwargs)


def test_models_the_reader_cannot_read():
    with pytest.raises(ValueError, match="input shape"):
        model_costs(keras.Sequential([layers.Dense(3)]))
    x = keras.Input((None, None, 3))
    open_size = keras.Model(x, layers.Conv2D(2, 3)(x))
    with pytest.raises(ValueError, match="input_shape"):
        model_costs(open_size)


def test_reader_uses_the_core_formulas():
    model = build("MobileNet:alpha=0.5,input=128")
    conv = model.get_layer("conv_pw_3")
    row = {r["name"]: r for r in model_costs(model).rows}["conv_pw_3"]
    expected = costs.conv2d(tuple(conv.input.shape[1:]), conv.filters, 1, use_bias=False)
    assert (row["params"], row["mult_adds"]) == (expected.params, expected.mult_adds)
