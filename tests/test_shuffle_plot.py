"""The channel-shuffle picture: the permutation it draws is the layer's, and what it says is true."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from convviz.plots.shuffle import channel_shuffle, shuffle_order


def by_gid(fig, gid):
    return fig.findobj(lambda a: a.get_gid() == gid)


def test_shuffle_order_is_the_transpose_of_the_group_grid():
    assert shuffle_order(6, 2).tolist() == [0, 3, 1, 4, 2, 5]
    assert shuffle_order(12, 3).tolist() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    assert shuffle_order(8, 1).tolist() == list(range(8))  # one group: nothing moves
    assert shuffle_order(8, 8).tolist() == list(range(8))  # one channel per group: neither


@pytest.mark.parametrize("channels, groups", [(12, 3), (16, 4), (24, 8)])
def test_shuffle_order_matches_the_keras_layer(channels, groups):
    keras = pytest.importorskip("keras")
    from convviz.models.teaching import ChannelShuffle

    x = np.random.default_rng(0).normal(size=(2, 3, 3, channels)).astype("float32")
    shuffled = keras.ops.convert_to_numpy(ChannelShuffle(groups)(x))
    np.testing.assert_array_equal(shuffled, x[..., shuffle_order(channels, groups)])


@pytest.mark.parametrize("channels, groups", [(12, 3), (8, 4), (16, 2), (16, 4)])
def test_figure_draws_both_panels_and_says_which_groups_each_group_reads(channels, groups):
    fig = channel_shuffle(channels, groups)
    assert isinstance(fig, Figure)
    connections = by_gid(fig, "connections")
    assert len(connections) == 2 and all(len(c.get_segments()) == channels for c in connections)
    plain, shuffled = connections
    assert all(a[0] == b[0] for a, b in plain.get_segments())  # straight up: no shuffle
    assert not all(a[0] == b[0] for a, b in shuffled.get_segments())
    assert len(by_gid(fig, "group-box")) == 2 * groups
    sees = [t.get_text() for t in by_gid(fig, "sees")]
    assert sees[:groups] == [f"group {j + 1} reads\ngroup {j + 1}" for j in range(groups)]
    # with the shuffle a group of C/g channels reads C/g groups: all of them when C/g >= g
    size = channels // groups
    for j, text in enumerate(sees[groups:]):
        order = shuffle_order(channels, groups)[j * size:(j + 1) * size]
        read = sorted({int(o) // size + 1 for o in order})
        assert len(read) == min(groups, size)
        assert text == f"group {j + 1} reads\ngroups {', '.join(map(str, read))}"


def test_redraws_into_a_given_figure():
    fig = Figure()
    assert channel_shuffle(8, 2, fig=fig) is fig
    channel_shuffle(12, 3, fig=fig)
    assert len(fig.axes) == 2 and len(by_gid(fig, "group-box")) == 6


@pytest.mark.parametrize("kwargs, message", [
    ({"channels": 10, "groups": 3}, r"groups must divide channels \(10\); allowed: \[1, 2, 5, 10\]"),
    ({"channels": 0, "groups": 1}, "channels must be a positive int"),
    ({"channels": 12, "groups": 2.0}, "groups must be a positive int"),
    ({"channels": 128, "groups": 4}, "channels must be at most 64"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        channel_shuffle(**kwargs)
