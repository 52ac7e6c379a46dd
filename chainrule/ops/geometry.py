"""Window geometry shared by convolution and pooling [note 000, note 003]: the int-or-pair arguments, the
output size of a sliding window, the 'valid' / 'same' / 'full' padding rules and spatial padding."""
import numpy as np


def pair(v, name, op):
    """An int or a pair (``kernel_size``, ``stride``, ``padding``…) as a pair of ints; ``op`` names the op in errors."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair, got {v}")
    return v




def conv_output_size(size, kernel, stride=1, padding=0, dilation=1, ceil_mode=False):
    """Output length of a convolution or pooling window along one dim [note 003]:
    ⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (⌈…⌉ with ``ceil_mode``).

    ``padding`` may be an int, a (before, after) pair, or 'valid' / 'same' / 'full' (see ``same_padding``).
    With ``ceil_mode`` the last window must start inside the input or the left padding (PyTorch's rule).
    """
    if isinstance(padding, str):
        before, after = resolve_padding(padding, size, kernel, stride, dilation)
    elif isinstance(padding, (tuple, list)):
        before, after = padding
    else:
        before = after = padding
    span = size + before + after - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return max(span // stride + 1, 0)
    # ceil may keep a window that overhangs the padded input (span < 0 included), as PyTorch does
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + before:
        out -= 1
    return max(out, 0)




def same_padding(size, kernel, stride=1, dilation=1):
    """TensorFlow's SAME rule: output ⌈size / stride⌉, total pad split with the extra on the bottom/right.
    For stride 1 this is also PyTorch's padding='same'."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2




def resolve_padding(padding, size, kernel, stride=1, dilation=1):
    """(before, after) padding of one dim for 'valid' (none), 'same' (keep size/stride) or 'full'
    (dilation·(kernel − 1) each side: every partial overlap, the output grows)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return same_padding(size, kernel, stride, dilation)
    if padding == "full":
        return dilation * (kernel - 1), dilation * (kernel - 1)
    raise ValueError(f"padding must be an int, a tuple, 'valid', 'same' or 'full', got {padding!r}")




def pad_spatial(x, pads, value=0.0):
    """Pad the last two dims of an (N, C, H, W) array by (top, bottom, left, right); no copy if all 0."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out




def conv_pads(padding, size, kernel, stride, dilation, op):
    """Padding argument → (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding not in ("valid", "same", "full"):
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid', 'same' or 'full', got {padding!r}")
        (t, b), (l, r) = (resolve_padding(padding, size[i], kernel[i], stride[i], dilation[i]) for i in range(2))
        return t, b, l, r
    ph, pw = pair(padding, "padding", op)
    if ph < 0 or pw < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return ph, ph, pw, pw




def single(v, name, op):
    """An int or a 1-tuple (a 1-D op's ``kernel_size``, ``stride``…) as an int."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v}")
        return int(v[0])
    return int(v)
