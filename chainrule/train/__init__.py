"""Training workflow: the loop (``fit``, ``evaluate``), metrics and safe checkpoints."""
from .checkpoint import CheckpointError, checkpoint_files, load_checkpoint, save_checkpoint, save_to_folder
from .metrics import accuracy, confusion_matrix, precision_recall_f1, top_k_accuracy
from .trainer import Callback, History, NonFiniteLossError, evaluate, fit

__all__ = [
    "Callback", "CheckpointError", "History", "NonFiniteLossError", "accuracy", "checkpoint_files", "confusion_matrix",
    "evaluate", "fit", "load_checkpoint", "precision_recall_f1", "save_checkpoint", "save_to_folder", "top_k_accuracy",
]
