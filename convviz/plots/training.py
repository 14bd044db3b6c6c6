"""Learning curves: a reader's training history beside others or a reference run."""
from __future__ import annotations

from matplotlib.figure import Figure


def learning_curves(histories: dict, references: dict | None = None, *, figsize=(9, 3.2)) -> Figure:
    """Loss and test accuracy per epoch.

    ``histories`` maps a label to a history dict as :func:`convviz.train` records it (``loss``,
    ``accuracy``, ``test_loss``, ``test_accuracy`` lists). ``references`` (same form) are drawn dashed
    in the same colour as the history with the same label, or grey.
    """
    if not isinstance(histories, dict) or not histories:
        raise ValueError("histories must be a non-empty dict of label -> history")
    fig = Figure(figsize=figsize, layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    colors = {}
    for i, (label, h) in enumerate(histories.items()):
        color = f"C{i}"
        colors[label] = color
        epochs = range(1, len(h.get("loss", [])) + 1)
        ax_loss.plot(epochs, h["loss"], color=color, label=f"{label} train")
        if h.get("test_loss"):
            ax_loss.plot(epochs, h["test_loss"], color=color, ls=":", label=f"{label} test")
        if h.get("test_accuracy"):
            ax_acc.plot(epochs, h["test_accuracy"], color=color, marker="o", ms=3, label=label)
    for label, h in (references or {}).items():
        color = colors.get(label, "0.5")
        epochs = range(1, len(h.get("test_accuracy", [])) + 1)
        ax_acc.plot(epochs, h["test_accuracy"], color=color, ls="--", alpha=0.7,
                    label=f"{label} (reference)")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy", ylim=(0, 1))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig
