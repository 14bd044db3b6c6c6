"""convviz: how convolutional networks got cheap, computed and drawn.

Importing ``convviz`` does not import TensorFlow: the cost formulas, receptive
fields and pictures work without it. TensorFlow loads only when a model is
built, read or trained (``convviz.train``, ``convviz.data.load_cifar10``'s
download fallback, ``convviz.models``).
"""
from __future__ import annotations

import os as _os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise in a notebook.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .profiles import PROFILES, Profile, get_profile

__version__ = "0.1.0"
__all__ = ["PROFILES", "Profile", "get_profile", "load_run", "train", "__version__"]


def _register_figure_display() -> None:
    """Show a returned ``matplotlib.figure.Figure`` as a picture in IPython without pyplot.

    The renderers return figures that pyplot does not manage, so the inline backend's own hook
    does not see them. Registered by name: matplotlib is not imported here.
    """
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return

    def png(fig):
        from IPython.core.pylabtools import print_figure

        return print_figure(fig, "png", bbox_inches="tight")

    shell.display_formatter.formatters["image/png"].for_type_by_name("matplotlib.figure", "Figure", png)


_register_figure_display()


def __getattr__(name):
    # Lazy: ``convviz.train`` loads TensorFlow only when called for.
    if name in ("train", "load_run"):
        from . import training

        return getattr(training, name)
    raise AttributeError(f"module 'convviz' has no attribute {name!r}")
