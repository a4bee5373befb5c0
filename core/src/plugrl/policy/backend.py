"""Backend: the tensor primitives one deep-learning framework supplies to the kernel's policy.

Everything above these primitives (the outline of acting, learning, gradients, stats and
state) is written once, in :class:`~plugrl.policy.template.TemplatePolicy`. A framework plugin
subclasses :class:`Backend`, implements the abstract methods, and overrides the ``compile_*``
methods where it can run a step faster than calling the kernel's Python function (TF traces
them with ``tf.function``). A new framework touches no algorithm.

A backend instance belongs to one policy; ``gradients`` are in whatever form the backend
likes (the kernel only hands them back to the same backend).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from plugrl.export import ExportError
from plugrl.sample_batch import Rows, SampleBatch
from plugrl.worker_context import WorkerContext

Gradients = list[Any]
"""One entry per optimizer, in the backend's own form."""


class Backend:
    """Tensor primitives for one framework, for one policy.

    Args:
        config: the policy's config (``num_gpus``, ``num_cpus_*``, ``eager_tracing``...).
        context: which worker the policy lives on.
    """

    name: str = ""
    """The framework's name (``config["framework"]``)."""

    def __init__(self, config: dict, context: WorkerContext):
        self.config = config
        self.context = context

    def cpus(self) -> int:
        """CPUs reserved for this process: the intra-op threads a backend should use (extra
        threads on the small models RL uses only spin while the envs step)."""
        key = "num_cpus_per_worker" if self.context.worker_index else "num_cpus_for_driver"
        return max(1, int(self.config.get(key) or 1))

    def gpus(self) -> float:
        """GPUs reserved for this process."""
        key = "num_gpus_per_worker" if self.context.worker_index else "num_gpus"
        return float(self.config.get(key) or 0)

    # --- models -----------------------------------------------------------------------------

    def action_distribution(self, action_space: Any, model_config: dict) -> tuple[type, int]:
        """The distribution class for ``action_space`` and the model outputs it needs."""
        raise NotImplementedError

    def build_model(
        self, obs_space: Any, action_space: Any, num_outputs: int, model_config: dict
    ) -> Any:
        """The model ``model_config`` asks for (a custom one or the default network)."""
        raise NotImplementedError

    def prepare_model(self, model: Any) -> Any:
        """Ready a model for this process (device placement, variables built)."""
        return model

    def copy_model(self, policy: Any) -> Any:
        """A second model like ``policy.model``, with its weights (a target network)."""
        model = policy.make_model()
        self.copy_weights(policy.model, model)
        return model

    def default_optimizers(self, model: Any, lr: float, epsilon: float | None = None) -> list[Any]:
        """The optimizers when an algorithm names none: Adam on every weight (``epsilon``: its
        epsilon, None for the framework's default)."""
        raise NotImplementedError

    def prepare_optimizers(self, model: Any, optimizers: list[Any]) -> None:
        """Ready the optimizers (e.g. make their state variables before anything is traced)."""

    # --- tensors ----------------------------------------------------------------------------

    def tensor(self, value: Any) -> Any:
        """A numpy array (float64 as float32) as a tensor."""
        raise NotImplementedError

    def numpy(self, value: Any) -> Any:
        """A tensor (or a scalar variable) as numpy; anything else through ``np.asarray``."""
        raise NotImplementedError

    def train_batch(self, samples: SampleBatch) -> Mapping[str, Any]:
        """The numeric columns of ``samples`` as tensors, as a loss reads them."""
        raise NotImplementedError

    def minibatches(self, samples: SampleBatch, parts: Sequence[Rows]) -> Iterator[Any]:
        """Each of ``parts`` (some rows of ``samples``) as the compiled learning step takes
        it. By default a SampleBatch of those rows, made tensors as the step runs; a backend
        that can keep the whole batch on its device overrides this to make it tensors once."""
        return (samples.take(rows) for rows in parts)

    def numpy_many(self, values: list[Any]) -> list[Any]:
        """Each of ``values`` as :meth:`numpy` makes it; a backend overrides this to bring
        them back from its device together."""
        return [self.numpy(value) for value in values]

    def scalar(self, value: float) -> Any:
        """A mutable float that compiled code reads afresh on every call."""
        raise NotImplementedError

    def assign(self, scalar: Any, value: float) -> None:
        raise NotImplementedError

    def acting(self, model: Any) -> AbstractContextManager:
        """A context for ``model``'s forward passes outside learning (actions, values,
        log-likelihoods): nothing records gradients, and the model is in its inference mode
        (torch: ``eval()``, so dropout is off and batch norm uses its running statistics;
        learning puts it back in training mode)."""
        raise NotImplementedError

    # --- learning ---------------------------------------------------------------------------

    def loss_and_gradients(
        self, policy: Any, batch: Mapping[str, Any], compute_loss: Callable[[], Any]
    ) -> tuple[Any, Gradients, dict[str, Any]]:
        """Run ``compute_loss()`` (a :class:`~plugrl.policy.loss.LossOutput` on ``batch``)
        recording gradients, and differentiate each of its losses for its optimizer. Returns
        the loss output, the gradients and stats of framework-only gradient hooks."""
        raise NotImplementedError

    def clip_by_global_norm(self, grads: Gradients, clip: float) -> tuple[Gradients, Any]:
        """Gradients scaled to a global norm of at most ``clip``, and the norm before."""
        raise NotImplementedError

    def global_norm(self, grads: Gradients) -> Any:
        """The norm of all gradients together (a scalar tensor)."""
        raise NotImplementedError

    def all_finite(self, values: list[Any]) -> Any:
        """Whether every scalar tensor in ``values`` is finite (a boolean tensor)."""
        raise NotImplementedError

    def apply_gradients(self, policy: Any, grads: Gradients, when: Any = True) -> None:
        """One step of each optimizer with its gradients; none when ``when`` (a boolean
        tensor) is false."""
        raise NotImplementedError

    def gradients_to_numpy(self, policy: Any, grads: Gradients) -> list[np.ndarray]:
        """One numpy gradient per trainable weight of the model, summed over optimizers."""
        raise NotImplementedError

    def gradients_from_numpy(self, policy: Any, arrays: list) -> Gradients:
        """The inverse of :meth:`gradients_to_numpy` (e.g. a remote worker's gradients)."""
        raise NotImplementedError

    def set_learning_rate(self, optimizer: Any, lr: Any) -> None:
        raise NotImplementedError

    # --- state ------------------------------------------------------------------------------

    def get_weights(self, model: Any) -> dict[str, np.ndarray]:
        """The model's weights by name; the names are the same in every backend."""
        raise NotImplementedError

    def set_weights(self, model: Any, weights: dict[str, Any]) -> None:
        raise NotImplementedError

    def copy_weights(self, source: Any, target: Any) -> None:
        """Give ``target`` (a model built like ``source``) ``source``'s weights (a target
        network's update); a backend may copy them without a trip through numpy."""
        self.set_weights(target, self.get_weights(source))

    def optimizer_state(self, optimizer: Any) -> Any:
        """The optimizer's state as numpy arrays and plain values."""
        raise NotImplementedError

    def set_optimizer_state(self, optimizer: Any, state: Any) -> None:
        raise NotImplementedError

    def export_model(self, policy: Any, export_dir: str, onnx: int | None) -> dict[str, Any]:
        """Write ``policy.model``'s forward pass into ``export_dir`` (see :mod:`plugrl.export`:
        input ``obs``, outputs ``dist_inputs`` and ``value`` if the model has one) in this
        framework's format, or as ONNX of opset ``onnx``; return its ``format``, ``file`` and
        ``outputs``."""
        raise ExportError(
            f"The {self.name or type(self).__name__!r} backend cannot export models; train with "
            "framework 'torch' or 'tf' to export."
        )

    # --- compiled steps (override to run them faster) ---------------------------------------

    def compile(self, fn: Callable) -> Callable:
        """``fn`` (which computes on tensors) as this backend runs it best; as is by default."""
        return fn

    def compile_forward(self, policy: Any, forward: Callable) -> Callable:
        """The acting forward pass: ``forward(obs, state, explore, timestep)`` returns the
        action distribution, the state out and extra action outputs; so does the result,
        with the distribution's inputs among the extra outputs."""

        def run(obs: Any, state: list, explore: bool, timestep: int) -> tuple:
            dist, state_out, extra = forward(obs, state, explore, timestep)
            extra[SampleBatch.ACTION_DIST_INPUTS] = dist.inputs
            return dist, state_out, extra

        return run

    def compile_learning(self, step: Callable[[Mapping[str, Any]], Any]) -> Callable:
        """A learning step on a batch of tensors, as a function of a SampleBatch."""
        return lambda samples: step(self.train_batch(samples))

    def compile_unreported_learning(
        self, step: Callable[[Mapping[str, Any]], Any], reported: Callable
    ) -> Callable:
        """The update whose stats are not read, ``step`` (returning ``(checks, finite)``), as
        a function of a SampleBatch. A backend where the stats cost next to nothing may run
        the compiled ``reported`` step (``(stats, fetches, finite)``) instead."""
        return self.compile_learning(step)
