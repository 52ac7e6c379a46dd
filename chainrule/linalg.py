"""chainrule.linalg: torch.linalg's names — solving, inverse, determinants, decompositions, pseudo-inverse and
least squares, each differentiable (the formulas and their derivatives are in chainrule/ops/linalg.py).

    import chainrule as cr
    theta = cr.linalg.solve(X.T @ X, X.T @ y)          # the normal equation [note 004], gradient included
    theta = cr.linalg.lstsq(X, y).solution              # the same through the pseudo-inverse
"""
from .ops.linalg import (
    LinAlgError,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matmul,
    matrix_power,
    matrix_rank,
    multi_dot,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
)
from .ops.linalg import linalg_cross as cross
from .ops.reduce import linalg_norm as norm
from .ops.reduce import matrix_norm, vector_norm

__all__ = ["LinAlgError", "cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "lstsq", "matmul", "matrix_norm",
           "matrix_power", "norm", "vector_norm",
           "matrix_rank", "multi_dot", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals"]
