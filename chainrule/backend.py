"""The one place that picks the array module. NumPy today; a CuPy-shaped module could be swapped in."""
import numpy as xp

__all__ = ["xp"]
