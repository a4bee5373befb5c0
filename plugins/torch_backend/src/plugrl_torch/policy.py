"""TorchPolicy: a Policy whose model, loss and optimizer are torch objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from plugrl.exploration import build_exploration
from plugrl.policy import Policy
from plugrl.sample_batch import SampleBatch


class TensorDict(dict):
    """A batch whose numeric numpy columns become tensors on first access."""

    def __init__(self, batch: SampleBatch | dict, device: torch.device):
        super().__init__()
        self._source = batch
        self._device = device

    def __getitem__(self, key: str) -> Any:
        if not dict.__contains__(self, key):
            dict.__setitem__(self, key, to_tensor(self._source[key], self._device))
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._source

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._source else default

    def keys(self):  # type: ignore[override]
        return self._source.keys()

    @property
    def count(self) -> int:
        return len(self._source[next(iter(self._source))])


def to_tensor(value: Any, device: torch.device) -> Any:
    """numpy -> tensor (float64 as float32); object columns stay as they are."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    array = np.asarray(value)
    if array.dtype == object:
        return array
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)


def to_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


class TorchPolicy(Policy):
    """A Policy with a torch ``model``, an action distribution class and a loss.

    Args:
        observation_space, action_space, config: as for :class:`plugrl.Policy`.
        model: a torch model (``TorchModelV2``: ``model(input_dict, state, seq_lens)`` returns
            ``(outputs, state)``).
        loss: ``loss(policy, model, dist_class, train_batch)`` -> a loss tensor (or a list, one
            per optimizer).
        action_distribution_class: builds the distribution from the model outputs.
        action_sampler_fn: ``fn(policy, model, input_dict, state, explore, timestep)`` ->
            ``(actions, logp)``, replacing model + distribution + exploration.
        action_distribution_fn: ``fn(policy, model, obs, *, explore, timestep, is_training)`` ->
            ``(dist_inputs, dist_class, state_out)``, replacing the plain model call.
    """

    framework = "torch"

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        config: dict,
        *,
        model: torch.nn.Module,
        loss: Callable | None,
        action_distribution_class: type,
        action_sampler_fn: Callable | None = None,
        action_distribution_fn: Callable | None = None,
        max_seq_len: int = 20,
    ):
        super().__init__(observation_space, action_space, config)
        gpus = config.get("num_gpus_per_worker" if config.get("worker_index") else "num_gpus")
        use_gpu = bool(gpus) and torch.cuda.is_available()
        self.device = torch.device("cuda:0" if use_gpu else "cpu")
        if not use_gpu:
            # Intra-op threads only slow the small models RL uses (and spin when cores are
            # busy stepping envs): use the CPUs reserved for this process.
            cpus = config.get(
                "num_cpus_per_worker" if config.get("worker_index") else "num_cpus_for_driver", 1
            )
            torch.set_num_threads(max(1, int(cpus or 1)))
        self.model = model.to(self.device)
        self.dist_class = action_distribution_class
        self._loss = loss
        self.action_sampler_fn = action_sampler_fn
        self.action_distribution_fn = action_distribution_fn
        self.max_seq_len = max_seq_len
        self.exploration = build_exploration(
            config["exploration_config"],
            action_space,
            framework="torch",
            policy_config=config,
            model=self.model,
            num_workers=config.get("num_workers", 0),
            worker_index=config.get("worker_index", 0),
        )
        self._optimizers = self.make_optimizers()

    # --- overridable by templates -----------------------------------------------------------

    def make_optimizers(self) -> list[torch.optim.Optimizer]:
        """The optimizers, one per loss term; Adam with ``config["lr"]`` by default."""
        return [torch.optim.Adam(self.model.parameters(), lr=self.config["lr"], foreach=True)]

    def extra_action_out(
        self, input_dict: dict, state: list, model: Any, action_dist: Any
    ) -> dict[str, Any]:
        """Extra columns stored with each action (e.g. value predictions)."""
        return {}

    def extra_grad_process(
        self, optimizer: torch.optim.Optimizer, loss: torch.Tensor
    ) -> dict[str, Any]:
        """Called after backward, before the optimizer step (e.g. gradient clipping)."""
        return {}

    def stats(self, train_batch: Any) -> dict[str, Any]:
        """Learner stats reported after each update."""
        return {}

    def extra_learn_fetches(self) -> dict[str, Any]:
        """Per-row results of the last update returned beside the stats (e.g. TD errors)."""
        return {}

    # --- acting -----------------------------------------------------------------------------

    def compute_actions(
        self,
        obs_batch: Any,
        state_batches: list | None = None,
        prev_action_batch: Any = None,
        prev_reward_batch: Any = None,
        info_batch: Any = None,
        episodes: list | None = None,
        explore: bool | None = None,
        timestep: int | None = None,
        **kwargs: Any,
    ) -> tuple[np.ndarray, list, dict[str, np.ndarray]]:
        explore = self.config["explore"] if explore is None else explore
        timestep = self.global_timestep if timestep is None else timestep
        state_batches = [to_tensor(s, self.device) for s in state_batches or []]
        with torch.inference_mode():
            obs = to_tensor(np.asarray(obs_batch, dtype=np.float32), self.device)
            input_dict = {SampleBatch.OBS: obs, "is_training": False}
            self.exploration.before_compute_actions(timestep=timestep, explore=explore)
            dist = dist_inputs = None
            state_out: list = []
            if self.action_sampler_fn:
                actions, logp = self.action_sampler_fn(
                    self,
                    self.model,
                    input_dict,
                    state_batches,
                    explore=explore,
                    timestep=timestep,
                )
            else:
                if self.action_distribution_fn:
                    dist_inputs, dist_class, state_out = self.action_distribution_fn(
                        self,
                        self.model,
                        obs,
                        explore=explore,
                        timestep=timestep,
                        is_training=False,
                    )
                else:
                    dist_class = self.dist_class
                    dist_inputs, state_out = self.model(input_dict, state_batches, None)
                dist = dist_class(dist_inputs, self.model)
                actions, logp = self.exploration.get_exploration_action(
                    action_distribution=dist, timestep=timestep, explore=explore
                )
            extra: dict[str, Any] = {}
            if dist_inputs is not None:
                extra[SampleBatch.ACTION_DIST_INPUTS] = dist_inputs
            if logp is not None:
                logp = torch.as_tensor(logp)
                extra[SampleBatch.ACTION_LOGP] = logp
                extra[SampleBatch.ACTION_PROB] = torch.exp(logp)
            extra.update(self.extra_action_out(input_dict, state_batches, self.model, dist))
        self.global_timestep += len(obs)
        return (
            to_numpy(actions),
            [to_numpy(s) for s in state_out],
            {k: to_numpy(v) for k, v in extra.items()},
        )

    # --- learning ---------------------------------------------------------------------------

    def _losses(self, samples: SampleBatch) -> tuple[list[torch.Tensor], TensorDict]:
        if self._loss is None:
            raise NotImplementedError(f"{type(self).__name__} has no loss function")
        train_batch = TensorDict(samples, self.device)
        out = self._loss(self, self.model, self.dist_class, train_batch)
        losses = list(out) if isinstance(out, (list, tuple)) else [out]
        if len(losses) != len(self._optimizers):
            raise ValueError(
                f"{type(self).__name__}: the loss returned {len(losses)} terms "
                f"for {len(self._optimizers)} optimizers"
            )
        return losses, train_batch

    def _backward(self, samples: SampleBatch) -> dict[str, Any]:
        """Gradients of every loss term into its optimizer's parameters; returns stats."""
        self.model.train()
        losses, train_batch = self._losses(samples)
        for optimizer in self._optimizers:
            optimizer.zero_grad()
        info: dict[str, Any] = {}
        for i, (optimizer, loss) in enumerate(zip(self._optimizers, losses, strict=True)):
            loss.backward(retain_graph=i < len(losses) - 1)
            info.update(self.extra_grad_process(optimizer, loss))
        info.update(self.stats(train_batch))
        fetches = {k: to_numpy(v) for k, v in self.extra_learn_fetches().items()}
        return {"learner_stats": _scalars(info), **fetches}

    def learn_on_batch(self, samples: SampleBatch) -> dict[str, Any]:
        """One gradient step per optimizer on ``samples``."""
        info = self._backward(samples)
        for optimizer in self._optimizers:
            optimizer.step()
        return info

    def compute_gradients(self, postprocessed_batch: SampleBatch) -> tuple[list, dict]:
        """Gradients (numpy, one per parameter) of the losses, and learner stats."""
        info = self._backward(postprocessed_batch)
        grads = [
            np.zeros(tuple(p.shape), np.float32) if p.grad is None else to_numpy(p.grad)
            for p in self.model.parameters()
        ]
        return grads, info

    def apply_gradients(self, gradients: list) -> None:
        for param, grad in zip(self.model.parameters(), gradients, strict=True):
            param.grad = torch.tensor(np.asarray(grad), device=self.device)  # a copy
        for optimizer in self._optimizers:
            optimizer.step()

    # --- state ------------------------------------------------------------------------------

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}

    def set_weights(self, weights: dict[str, Any]) -> None:
        state = {k: torch.as_tensor(np.asarray(v)) for k, v in weights.items()}
        self.model.load_state_dict(state)

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["optimizers"] = [_to_numpy_tree(o.state_dict()) for o in self._optimizers]
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        for optimizer, saved in zip(self._optimizers, state.get("optimizers", []), strict=False):
            optimizer.load_state_dict(_optimizer_state_from_numpy(saved, self.device))


def _scalars(info: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in info.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            value = value.item() if value.numel() == 1 else value.numpy()
        out[key] = value
    return out


def _to_numpy_tree(tree: Any) -> Any:
    if isinstance(tree, torch.Tensor):
        return tree.detach().cpu().numpy().copy()
    if isinstance(tree, dict):
        return {str(k): _to_numpy_tree(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_to_numpy_tree(v) for v in tree]
    return tree


def _optimizer_state_from_numpy(saved: dict, device: torch.device) -> dict:
    state = {
        int(idx): {
            k: torch.as_tensor(v, device=device if k != "step" else "cpu")
            for k, v in entries.items()
        }
        for idx, entries in saved["state"].items()
    }
    return {"state": state, "param_groups": saved["param_groups"]}
