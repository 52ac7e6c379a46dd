"""The model zoo [note 001: LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet, DenseNet, LSTM], built from
``chainrule.nn`` layers with torchvision's parameter names and module structure, so a state dict
saved from torchvision (e.g. through a safetensors file) loads with ``model.load_state_dict``:

    from chainrule import models, load_file
    model = models.get_model("resnet18")                 # or models.resnet18()
    model.load_state_dict(load_file("resnet18.safetensors"))
    models.list_models()                                 # every registered name
"""
from .alexnet import AlexNet, alexnet, alexnet_cifar
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201, densenet_cifar
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from .lenet import LeNet5, lenet5
from .mlp import MLP, mlp
from .nin import NIN, nin
from .registry import get_model, list_models, model_builder, register_model
from .resnet import (
    CifarResNet,
    ResNet,
    resnet18,
    resnet20,
    resnet32,
    resnet34,
    resnet44,
    resnet50,
    resnet56,
    resnet101,
    resnet110,
    resnet152,
)
from .rnn import LSTMClassifier, lstm_classifier
from .small import SmallCNN, small_cnn
from .transformer import TransformerClassifier, transformer_classifier
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn, vgg_cifar

__all__ = [
    "MLP", "NIN", "VGG", "AlexNet", "CifarResNet", "DenseNet", "GoogLeNet", "GoogLeNetOutputs", "LSTMClassifier",
    "LeNet5", "ResNet", "SmallCNN", "TransformerClassifier", "alexnet", "alexnet_cifar", "densenet121", "densenet161",
    "densenet169", "densenet201", "densenet_cifar", "get_model", "googlenet", "lenet5", "list_models",
    "lstm_classifier", "mlp", "model_builder", "nin", "register_model", "resnet18", "resnet20", "resnet32", "resnet34",
    "resnet44", "resnet50", "resnet56", "resnet101", "resnet110", "resnet152", "small_cnn", "transformer_classifier",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "vgg_cifar",
]
