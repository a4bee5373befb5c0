"""TorchBackend: plugrl's policy primitives on PyTorch (eager)."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from plugrl.policy.backend import Backend, Gradients
from plugrl.sample_batch import Rows, SampleBatch
from plugrl_torch import export, optim
from plugrl_torch.batches import Minibatch, TensorDict, minibatches, to_tensor
from plugrl_torch.distributions import get_action_dist
from plugrl_torch.recurrent import get_model


class TorchBackend(Backend):
    """Eager PyTorch: the model on ``cuda:0`` when GPUs are reserved and available, else on
    the CPU with as many intra-op threads as CPUs are reserved for the process."""

    name = "torch"

    def __init__(self, config: dict, context: Any):
        super().__init__(config, context)
        use_gpu = self.gpus() > 0 and torch.cuda.is_available()
        if self.gpus() > 0 and not use_gpu:
            warnings.warn(
                f"The config reserves {self.gpus():g} GPU for this policy (num_gpus, or "
                f"num_gpus_per_worker on a rollout worker), but torch {torch.__version__} "
                "sees no CUDA device, so it runs on the CPU. Set it to 0 on a machine without "
                "a GPU, or install a CUDA build of torch.",
                UserWarning,
                stacklevel=2,
            )
        self.device = torch.device("cuda:0" if use_gpu else "cpu")
        if not use_gpu:
            torch.set_num_threads(self.cpus())

    # --- models -----------------------------------------------------------------------------

    action_distribution = staticmethod(get_action_dist)
    build_model = staticmethod(get_model)

    def prepare_model(self, model: Any) -> Any:
        return model.to(self.device)

    def copy_model(self, policy: Any) -> Any:
        target = copy.deepcopy(policy.model)
        target.requires_grad_(False)
        return target

    def default_optimizers(self, model: Any, lr: float, epsilon: float | None = None) -> list[Any]:
        options = {} if epsilon is None else {"eps": epsilon}
        return [adam(model.parameters(), lr, **options)]

    # --- tensors ----------------------------------------------------------------------------

    def tensor(self, value: Any) -> Any:
        return to_tensor(value, self.device)

    def numpy(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            try:
                return value.numpy()  # a CPU tensor outside autograd (acting): no copy
            except (RuntimeError, TypeError):  # it records gradients, or is on a GPU
                return value.detach().cpu().numpy()
        return np.asarray(value)

    def train_batch(self, samples: SampleBatch | Minibatch) -> Mapping[str, Any]:
        return samples if isinstance(samples, Minibatch) else TensorDict(samples, self.device)

    def minibatches(self, samples: SampleBatch, parts: Sequence[Rows]) -> Iterator[Minibatch]:
        return minibatches(samples, parts, self.device)

    def numpy_many(self, values: list[Any]) -> list[Any]:
        """Scalar tensors come back in one copy per device; anything else as :meth:`numpy`."""
        out = list(values)
        by_device: dict[torch.device, list[int]] = {}
        for i, value in enumerate(values):
            if isinstance(value, torch.Tensor) and value.dim() == 0:
                by_device.setdefault(value.device, []).append(i)
            else:
                out[i] = self.numpy(value)
        for indices in by_device.values():
            stacked = torch.stack([values[i].detach().to(torch.float64) for i in indices])
            for i, host in zip(indices, stacked.cpu().numpy(), strict=True):
                out[i] = host
        return out

    def scalar(self, value: float) -> Any:
        return torch.tensor(float(value), dtype=torch.float64, device=self.device)

    def assign(self, scalar: Any, value: float) -> None:
        scalar.fill_(float(value))

    def acting(self, model: Any) -> Any:
        if model.training:  # switched once per change of phase, not per call
            model.eval()
        return torch.inference_mode()

    # --- learning ---------------------------------------------------------------------------

    def loss_and_gradients(
        self, policy: Any, batch: Mapping[str, Any], compute_loss: Callable[[], Any]
    ) -> tuple[Any, Gradients, dict[str, Any]]:
        if not policy.model.training:
            policy.model.train()
        optimizers = policy.optimizers
        for optimizer in optimizers:
            optimizer.zero_grad()
        out = compute_loss()
        extra_stats: dict[str, Any] = {}
        process = policy._template.get("extra_grad_process_fn")  # torch only (RLlib's form)
        losses = out.losses
        for i, (optimizer, loss) in enumerate(zip(optimizers, losses, strict=True)):
            loss.backward(retain_graph=i < len(losses) - 1)
            if process:
                extra_stats.update(process(policy, optimizer, loss) or {})
        return out, [_params(o) for o in optimizers], extra_stats

    def clip_by_global_norm(self, grads: Gradients, clip: float) -> tuple[Gradients, Any]:
        return grads, torch.nn.utils.clip_grad_norm_(_with_grads(grads), clip)

    def global_norm(self, grads: Gradients) -> Any:
        tensors = [p.grad for p in _with_grads(grads)]
        if len({(g.device, g.dtype) for g in tensors}) != 1:
            return torch.nn.utils.get_total_norm(tensors)
        # one vector, one norm: half the time of a norm per weight and a norm of those
        return torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in tensors]))

    def all_finite(self, values: list[Any]) -> Any:
        return torch.isfinite(torch.stack([torch.as_tensor(v).detach() for v in values])).all()

    def apply_gradients(self, policy: Any, grads: Gradients, when: Any = True) -> None:
        optimizers = policy.optimizers
        if isinstance(when, torch.Tensor) and all(map(_skips_on_device, optimizers)):
            skip = (~when).to(torch.float32)  # read where the step runs: no wait for the device
            for optimizer in optimizers:
                optimizer.found_inf = skip
                try:
                    optimizer.step()
                finally:
                    del optimizer.found_inf
        elif bool(when):
            for optimizer in optimizers:
                optimizer.step()

    def gradients_to_numpy(self, policy: Any, grads: Gradients) -> list[np.ndarray]:
        return [
            np.zeros(tuple(p.shape), np.float32) if p.grad is None else self.numpy(p.grad)
            for p in policy.model.parameters()
        ]

    def gradients_from_numpy(self, policy: Any, arrays: list) -> Gradients:
        for param, grad in zip(policy.model.parameters(), arrays, strict=True):
            param.grad = torch.tensor(np.asarray(grad), device=self.device)  # a copy
        return [_params(o) for o in policy.optimizers]

    def set_learning_rate(self, optimizer: Any, lr: Any) -> None:
        for group in optimizer.param_groups:
            group["lr"] = float(lr)

    # --- state ------------------------------------------------------------------------------

    def get_weights(self, model: Any) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}

    def set_weights(self, model: Any, weights: dict[str, Any]) -> None:
        model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in weights.items()})

    def copy_weights(self, source: Any, target: Any) -> None:
        target.load_state_dict(source.state_dict())  # on the device: no trip to the host

    def optimizer_state(self, optimizer: Any) -> Any:
        return _to_numpy_tree(optimizer.state_dict())

    def set_optimizer_state(self, optimizer: Any, state: Any) -> None:
        # the optimizer keeps its own implementation (fused, foreach): a checkpoint written
        # before fused Adam must not switch it back
        kept = [{k: g[k] for k in IMPLEMENTATION if k in g} for g in optimizer.param_groups]
        groups = [{**saved, **own} for saved, own in zip(state["param_groups"], kept, strict=True)]
        fused = any(g.get("fused") for g in kept)  # fused steps count on the weights' device
        entries = {
            int(idx): {
                k: torch.as_tensor(v, device=self.device if k != "step" or fused else "cpu")
                for k, v in values.items()
            }
            for idx, values in state["state"].items()
        }
        optimizer.load_state_dict({"state": entries, "param_groups": groups})

    def export_model(self, policy: Any, export_dir: str, onnx: int | None) -> dict[str, Any]:
        """TorchScript, or ONNX with ``onnx`` (see :mod:`plugrl_torch.export`)."""
        return export.export_model(policy, export_dir, onnx)


IMPLEMENTATION = ("fused", "foreach", "capturable", "differentiable")
"""Optimizer settings that say how it runs, not what it computes (not taken from checkpoints)."""


def adam(params: Any, lr: float, eps: float = 1e-8) -> torch.optim.Adam:
    """Adam as one fused kernel per step (on the CPU about twice as fast as ``foreach`` for
    the small networks RL uses), without importing ``torch._dynamo`` (see :mod:`.optim`)."""
    return optim.Adam(params, lr=lr, eps=eps, fused=True)


def _skips_on_device(optimizer: Any) -> bool:
    """Whether ``optimizer`` leaves its step out when its ``found_inf`` tensor is 1, as torch's
    fused optimizers do for ``torch.amp.GradScaler`` (which sets that attribute the same way)."""
    return getattr(optimizer, "_step_supports_amp_scaling", False)


def _with_grads(grads: Gradients) -> list[torch.Tensor]:
    """The parameters (``grads`` holds each optimizer's) that received a gradient."""
    return [p for group in grads for p in group if p.grad is not None]


def _params(optimizer: Any) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _to_numpy_tree(tree: Any) -> Any:
    if isinstance(tree, torch.Tensor):
        return tree.detach().cpu().numpy().copy()
    if isinstance(tree, dict):
        return {str(k): _to_numpy_tree(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_to_numpy_tree(v) for v in tree]
    return tree
