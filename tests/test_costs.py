"""The cost formulas and the segment spectrum: plain Python, no TensorFlow.

Each formula is checked against an independent route to the same number (a
grouped convolution is g small convolutions; a 1x1 convolution is a dense layer
at every pixel; counting sliding-window positions one by one), and against the
MobileNet paper's worked example (section 3.1 and Table 10 / section 3.3).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convviz.core import costs, spectrum
from convviz.core.costs import Cost
from convviz.core.layers import Layer

sizes = st.integers(1, 40)
small = st.integers(1, 6)


# ------------------------------------------------------------ output sizes
@settings(max_examples=200, deadline=None)
@given(size=sizes, kernel=small, stride=small, dilation=st.integers(1, 3))
def test_valid_output_size_counts_every_window_that_fits(size, kernel, stride, dilation):
    extent = (kernel - 1) * dilation + 1
    fits = [start for start in range(0, size, stride) if start + extent <= size]
    if not fits:
        with pytest.raises(ValueError, match="size"):
            costs.conv_output_size(size, kernel, stride, "valid", dilation)
    else:
        assert costs.conv_output_size(size, kernel, stride, "valid", dilation) == len(fits)


@settings(max_examples=200, deadline=None)
@given(size=sizes, kernel=small, stride=small)
def test_same_output_size_covers_the_input_with_strided_starts(size, kernel, stride):
    out = costs.conv_output_size(size, kernel, stride, "same")
    starts = range(0, size, stride)  # one output per stride step that starts inside the input
    assert out == len(starts)


# ------------------------------------------------------------ convolutions
@settings(max_examples=100, deadline=None)
@given(h=sizes, w=sizes, per_group_in=small, per_group_out=small, groups=small,
       k=small, stride=st.integers(1, 3), bias=st.booleans(),
       padding=st.sampled_from(["same", "valid"]))
def test_grouped_conv_is_g_independent_convs(h, w, per_group_in, per_group_out, groups, k,
                                             stride, bias, padding):
    if padding == "valid" and (h < k or w < k):
        return
    shape = (h, w, per_group_in * groups)
    whole = costs.conv2d(shape, per_group_out * groups, k, strides=stride, padding=padding,
                         groups=groups, use_bias=bias, allow_gaps=True)
    one = costs.conv2d((h, w, per_group_in), per_group_out, k, strides=stride,
                       padding=padding, use_bias=bias, allow_gaps=True)
    assert whole.params == groups * one.params
    assert whole.mult_adds == groups * one.mult_adds
    assert whole.output_shape == one.output_shape[:2] + (per_group_out * groups,)


@settings(max_examples=100, deadline=None)
@given(h=sizes, w=sizes, c=st.integers(1, 64), units=st.integers(1, 64), bias=st.booleans())
def test_1x1_conv_is_a_dense_layer_at_every_pixel(h, w, c, units, bias):
    conv = costs.conv2d((h, w, c), units, 1, use_bias=bias)
    fc = costs.dense((h, w, c), units, use_bias=bias)
    assert conv == fc


@settings(max_examples=50, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 16), units=st.integers(1, 16))
def test_full_size_valid_conv_is_a_dense_layer_on_the_flattened_map(h, w, c, units):
    conv = costs.conv2d((h, w, c), units, (h, w), padding="valid")
    fc = costs.dense((h * w * c,), units)
    assert (conv.params, conv.mult_adds) == (fc.params, fc.mult_adds)
    assert conv.output_shape == (1, 1, units)


def test_conv_counts_every_tap_of_every_output():
    # 5x5 input, 3x3 kernel, stride 2, 'same': outputs at rows/cols 0, 2, 4 -> 9 positions,
    # each 3*3*4 taps per filter, 6 filters.
    cost = costs.conv2d((5, 5, 4), 6, 3, strides=2)
    assert cost.output_shape == (3, 3, 6)
    assert cost.mult_adds == 9 * (3 * 3 * 4) * 6
    assert cost.params == 3 * 3 * 4 * 6 + 6


def test_dilation_widens_the_window_but_not_the_weights():
    plain = costs.conv2d((20, 20, 3), 4, 3, padding="valid")
    dilated = costs.conv2d((20, 20, 3), 4, 3, padding="valid", dilation_rate=2)
    assert dilated.params == plain.params
    assert dilated.output_shape == (16, 16, 4)  # extent 5
    assert dilated.mult_adds == plain.mult_adds * 16 * 16 // (18 * 18)


def test_depthwise_is_a_conv_with_one_group_per_channel():
    for m in (1, 2, 3):
        dw = costs.depthwise_conv2d((10, 12, 8), 3, depth_multiplier=m)
        assert dw == costs.conv2d((10, 12, 8), 8 * m, 3, groups=8)
        assert dw.params == 3 * 3 * 8 * m + 8 * m


def test_separable_is_depthwise_then_pointwise_with_one_bias():
    dw, pw = costs.separable_parts((16, 16, 32), 64, 3, strides=2, depth_multiplier=2)
    sep = costs.separable_conv2d((16, 16, 32), 64, 3, strides=2, depth_multiplier=2)
    assert dw == costs.depthwise_conv2d((16, 16, 32), 3, strides=2, depth_multiplier=2,
                                        use_bias=False)
    assert pw == costs.conv2d((8, 8, 64), 64, 1)
    assert sep == Cost(dw.params + pw.params, dw.mult_adds + pw.mult_adds, (8, 8, 64))


@settings(max_examples=100, deadline=None)
@given(size=st.integers(1, 30), c=st.integers(1, 64), n=st.integers(1, 64), k=st.integers(1, 7))
def test_separable_over_standard_is_mobilenets_closed_form(size, c, n, k):
    # MobileNet eq. 5: (D_K^2 M D_F^2 + M N D_F^2) / (D_K^2 M N D_F^2) = 1/N + 1/D_K^2
    r = costs.standard_vs_separable((size, size, c), n, k, use_bias=False)
    assert r["mult_adds_ratio"] == pytest.approx(1 / n + 1 / k**2)
    assert r["params_ratio"] == pytest.approx(1 / n + 1 / k**2)
    assert r["paper_ratio"] == pytest.approx(1 / n + 1 / k**2)


# MobileNet section 3.3 / Table 10: a 14x14x512 input, 3x3 kernels, 512 outputs (no biases).
MOBILENET_EXAMPLE = [
    # (layer, input_shape, filters, million mult-adds, million params) as printed in the paper
    ("Convolution", (14, 14, 512), 512, "462", "2.36"),
    ("Depthwise Separable Conv", (14, 14, 512), 512, "52.3", "0.27"),
    ("alpha = 0.75", (14, 14, 384), 384, "29.6", "0.15"),
    ("rho = 0.714", (10, 10, 384), 384, "15.1", "0.15"),
]


def printed(value: float, like: str) -> str:
    """``value`` (in millions) written with as many decimals as the paper's ``like``."""
    decimals = len(like.partition(".")[2])
    return f"{value / 1e6:.{decimals}f}"


@pytest.mark.parametrize("row,shape,filters,paper_madds,paper_params", MOBILENET_EXAMPLE)
def test_mobilenet_example_layer(row, shape, filters, paper_madds, paper_params):
    r = costs.standard_vs_separable(shape, filters, 3, use_bias=False)
    cost = r["standard"] if row == "Convolution" else r["separable"]
    ours = (printed(cost.mult_adds, paper_madds), printed(cost.params, paper_params))
    assert ours == (paper_madds, paper_params), f"{row}: ours {ours}, paper " \
        f"{(paper_madds, paper_params)}"


# ------------------------------------------------------------ other layers
def test_dense_on_a_sequence_and_a_vector():
    assert costs.dense((1024,), 1000) == Cost(1025000, 1024000, (1000,))
    assert costs.dense((7, 96), 10, use_bias=False) == Cost(960, 7 * 960, (7, 10))


def test_batch_norm_conventions():
    shape = (7, 7, 32)
    assert costs.batch_norm(shape).params == 4 * 32
    assert costs.batch_norm(shape, include_params="trainable").params == 2 * 32
    assert costs.batch_norm(shape, include_params=False).params == 0
    assert costs.batch_norm(shape, center=False).params == 3 * 32
    assert costs.batch_norm(shape, axis=0).params == 4 * 7
    assert costs.batch_norm(shape).mult_adds == 0


def test_pooling_shapes():
    assert costs.pool2d((7, 7, 5), 3, 2) == Cost(0, 0, (3, 3, 5))
    assert costs.pool2d((7, 7, 5), 2).output_shape == (3, 3, 5)  # strides default to pool_size
    assert costs.pool2d((7, 7, 5), 2, padding="same").output_shape == (4, 4, 5)
    assert costs.global_pool((7, 7, 5)).output_shape == (5,)
    assert costs.global_pool((7, 7, 5), keepdims=True).output_shape == (1, 1, 5)


def test_shape_only_layers():
    assert costs.zero_padding2d((5, 5, 2), 1).output_shape == (7, 7, 2)
    assert costs.zero_padding2d((5, 5, 2), ((0, 1), (2, 3))).output_shape == (6, 10, 2)
    assert costs.cropping2d((5, 5, 2), ((1, 0), (1, 1))).output_shape == (4, 3, 2)
    assert costs.add([(4, 4, 8), (4, 4, 8)]).output_shape == (4, 4, 8)
    assert costs.add([(4, 4, 8), (1, 1, 8)]).output_shape == (4, 4, 8)  # squeeze-excite
    assert costs.concatenate([(4, 4, 8), (4, 4, 3)]).output_shape == (4, 4, 11)
    assert costs.concatenate([(4, 4, 8), (2, 4, 8)], axis=0).output_shape == (6, 4, 8)
    assert costs.reshape((1, 1, 12), (-1,)).output_shape == (12,)
    assert costs.reshape((1, 1, 12), (3, -1)).output_shape == (3, 4)
    assert costs.flatten((2, 3, 4)).output_shape == (24,)
    assert costs.activation((2, 3, 4)) == Cost(0, 0, (2, 3, 4))
    assert costs.layer_norm((2, 3, 4)).params == 8
    assert costs.normalization((2, 3, 4)).params == 9  # mean, variance, count
    assert costs.channel_scale((2, 3, 4)).params == 4


def test_flops_are_twice_the_mult_adds():
    cost = costs.conv2d((8, 8, 3), 4, 3)
    assert costs.flops(cost) == 2 * cost.mult_adds > 0


def test_unseen_fraction():
    assert costs.unseen_fraction(1, 2) == pytest.approx(0.75)
    assert costs.unseen_fraction(3, 2) == 0.0
    assert costs.unseen_fraction(2, 3, 1) == pytest.approx(1 - 4 / 9)
    assert costs.unseen_fraction(3, 4, 2) == 0.0  # dilated extent 5 covers stride 4


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("call,argument", [
    (lambda: costs.conv2d((8, 8, 3), 0, 3), "filters"),
    (lambda: costs.conv2d((8, 8, 3), -4, 3), "filters"),
    (lambda: costs.conv2d((8, 8, 3), 4, 0), "kernel_size"),
    (lambda: costs.conv2d((8, 8, 3), 4, (3, -1)), "kernel_size"),
    (lambda: costs.conv2d((8, 8, 3), 4, 3, strides=0), "strides"),
    (lambda: costs.conv2d((8, 8, 3), 4, 3, dilation_rate=0), "dilation_rate"),
    (lambda: costs.conv2d((8, 8, 0), 4, 3), "input_shape"),
    (lambda: costs.conv2d((8, 8), 4, 3), "input_shape"),
    (lambda: costs.conv2d((8, 8, 6), 4, 3, groups=4), "groups"),
    (lambda: costs.conv2d((8, 8, 6), 4, 3, groups=0), "groups"),
    (lambda: costs.conv2d((8, 8, 6), 4, 3, padding="full"), "padding"),
    (lambda: costs.conv2d((8, 8, 6), 4, 1, strides=2), "strides"),
    (lambda: costs.conv2d((8, 8, 6), 4, 3, strides=4), "strides"),
    (lambda: costs.conv2d((2, 2, 6), 4, 3, padding="valid"), "size"),
    (lambda: costs.depthwise_conv2d((8, 8, 6), 3, depth_multiplier=0), "depth_multiplier"),
    (lambda: costs.separable_conv2d((8, 8, 6), 0, 3), "filters"),
    (lambda: costs.dense((8,), 0), "units"),
    (lambda: costs.batch_norm((8, 8, 3), include_params="yes"), "include_params"),
    (lambda: costs.pool2d((8, 8, 3), 0), "pool_size"),
    (lambda: costs.pool2d((8, 8, 3), 2, 3), "strides"),
    (lambda: costs.add([(4, 4, 3), (4, 4, 5)]), "input_shapes"),
    (lambda: costs.concatenate([(4, 4, 3), (2, 4, 5)]), "input_shapes"),
    (lambda: costs.reshape((4, 4, 3), (5, -1)), "target_shape"),
    (lambda: costs.zero_padding2d((4, 4, 3), -1), "padding"),
    (lambda: costs.conv_output_size(0, 3), "size"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_gaps_are_allowed_when_asked():
    cost = costs.conv2d((8, 8, 6), 4, 1, strides=2, allow_gaps=True)
    assert cost.output_shape == (4, 4, 4)


# ------------------------------------------------------------ dispatch on a plain Layer
def test_layer_parts_reads_keras_style_config():
    config = {"filters": 512, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
              "use_bias": False, "name": "ignored", "trainable": True}
    parts = costs.layer_parts(Layer("SeparableConv2D", [(14, 14, 512)], config))
    assert [label for label, _ in parts] == ["Conv DW 3x3", "Conv 1x1"]
    assert costs.layer_cost(Layer("SeparableConv2D", [(14, 14, 512)], config)) == \
        costs.separable_conv2d((14, 14, 512), 512, 3, use_bias=False)


def test_layer_labels_follow_mobilenet_table_2():
    def label(kind, shape, **config):
        return costs.layer_parts(Layer(kind, [shape], config))[0][0]

    assert label("Conv2D", (7, 7, 8), filters=4, kernel_size=1) == "Conv 1x1"
    assert label("Conv2D", (1, 1, 8), filters=4, kernel_size=1) == "Fully connected"
    assert label("Conv2D", (7, 7, 8), filters=4, kernel_size=3) == "Conv 3x3"
    assert label("DepthwiseConv2D", (7, 7, 8), kernel_size=5) == "Conv DW 5x5"
    assert label("Dense", (10,), units=3) == "Fully connected"
    assert label("Dense", (7, 7, 8), units=3) == "Conv 1x1"


def test_layer_conventions_switch_biases_and_batchnorm():
    conv = Layer("Conv2D", [(8, 8, 3)], {"filters": 4, "kernel_size": 3})
    bn = Layer("BatchNormalization", [(8, 8, 4)], {"axis": -1})
    assert costs.layer_cost(conv).params == 3 * 3 * 3 * 4 + 4
    assert costs.layer_cost(conv, include_bias=False).params == 3 * 3 * 3 * 4
    assert [costs.layer_cost(bn, include_batchnorm=v).params
            for v in (True, "trainable", False)] == [16, 8, 0]


def test_layer_parts_rejects_unknown_kinds_and_bad_options():
    with pytest.raises(ValueError, match="Conv2D"):  # the message lists the known kinds
        costs.layer_parts(Layer("Conv3D", [(4, 4, 4, 3)], {}))
    conv = Layer("Conv2D", [(8, 8, 3)], {"filters": 4, "kernel_size": 3})
    with pytest.raises(ValueError, match="include_batchnorm"):
        costs.layer_parts(conv, include_batchnorm="some")
    with pytest.raises(ValueError, match="data_format"):
        costs.layer_parts(Layer("Conv2D", [(3, 8, 8)], {"filters": 4, "kernel_size": 3,
                                                        "data_format": "channels_first"}))


# ------------------------------------------------------------ the segment spectrum
def test_spectrum_ends_are_regular_and_separable_convolutions():
    shape, n, k = (14, 14, 64), 128, 3
    regular = spectrum.segment_costs(shape, n, k, 1, order="spatial_first")
    separable = spectrum.segment_costs(shape, n, k, 64, order="spatial_first")
    assert (separable.params, separable.mult_adds) == (
        costs.separable_conv2d(shape, n, k).params, costs.separable_conv2d(shape, n, k).mult_adds)
    full = costs.conv2d(shape, 64, k, use_bias=False)
    point = costs.conv2d(shape, n, 1)
    assert (regular.params, regular.mult_adds) == (full.params + point.params,
                                                   full.mult_adds + point.mult_adds)
    extreme = spectrum.segment_costs(shape, n, k, n, order="pointwise_first", use_bias=False)
    assert extreme.steps[0][1] == costs.conv2d(shape, n, 1, use_bias=False)
    assert extreme.steps[1][1] == costs.depthwise_conv2d((14, 14, n), k, use_bias=False)
    assert "extreme Inception" in extreme.description
    assert "depthwise separable" in separable.description
    assert "regular convolution" in regular.description


@pytest.mark.parametrize("order", spectrum.ORDERS)
def test_spectrum_covers_every_divisor_and_gets_cheaper(order):
    points = spectrum.spectrum((10, 10, 24), 36, 3, order=order)
    channels = 36 if order == "pointwise_first" else 24
    assert [p.segments for p in points] == [g for g in range(1, channels + 1)
                                            if channels % g == 0]
    madds = [p.mult_adds for p in points]
    assert madds == sorted(madds, reverse=True) and madds[0] > madds[-1]
    assert all(p.order == order for p in points)
    json.dumps([p.to_dict() for p in points])


def test_nonlinearity_changes_the_description_not_the_cost():
    with_act = spectrum.segment_costs((8, 8, 16), 32, 3, 4, nonlinearity=True)
    without = spectrum.segment_costs((8, 8, 16), 32, 3, 4, nonlinearity=False)
    assert (with_act.params, with_act.mult_adds) == (without.params, without.mult_adds)
    assert "activation, then" in with_act.description
    assert "no activation" in without.description
    assert with_act.nonlinearity and not without.nonlinearity


def test_spectrum_bad_input():
    with pytest.raises(ValueError, match="segments"):
        spectrum.segment_costs((8, 8, 16), 32, 3, 5)
    with pytest.raises(ValueError, match="segments"):
        spectrum.segment_costs((8, 8, 16), 32, 3, 0)
    with pytest.raises(ValueError, match="order"):
        spectrum.segment_costs((8, 8, 16), 32, 3, 4, order="sideways")
    with pytest.raises(ValueError, match="nonlinearity"):
        spectrum.segment_costs((8, 8, 16), 32, 3, 4, nonlinearity="yes")


# ------------------------------------------------------------ layering
def test_core_imports_no_tensorflow():
    code = ("import sys, convviz.core.costs, convviz.core.spectrum, convviz.core.layers; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'jax', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]"
