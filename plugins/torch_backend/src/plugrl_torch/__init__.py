"""plugrl's PyTorch backend: TorchPolicy, build_torch_policy, models and distributions.

Names load on first use, so ``import plugrl_torch`` (and plugin discovery) does not import
torch.
"""

from plugrl.lazy import lazy_exports

_EXPORTS = {
    "TorchBackend": "plugrl_torch.backend",
    "TorchCategorical": "plugrl_torch.distributions",
    "TorchDiagGaussian": "plugrl_torch.distributions",
    "TorchDistribution": "plugrl_torch.distributions",
    "TorchMultiCategorical": "plugrl_torch.distributions",
    "get_action_dist": "plugrl_torch.distributions",
    "FullyConnectedNetwork": "plugrl_torch.models",
    "VisionNetwork": "plugrl_torch.models",
    "ActionMaskModel": "plugrl_torch.action_mask",
    "TorchModelV2": "plugrl_torch.models",
    "get_model": "plugrl_torch.models",
    "TorchPolicy": "plugrl_torch.policy",
    "build_torch_policy": "plugrl_torch.policy",
}


__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
