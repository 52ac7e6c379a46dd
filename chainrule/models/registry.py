"""The model registry (``list_models``, ``get_model``, ``model_builder``) and the input check every model shares."""
import difflib

_MODELS = {}


def register_model(fn=None, *, name=None):
    """Decorator: record a model builder under ``name`` (default: the function's name)."""

    def record(f):
        key = name or f.__name__
        if key in _MODELS and _MODELS[key] is not f:
            raise ValueError(f"register_model: a model named {key!r} is already registered")
        _MODELS[key] = f
        return f

    return record(fn) if fn is not None else record


def list_models():
    """The registered model names, sorted."""
    return sorted(_MODELS)


def model_builder(name):
    """The function registered as ``name`` (KeyError naming the closest names if there is none)."""
    if name not in _MODELS:
        close = difflib.get_close_matches(str(name), _MODELS, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown model {name!r}.{hint} Available: {', '.join(list_models())}")
    return _MODELS[name]


def get_model(name, **kwargs):
    """Build the model registered as ``name`` with the builder's keyword arguments,
    e.g. ``get_model("resnet18", num_classes=10)``."""
    return model_builder(name)(**kwargs)


def check_image_input(x, model, channels, min_size=None, size=None):
    """Raise a ValueError naming ``model`` and the input it expects unless ``x`` is (N, channels, H, W)
    with H, W >= ``min_size`` (or exactly ``size`` = (H, W))."""
    shape = tuple(getattr(x, "shape", ()))
    if size is not None:
        expected = f"(N, {channels}, {size[0]}, {size[1]})"
        ok = len(shape) == 4 and shape[1] == channels and shape[2:] == tuple(size)
    else:
        expected = f"(N, {channels}, H, W) with H, W >= {min_size}"
        ok = len(shape) == 4 and shape[1] == channels and min(shape[2:]) >= min_size
    if not ok:
        raise ValueError(f"{model}: expected input {expected}, got shape {shape}")
