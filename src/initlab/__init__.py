"""initlab: study how neural-network weight initialization shapes training."""
from ._validation import InitlabError
from .activations import ACTIVATIONS
from .data import DATASETS
from .initializers import INITIALIZERS, calculate_gain, get_initializer, variance_scaling
from .losses import LOSSES
from .network import Network
from .optim import OPTIMIZERS
from .train import Run, TrainOptions, train

__version__ = "0.1.0"
__all__ = [
    "ACTIVATIONS", "DATASETS", "INITIALIZERS", "InitlabError", "LOSSES", "Network", "OPTIMIZERS", "Run",
    "TrainOptions", "calculate_gain", "get_initializer", "train", "variance_scaling",
]
