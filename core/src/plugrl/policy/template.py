"""TemplatePolicy: the one outline of acting and learning, written against a backend's tensor
primitives (:class:`~plugrl.policy.backend.Backend`), with an algorithm's pieces taken from a
template of functions (``build_policy`` and the backends' ``build_torch_policy`` /
``build_tf_policy``, changed with ``with_updates``).

Acting: model forward, action distribution, exploration, extra action outputs, timestep.
Learning: the loss (a :class:`~plugrl.policy.loss.LossOutput`), gradients, ``grad_clip``,
the optimizer step, the learner stats. State: weights, optimizer state, exploration and the
algorithm's parts (:mod:`plugrl.policy.parts`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl import plugins
from plugrl.config import COMMON_CONFIG, complete_config
from plugrl.errors import ConfigError, NonFiniteError
from plugrl.exploration import build_exploration
from plugrl.export import ExportError, policy_spec, write_spec
from plugrl.policy.backend import Backend
from plugrl.policy.loss import LossOutput, LossStats
from plugrl.policy.parts import Coefficient
from plugrl.policy.policy import Policy, mean_stats
from plugrl.policy.sequences import SEQ_LENS, check_max_seq_len, pad_into_sequences
from plugrl.sample_batch import Rows, SampleBatch
from plugrl.template import TemplateClass, make_template_class
from plugrl.worker_context import WorkerContext

TEMPLATE_BUILDER = True  # see plugrl.template

TEMPLATE_FUNCTIONS = (
    "loss_fn",
    "get_default_config",
    "postprocess_fn",
    "stats_fn",
    "make_parts",
    "optimizer_fn",
    "extra_action_out_fn",
    "extra_action_fetches_fn",
    "extra_learn_fetches_fn",
    "before_init",
    "before_loss_init",
    "after_init",
    "make_model",
    "action_sampler_fn",
    "action_distribution_fn",
)
"""The functions every backend's template takes, under the same names (signatures in
:func:`build_policy`); a backend may add framework-only ones."""


class TemplatePolicy(TemplateClass, Policy):
    """A policy whose outline is the kernel's and whose pieces come from ``_template``.

    A backend plugin subclasses it once, setting ``backend_class`` (and ``framework``);
    algorithms build their policies from that subclass with its ``build_*_policy``.

    Args:
        observation_space: as for :class:`plugrl.Policy`.
        action_space: as for :class:`plugrl.Policy`.
        config: as for :class:`plugrl.Policy` (missing keys take the template's defaults).
        context: which worker the policy lives on.
        model: given directly instead of built from the template, like ``loss`` and
            ``action_distribution_class`` (RLlib's ``TorchPolicy`` constructor arguments).
        loss: see ``model``.
        action_distribution_class: see ``model``.
    """

    backend_class: type[Backend] = Backend
    _template: dict[str, Any] = dict.fromkeys(TEMPLATE_FUNCTIONS)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.framework = cls.backend_class.name  # read before a policy exists (seeding)

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        config: dict,
        context: WorkerContext | None = None,
        *,
        model: Any = None,
        loss: Callable | None = None,
        action_distribution_class: type | None = None,
    ):
        t = self._template
        defaults = t["get_default_config"]() if t["get_default_config"] else COMMON_CONFIG
        config = complete_config(config, defaults)
        super().__init__(observation_space, action_space, config)
        self.context = context or self.context
        self.backend = self.backend_class(config, self.context)
        self._loss_fn = loss or t["loss_fn"]
        if t["before_init"]:
            t["before_init"](self, observation_space, action_space, config)
        dist_class, num_outputs = self.backend.action_distribution(action_space, config["model"])
        self.dist_class = action_distribution_class or dist_class
        self._num_outputs = num_outputs
        self.model = self.make_model() if model is None else self.backend.prepare_model(model)
        initial = getattr(self.model, "get_initial_state", list)()
        self._initial_state = [np.asarray(self.backend.numpy(s), np.float32) for s in initial]
        self._max_seq_len = check_max_seq_len(config["model"]["max_seq_len"])
        self.prev_inputs: list[str] = [  # the previous-step columns the model reads
            key
            for key, flag in (
                (SampleBatch.PREV_ACTIONS, "uses_prev_actions"),
                (SampleBatch.PREV_REWARDS, "uses_prev_rewards"),
            )
            if getattr(self.model, flag, False)
        ]
        self.exploration = build_exploration(
            config["exploration_config"],
            action_space,
            framework=self.backend.name,
            policy_config=config,
            model=self.model,
            num_workers=self.context.num_workers,
            worker_index=self.context.worker_index,
        )
        self.optimizers = self._make_optimizers()
        self.num_skipped_updates = 0  # updates whose loss or gradients were not finite
        self.backend.prepare_optimizers(self.model, self.optimizers)
        self.parts: dict[str, Any] = {
            "cur_lr": Coefficient(config["lr"], config.get("lr_schedule"), "lr_schedule"),
            **(t["make_parts"](self, config) if t["make_parts"] else {}),
        }
        for name, part in self.parts.items():
            part.bind(self.backend, self)
            setattr(self, name, part)
        self._apply_schedules()
        if t["before_loss_init"]:
            t["before_loss_init"](self, observation_space, action_space, config)
        if t["after_init"]:
            t["after_init"](self, observation_space, action_space, config)
        self._stats_reads_loss = bool(t["stats_fn"]) and _positional_args(t["stats_fn"]) >= 3
        self._forward = self.backend.compile_forward(self, self._forward_eager)
        self._learn = self.backend.compile_learning(self._learn_step)
        self._learn_unreported = self.backend.compile_unreported_learning(
            self._unreported_learn_step, self._learn
        )
        self._gradients = self.backend.compile_learning(self._gradients_and_stats)
        self._apply = self.backend.compile(self._apply_step)
        self._value = self.backend.compile(self._value_eager)
        hook = plugins.get_plugin_manager().hook
        hook.on_exploration_created(exploration=self.exploration, policy=self)
        hook.on_policy_created(policy=self)

    def make_model(self) -> Any:
        """A new model, built as this policy's was (``make_model`` or the backend's default
        for the config); e.g. a target network."""
        t = self._template
        if t["make_model"]:
            model = t["make_model"](self, self.observation_space, self.action_space, self.config)
        else:
            model = self.backend.build_model(
                self.observation_space, self.action_space, self._num_outputs, self.config["model"]
            )
        return self.backend.prepare_model(model)

    def _make_optimizers(self) -> list[Any]:
        fn = self._template["optimizer_fn"]
        if not fn:
            # an algorithm whose config has adam_epsilon (DQN, A2C/A3C) sets Adam's epsilon
            epsilon = self.config.get("adam_epsilon")
            return self.backend.default_optimizers(self.model, self.config["lr"], epsilon)
        out = fn(self, self.config)
        return list(out) if isinstance(out, (list, tuple)) else [out]

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
        backend = self.backend
        sampler = self._template["action_sampler_fn"]
        if self._initial_state and not state_batches:
            raise ConfigError(
                f"{type(self).__name__} is recurrent: pass its state (state_batches, or "
                "state= for a single action), get_initial_state() at an episode's start and "
                "then the state_out of the step before."
            )
        with backend.acting(self.model):
            obs = backend.tensor(np.asarray(obs_batch, dtype=np.float32))
            state = [backend.tensor(np.asarray(s, np.float32)) for s in state_batches or []]
            if state or self.prev_inputs:
                obs = self._inputs(obs, len(obs_batch), prev_action_batch, prev_reward_batch)
            self.exploration.before_compute_actions(timestep=timestep, explore=explore)
            if sampler:
                input_dict = {**self._as_input_dict(obs)[0], "is_training": False}
                actions, logp = sampler(
                    self, self.model, input_dict, state, explore=explore, timestep=timestep
                )
                state_out: list = []
                extra: dict[str, Any] = {}
            else:
                dist, state_out, extra = self._forward(obs, state, explore, timestep)
                actions, logp = self.exploration.get_exploration_action(
                    action_distribution=dist, timestep=timestep, explore=explore
                )
            fetches = {k: backend.numpy(v) for k, v in extra.items()}
            if logp is not None:
                logp = backend.numpy(logp).astype(np.float32, copy=False)
                fetches[SampleBatch.ACTION_LOGP] = logp
                fetches[SampleBatch.ACTION_PROB] = np.exp(logp)
            actions = backend.numpy(actions)
            state_out = [backend.numpy(s) for s in state_out]
        self.global_timestep += len(obs_batch)
        return actions, state_out, fetches

    def _inputs(self, obs: Any, n: int, prev_actions: Any, prev_rewards: Any) -> dict[str, Any]:
        """The model's inputs besides the observations when it is recurrent (``seq_lens`` of
        ones: each row a sequence of one step) or asks for the previous action or reward
        (zeros when not given: an episode's first step)."""
        inputs = {SampleBatch.OBS: obs, SEQ_LENS: self.backend.tensor(np.ones(n, np.int32))}
        given = {SampleBatch.PREV_ACTIONS: prev_actions, SampleBatch.PREV_REWARDS: prev_rewards}
        for key in self.prev_inputs:
            value = given[key]
            # one dtype for a column whether given or not: a traced forward pass keeps it
            rewards = key == SampleBatch.PREV_REWARDS
            dtype = np.float32 if rewards else self.action_space.dtype
            if value is None:
                value = np.zeros((n, *(() if rewards else self.action_space.shape)), dtype)
            inputs[key] = self.backend.tensor(np.asarray(value, dtype))
        return inputs

    @staticmethod
    def _as_input_dict(obs: Any) -> tuple[dict[str, Any], Any]:
        """``(input_dict, seq_lens)`` from what ``_inputs`` made, or from observations."""
        if not isinstance(obs, dict):
            return {SampleBatch.OBS: obs}, None
        inputs = dict(obs)
        return inputs, inputs.pop(SEQ_LENS, None)

    def compute_log_likelihoods(
        self, actions: Any, obs_batch: Any, *args: Any, **kwargs: Any
    ) -> np.ndarray:
        """Log-probabilities of ``actions`` in ``obs_batch`` as this policy samples when it
        explores (through its exploration: e.g. SoftQ's tempered softmax, EpsilonGreedy's
        mixture), for off-policy estimation."""
        backend = self.backend
        with backend.acting(self.model):
            obs = backend.tensor(np.asarray(obs_batch, dtype=np.float32))
            dist, _, _ = self._forward(obs, [], True, self.global_timestep)
            logp = self.exploration.log_likelihoods(dist, backend.tensor(np.asarray(actions)))
            return np.asarray(backend.numpy(logp), dtype=np.float32)

    def _forward_eager(
        self, obs: Any, state: list, explore: Any, timestep: Any
    ) -> tuple[Any, list, dict[str, Any]]:
        """The action distribution, state out and extra action outputs for a batch."""
        t = self._template
        input_dict, seq_lens = self._as_input_dict(obs)
        input_dict["is_training"] = False
        if t["action_distribution_fn"]:
            dist_inputs, dist_class, state_out = t["action_distribution_fn"](
                self,
                self.model,
                input_dict[SampleBatch.OBS],
                explore=explore,
                timestep=timestep,
                is_training=False,
            )
        else:
            dist_class = self.dist_class
            dist_inputs, state_out = self.model(input_dict, state, seq_lens)
        dist = dist_class(dist_inputs, self.model)
        extra: dict[str, Any] = {}
        if t["extra_action_out_fn"]:
            extra.update(t["extra_action_out_fn"](self, input_dict, state, self.model, dist))
        if t["extra_action_fetches_fn"]:
            extra.update(t["extra_action_fetches_fn"](self))
        return dist, list(state_out), extra

    def value(
        self,
        obs: np.ndarray,
        state: list | None = None,
        prev_action: Any = None,
        prev_reward: Any = None,
    ) -> float:
        """The critic's estimate for one observation (bootstraps cut trajectories); a
        recurrent policy's needs the ``state`` after the step before (and the model's previous
        action and reward inputs, if it reads them)."""
        backend = self.backend
        with backend.acting(self.model):
            obs = backend.tensor(np.asarray(obs, dtype=np.float32)[None])
            states = [backend.tensor(np.asarray(s, np.float32)[None]) for s in state or []]
            if states or self.prev_inputs:
                prev_actions = None if prev_action is None else [prev_action]
                prev_rewards = None if prev_reward is None else [prev_reward]
                obs = self._inputs(obs, 1, prev_actions, prev_rewards)
            return float(backend.numpy(self._value(obs, states))[0])

    def bootstrap_values(self, next_obs: np.ndarray) -> np.ndarray | None:
        """The critic's values of ``next_obs`` in one forward pass, when this policy
        postprocesses with :func:`~plugrl.postprocessing.postprocess_advantages` (through the
        template's ``postprocess_trajectory``, which reads them) and a critic that reads
        nothing but the observation, as :meth:`value` computes it; otherwise ``None``."""
        from plugrl.postprocessing import postprocess_advantages  # it imports this package

        cls = type(self)
        own = (
            cls.postprocess_trajectory is TemplatePolicy.postprocess_trajectory
            and cls.value is TemplatePolicy.value
            and self._template["postprocess_fn"] is postprocess_advantages
        )
        if not own or self._initial_state or self.prev_inputs or not self.config["use_critic"]:
            return None
        backend = self.backend
        with backend.acting(self.model):
            obs = backend.tensor(np.asarray(next_obs, dtype=np.float32))
            return np.asarray(backend.numpy(self._value(obs, [])), dtype=np.float32)

    def _value_eager(self, obs: Any, state: list) -> Any:
        input_dict, seq_lens = self._as_input_dict(obs)
        self.model({**input_dict, "is_training": False}, state, seq_lens)
        return self.model.value_function()

    # --- learning ---------------------------------------------------------------------------

    def learn_on_batch(self, samples: SampleBatch) -> dict[str, Any]:
        """One step of every optimizer on ``samples``: the learner stats, and beside them the
        loss's per-row fetches (e.g. TD errors). A non-finite loss or gradient is not applied:
        a :class:`NonFiniteError`, or with ``skip_nonfinite_updates`` a skipped update."""
        stats, fetches, finite = self._learn(self._sequences(samples))
        result = self._results(stats, fetches)
        if not bool(self.backend.numpy(finite)):
            stats = result["learner_stats"]
            self._nonfinite_update(", ".join(f"{k}={v}" for k, v in stats.items() if _bad(v)))
        return result

    def learn_on_minibatches(
        self,
        samples: SampleBatch,
        minibatches: Sequence[Rows],
        *,
        stats_of_last: int | None = None,
    ) -> dict[str, float]:
        """As :meth:`Policy.learn_on_minibatches`, with nothing read back from the backend
        until the last update: the backend makes the batch's tensors once and takes each
        minibatch from them (:meth:`~plugrl.policy.backend.Backend.minibatches`), a
        non-finite update is left out where it is computed, and the stats of the reported
        updates come back together. The others keep only their loss and gradients' norm (for
        the error), and a loss that returns its stats as a function computes none for them
        (see :class:`~plugrl.policy.loss.LossOutput`). The error for non-finite updates
        (unless ``skip_nonfinite_updates``) comes after the last. A recurrent policy pads each
        minibatch of sequences on its own, and a class (or mixin) that overrides
        ``learn_on_batch`` gets one call per minibatch."""
        if self._initial_state or type(self).learn_on_batch is not TemplatePolicy.learn_on_batch:
            return super().learn_on_minibatches(samples, minibatches, stats_of_last=stats_of_last)
        first_reported = max(0, len(minibatches) - (stats_of_last or len(minibatches)))
        steps = []  # (stats, finite) of each update; its per-row fetches are not kept
        for i, batch in enumerate(self.backend.minibatches(samples, minibatches)):
            if i < first_reported:
                stats, finite = self._learn_unreported(batch)
            else:
                stats, _, finite = self._learn(batch)
            steps.append((stats, finite))
        numpy_many = self.backend.numpy_many
        reported = [stats for stats, _ in steps[first_reported:]]
        flags_and_stats = [finite for _, finite in steps]
        flags_and_stats += [value for stats in reported for value in stats.values()]
        host = iter(numpy_many(flags_and_stats))
        finite = [bool(next(host)) for _ in steps]
        updates = [{key: next(host) for key in stats} for stats in reported]
        bad = [i for i, ok in enumerate(finite) if not ok]
        if bad:  # the first bad update's values, read for the error
            stats = steps[bad[0]][0]
            values = dict(zip(stats, numpy_many(list(stats.values())), strict=True))
            offending = ", ".join(f"{k}={v}" for k, v in values.items() if _bad(v))
            self._nonfinite_update(offending, len(bad), len(steps))
        return mean_stats(updates)

    def compute_gradients(self, postprocessed_batch: SampleBatch) -> tuple[list, dict]:
        """The gradients (numpy, one per trainable weight) and the learner stats."""
        grads, stats, fetches, _ = self._gradients(self._sequences(postprocessed_batch))
        return self.backend.gradients_to_numpy(self, grads), self._results(stats, fetches)

    def apply_gradients(self, gradients: list) -> None:
        """Apply gradients from :meth:`compute_gradients` (possibly another worker's), unless
        one is not finite (then as :meth:`learn_on_batch` does)."""
        arrays = [np.asarray(g) for g in gradients]
        bad = [i for i, g in enumerate(arrays) if not np.isfinite(g).all()]
        if bad:
            self._nonfinite_update(f"gradients of the weights at {bad}")
            return
        self._apply(self.backend.gradients_from_numpy(self, arrays))

    def _sequences(self, samples: SampleBatch) -> Any:
        """A recurrent policy's batch padded into sequences (see
        :mod:`plugrl.policy.sequences`); any other policy's as it is."""
        return pad_into_sequences(samples, self._max_seq_len) if self._initial_state else samples

    def _learn_step(self, batch: Any) -> tuple[dict, dict, Any]:
        grads, stats, fetches, finite = self._gradients_and_stats(batch)
        self.backend.apply_gradients(self, grads, when=finite)
        return stats, fetches, finite

    def _unreported_learn_step(self, batch: Any) -> tuple[dict, Any]:
        """An update whose stats nobody reads: only the loss, the gradients' norm (for the
        error, if one is not finite) and whether both are finite."""
        grads, checks, _, finite = self._gradients_and_stats(batch, report=False)
        self.backend.apply_gradients(self, grads, when=finite)
        return checks, finite

    def _apply_step(self, grads: Any) -> None:
        self.backend.apply_gradients(self, grads)

    def _nonfinite_update(self, offending: str, count: int = 1, of: int = 1) -> None:
        """``count`` of ``of`` updates had a non-finite loss or gradient (``offending`` names
        the first one's stats) and were left out: count them when the config says so, else
        stop with an error naming what was not finite."""
        self.num_skipped_updates += count
        if self.config["skip_nonfinite_updates"]:
            return
        what = f"loss or gradient ({offending})" if offending else "gradient"
        which = "the update was" if of == 1 else f"{count} of {of} updates were"
        raise NonFiniteError(
            f"{type(self).__name__} computed a non-finite {what}; {which} not applied. Lower "
            "lr, set grad_clip, check the scale of rewards and observations, or set "
            "skip_nonfinite_updates: true to skip such updates."
        )

    def _gradients_and_stats(
        self, batch: Any, report: bool = True
    ) -> tuple[Any, dict[str, Any], dict[str, Any], Any]:
        """The loss on ``batch``, its gradients (clipped to ``grad_clip``), the learner stats,
        the per-row fetches, and whether the loss and the gradients are finite; without
        ``report``, only the loss and the gradients' norm for stats, and no fetches."""
        t = self._template
        if self._loss_fn is None:
            raise ConfigError(f"{type(self).__name__} has no loss_fn to learn with.")

        def compute_loss() -> LossOutput:
            out = LossOutput.of(self._loss_fn(self, self.model, self.dist_class, batch))
            if len(out.losses) != len(self.optimizers):
                raise ConfigError(
                    f"{type(self).__name__}: the loss returned {len(out.losses)} terms for "
                    f"{len(self.optimizers)} optimizers; return one loss per optimizer."
                )
            return out

        out, grads, grad_stats = self.backend.loss_and_gradients(self, batch, compute_loss)
        losses = out.losses
        total = losses[0] if len(losses) == 1 else sum(losses)
        clip = self.config.get("grad_clip")
        if clip:
            grads, norm = self.backend.clip_by_global_norm(grads, clip)
        else:
            norm = self.backend.global_norm(grads)
        finite = self.backend.all_finite([total, norm])
        if not report:
            return grads, {"total_loss": total, "grad_gnorm": norm}, {}, finite
        loss_stats = out.computed_stats()
        stats: dict[str, Any] = {"total_loss": total, **loss_stats}
        if clip:
            stats["grad_gnorm"] = norm
        stats.update(grad_stats)
        stats["cur_lr"] = self.parts["cur_lr"].value
        if t["stats_fn"]:
            if self._stats_reads_loss:
                name = getattr(self._loss_fn, "__name__", "the loss")
                reader = f"{type(self).__name__}'s stats_fn"
                stats.update(t["stats_fn"](self, batch, LossStats(loss_stats, name, reader)))
            else:
                stats.update(t["stats_fn"](self, batch))
        fetches = dict(out.fetches)
        if t["extra_learn_fetches_fn"]:
            fetches.update(t["extra_learn_fetches_fn"](self))
        return grads, stats, fetches, finite

    def _results(self, stats: dict[str, Any], fetches: dict[str, Any]) -> dict[str, Any]:
        """What ``learn_on_batch`` returns: ``{"learner_stats": {name: number}, **fetches}``."""
        numpy = self.backend.numpy
        learner_stats = {}
        for key, value in stats.items():
            value = numpy(value) if not isinstance(value, (int, float)) else value
            if isinstance(value, np.ndarray | np.generic) and value.size == 1:
                value = value.item()
            learner_stats[key] = value
        return {"learner_stats": learner_stats, **{k: numpy(v) for k, v in fetches.items()}}

    def postprocess_trajectory(
        self, sample_batch: SampleBatch, other_agent_batches: Any = None, episode: Any = None
    ) -> SampleBatch:
        sample_batch = self.exploration.postprocess_trajectory(self, sample_batch)
        fn = self._template["postprocess_fn"]
        return fn(self, sample_batch, other_agent_batches, episode) if fn else sample_batch

    # --- state ------------------------------------------------------------------------------

    def on_global_var_update(self, global_vars: dict[str, Any]) -> None:
        super().on_global_var_update(global_vars)
        self._apply_schedules()

    def _apply_schedules(self) -> None:
        """Move every part to the current timestep; a scheduled learning rate reaches the
        optimizers."""
        for part in self.parts.values():
            part.on_timestep(self.global_timestep)
        if self.config.get("lr_schedule"):
            for optimizer in self.optimizers:
                self.backend.set_learning_rate(optimizer, float(self.parts["cur_lr"]))

    def get_initial_state(self) -> list[np.ndarray]:
        """The model's initial recurrent state, one array per state tensor, without a batch
        dimension (empty for feed-forward models)."""
        return [s.copy() for s in self._initial_state]

    def get_weights(self) -> dict[str, np.ndarray]:
        return self.backend.get_weights(self.model)

    def set_weights(self, weights: dict[str, Any]) -> None:
        self.backend.set_weights(self.model, weights)

    def export_model(self, export_dir: str, onnx: int | None = None) -> None:
        """Write the model's forward pass (observations -> action distribution inputs, and
        values) in the backend's format, or as ONNX of opset ``onnx``, with ``policy.json``
        beside it, for :func:`plugrl.export.import_model` (see :mod:`plugrl.export`)."""
        t = self._template
        model_config = {**self.config["model"], "custom_action_dist": None}
        standard_dist, _ = self.backend.action_distribution(self.action_space, model_config)
        custom = [name for name in ("action_sampler_fn", "action_distribution_fn") if t[name]]
        if self.dist_class is not standard_dist:
            custom.append(f"action distribution {self.dist_class.__name__}")
        if getattr(self.model, "get_initial_state", list)():
            custom.append("recurrent state")
        if custom:
            raise ExportError(
                f"{type(self).__name__} cannot be exported: it acts with its {custom[0]}, and "
                "an export holds only a feed-forward model and acts with the standard "
                f"distribution of {self.action_space}."
            )
        Path(export_dir).mkdir(parents=True, exist_ok=True)
        written = self.backend.export_model(self, str(export_dir), onnx)
        write_spec(export_dir, policy_spec(self, {"framework": self.backend.name, **written}))

    def get_state(self) -> dict[str, Any]:
        """Weights, timestep, exploration state, optimizer state (tagged with its framework:
        another framework starts its optimizers afresh) and every part's state."""
        state = super().get_state()
        state["optimizer_state"] = {
            "framework": self.backend.name,
            "optimizers": [self.backend.optimizer_state(o) for o in self.optimizers],
        }
        state.update({name: part.get_state() for name, part in self.parts.items()})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        saved = state.get("optimizer_state") or {}
        if saved.get("framework") == self.backend.name:
            for optimizer, entry in zip(self.optimizers, saved["optimizers"], strict=True):
                self.backend.set_optimizer_state(optimizer, entry)
        for name, part in self.parts.items():
            if name in state:
                part.set_state(state[name])
        self._apply_schedules()


def _bad(value: Any) -> bool:
    """A stat that is a number (or array) and not finite."""
    numeric = isinstance(value, (int, float, np.ndarray, np.generic))
    return numeric and not bool(np.isfinite(value).all())


def _positional_args(fn: Callable) -> int:
    params = inspect.signature(fn).parameters.values()
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def build_policy(base: type[TemplatePolicy], name: str, **functions: Any) -> type:
    """A subclass of a backend's ``base`` policy named ``name`` with template ``functions``
    (None entries are left at the base's). Used by ``build_torch_policy``/``build_tf_policy``.

    Signatures: ``loss_fn(policy, model, dist_class, train_batch)`` -> a loss, a list of
    losses (one per optimizer) or a :class:`~plugrl.policy.loss.LossOutput`;
    ``get_default_config()`` -> dict; ``postprocess_fn(policy, batch, other_agent_batches,
    episode)`` -> batch; ``stats_fn(policy, train_batch)`` (or ``(policy, train_batch,
    loss_stats)``) -> dict; ``make_parts(policy, config)`` -> ``{name: part}``;
    ``optimizer_fn(policy, config)`` -> optimizer(s); ``extra_action_out_fn(policy,
    input_dict, state, model, action_dist)`` -> dict of columns (``extra_action_fetches_fn(
    policy)``: the RLlib TF form); ``extra_learn_fetches_fn(policy)`` -> dict;
    ``before_init``, ``before_loss_init``, ``after_init``: ``fn(policy, obs_space,
    action_space, config)``; ``make_model(policy, obs_space, action_space, config)`` -> model;
    ``action_sampler_fn(policy, model, input_dict, state, explore, timestep)`` ->
    ``(actions, logp)``; ``action_distribution_fn(policy, model, obs, *, explore, timestep,
    is_training)`` -> ``(dist_inputs, dist_class, state_out)``; ``mixins``: classes placed
    before the policy class (RLlib style; their ``__init__`` runs only if a hook calls it).
    """
    overrides = {k: v for k, v in functions.items() if v is not None}
    return make_template_class(base, {"name": name, **overrides})
