"""Tools that make the notes' claims measurable: the numerical gradient checker, the model summary
(parameters, MACs, receptive field) and the gradient-flow monitor."""
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .gradflow import GradientFlow
from .summary import Summary, summary

__all__ = ["GradcheckError", "GradientFlow", "Summary", "gradcheck", "gradgradcheck", "summary"]
