"""Differentiable operations, one module per family; each op is a Function with forward and backward."""
