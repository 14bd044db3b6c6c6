"""Models by name: a SPEC string into a built Keras model, never downloading weights.

A SPEC is one of

- a saved model file: ``path/to/model.keras`` (loaded with ``compile=False``);
- a teaching model, ``NAME[:key=value,...]``, from
  ``convviz.models.teaching.TEACHING_MODELS`` (the keys are its builder's arguments);
- a ``keras.applications`` constructor, ``NAME[:key=value,...]``, built with
  ``weights=None``: ``MobileNet:alpha=0.5,input=160``. The keys are the
  constructor's arguments (``alpha``, ``include_top``, ``classes``...), and
  ``input`` sets ``input_shape``: ``160`` for 160x160x3, ``160x120`` or
  ``160x120x1``. A model whose default input size is open (MobileNetV3) is
  built at 224x224.

Values are read as int, float, ``true``/``false``, ``none``, or else kept as text.
Unknown names and options raise ValueError listing what is available.
"""
from __future__ import annotations

import inspect
import os

DEFAULT_SIZE = 224
_NOT_OPTIONS = ("weights", "input_tensor", "input_shape", "name")


def _value(text: str):
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_spec(spec: str) -> tuple[str, dict]:
    """``"MobileNet:alpha=0.5,input=160"`` -> ``("MobileNet", {"alpha": 0.5, "input": 160})``."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"spec must be a model name, NAME:key=value,... or a .keras file; "
                         f"got {spec!r}")
    name, _, rest = spec.strip().partition(":")
    options = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, text = item.partition("=")
        if not eq or not key.strip() or not text.strip():
            raise ValueError(f"options in spec {spec!r} must be key=value pairs separated by "
                             f"commas; got {item!r}")
        options[key.strip()] = _value(text)
    return name.strip(), options


def input_shape(value) -> tuple[int, int, int]:
    """``160`` -> (160, 160, 3); ``"160x120"`` -> (160, 120, 3); ``"160x120x1"`` as written."""
    parts = [value] if isinstance(value, int) else str(value).lower().split("x")
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        dims = []
    if len(dims) == 1:
        dims = dims * 2
    if len(dims) == 2:
        dims.append(3)
    if len(dims) != 3 or min(dims) < 1 or isinstance(value, bool):
        raise ValueError(f"input must be a size N, HxW or HxWxC of positive ints; got {value!r}")
    return tuple(dims)


def teaching_models() -> dict:
    """``convviz.models.teaching.TEACHING_MODELS``, or {} while that module is missing."""
    try:
        from convviz.models.teaching import TEACHING_MODELS
    except ImportError:
        return {}
    return dict(TEACHING_MODELS or {})


def application_names() -> list[str]:
    """The model constructors in ``keras.applications`` (VGG16, MobileNet, Xception...)."""
    import keras

    return sorted(n for n in dir(keras.applications)
                  if n[:1].isupper() and callable(getattr(keras.applications, n)))


def available() -> list[str]:
    """Every model name a SPEC may use: teaching models first, then keras.applications."""
    return sorted(teaching_models()) + application_names()


def _options_for(builder, options: dict, name: str, excluded=()) -> dict:
    """``options`` checked against ``builder``'s arguments."""
    params = inspect.signature(builder).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    allowed = [p for p in params if p not in excluded
               and params[p].kind not in (params[p].VAR_KEYWORD, params[p].VAR_POSITIONAL)]
    if "input_shape" in params:
        allowed.append("input")
    unknown = [k for k in options if k not in allowed and not takes_any]
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {name}; available: "
                         f"{', '.join(sorted(allowed)) or 'none'}")
    kwargs = dict(options)
    if "input" in kwargs:
        kwargs["input_shape"] = input_shape(kwargs.pop("input"))
    return kwargs


def build(spec: str):
    """The Keras model a SPEC names (see the module docstring)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if isinstance(spec, str) and spec.strip().lower().endswith(".keras"):
        path = spec.strip()
        if not os.path.isfile(path):
            raise ValueError(f"model file {path!r} does not exist")
        import keras

        return keras.saving.load_model(path, compile=False)
    name, options = parse_spec(spec)
    teaching = teaching_models()
    if name in teaching:
        return teaching[name](**_options_for(teaching[name], options, name))
    import keras

    if name not in application_names():
        close = [n for n in available() if n.lower() == name.lower()]
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; available: a .keras file, or "
                         f"{', '.join(available())}")
    builder = getattr(keras.applications, name)
    kwargs = _options_for(builder, options, name, excluded=_NOT_OPTIONS)
    model = builder(weights=None, **kwargs)
    if "input_shape" not in kwargs and None in tuple(model.inputs[0].shape[1:3]):
        model = builder(weights=None, input_shape=(DEFAULT_SIZE, DEFAULT_SIZE, 3), **kwargs)
    return model

