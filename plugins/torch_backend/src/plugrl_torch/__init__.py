"""plugrl's PyTorch backend: TorchPolicy, build_torch_policy, models and distributions."""

from plugrl_torch.distributions import (
    TorchCategorical,
    TorchDiagGaussian,
    TorchDistribution,
    TorchMultiCategorical,
    get_action_dist,
)
from plugrl_torch.models import FullyConnectedNetwork, TorchModelV2, get_model
from plugrl_torch.policy import TorchPolicy
from plugrl_torch.template import build_torch_policy

__all__ = [
    "FullyConnectedNetwork",
    "TorchCategorical",
    "TorchDiagGaussian",
    "TorchDistribution",
    "TorchModelV2",
    "TorchMultiCategorical",
    "TorchPolicy",
    "build_torch_policy",
    "get_action_dist",
    "get_model",
]
