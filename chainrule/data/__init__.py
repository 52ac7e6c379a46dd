"""Data: datasets, the DataLoader, transforms and feature preprocessing (``torch.utils.data``-shaped).

    from chainrule.data import DataLoader, datasets, transforms as T
    augment = T.Compose([T.RandomCrop(28, padding=2), T.Normalize(0.1307, 0.3081)])
    train = datasets.MNIST(train=True, transform=augment)
    for x, y in DataLoader(train, batch_size=128, shuffle=True, seed=0):
        ...  # x: Tensor (128, 1, 28, 28) float32, y: Tensor (128,) int64
"""
from . import datasets, preprocessing, transforms
from .dataset import ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset, random_split, stratified_split
from .loader import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    default_collate,
    default_convert,
)

__all__ = [
    "ArrayDataset", "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "RandomSampler", "Sampler",
    "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "datasets", "default_collate",
    "default_convert", "preprocessing", "random_split", "stratified_split", "transforms",
]
