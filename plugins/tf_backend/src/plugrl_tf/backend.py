"""TFBackend: plugrl's policy primitives on TensorFlow 2, traced or eager.

With ``framework: tf`` (or ``eager_tracing: true``) the kernel's acting forward pass and its
learning steps run as ``tf.function``s; ``tf2`` runs them eagerly, for debugging. Exploration
stays eager (explorations may use numpy), so the traced forward pass also draws the action and
its log-probability, which the exploration then takes
(:meth:`~plugrl_tf.distributions.TFDistribution.preset`). Values a traced loss reads must be
tensors that change in place, never Python numbers: the policy's parts
(:mod:`plugrl.policy.parts`) hold theirs in ``tf.Variable``s for that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

import numpy as np

from plugrl.errors import CheckpointError, PlugrlError
from plugrl.policy.backend import Backend, Gradients
from plugrl.sample_batch import SampleBatch
from plugrl.sampling.seeding import framework_generator
from plugrl_tf import export
from plugrl_tf._tf import tf
from plugrl_tf.calls import FlatCall
from plugrl_tf.distributions import TFDistribution, get_action_dist
from plugrl_tf.recurrent import get_model


class GradientComputer:
    """What a ``gradients_fn(policy, optimizer, loss)`` receives as ``optimizer`` (RLlib's TF
    hook): the Keras optimizer (``.optimizer``) and ``compute_gradients(loss, var_list=None)``,
    which differentiates through the tape the loss was recorded on."""

    def __init__(self, optimizer: Any, tape: tf.GradientTape, variables: list[Any]):
        self.optimizer = optimizer
        self._tape = tape
        self._variables = variables

    def compute_gradients(self, loss: tf.Tensor, var_list: list | None = None) -> list[tuple]:
        variables = self._variables if var_list is None else list(var_list)
        return list(zip(self._tape.gradient(loss, variables), variables, strict=True))


class TFBackend(Backend):
    """TensorFlow 2: traced, unless the framework is ``tf2`` or ``eager_tracing`` is False
    (``eager_tracing: true`` traces ``tf2`` too); intra-op threads as CPUs are reserved for
    the process (set once per process, before TF runs an op)."""

    name = "tf"

    def __init__(self, config: dict, context: Any):
        super().__init__(config, context)
        _set_threads(self.cpus())
        tracing = config.get("eager_tracing")
        self.tracing = config.get("framework") != "tf2" if tracing is None else bool(tracing)
        self.traced: dict[str, Any] = {}
        """The ``tf.function`` of each compiled step by name (the learning steps' names), and
        the concrete forward passes as ``"forward explore=True"``..."""
        self._optimizer_vars: list[list[Any]] | None = None  # what each optimizer updates

    # --- models -----------------------------------------------------------------------------

    action_distribution = staticmethod(get_action_dist)
    build_model = staticmethod(get_model)

    def prepare_model(self, model: Any) -> Any:
        if not model.variables():  # Keras models make their variables on the first call
            obs = np.zeros((1, *model.obs_space.shape), np.float32)
            model({SampleBatch.OBS: obs, "is_training": False}, [], None)
        return model

    def default_optimizers(self, model: Any, lr: float, epsilon: float | None = None) -> list[Any]:
        options = {} if epsilon is None else {"epsilon": epsilon}
        return [tf.keras.optimizers.Adam(learning_rate=lr, **options)]

    def prepare_optimizers(self, model: Any, optimizers: list[Any]) -> None:
        for optimizer in optimizers:  # slot variables now, not inside a trace
            optimizer.build(model.trainable_variables())

    # --- tensors ----------------------------------------------------------------------------

    def tensor(self, value: Any) -> Any:
        return tf.constant(_array(value))  # tf.constant: half the cost of convert_to_tensor

    def numpy(self, value: Any) -> Any:
        return value.numpy() if hasattr(value, "numpy") else np.asarray(value)

    def train_batch(self, samples: SampleBatch, keys: list[str] | None = None) -> dict[str, Any]:
        """The numeric columns of ``samples`` (only ``keys`` when given) as tensors."""
        out = {}
        for key in samples.keys() if keys is None else keys:
            array = np.asarray(samples[key])
            if array.dtype != object:
                out[key] = self.tensor(array)
        return out

    def scalar(self, value: float) -> Any:
        return tf.Variable(float(value), dtype=tf.float32, trainable=False)

    def assign(self, scalar: Any, value: float) -> None:
        scalar.assign(float(value))

    def acting(self, model: Any) -> Any:
        return nullcontext()  # no tape records outside learning; models see is_training False

    # --- learning ---------------------------------------------------------------------------

    def loss_and_gradients(
        self, policy: Any, batch: Any, compute_loss: Callable[[], Any]
    ) -> tuple[Any, Gradients, dict[str, Any]]:
        t = policy._template
        variables = policy.model.trainable_variables()
        optimizers = policy.optimizers
        with tf.GradientTape(persistent=len(optimizers) > 1) as tape:
            out = compute_loss()
        grads, groups = [], []
        for optimizer, loss in zip(optimizers, out.losses, strict=True):
            if t.get("gradients_fn"):  # TF only (RLlib's hook)
                computer = GradientComputer(optimizer, tape, variables)
                pairs = t["gradients_fn"](policy, computer, loss)
            else:
                pairs = zip(tape.gradient(loss, variables), variables, strict=True)
            pairs = [(g, v) for g, v in pairs if g is not None]
            grads.append([g for g, _ in pairs])
            groups.append([v for _, v in pairs])
        del tape
        self._optimizer_vars = groups
        extra = {}
        if t.get("grad_stats_fn"):  # TF only (RLlib's hook)
            extra = t["grad_stats_fn"](policy, batch, [g for group in grads for g in group])
        return out, grads, extra

    def clip_by_global_norm(self, grads: Gradients, clip: float) -> tuple[Gradients, Any]:
        flat, norm = tf.clip_by_global_norm([g for group in grads for g in group], clip)
        out, start = [], 0
        for group in grads:
            out.append(flat[start : start + len(group)])
            start += len(group)
        return out, norm

    def global_norm(self, grads: Gradients) -> Any:
        return tf.linalg.global_norm([g for group in grads for g in group])

    def all_finite(self, values: list[Any]) -> Any:
        return tf.reduce_all(tf.math.is_finite(tf.stack([tf.cast(v, tf.float32) for v in values])))

    def apply_gradients(self, policy: Any, grads: Gradients, when: Any = True) -> None:
        if when is True:
            self._apply(policy, grads)
        elif tf.executing_eagerly():
            if bool(when):
                self._apply(policy, grads)
        else:  # traced: both branches are in the graph, one runs

            def apply() -> Any:
                self._apply(policy, grads)
                return tf.constant(True)

            tf.cond(when, apply, lambda: tf.constant(False))

    def _apply(self, policy: Any, grads: Gradients) -> None:
        custom = policy._template.get("apply_gradients_fn")  # TF only (RLlib's hook)
        groups = self._groups(policy)
        for optimizer, group, variables in zip(policy.optimizers, grads, groups, strict=True):
            pairs = list(zip(group, variables, strict=True))
            if custom:
                custom(policy, optimizer, pairs)
            else:
                optimizer.apply_gradients(pairs)

    def _groups(self, policy: Any) -> list[list[Any]]:
        if self._optimizer_vars is not None:
            return self._optimizer_vars
        if len(policy.optimizers) == 1:
            return [policy.model.trainable_variables()]
        raise RuntimeError(
            f"{type(policy).__name__} has {len(policy.optimizers)} optimizers: it can apply "
            "gradients only after computing some, to learn which variables each one updates."
        )

    def gradients_to_numpy(self, policy: Any, grads: Gradients) -> list[np.ndarray]:
        total: dict[int, Any] = {}
        for group, variables in zip(grads, self._groups(policy), strict=True):
            for grad, var in zip(group, variables, strict=True):
                total[id(var)] = total[id(var)] + grad if id(var) in total else grad
        return [
            self.numpy(total[id(v)]) if id(v) in total else np.zeros(v.shape, np.float32)
            for v in policy.model.trainable_variables()
        ]

    def gradients_from_numpy(self, policy: Any, arrays: list) -> Gradients:
        by_var = {
            id(v): tf.convert_to_tensor(np.asarray(a))
            for v, a in zip(policy.model.trainable_variables(), arrays, strict=True)
        }
        return [[by_var[id(v)] for v in group] for group in self._groups(policy)]

    def set_learning_rate(self, optimizer: Any, lr: Any) -> None:
        optimizer.learning_rate.assign(float(lr))

    # --- state ------------------------------------------------------------------------------

    def get_weights(self, model: Any) -> dict[str, np.ndarray]:
        return {k: np.array(v.numpy()) for k, v in model.variables(as_dict=True).items()}

    def set_weights(self, model: Any, weights: dict[str, Any]) -> None:
        variables = model.variables(as_dict=True)
        missing = sorted(set(variables) - set(weights))
        unexpected = sorted(set(weights) - set(variables))
        if missing or unexpected:
            raise CheckpointError(
                f"The weights do not fit the model: missing {missing}, unexpected "
                f"{unexpected}. Were they saved with another model config?"
            )
        for name, var in variables.items():
            value = np.asarray(weights[name])
            if tuple(value.shape) != tuple(var.shape):
                raise CheckpointError(
                    f"Weight {name!r} has shape {value.shape}, the model's is "
                    f"{tuple(var.shape)}. Were they saved with another model config?"
                )
            var.assign(value)

    def optimizer_state(self, optimizer: Any) -> Any:
        return [np.array(v.numpy()) for v in optimizer.variables]

    def set_optimizer_state(self, optimizer: Any, state: Any) -> None:
        if len(state) != len(optimizer.variables):
            raise CheckpointError(
                f"The saved optimizer state has {len(state)} variables, the optimizer "
                f"{len(optimizer.variables)}."
            )
        for var, value in zip(optimizer.variables, state, strict=True):
            var.assign(np.asarray(value))

    def export_model(self, policy: Any, export_dir: str, onnx: int | None) -> dict[str, Any]:
        """A SavedModel (see :mod:`plugrl_tf.export`)."""
        return export.export_model(policy, export_dir, onnx)

    # --- compiled steps ---------------------------------------------------------------------

    def compile(self, fn: Callable) -> Callable:
        if not self.tracing:
            return fn
        traced = self.traced[fn.__name__] = tf.function(fn, reduce_retracing=True)
        return traced

    def compile_learning(self, step: Callable[[Mapping[str, Any]], Any]) -> Callable:
        """Traced: the columns the loss reads are found by tracing it once on every numeric
        column (which runs nothing); each step converts only those and runs one concrete
        function for any batch size (another only for new dtypes or row shapes), whose
        results come back as tensors. So the first step is traced like the rest, and a
        trainer continues from a checkpoint alike whether it trained before the restore."""
        if not self.tracing:
            return super().compile_learning(step)
        keys: list[str] | None = None
        traced = tf.function(lambda batch: tf.nest.map_structure(_as_tensor, step(batch)))
        self.traced[step.__name__] = traced
        concrete: dict[tuple, Any] = {}  # by the columns' dtypes and row shapes

        def columns_read(samples: SampleBatch) -> list[str]:
            read: set[str] = set()

            def probe(batch: dict) -> Any:
                recorder = _AccessRecorder(batch)
                out = step(recorder)
                read.update(k for k in recorder.read if k in batch)  # numeric columns only
                return tf.nest.map_structure(_as_tensor, out)

            _concrete(tf.function(probe), _batch_specs(self.train_batch(samples)))
            return sorted(read)

        def run(samples: SampleBatch) -> Any:
            nonlocal keys
            if keys is None:
                keys = columns_read(samples)
            arrays = [_array(samples[key]) for key in keys]
            signature = tuple((a.dtype, a.shape[1:]) for a in arrays)
            fn = concrete.get(signature)
            if fn is None:
                specs = {
                    k: tf.TensorSpec([None, *a.shape[1:]], a.dtype)
                    for k, a in zip(keys, arrays, strict=True)
                }
                fn = concrete[signature] = FlatCall(_concrete(traced, specs))
            return fn([tf.constant(a) for a in arrays])

        return run

    def compile_unreported_learning(
        self, step: Callable[[Mapping[str, Any]], Any], reported: Callable
    ) -> Callable:
        """Traced: the reported step's graph, whose stats cost nothing measurable (0.90 ms a
        256-row PPO step either way) where a second graph would cost its tracing and memory."""
        if not self.tracing:
            return super().compile_unreported_learning(step, reported)

        def run(samples: SampleBatch) -> tuple[dict, Any]:
            stats, _, finite = reported(samples)
            return stats, finite

        return run

    def compile_forward(self, policy: Any, forward: Callable) -> Callable:
        """Traced: one concrete function per ``explore`` value, set of model inputs and,
        when exploring, sampling worker's generator (a trace captures the generator it draws
        from), whatever the batch size, which also draws the action."""
        if not self.tracing:
            return super().compile_forward(policy, forward)
        # the call, the distribution class, and the step to pass when the graph reads none
        traced: dict[tuple, tuple[FlatCall, type, Any]] = {}

        def trace(inputs: tuple, explore: bool, own_generator: bool) -> tuple[FlatCall, type, Any]:
            dist_class: list[type] = []

            def traced_forward(obs: Any, state: list, step: Any) -> tuple:
                dist, state_out, extra = forward(obs, state, explore, step)
                dist_class.append(type(dist))
                return dist.inputs, state_out, extra, _draws(dist, explore)

            obs, state, _ = inputs
            specs = (_batch_specs(obs), _batch_specs(state), tf.TensorSpec([], tf.int64))
            fn = _concrete(tf.function(traced_forward), *specs)
            names = f" inputs={sorted(obs)}" if isinstance(obs, dict) else ""
            drawing = " (a worker's generator)" if own_generator else ""
            self.traced[f"forward explore={explore}{names}{drawing}"] = fn
            # most forward passes never read the step in their graph: then one constant
            # serves every call instead of a new tensor per call (about 20 us of PPO's)
            step = fn.graph.inputs[len(tf.nest.flatten(inputs)) - 1]
            unread = inputs[-1] if step.op.name == "step" and not step.consumers() else None
            return FlatCall(fn), dist_class[0], unread

        def run(obs: Any, state: list, explore: bool, timestep: int) -> tuple:
            names = tuple(sorted(obs)) if isinstance(obs, dict) else ()
            generator = framework_generator() if explore else None  # draws only to explore
            key = (explore, names, generator)
            entry = traced.get(key)
            if entry is None:
                inputs = (obs, state, tf.constant(timestep, tf.int64))
                entry = traced[key] = trace(inputs, explore, generator is not None)
            fn, dist_class, unread = entry
            step = tf.constant(timestep, tf.int64) if unread is None else unread
            dist_inputs, state_out, extra, draws = fn(tf.nest.flatten((obs, state, step)))
            dist = dist_class(dist_inputs, policy.model)
            if draws is not None:
                dist.preset(*draws)
            return dist, list(state_out), {SampleBatch.ACTION_DIST_INPUTS: dist_inputs, **extra}

        return run


def _concrete(function: Any, *specs: Any) -> Any:
    """``function``'s concrete function for ``specs``. plugrl's own errors raised while it is
    traced come out as raised: autograph would put the traced code's lines before them."""
    try:
        return function.get_concrete_function(*specs)
    except PlugrlError as error:
        original = error.__context__ if hasattr(error, "ag_error_metadata") else None
        if isinstance(original, PlugrlError):
            raise original from None
        raise


def _array(value: Any) -> np.ndarray:
    """A column as numpy, float64 as float32."""
    array = np.asarray(value)
    return array.astype(np.float32) if array.dtype == np.float64 else array


def _batch_specs(tensors: Any) -> Any:
    """The TensorSpecs of a structure of tensors, with any batch size."""
    return tf.nest.map_structure(lambda t: tf.TensorSpec([None, *t.shape[1:]], t.dtype), tensors)


def _draws(dist: Any, explore: bool) -> tuple | None:
    """``(sample, logp, mode)`` (no sample unless exploring), for :meth:`TFDistribution.preset`."""
    if not isinstance(dist, TFDistribution):
        return None
    mode = dist.deterministic_sample()
    if not explore:
        return None, None, mode
    return dist.sample(), dist.sampled_action_logp(), mode


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


def _as_tensor(value: Any) -> Any:
    """A traced step's output: variables as their current value, numbers as tensors."""
    if isinstance(value, tf.Variable):
        return tf.identity(value)
    if isinstance(value, (int, float)):
        return tf.constant(value)
    return value


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
