"""The teaching models: they build, they cost what the notebooks say, bad arguments are named."""
import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from convviz.core import costs, spectrum
from convviz.models import teaching
from convviz.models.reader import model_costs
from convviz.models.teaching import (TEACHING_MODELS, ChannelShuffle, GroupConv2D, inception_net,
                                     mobilenet_cifar, mobilenet_twin, segment_net, shufflenet_cifar,
                                     single_5x5, small_cnn, stacked_3x3, xception_cifar)

CONV_KINDS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")


def _costs(model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Resizing / ChannelShuffle have no formula; 1x1 stride 2
        return model_costs(model, **kwargs)


def _images(n=2, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", sorted(TEACHING_MODELS))
def test_registry_model_takes_uint8_images_and_returns_logits(name):
    builder = TEACHING_MODELS[name]
    assert builder.__doc__ and len(builder.__doc__.split()) > 10, "say what idea it shows"
    model = builder()
    assert tuple(model.input_shape) == (None, 32, 32, 3)
    assert isinstance(model.layers[1], keras.layers.Rescaling)
    logits = keras.ops.convert_to_numpy(model(_images(3), training=False))
    assert logits.shape == (3, 10) and np.isfinite(logits).all()
    assert model.layers[-1].get_config().get("activation") in (None, "linear")


def test_alpha_and_rho_shrink_mult_adds_by_their_squares():
    base = _costs(mobilenet_cifar())
    half_width = _costs(mobilenet_cifar(alpha=0.5))
    half_size = _costs(mobilenet_cifar(rho=0.5))
    assert half_width.total_mult_adds / base.total_mult_adds == pytest.approx(0.25, rel=0.1)
    assert half_width.total_params / base.total_params == pytest.approx(0.25, rel=0.1)
    assert half_size.total_mult_adds / base.total_mult_adds == pytest.approx(0.25, rel=0.1)
    assert half_size.total_params == base.total_params
    assert mobilenet_cifar(rho=0.75).get_layer("resize").output.shape[1:3] == (24, 24)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_mobilenet_is_eight_to_nine_times_cheaper_than_its_twin(alpha):
    separable, twin = _costs(mobilenet_cifar(alpha)), _costs(mobilenet_twin(alpha))
    assert 7 < twin.total_mult_adds / separable.total_mult_adds < 10
    assert twin.total_params > 5 * separable.total_params
    kinds = {r["type"] for r in separable.rows}
    assert "DepthwiseConv2D" in kinds and "DepthwiseConv2D" not in {r["type"] for r in twin.rows}


def _block(report, prefix):
    """(params, mult_adds) of the convolutions in the rows named ``prefix...``."""
    rows = [r for r in report.rows if r["name"].startswith(prefix) and r["type"] in CONV_KINDS]
    return sum(r["params"] for r in rows), sum(r["mult_adds"] for r in rows)


@pytest.mark.parametrize("order", spectrum.ORDERS)
def test_segment_block_costs_what_the_spectrum_formula_says(order):
    width = 16
    for g in (1, 4, width):
        report = _costs(segment_net(segments=g, order=order, width=width, blocks=1))
        formula = spectrum.segment_costs((32, 32, width), width, 3, g, order=order, use_bias=False)
        assert _block(report, "s1b1_") == (formula.params, formula.mult_adds), g
    regular = [costs.conv2d((32, 32, width), width, k, use_bias=False) for k in (1, 3)]
    g1 = _block(_costs(segment_net(segments=1, width=width, blocks=1)), "s1b1_")
    assert g1 == (sum(c.params for c in regular), sum(c.mult_adds for c in regular))
    separable = costs.separable_conv2d((32, 32, width), width, 3, use_bias=False)
    linear = segment_net(segments=width, order="spatial_first", inner_activation=False,
                         width=width, blocks=1)
    assert _block(_costs(linear), "s1b1_") == (separable.params, separable.mult_adds)
    assert isinstance(linear.get_layer("s1b1_depthwise"), keras.layers.DepthwiseConv2D)


def test_grouped_conv_with_groups_c_costs_the_same_as_depthwise():
    inputs = keras.Input((8, 8, 12))
    grouped = keras.Model(inputs, keras.layers.Conv2D(12, 3, padding="same", groups=12,
                                                      use_bias=False)(inputs))
    depthwise = keras.Model(inputs, keras.layers.DepthwiseConv2D(3, padding="same",
                                                                 use_bias=False)(inputs))
    a, b = _costs(grouped), _costs(depthwise)
    assert (a.total_params, a.total_mult_adds) == (b.total_params, b.total_mult_adds)
    assert a.total_params == grouped.count_params()


@pytest.mark.parametrize("filters, kernel, groups, strides", [(8, 3, 4, 1), (6, 1, 3, 2),
                                                            (12, 3, 12, 1)])
def test_group_conv_is_keras_grouped_conv(filters, kernel, groups, strides):
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 12)).astype("float32")
    ref = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", groups=groups,
                              activation="relu")
    fast = GroupConv2D.from_config(ref.get_config())
    assert isinstance(fast, keras.layers.Conv2D)
    ref.build(x.shape)
    fast.build(x.shape)
    fast.set_weights([w + 0.1 for w in ref.get_weights()])
    ref.set_weights(fast.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast(x)),
                               keras.ops.convert_to_numpy(ref(x)), rtol=1e-5, atol=1e-5)


def test_segment_net_cost_falls_as_segments_grow():
    width = 32
    divisors = [g for g in range(1, width + 1) if width % g == 0]
    reports = [_costs(segment_net(segments=g, width=width, blocks=1)) for g in divisors]
    mult_adds = [r.total_mult_adds for r in reports]
    params = [r.total_params for r in reports]
    assert mult_adds == sorted(mult_adds, reverse=True) and len(set(mult_adds)) == len(divisors)
    assert params == sorted(params, reverse=True) and len(set(params)) == len(divisors)


def test_xception_without_residuals_lacks_only_the_shortcut_convolutions():
    res, plain = xception_cifar(residual=True, middle_blocks=2), xception_cifar(False, 2)
    shortcut = [layer for layer in res.layers if "shortcut" in layer.name]
    assert len(shortcut) == 6  # a strided 1x1 conv and its batch norm in three blocks
    assert plain.count_params() == res.count_params() - sum(l.count_params() for l in shortcut)
    weighted = lambda m: sorted(l.name for l in m.layers if l.weights and "shortcut" not in l.name)
    assert weighted(res) == weighted(plain)
    assert not any(isinstance(l, keras.layers.Add) for l in plain.layers)
    maps = {l.output.shape[1] for l in res.layers if isinstance(l, keras.layers.SeparableConv2D)}
    assert maps == {32, 16, 8, 4}, "no early striding: 32x32, then 16, 8, 4"


def test_stacked_3x3_has_18_25ths_of_the_5x5_weights():
    one, two = single_5x5(width=16), stacked_3x3(width=16)
    units = lambda m, tag: sum(l.count_params() for l in m.layers
                               if tag in l.name and l.name.endswith("_conv"))
    assert units(two, "_3x3") * 25 == units(one, "_5x5") * 18
    rest = lambda m, tag: m.count_params() - units(m, tag)
    assert rest(one, "_5x5") - rest(two, "_3x3") == -sum(  # the extra batch norms only
        l.count_params() for l in two.layers if l.name.endswith("_3x3b_bn"))
    relus = lambda m: sum(isinstance(l, keras.layers.ReLU) for l in m.layers)
    assert relus(two) == relus(one) + 3


def test_inception_reduction_cuts_mult_adds_and_naive_channels_pile_up():
    naive, reduced = _costs(inception_net(reduced=False)), _costs(inception_net(reduced=True))
    assert naive.total_mult_adds > 4 * reduced.total_mult_adds
    x = keras.Input((16, 16, 40))
    out = teaching.inception_module(x, 8, 12, 16, 2, 4, 4, reduced=True, name="m")
    assert out.shape[-1] == 8 + 16 + 4 + 4
    out = teaching.inception_module(x, 8, 12, 16, 2, 4, 4, reduced=False, name="n")
    assert out.shape[-1] == 8 + 16 + 4 + 40


def test_small_cnn_head_and_downsampling():
    gap, fc = small_cnn(head="gap"), small_cnn(head="fc")
    early = small_cnn(downsample="early")
    assert fc.count_params() > 5 * gap.count_params()
    assert early.count_params() == gap.count_params()
    assert _costs(early).total_mult_adds < 0.6 * _costs(gap).total_mult_adds


def test_channel_shuffle_is_a_permutation_that_mixes_groups():
    x = np.arange(12, dtype="float32").reshape(1, 1, 1, 12)
    out = keras.ops.convert_to_numpy(ChannelShuffle(3)(x)).reshape(-1)
    assert out.tolist() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    assert sorted(out.tolist()) == list(range(12))
    for k in range(4):  # every run of three holds one channel from each group
        assert sorted(int(c) // 4 for c in out[3 * k:3 * k + 3]) == [0, 1, 2]
    y = np.random.default_rng(0).normal(size=(2, 4, 4, 6)).astype("float32")
    assert keras.ops.convert_to_numpy(ChannelShuffle(1)(y)).tolist() == y.tolist()


def test_shufflenet_round_trips_through_save_and_load(tmp_path):
    model = shufflenet_cifar(groups=2, repeats=(1, 2, 1))
    shuffles = [l for l in model.layers if isinstance(l, ChannelShuffle)]
    assert shuffles and all(l.groups == 2 for l in shuffles)
    assert any(getattr(l, "groups", 1) == 2 for l in model.layers
               if isinstance(l, keras.layers.Conv2D))
    path = tmp_path / "shufflenet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: the layer is registered
    x = _images(2)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x, training=False)),
                               keras.ops.convert_to_numpy(model(x, training=False)), atol=1e-5)
    assert [l.groups for l in loaded.layers if isinstance(l, ChannelShuffle)] == [2] * len(shuffles)
    plain = shufflenet_cifar(groups=2, shuffle=False, repeats=(1, 2, 1))
    assert not any(isinstance(l, ChannelShuffle) for l in plain.layers)
    assert plain.count_params() == model.count_params()


@pytest.mark.parametrize("build, message", [
    (lambda: mobilenet_cifar(alpha=0), r"alpha must be a number in \(0, 1\]"),
    (lambda: mobilenet_twin(alpha=1.5), r"alpha must be"),
    (lambda: mobilenet_cifar(rho=0.1), r"rho must be a number in \[0.25, 1\]"),
    (lambda: segment_net(segments=3), r"segments must divide width=32; allowed: \[1, 2, 4"),
    (lambda: segment_net(segments=0), r"segments must be an int >= 1"),
    (lambda: segment_net(order="depthwise_first"), r"order must be one of \('pointwise_first'"),
    (lambda: segment_net(inner_activation="yes"), r"inner_activation must be one of \(True, Fal"),
    (lambda: xception_cifar(middle_blocks=-1), r"middle_blocks must be an int >= 0"),
    (lambda: xception_cifar(residual=1), r"residual must be one of \(True, False\)"),
    (lambda: inception_net(reduced="no"), r"reduced must be one of"),
    (lambda: single_5x5(width=0), r"width must be an int >= 1"),
    (lambda: stacked_3x3(width=2.5), r"width must be an int"),
    (lambda: small_cnn(head="max"), r"head must be one of \('gap', 'fc'\)"),
    (lambda: small_cnn(downsample="middle"), r"downsample must be one of \('late', 'early'\)"),
    (lambda: shufflenet_cifar(groups=5), r"groups must be one of \(1, 2, 3, 4, 8\)"),
    (lambda: shufflenet_cifar(repeats=(1, 2)), r"repeats must be three ints"),
    (lambda: shufflenet_cifar(scale=0.05), r"scale must leave stage 2 wider"),
    (lambda: ChannelShuffle(groups=0), r"groups must be an int >= 1"),
    (lambda: ChannelShuffle(5)(keras.Input((4, 4, 12))), r"groups must divide the input channels"),
])
def test_bad_arguments_raise_value_error_naming_them(build, message):
    with pytest.raises(ValueError, match=message):
        build()
