"""Tools that make the notes' claims measurable: the numerical gradient checker (more to come)."""
from .gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "gradcheck"]
