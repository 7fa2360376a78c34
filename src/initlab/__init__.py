"""initlab: study how neural-network weight initialization shapes training."""
from ._validation import InitlabError
from .activations import ACTIVATIONS
from .branches import BRANCHES
from .data import DATASETS
from .initializers import INITIALIZERS, calculate_gain, get_initializer, variance_scaling
from .losses import LOSSES
from .network import Network, residual_network
from .optim import OPTIMIZERS
from .rescaling import lsuv
from .training import Run, TrainOptions, train
from ._version import __version__


def __getattr__(name):
    """The scikit-learn estimators, imported on first use (scikit-learn costs ~1 s at start-up)."""
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'initlab' has no attribute {name!r}")

__all__ = [
    "ACTIVATIONS", "BRANCHES", "DATASETS", "INITIALIZERS", "InitlabError", "LOSSES", "MLPClassifier", "MLPRegressor", "Network", "OPTIMIZERS", "Run",
    "TrainOptions", "calculate_gain", "get_initializer", "lsuv", "residual_network", "train", "variance_scaling",
]
