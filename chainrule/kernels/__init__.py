"""The fast kernels: the same ops as ``chainrule/ops/``, computed faster — in blocks that stay in the CPU cache,
split over threads (``parallel.py``), with fused tricks — each class subclassing the reference op it must equal
(the tests check fast == reference == PyTorch). The ops call these by default; ``chainrule.use_reference()``
(or ``CHAINRULE_REFERENCE=1``) makes them compute by the reference forms, the notes' formulas in plain NumPy.

Read ``chainrule/ops/`` first: each op there says what it computes and why; a kernel here only says how it
computes the same faster. Each ``ops`` module imports its kernels module at its end, as ``fast``.
"""
