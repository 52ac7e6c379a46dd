"""matplotlib with the file-only Agg backend, and the habits every lab figure shares.

    fig, axes = figure(1, 2, figsize=(12, 4.4))   # constrained layout: titles and labels are never clipped
    legend(ax, "right")                            # off the curves: beside the axes, or below them
    layer_ticks(ax, names)                         # one integer tick per layer, labelled with its name
    log_ticks(ax, "x", values=lrs)                 # a log axis read in plain numbers, ticks where the data are
    cell_values(ax, image, array)                  # each cell's value in black or white, whichever reads on it
    save(fig, path)
"""
import numpy as np


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure(nrows=1, ncols=1, **kwargs):
    """``plt.subplots`` with constrained layout, which leaves room for every title, label and outside legend."""
    return pyplot().subplots(nrows, ncols, layout="constrained", **kwargs)


def save(fig, path, dpi=100):
    """Write the PNG and free the figure. ``bbox_inches="tight"`` keeps whatever was drawn past the canvas
    (a long title, a legend beside the axes) in the picture instead of cutting it off."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.08)
    pyplot().close(fig)


def legend(ax, where="best", fontsize="small", **kwargs):
    """A legend that does not cover the data: ``"right"`` beside the axes, ``"below"`` under them (in columns),
    or a matplotlib ``loc`` such as ``"best"`` (the corner with the fewest points) when the plot has room."""
    if where == "right":
        kwargs = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, **kwargs}
    elif where == "below":
        kwargs = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.16), "ncol": 3, **kwargs}
    else:
        kwargs = {"loc": where, **kwargs}
    return ax.legend(fontsize=fontsize, **kwargs)


def layer_ticks(ax, names=None, first=1, axis="x", rotation=None):
    """Integer ticks for a per-layer axis (layers ``first``, ``first + 1``, ...). With ``names``, one tick
    per layer labelled with its name (turned when there are many); without, only whole numbers."""
    from matplotlib.ticker import MaxNLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    if names is None:
        target.set_major_locator(MaxNLocator(integer=True))
        return
    positions = np.arange(first, first + len(names))
    if rotation is None:
        longest = max(map(len, names))
        rotation = 0 if longest <= 3 or (len(names) <= 6 and longest <= 10) else 45
    if axis == "x":
        ax.set_xticks(positions, names, rotation=rotation, ha="right" if rotation else "center",
                      rotation_mode="anchor", fontsize="small")
    else:
        ax.set_yticks(positions, names, fontsize="small")


def log_ticks(ax, axis="y", values=None):
    """Plain-number labels on a log axis. With ``values`` (the learning rates, sizes, ... the data sit at), one
    tick at each of them; without, when the axis spans one to a few decades, labelled ticks at 1, 2, 5 × 10ᵏ (under
    1.3 decades) or 1, 3 × 10ᵏ (under 2.6), where matplotlib would label only one or two powers of ten (under one
    decade matplotlib labels its minor ticks itself). Call it after plotting, once the limits are known."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    if values is not None:
        target.set_major_locator(FixedLocator(sorted(set(values))))
        target.set_major_formatter(plain)
        target.set_minor_locator(NullLocator())
        return
    low, high = ax.get_xlim() if axis == "x" else ax.get_ylim()
    decades = np.log10(high / low)
    if not 1.0 <= decades <= 2.6:
        return
    target.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades < 1.3 else (1.0, 3.0)))
    target.set_major_formatter(plain)
    target.set_minor_formatter(NullFormatter())


def text_colour(rgba):
    """Black or white, whichever reads on a cell of colour ``rgba`` (by its luma, ITU-R BT.601)."""
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def cell_values(ax, image, array, fmt="{:.3g}", fontsize=11):
    """Write each cell's value of a 2-D ``array`` shown by ``image = ax.imshow(array)`` on its cell."""
    for (i, j), v in np.ndenumerate(array):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize,
                color=text_colour(image.cmap(image.norm(v))))
