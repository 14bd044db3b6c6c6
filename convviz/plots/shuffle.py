"""ShuffleNet's channel shuffle, drawn: which groups of channels the next grouped convolution sees.

- :func:`shuffle_order`: the permutation itself (plain numpy, the same reshape-transpose-reshape
  as :class:`convviz.models.teaching.ChannelShuffle`);
- :func:`channel_shuffle`: two grouped 1x1 convolutions in a row, without and with the shuffle
  between them.
"""
from __future__ import annotations

import numbers

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from ._common import new_figure

MAX_CHANNELS = 64  # more would not be readable


def _check(channels, groups):
    for arg, value in (("channels", channels), ("groups", groups)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{arg} must be a positive int; got {value!r}")
    if channels % groups:
        divisors = [g for g in range(1, channels + 1) if channels % g == 0]
        raise ValueError(f"groups must divide channels ({channels}); allowed: {divisors}; got {groups}")


def shuffle_order(channels: int, groups: int) -> np.ndarray:
    """Where each channel comes from after the shuffle: ``shuffled[..., p] = x[..., order[p]]``.

    Channel ``k`` of group ``i`` (input position ``i * C/g + k``) moves to position ``k * g + i``:
    the ``(g, C/g)`` grid of channels, transposed and read row by row.
    """
    _check(channels, groups)
    return np.arange(channels).reshape(groups, channels // groups).T.reshape(-1)


def _sources(groups_seen) -> str:
    return ", ".join(str(g + 1) for g in sorted(groups_seen))


def channel_shuffle(channels: int = 12, groups: int = 3, *, fig=None, figsize=(10, 3.6)):
    """Two grouped 1x1 convolutions in a row, without (left) and with (right) a channel shuffle.

    Bottom: the ``channels`` outputs of the first grouped convolution, coloured by the group that
    made them. Top: the inputs of the second, boxed by the group that reads them. Without the
    shuffle each box holds one colour (a group only ever sees its own group: the network splits
    into ``groups`` networks side by side); with it every box holds every colour (or ``C/g``
    colours, when a group has fewer channels than there are groups).
    """
    _check(channels, groups)
    if channels > MAX_CHANNELS:
        raise ValueError(f"channels must be at most {MAX_CHANNELS} to be drawn; got {channels}")
    size = channels // groups
    source_group = np.arange(channels) // size
    colors = [f"C{g % 10}" for g in source_group]
    fig = new_figure(fig, figsize, left=0.02, right=0.98, bottom=0.12, top=0.8, wspace=0.1)
    for ax, shuffled in zip(fig.subplots(1, 2), (False, True)):
        order = shuffle_order(channels, groups) if shuffled else np.arange(channels)
        lines = [((order[p], 0.0), (p, 1.0)) for p in range(channels)]
        ax.add_collection(LineCollection(lines, colors=[colors[order[p]] for p in range(channels)],
                                         lw=1.2, alpha=0.8, gid="connections"))
        ax.scatter(range(channels), [0] * channels, c=colors, marker="s", s=40, zorder=3)
        ax.scatter(range(channels), [1] * channels, c=[colors[o] for o in order], marker="o",
                   s=40, zorder=3)
        for j in range(groups):
            ax.add_patch(Rectangle((j * size - 0.4, 0.9), size - 0.2, 0.2, fill=False, ec="0.3",
                                   ls="--", lw=0.8, gid="group-box"))
            seen = set(source_group[order[j * size:(j + 1) * size]])
            noun = "groups" if len(seen) > 1 else "group"
            ax.text(j * size + (size - 1) / 2, 1.16, f"group {j + 1} reads\n{noun} {_sources(seen)}",
                    ha="center", va="bottom", fontsize=7, gid="sees")
        ax.text((channels - 1) / 2, -0.14, "outputs of grouped 1×1 conv, coloured by group",
                ha="center", va="top", fontsize=8)
        title = ("without shuffle: each group reads only its own group" if not shuffled
                 else "with channel shuffle: every group reads every group" if size >= groups
                 else f"with channel shuffle: every group reads {size} groups")
        ax.set_title(title, fontsize=9, y=1.22)
        ax.set(xlim=(-1, channels), ylim=(-0.3, 1.4))
        ax.axis("off")
    fig.text(0.5, 0.02, f"{channels} channels in {groups} groups; top: inputs of the next grouped "
             f"1×1 conv, boxed by the group that reads them", ha="center", fontsize=8)
    return fig
