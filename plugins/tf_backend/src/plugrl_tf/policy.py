"""TFPolicy: a Policy whose model, loss and optimizers are TensorFlow 2 objects, run eagerly.

With ``config["eager_tracing"]`` the model's forward pass (with ``extra_action_fetches``) and
the whole learning step (loss, gradients, optimizer update, stats) run as ``tf.function``s.
Exploration always runs eagerly, since explorations may use numpy. Values a traced loss reads
from the policy must not be Python numbers that change (they would be frozen into the trace):
keep them in :class:`~plugrl_tf.mixins.TracedScalar` attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.errors import CheckpointError
from plugrl.exploration import build_exploration
from plugrl.policy import Policy
from plugrl.sample_batch import SampleBatch
from plugrl_tf._tf import tf
from plugrl_tf.distributions import TFDistribution

GradsAndVars = list[tuple[tf.Tensor, Any]]


class GradientComputer:
    """What ``gradients_fn(policy, optimizer, loss)`` receives as ``optimizer``: the Keras
    optimizer (``.optimizer``) and ``compute_gradients(loss, var_list=None)``, which
    differentiates through the tape the loss was recorded on."""

    def __init__(self, optimizer: Any, tape: tf.GradientTape, variables: list[Any]):
        self.optimizer = optimizer
        self._tape = tape
        self._variables = variables

    def compute_gradients(self, loss: tf.Tensor, var_list: list | None = None) -> GradsAndVars:
        variables = self._variables if var_list is None else list(var_list)
        return list(zip(self._tape.gradient(loss, variables), variables, strict=True))


class TFPolicy(Policy):
    """A Policy with a TF ``model``, an action distribution class and a loss.

    Args:
        observation_space, action_space, config: as for :class:`plugrl.Policy`.
        model: a :class:`~plugrl_tf.models.TFModelV2` (``model(input_dict, state, seq_lens)``
            returns ``(outputs, state)``).
        loss: ``loss(policy, model, dist_class, train_batch)`` -> a loss tensor (or a list, one
            per optimizer); ``train_batch`` maps column names to tensors.
        action_distribution_class: builds the distribution from the model outputs.
        action_sampler_fn: ``fn(policy, model, input_dict, state, explore, timestep)`` ->
            ``(actions, logp)``, replacing model + distribution + exploration (always eager).
        action_distribution_fn: ``fn(policy, model, obs, *, explore, timestep, is_training)``
            -> ``(dist_inputs, dist_class, state_out)``, replacing the plain model call (when
            traced, ``timestep`` is a tensor and ``dist_class`` must not change between calls).
    """

    framework = "tf"

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        config: dict,
        *,
        model: Any,
        loss: Callable | None,
        action_distribution_class: type,
        action_sampler_fn: Callable | None = None,
        action_distribution_fn: Callable | None = None,
    ):
        super().__init__(observation_space, action_space, config)
        cpus = config.get(
            "num_cpus_per_worker" if config.get("worker_index") else "num_cpus_for_driver", 1
        )
        _set_threads(max(1, int(cpus or 1)))
        self.model = model
        self.dist_class = action_distribution_class
        self._loss = loss
        self.action_sampler_fn = action_sampler_fn
        self.action_distribution_fn = action_distribution_fn
        self._forward_dist_class = action_distribution_class
        self.exploration = build_exploration(
            config["exploration_config"],
            action_space,
            framework="tf",
            policy_config=config,
            model=self.model,
            num_workers=config.get("num_workers", 0),
            worker_index=config.get("worker_index", 0),
        )
        if not self.model.variables():  # Keras models make their variables on the first call
            obs = np.zeros((1, *observation_space.shape), np.float32)
            self.model({SampleBatch.OBS: obs, "is_training": False}, [], None)
        self._optimizers = self.make_optimizers()
        self._optimizer_vars: list[list[Any]] | None = None
        for optimizer in self._optimizers:
            optimizer.build(self.model.trainable_variables())
        self.tracing = bool(config.get("eager_tracing"))
        self._forward = self._trace(self._forward_eager)
        # Traced forward passes of feed-forward models, one per explore value, with a fixed
        # signature: calling them costs less than the general one above.
        self._fast_forward: dict[bool, Callable] = {}
        self._learn_keys: list[str] | None = None  # the columns the traced loss reads
        self._learn_fetch_keys: tuple[str, ...] = ()
        self._learn_step = self._trace(self._learn_step_eager)
        self._gradients_step = self._trace(self._gradients_step_eager)
        self._apply_step = self._trace(self._apply_step_eager)

    def _trace(self, fn: Callable) -> Callable:
        return tf.function(fn, reduce_retracing=True) if self.tracing else fn

    # --- overridable by templates -----------------------------------------------------------

    def make_optimizers(self) -> list[Any]:
        """The optimizers, one per loss term; Keras Adam with ``config["lr"]`` by default."""
        return [tf.keras.optimizers.Adam(learning_rate=self.config["lr"])]

    def extra_action_fetches(self) -> dict[str, tf.Tensor]:
        """Extra columns stored with each action, read after the forward pass (e.g. values)."""
        return {}

    def gradients(self, optimizer: GradientComputer, loss: tf.Tensor) -> GradsAndVars:
        """``(gradient, variable)`` pairs of ``loss`` (e.g. clipped)."""
        return optimizer.compute_gradients(loss)

    def apply_gradients(self, gradients: list) -> None:
        """Apply one gradient per trainable variable (as from :meth:`compute_gradients`)."""
        self._apply_step([tf.convert_to_tensor(g) for g in gradients])

    def apply_grads_and_vars(self, optimizer: Any, grads_and_vars: GradsAndVars) -> None:
        """One optimizer step (template: ``apply_gradients_fn``)."""
        optimizer.apply_gradients(grads_and_vars)

    def grad_stats(self, train_batch: dict, grads: list) -> dict[str, Any]:
        """Stats on the gradients, reported with the learner stats."""
        return {}

    def extra_learn_fetches(self) -> dict[str, Any]:
        """Extra values returned by each learning step."""
        return {}

    def stats(self, train_batch: dict) -> dict[str, Any]:
        """Learner stats reported after each update."""
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
        explore = self.config["explore"] if explore is None else bool(explore)
        timestep = self.global_timestep if timestep is None else timestep
        obs = tf.convert_to_tensor(np.asarray(obs_batch, dtype=np.float32))
        state = [tf.convert_to_tensor(s) for s in state_batches or []]
        self.exploration.before_compute_actions(timestep=timestep, explore=explore)
        extra: dict[str, Any] = {}
        state_out: list = []
        if self.action_sampler_fn:
            input_dict = {SampleBatch.OBS: obs, "is_training": False}
            actions, logp = self.action_sampler_fn(
                self, self.model, input_dict, state, explore=explore, timestep=timestep
            )
        else:
            dist_inputs, state_out, extra, draws = self._run_forward(obs, state, explore, timestep)
            dist = self._forward_dist_class(dist_inputs, self.model)
            if draws is not None:
                dist.preset(*draws)
            actions, logp = self.exploration.get_exploration_action(
                action_distribution=dist, timestep=timestep, explore=explore
            )
            extra = {SampleBatch.ACTION_DIST_INPUTS: dist_inputs, **extra}
        if logp is not None:
            logp = _to_numpy(logp).astype(np.float32, copy=False)
            extra[SampleBatch.ACTION_LOGP] = logp
            extra[SampleBatch.ACTION_PROB] = np.exp(logp)
        self.global_timestep += len(obs_batch)
        return (
            _to_numpy(actions),
            [_to_numpy(s) for s in state_out],
            {k: _to_numpy(v) for k, v in extra.items()},
        )

    def _run_forward(
        self, obs: tf.Tensor, state: list, explore: bool, timestep: int
    ) -> tuple[tf.Tensor, list, dict[str, tf.Tensor], tuple | None]:
        """The forward pass, plus (when traced) the distribution's draws made in the trace."""
        if not self.tracing:
            return (*self._forward_eager(obs, state, explore, timestep), None)
        step = tf.constant(timestep, tf.int64)
        if state:
            return (*self._forward(obs, state, explore, step), None)
        fn = self._fast_forward.get(explore)
        if fn is None:
            signature = [
                tf.TensorSpec([None, *self.observation_space.shape], tf.float32),
                tf.TensorSpec([], tf.int64),
            ]

            def forward(obs: tf.Tensor, step: tf.Tensor) -> tuple:
                dist_inputs, state_out, extra = self._forward_eager(obs, [], explore, step)
                return dist_inputs, state_out, extra, self._draws(dist_inputs, explore)

            # the concrete function: calling it skips matching arguments to traces (~35% less)
            traced = tf.function(forward, input_signature=signature)
            fn = self._fast_forward[explore] = traced.get_concrete_function()
        return fn(obs, step)

    def _draws(self, dist_inputs: tf.Tensor, explore: bool) -> tuple | None:
        """``(sample, logp, mode)`` of the distribution (no sample unless exploring), so the
        exploration, which runs eagerly, finds them made (see ``TFDistribution.preset``)."""
        if not issubclass(self._forward_dist_class, TFDistribution):
            return None
        dist = self._forward_dist_class(dist_inputs, self.model)
        mode = dist.deterministic_sample()
        if not explore:
            return None, None, mode
        return dist.sample(), dist.sampled_action_logp(), mode

    def _forward_eager(
        self, obs: tf.Tensor, state: list, explore: bool, timestep: Any
    ) -> tuple[tf.Tensor, list, dict[str, tf.Tensor]]:
        """Distribution inputs, state out and extra fetches for a batch of observations."""
        if self.action_distribution_fn:
            dist_inputs, dist_class, state_out = self.action_distribution_fn(
                self, self.model, obs, explore=explore, timestep=timestep, is_training=False
            )
            self._forward_dist_class = dist_class
        else:
            input_dict = {SampleBatch.OBS: obs, "is_training": False}
            dist_inputs, state_out = self.model(input_dict, state, None)
        return dist_inputs, list(state_out), self.extra_action_fetches()

    # --- learning ---------------------------------------------------------------------------

    def learn_on_batch(self, samples: SampleBatch) -> dict[str, Any]:
        """One gradient step per optimizer on ``samples``: the learner stats, and beside them
        the extra learn fetches (e.g. per-row TD errors)."""
        return self._split_fetches(self._learn_step(self._batch_tensors(samples)))

    def compute_gradients(self, postprocessed_batch: SampleBatch) -> tuple[list, dict]:
        """Gradients (numpy, one per trainable variable) of the losses, and learner stats."""
        grads, stats = self._gradients_step(self._batch_tensors(postprocessed_batch))
        return [g.numpy() for g in grads], self._split_fetches(stats)

    def _split_fetches(self, stats: dict[str, Any]) -> dict[str, Any]:
        stats = _scalars(stats)
        fetches = {key: stats.pop(key) for key in self._learn_fetch_keys}
        return {"learner_stats": stats, **fetches}

    def _batch_tensors(self, samples: SampleBatch) -> dict[str, tf.Tensor]:
        """The numeric columns of ``samples`` as tensors (float64 as float32). Once a traced
        step has run, only the columns its loss read (fewer inputs make cheaper calls)."""
        out = {}
        keys = samples.keys() if self._learn_keys is None else self._learn_keys
        for key in keys:
            array = np.asarray(samples[key])
            if array.dtype == object:
                continue
            if array.dtype == np.float64:
                array = array.astype(np.float32)
            out[key] = tf.convert_to_tensor(array)
        return out

    def _losses_and_grads(self, batch: dict) -> tuple[list[GradsAndVars], dict[str, Any]]:
        if self.tracing and self._learn_keys is None:  # runs while tracing: note the columns
            batch = _AccessRecorder(batch)
        if self._loss is None:
            raise NotImplementedError(f"{type(self).__name__} has no loss function")
        variables = self.model.trainable_variables()
        with tf.GradientTape(persistent=len(self._optimizers) > 1) as tape:
            out = self._loss(self, self.model, self.dist_class, batch)
        losses = list(out) if isinstance(out, (list, tuple)) else [out]
        if len(losses) != len(self._optimizers):
            raise ValueError(
                f"{type(self).__name__}: the loss returned {len(losses)} terms "
                f"for {len(self._optimizers)} optimizers"
            )
        all_grads = []
        for optimizer, loss in zip(self._optimizers, losses, strict=True):
            pairs = self.gradients(GradientComputer(optimizer, tape, variables), loss)
            all_grads.append([(g, v) for g, v in pairs if g is not None])
        self._optimizer_vars = [[v for _, v in pairs] for pairs in all_grads]
        del tape
        fetches = self.extra_learn_fetches()
        self._learn_fetch_keys = tuple(fetches)  # traced steps return them among the stats
        stats = {**self.stats(batch), **fetches}
        stats.update(self.grad_stats(batch, [g for pairs in all_grads for g, _ in pairs]))
        if isinstance(batch, _AccessRecorder):
            self._learn_keys = sorted(batch.read)
        # variables (e.g. TracedScalar coefficients) are returned as their current values
        return all_grads, {k: _read(v) for k, v in stats.items()}

    def _learn_step_eager(self, batch: dict) -> dict[str, Any]:
        all_grads, stats = self._losses_and_grads(batch)
        for optimizer, pairs in zip(self._optimizers, all_grads, strict=True):
            self.apply_grads_and_vars(optimizer, pairs)
        return stats

    def _gradients_step_eager(self, batch: dict) -> tuple[list[tf.Tensor], dict[str, Any]]:
        all_grads, stats = self._losses_and_grads(batch)
        per_var: dict[int, tf.Tensor] = {}
        for pairs in all_grads:
            for grad, var in pairs:
                per_var[id(var)] = per_var[id(var)] + grad if id(var) in per_var else grad
        variables = self.model.trainable_variables()
        grads = [per_var.get(id(v), tf.zeros_like(v)) for v in variables]
        return grads, stats

    def _apply_step_eager(self, grads: list[tf.Tensor]) -> None:
        variables = self.model.trainable_variables()
        grad_of = {id(v): g for g, v in zip(grads, variables, strict=True)}
        if len(self._optimizers) == 1:
            groups = [variables]
        elif self._optimizer_vars is not None:
            groups = self._optimizer_vars
        else:
            raise RuntimeError(
                f"{type(self).__name__} has {len(self._optimizers)} optimizers: it can apply "
                "gradients only after computing some, to learn which variables each one updates."
            )
        for optimizer, group in zip(self._optimizers, groups, strict=True):
            self.apply_grads_and_vars(optimizer, [(grad_of[id(v)], v) for v in group])

    # --- state ------------------------------------------------------------------------------

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: np.array(v.numpy()) for k, v in self.model.variables(as_dict=True).items()}

    def set_weights(self, weights: dict[str, Any]) -> None:
        variables = self.model.variables(as_dict=True)
        missing = sorted(set(variables) - set(weights))
        unexpected = sorted(set(weights) - set(variables))
        if missing or unexpected:
            raise CheckpointError(
                f"The weights do not fit {type(self).__name__}'s model: missing {missing}, "
                f"unexpected {unexpected}. Were they saved with another model config?"
            )
        for name, var in variables.items():
            value = np.asarray(weights[name])
            if tuple(value.shape) != tuple(var.shape):
                raise CheckpointError(
                    f"Weight {name!r} has shape {value.shape}, the model's is "
                    f"{tuple(var.shape)}. Were they saved with another model config?"
                )
            var.assign(value)

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        # Under its own key: the torch backend's optimizer state has another form, and a
        # checkpoint restored into the other framework starts its optimizer afresh.
        state["tf_optimizers"] = [
            [np.array(v.numpy()) for v in o.variables] for o in self._optimizers
        ]
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        for optimizer, saved in zip(self._optimizers, state.get("tf_optimizers", []), strict=False):
            if len(saved) != len(optimizer.variables):
                raise CheckpointError(
                    f"The saved optimizer state has {len(saved)} variables, "
                    f"{type(self).__name__}'s optimizer {len(optimizer.variables)}."
                )
            for var, value in zip(optimizer.variables, saved, strict=True):
                var.assign(np.asarray(value))


class _AccessRecorder(dict):
    """A batch that records which columns were read."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


_threads_set = False


def _set_threads(intra_op: int) -> None:
    """Use ``intra_op`` threads for one op and one for independent ops, once per process:
    on the small models RL uses, more threads only spin while the envs step."""
    global _threads_set
    if _threads_set:
        return
    _threads_set = True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TF already ran an op in this process: keep its settings
        pass


def _read(value: Any) -> Any:
    """A variable's current value as a tensor; anything else unchanged."""
    return tf.identity(value) if isinstance(value, tf.Variable) else value


def _to_numpy(value: Any) -> Any:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _scalars(stats: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in stats.items():
        if hasattr(value, "numpy"):
            value = value.numpy()
        if isinstance(value, np.ndarray | np.generic) and value.size == 1:
            value = value.item()
        out[key] = value
    return out
