"""Receptive fields: the arithmetic against closed forms, the Keras walker against gradients.

The empirical receptive field of an output unit is the set of input pixels with a
non-zero gradient, in a copy of the model with positive weights, zero biases,
identity batch norms and a positive input, so nothing cancels and ReLUs pass.
Max pooling routes its gradient to one pixel, so the gradient is taken through
the model's linear twin, with each max pool replaced by the average pool of the
same geometry; the receptive fields themselves are computed on the model as built.

Two TensorFlow 2.21 CPU kernels are avoided: float64 AvgPoolGrad with "same"
padding and a pool larger than the map (wrong gradient; so float32 here), and the
oneDNN gradient of a 1x1 stride-2 convolution on few channels (heap corruption).
"""
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from convviz.core import receptive as core

# ---------------------------------------------------------------------------
# Core arithmetic (no Keras)
# ---------------------------------------------------------------------------

small = st.integers(1, 6)


@given(n=st.integers(1, 12), k=st.integers(1, 9))
def test_stacked_stride1_convs_see_1_plus_n_times_k_minus_1(n, k):
    field = core.Field()
    for _ in range(n):
        field = core.compose(field, k)
    assert field.size == 1 + n * (k - 1) == core.closed_form([k] * n).size
    assert field.stride == 1 and field.padding == 0


@given(st.lists(st.tuples(small, st.integers(1, 3), st.integers(1, 3), st.integers(0, 4)),
                min_size=1, max_size=6))
def test_recursion_matches_closed_form(layers):
    field = core.Field()
    for k, s, d, p in layers:
        field = core.compose(field, k, s, d, p)
    assert field == core.closed_form(*zip(*layers))


def test_known_networks_closed_form():
    # AlexNet-style: 11/4, pool 3/2, 5, pool 3/2, 3, 3, 3, pool 3/2.
    alexnet = core.closed_form([11, 3, 5, 3, 3, 3, 3, 3], [4, 2, 1, 2, 1, 1, 1, 2])
    assert (alexnet.size, alexnet.stride) == (195, 32)
    # Three dilated 3x3 convs, dilations 1, 2, 4 (the WaveNet/DeepLab growth): 1+2+4+8.
    assert core.closed_form([3, 3, 3], dilations=[1, 2, 4]).size == 15


@pytest.mark.parametrize("n, k, s, d, padding, expected", [
    (224, 3, 2, 1, "same", (0, 1)),   # even input, stride 2: the extra pixel goes after
    (7, 3, 2, 1, "same", (1, 1)),
    (10, 3, 1, 2, "same", (2, 2)),    # dilation 2: span 5
    (5, 4, 1, 1, "same", (1, 2)),
    (9, 1, 3, 1, "same", (0, 0)),
    (9, 3, 3, 1, "same", (0, 0)),     # ceil(9/3)=3 windows fit exactly
    (8, 3, 1, 1, "valid", (0, 0)),
    (8, 3, 1, 1, (1, 2), (1, 2)),
    (8, 1, 1, 1, -2, (-2, -2)),
])
def test_resolve_padding(n, k, s, d, padding, expected):
    assert core.resolve_padding(n, k, s, d, padding) == expected


@given(n=st.integers(1, 60), k=small, s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_padding_keeps_ceil_n_over_s(n, k, s, d):
    assert core.output_size(n, k, s, d, "same") == -(-n // s)


def test_window_unclipped_and_clipped():
    field = core.Field(size=7, stride=2, padding=3)
    assert field.window(0) == (-3, 4)
    assert field.window(5) == (7, 14)
    assert field.window(0, n=12) == (0, 4)
    assert field.window(5, n=12) == (7, 12)


def test_visible_drops_padding_and_keeps_dilation_holes():
    # kernel 3, dilation 3, 'same' on 10 pixels: pad 3 before.
    assert core.visible({0}, 3, 1, 3, 3, n=10) == {0, 3}
    assert core.visible({5}, 3, 1, 3, 3, n=10) == {2, 5, 8}
    assert core.visible({0, 1}, 2, 4, 1, 0, n=8) == {0, 1, 4, 5}


def test_merge_aligned_takes_largest():
    fields = [core.Field(1, 1, 0), core.Field(5, 1, 2), core.Field(3, 1, 1)]
    assert core.merge(fields, n=10) == (core.Field(5, 1, 2), True, "")


def test_merge_same_stride_different_centres_is_union_and_flagged():
    # ResNet-v1 downsampling: 3x3/2 'same' on an even map (pad 0 before) + 1x1/2 shortcut.
    field, aligned, note = core.merge([core.Field(3, 2, 0), core.Field(1, 2, 0)], n=8)
    assert field == core.Field(3, 2, 0) and not aligned
    assert "misaligned" in note and "1 px" in note
    field, aligned, _ = core.merge([core.Field(3, 1, 0), core.Field(3, 1, 2)], n=8)
    assert field == core.Field(5, 1, 2) and not aligned  # windows [0,3) and [-2,1): union [-2,3)


def test_merge_different_strides_is_not_guessed():
    field, aligned, note = core.merge([core.Field(2, 2, 0), core.Field(9, 1, 0)], n=8)
    assert field is None and not aligned and "strides [1, 2]" in note
    one_position = core.merge([core.Field(16, 2, 0), core.Field(16, 1, 0)], n=1)
    assert one_position[:2] == (core.Field(16, 2, 0), True)


@pytest.mark.parametrize("call, argument", [
    (lambda: core.resolve_padding(8, 3, padding="full"), "padding"),
    (lambda: core.resolve_padding(0, 3), "n"),
    (lambda: core.output_size(4, 3, 1, 2, "valid"), "n=4"),
    (lambda: core.compose(core.Field(), 0), "kernel"),
    (lambda: core.compose(core.Field(), 3, stride=1.5), "stride"),
    (lambda: core.closed_form([3, 3], strides=[1]), "strides"),
    (lambda: core.closed_form([3, 0]), "kernels"),
    (lambda: core.merge([]), "fields"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_core_does_not_import_tensorflow():
    code = ("import sys, convviz.core.receptive; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------
# Keras models against their empirical receptive fields
# ---------------------------------------------------------------------------

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
from convviz.models import receptive as mrf  # noqa: E402


def make_positive(model):
    """Constant positive kernels (1/fan-in), zero biases, identity batch norms."""
    for layer in model.layers:
        depthwise = isinstance(layer, keras.layers.DepthwiseConv2D)
        for w in layer.weights:
            name = w.path.split("/")[-1]
            value = np.zeros(w.shape)
            if name in ("kernel", "depthwise_kernel", "pointwise_kernel"):
                spatial_only = depthwise or name == "depthwise_kernel"
                fan_in = np.prod(w.shape[:2] if spatial_only else w.shape[:-1])
                value = np.full(w.shape, 1.0 / fan_in)
            elif name in ("gamma", "moving_variance"):
                value = np.ones(w.shape)
            w.assign(value.astype(w.dtype))
    return model


def linear_twin(model):
    """``model`` with max pools swapped for average pools of the same geometry."""
    def swap(layer):
        if isinstance(layer, keras.layers.MaxPooling2D):
            return keras.layers.AveragePooling2D(layer.pool_size, layer.strides, layer.padding,
                                                 name=layer.name, dtype=layer.dtype_policy)
        return layer.__class__.from_config(layer.get_config())
    return make_positive(keras.models.clone_model(model, clone_function=swap))


def seen(model, layer, units, x):
    """Input masks (H, W) of non-zero gradient, one per output unit of ``layer``."""
    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    x = tf.constant(np.repeat(x[None], len(units), axis=0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = sub(x, training=False)
        total = tf.add_n([tf.reduce_sum(y[b, i, j]) for b, (i, j) in enumerate(units)])
    return tape.gradient(total, x).numpy().sum(axis=-1) > 0


def pixels_mask(model, layer, unit, shape):
    mask = np.zeros(shape, dtype=bool)
    mask[np.ix_(*mrf.input_pixels(model, layer, unit))] = True
    return mask


def check_units(model, twin, layer, units, x):
    """Empirical field of each unit == input_pixels, and agrees with the field's window."""
    height, width = x.shape[:2]
    field = mrf.receptive_fields(model)[layer]
    for (i, j), mask in zip(units, seen(twin, layer, units, x)):
        expected = pixels_mask(model, layer, (i, j), (height, width))
        assert np.array_equal(mask, expected), (layer, i, j)
        rows, cols = mrf.input_pixels(model, layer, (i, j))
        if not mask.any():  # the unit sees only padding
            assert mrf.input_window(model, layer, (i, j)) is None
            continue
        # The field's window: it holds the pixels seen, and where a side lies inside
        # the input, that side is reached exactly (this checks size and padding).
        for axis, (pos, n, hit) in enumerate(zip((i, j), (height, width), (rows, cols))):
            start, stop = field.fields[axis].window(pos)
            assert start <= hit.min() and hit.max() < stop
            assert start < 0 or hit.min() == start, (layer, axis, pos)
            assert stop > n or hit.max() == stop - 1, (layer, axis, pos)
        assert mrf.input_window(model, layer, (i, j)) == tuple(
            (int(h.min()), int(h.max()) + 1) for h in (rows, cols))


@st.composite
def architectures(draw):
    """A tiny random stack of Conv2D / DepthwiseConv2D / MaxPool / AveragePool."""
    shape = (draw(st.integers(16, 40)), draw(st.integers(16, 40)))
    size = list(shape)
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "depthwise", "max", "avg"]))
        kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
        strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        if kind == "depthwise":  # TF's depthwise kernel: equal strides only
            strides = (strides[0], strides[0])
        if kind in ("conv", "depthwise") and kernel == (1, 1) and 2 in strides:
            strides = (1, 1)  # TF 2.21 oneDNN: this gradient corrupts memory on few channels
        dilation = (1, 1)
        if kind in ("conv", "depthwise") and strides == (1, 1):  # TF: not both above 1
            dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = draw(st.sampled_from(["valid", "same"]))
        spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
        if padding == "valid" and any(n < span for n, span in zip(size, spans)):
            padding = "same"
        size = [-(-n // s) if padding == "same" else (n - span) // s + 1
                for n, s, span in zip(size, strides, spans)]
        layers.append((kind, kernel, strides, dilation, padding))
    return shape, layers


def build(shape, layers, linear=False):
    x = inputs = keras.Input((*shape, 1))
    for index, (kind, kernel, strides, dilation, padding) in enumerate(layers):
        name = f"layer{index}"  # the same in the linear twin
        if kind == "conv":
            x = keras.layers.Conv2D(2, kernel, strides, padding, dilation_rate=dilation, name=name)(x)
        elif kind == "depthwise":
            x = keras.layers.DepthwiseConv2D(kernel, strides, padding, dilation_rate=dilation,
                                             name=name)(x)
        else:
            average = linear or kind == "avg"
            pool = keras.layers.AveragePooling2D if average else keras.layers.MaxPooling2D
            x = pool(kernel, strides, padding, name=name)(x)
    return make_positive(keras.Model(inputs, x))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures())
def test_random_architectures_match_gradients(arch):
    shape, layers = arch
    model = build(shape, layers)
    twin = build(shape, layers, linear=True) if any(k == "max" for k, *_ in layers) else model
    table = mrf.rf_table(model)
    keras_shapes = [tuple(layer.output.shape[1:]) for layer in model.layers]
    assert [row["output_shape"] for row in table] == keras_shapes
    last = model.layers[-1].name
    h, w = model.output.shape[1:3]
    units = [(h // 2, w // 2), (0, 0), (h - 1, w - 1), (0, w - 1)]
    check_units(model, twin, last, units, np.ones((*shape, 1)))
    if twin is not model:  # the max pools themselves see no more than the field
        x = np.random.default_rng(0).uniform(0.5, 1.0, (*shape, 1))
        for unit, mask in zip(units, seen(model, last, units, x)):
            assert not (mask & ~pixels_mask(model, last, unit, shape)).any()


@pytest.fixture(scope="module")
def mobilenet():
    return keras.applications.MobileNet(weights=None, input_shape=(128, 128, 3))


def test_vgg16_matches_gradients():
    model = keras.applications.VGG16(weights=None, include_top=False, input_shape=(96, 96, 3))
    fields = mrf.receptive_fields(model)
    assert (fields["block5_pool"].size, fields["block5_pool"].stride) == ((212, 212), (32, 32))
    twin = linear_twin(model)
    x = np.random.default_rng(0).uniform(0.5, 1.0, (96, 96, 3)).astype("float32")
    check_units(model, twin, "block3_conv3", [(12, 12), (0, 0), (23, 23), (0, 23)], x)
    check_units(model, twin, "block4_pool", [(3, 3), (0, 5)], x)


def test_mobilenet_matches_gradients(mobilenet):
    # The 315 px field of google-research's receptive_field table for MobileNet v1.
    last = mrf.receptive_fields(mobilenet)["conv_pw_13_relu"]
    assert (last.size, last.stride, last.padding) == ((315, 315), (32, 32), (126, 126))
    twin = linear_twin(mobilenet)
    x = np.random.default_rng(0).uniform(0.5, 1.0, (128, 128, 3)).astype("float32")
    check_units(mobilenet, twin, "conv_pw_5_relu", [(8, 8), (0, 0), (15, 15), (15, 0)], x)
    check_units(mobilenet, twin, "conv_pw_13_relu", [(2, 1)], x)


def test_rf_table_rows(mobilenet):
    rows = mrf.rf_table(mobilenet)
    assert [r["name"] for r in rows] == [layer.name for layer in mobilenet.layers]
    assert set(rows[0]) == {"name", "type", "output_shape", "size", "stride", "padding",
                            "aligned", "note"}
    assert all(r["aligned"] and r["note"] == "" for r in rows)
    (row,) = mrf.rf_table(mobilenet, layer="conv_dw_2")
    assert row["type"] == "DepthwiseConv2D" and row["output_shape"] == (32, 32, 64)
    # After global pooling a unit sees every position's window: (4 - 1) * 32 + 315.
    assert mrf.receptive_fields(mobilenet)["predictions"].size == (411, 411)


def test_input_size_resolves_same_padding():
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(1, 3, strides=2, padding="same")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(x))
    with pytest.raises(ValueError, match="input_size"):
        mrf.receptive_fields(model)
    even = mrf.receptive_fields(model, input_size=16)[model.layers[-1].name]
    odd = mrf.receptive_fields(model, input_size=(15, 16))[model.layers[-1].name]
    assert even.padding == (2, 2) and odd.padding == (3, 2)  # 'same' pads 0 | 1 before
    assert odd.output_shape == (8, 8, 1) and even.size == odd.size == (7, 7)


def branches(merge, *paths, size=16):
    inputs = keras.Input((size, size, 1))
    outs = [inputs]
    for path in paths:
        x = inputs
        for layer in path:
            x = layer(x)
        outs.append(x)
    return make_positive(keras.Model(inputs, merge(outs[1:])))


def test_inception_branches_aligned_take_largest():
    L = keras.layers
    model = branches(L.Concatenate(name="mixed"),
                     [L.Conv2D(1, 1)], [L.Conv2D(1, 3, padding="same")],
                     [L.Conv2D(1, 3, padding="same"), L.Conv2D(1, 3, padding="same")],
                     [L.MaxPooling2D(3, 1, padding="same"), L.Conv2D(1, 1)])
    mixed = mrf.receptive_fields(model)["mixed"]
    assert (mixed.size, mixed.padding, mixed.aligned, mixed.note) == ((5, 5), (2, 2), True, "")
    check_units(model, linear_twin(model), "mixed", [(8, 8), (0, 0), (15, 3)], np.ones((16, 16, 1)))


def test_resnet_shortcut_misaligned_is_flagged_and_exact():
    L = keras.layers
    # The 1x1/2 shortcut is an average pool: the gradient of a 1x1/2 Conv2D on one
    # channel corrupts memory in TF 2.21's oneDNN kernels.
    model = branches(L.Add(name="add"), [L.Conv2D(1, 3, strides=2, padding="same")],
                     [L.AveragePooling2D(1, strides=2)])
    add = mrf.receptive_fields(model)["add"]
    assert not add.aligned and "misaligned" in add.note and "1 px" in add.note
    assert add.size == (3, 3)  # union of [2i, 2i+3) and [2i, 2i+1)
    check_units(model, model, "add", [(4, 4), (0, 0), (7, 7)], np.ones((16, 16, 1)))


def test_branches_with_different_strides_have_no_field_but_known_pixels():
    L = keras.layers
    model = branches(L.Add(name="add"), [L.Conv2D(1, 2, strides=2)], [L.Conv2D(1, 9)])
    model = keras.Model(model.inputs, L.Activation("relu", name="after")(model.output))
    fields = mrf.receptive_fields(model)
    assert fields["add"].fields is None and "strides [1, 2]" in fields["add"].note
    assert fields["after"].size is None and "'add'" in fields["after"].note
    with pytest.raises(ValueError, match="no receptive field"):
        mrf.input_window(model, "after", (3, 3), clip=False)
    mask = seen(model, "add", [(3, 3)], np.ones((16, 16, 1)))[0]
    rows, cols = mrf.input_pixels(model, "after", (3, 3))
    assert (rows.min(), rows.max()) == tuple(np.nonzero(mask.any(axis=1))[0][[0, -1]]) == (3, 11)


def test_unknown_and_upsampling_layers_are_reported_not_guessed():
    L = keras.layers
    inputs = keras.Input((8, 8, 1))
    x = L.Conv2DTranspose(1, 3, strides=2, name="up")(inputs)
    x = L.Conv2D(1, 3, name="conv")(x)
    y = L.Conv2D(1, 1, name="seq")(L.Reshape((8, 8, 1), name="reshape")(L.Flatten()(inputs)))
    fields = mrf.receptive_fields(keras.Model(inputs, [x, y]))
    assert fields["up"].fields is None and "upsamples" in fields["up"].note
    assert fields["conv"].fields is None and "'up'" in fields["conv"].note
    assert fields["reshape"].fields is None and "'Reshape'" in fields["reshape"].note
    assert "reshape" in fields["seq"].note


def test_cropping_separable_and_nested_models_match_gradients():
    L = keras.layers
    block = keras.Sequential([keras.Input((17, 15, 2)),
                              L.SeparableConv2D(2, (3, 2), dilation_rate=(2, 3), name="sep"),
                              L.ReLU(name="relu")], name="block")
    inputs = keras.Input((20, 18, 1))
    x = L.Conv2D(2, 3, padding="same", name="stem")(inputs)
    x = block(L.Cropping2D(((2, 1), (0, 3)), name="crop")(x))
    model = make_positive(keras.Model(inputs, L.MaxPooling2D(2, name="pool")(x)))
    fields = mrf.receptive_fields(model)
    assert "block/sep" in fields and fields["crop"].padding == (-1, 1)
    assert fields["block/sep"].size == (7, 6)  # 3 + (3-1)*2 rows, 3 + (2-1)*3 cols
    twin = linear_twin(model)
    x = np.ones((20, 18, 1), dtype="float32")
    check_units(model, twin, "pool", [(3, 2), (0, 0), (5, 4)], x)


def test_global_pooling_and_dense_see_the_whole_input():
    L = keras.layers
    inputs = keras.Input((20, 12, 1))
    x = L.Conv2D(2, 3, strides=2, padding="same")(inputs)
    x = L.Dense(4, name="dense_per_pixel")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    model = make_positive(keras.Model(inputs, L.Dense(3, name="logits")(x)))
    fields = mrf.receptive_fields(model)
    assert fields["dense_per_pixel"].size == (3, 3)
    assert fields["logits"].output_shape == (3,)
    assert mrf.input_window(model, "logits", (0, 0)) == ((0, 20), (0, 12))
    assert mrf.input_window(model, "logits", (0, 0), clip=False) == ((0, 21), (0, 13))


def test_effective_receptive_field_lies_inside_the_field():
    L = keras.layers
    inputs = keras.Input((24, 20, 1))
    x = L.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    x = L.Conv2D(4, 3, strides=2, activation="relu", name="c2")(x)
    model = keras.Model(inputs, L.Conv2D(4, 3, activation="relu", dilation_rate=2, name="c3")(x))
    erf = mrf.effective_receptive_field(model, n_samples=8)
    assert erf.shape == (24, 20) and erf.max() == pytest.approx(1.0)
    assert model.output.shape[1:3] == (6, 4)
    (r0, r1), (c0, c1) = mrf.input_window(model, "c3", (3, 2))  # the default: the centre
    assert erf[r0:r1, c0:c1].sum() == pytest.approx(erf.sum())
    corner = mrf.effective_receptive_field(model, "c2", (0, 0), n_samples=4)
    assert corner[:5, :5].sum() == pytest.approx(corner.sum()) and corner[:5, :5].min() > 0
    with pytest.raises(ValueError, match="n_samples"):
        mrf.effective_receptive_field(model, n_samples=0)


@pytest.mark.parametrize("call, argument", [
    (lambda m: mrf.rf_table(m, layer="nope"), "layer"),
    (lambda m: mrf.input_window(m, "conv_pw_5", (16, 0)), "position"),
    (lambda m: mrf.input_pixels(m, "conv_pw_5", 3), "position"),
    (lambda m: mrf.receptive_fields(m, input_size=(0, 3)), "input_size"),
])
def test_keras_bad_input_names_the_argument(mobilenet, call, argument):
    with pytest.raises(ValueError, match=argument):
        call(mobilenet)
