"""Trainer: builds workers and an optimizer from a config, and runs ``train()`` iterations.

Algorithms make Trainer subclasses with :func:`~plugrl.trainer.build_trainer`; the
functions they pass live in ``_template`` and are called at the points documented there.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from plugrl.callbacks import Callbacks
from plugrl.checkpoint import prune_checkpoints, read_state, write_state
from plugrl.checkpoint.config import saved_config, trusted_config
from plugrl.checkpoint.fit import first_mismatch, space_signature
from plugrl.config import COMMON_CONFIG, TrainerConfig, merge_dicts, merge_trainer_config
from plugrl.env.creator import env_creator_of
from plugrl.env.preprocessors import FlattenPreprocessor, ImagePreprocessor
from plugrl.errors import (
    CheckpointError,
    ConfigError,
    NonFiniteError,
    PluginError,
    ResultsError,
)
from plugrl.exploration import check_exploration_config
from plugrl.export import ExportError, add_pipeline
from plugrl.jsonable import to_jsonable
from plugrl.optimizers import SyncSamplesOptimizer, build_optimizer
from plugrl.policy import TemplatePolicy
from plugrl.registry import get_policy_class, get_trainer_class, registry
from plugrl.sample_batch import DEFAULT_POLICY_ID
from plugrl.sampling.curriculum import set_env_tasks, task_settable
from plugrl.sampling.worker_set import WorkerSet
from plugrl.template import TemplateClass, make_template_class
from plugrl.trainer.evaluation import Evaluator, check_evaluation_config
from plugrl.trainer.logdir import new_logdir, write_params

logger = logging.getLogger("plugrl")

TEMPLATE_BUILDER = True  # with_updates builds classes for its callers (see plugrl.template)

TEMPLATE_FUNCTIONS = (
    "default_policy",
    "default_config",
    "config_schema",
    "validate_config",
    "get_initial_state",
    "get_policy_class",
    "before_init",
    "make_workers",
    "make_policy_optimizer",
    "after_init",
    "before_train_step",
    "after_optimizer_step",
    "after_train_result",
    "collect_metrics_fn",
    "before_evaluate_fn",
)


class Trainer(TemplateClass):
    """Trains a policy on an env (or several policies on a multi-agent env: see
    ``config["multiagent"]``).

    Args:
        config: overrides of the trainer's default config (unknown keys are errors).
        env: the env (overrides ``config["env"]``): a registered name, gymnasium id, dotted
            path, class or callable.
        logger_creator: ``fn(config) -> sink`` for custom result logging (the sink has
            ``on_result(result)``, ``close()`` and a ``logdir`` attribute).
        logdir: the run folder; default ``~/plugrl_results/default/<Name>_<env>_<time>_<id>/``.
            It is created at the first ``train()`` or ``save()``.
    """

    _template: dict[str, Any] = dict.fromkeys(TEMPLATE_FUNCTIONS)
    _template["default_config"] = COMMON_CONFIG

    def __init__(
        self,
        config: dict | None = None,
        env: Any = None,
        logger_creator: Any = None,
        *,
        logdir: str | None = None,
    ):
        t = self._template
        config = dict(config or {})
        if env is not None:
            config["env"] = env
        self.config = self.merge_config(config)
        logging.getLogger("plugrl").setLevel(_log_level(self.config["log_level"]))
        self.env_creator = env_creator_of(self.config)  # None: no env, given spaces
        self.callbacks = Callbacks(self.config["callbacks"])
        self.iteration = 0
        self._time_total = 0.0
        self._episodes_total = 0
        self.evaluation_workers: WorkerSet | None = None
        self._evaluator: Evaluator | None = None
        # A custom sink says where results go. The run folder is only named here: it is
        # created, with params.json and the registered sinks, at the first result or save
        # (_open_logdir), so a trainer that never trains writes nothing.
        self._sinks = [logger_creator(self.config)] if logger_creator else []
        self._logdir_open = False
        self.logdir = str(
            logdir
            or getattr(next(iter(self._sinks), None), "logdir", None)
            or new_logdir(type(self).__name__, _env_label(self.config["env"]))
        )

        self.state = t["get_initial_state"](self) if t["get_initial_state"] else {}
        self._policy_class = self._resolve_policy_class()
        try:
            self._build()
        except BaseException:  # what was built (envs, actors, servers, files) is stopped
            with contextlib.suppress(Exception):  # the error to report is the first one
                self.stop()
            raise
        self.callbacks.call("on_trainer_init", trainer=self)

    def _build(self) -> None:
        """The workers, the optimizer and the evaluation workers, with the template's hooks."""
        t = self._template
        if t["before_init"]:
            t["before_init"](self)
        if t["make_workers"]:
            self.workers = t["make_workers"](
                self, self.env_creator, self._policy_class, self.config
            )
        else:
            self.workers = self._make_workers(
                self.env_creator, self._policy_class, self.config, self.config["num_workers"]
            )
        if t["make_policy_optimizer"]:
            self.optimizer = t["make_policy_optimizer"](self.workers, self.config)
        else:
            self.optimizer = build_optimizer(
                SyncSamplesOptimizer,
                self.workers,
                self.config["optimizer"],
                train_batch_size=self.config["train_batch_size"],
            )
        if t["after_init"]:
            t["after_init"](self)
        if self.config["env_task_fn"]:
            self.workers.local_worker().foreach_env(task_settable)  # an error unless they are
        if self.config["evaluation_interval"]:
            self.evaluation_workers = self._make_evaluation_workers()

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def merge_config(cls, config: dict) -> TrainerConfig:
        """``config`` merged onto this trainer's defaults and checked (unknown keys, values,
        exploration_config, the algorithm's ``validate_config``): the config the trainer is
        built with. Nothing is built."""
        t = cls._template
        merged = merge_trainer_config(
            t["default_config"] or COMMON_CONFIG, config, t["config_schema"]
        )
        cls._check_plugin_config(merged)
        if t["validate_config"]:
            t["validate_config"](merged)
        check_evaluation_config(merged)
        return merged

    @classmethod
    def with_updates(cls, **overrides: Any) -> type:
        """A subclass with some ``build_trainer`` arguments replaced.

        Giving ``default_policy`` without ``get_policy_class`` drops the inherited
        ``get_policy_class``, so the policy you pass is the one used.
        """
        if "default_policy" in overrides and "get_policy_class" not in overrides:
            overrides["get_policy_class"] = None
        return make_template_class(cls, overrides)

    def _resolve_policy_class(self) -> type:
        """``get_policy_class(config)`` if given, else ``default_policy``, else the policy
        registered for this algorithm (or one it derives from) on ``config["framework"]``."""
        t = self._template
        policy = t["get_policy_class"](self.config) if t["get_policy_class"] else None
        policy = policy or t["default_policy"]
        if policy is not None:
            return policy
        lineage = lineage_of(type(self))
        if not any(algo in lineage for algo, _ in registry("policies").names()):
            raise ConfigError(
                f"{type(self).__name__} has no policy: pass build_trainer(default_policy=...), "
                "or register one per framework with the register_policies hook."
            )
        return get_policy_class(lineage, self.config["framework"])

    @staticmethod
    def _check_plugin_config(config: dict) -> None:
        """Check exploration_config keys against its type's constructor (top level and in
        evaluation_config) when the type can be resolved; an unresolvable type is reported
        when a policy that explores is built (a custom policy may not use one)."""
        configs = [config["exploration_config"]]
        if "exploration_config" in config["evaluation_config"]:
            override = {"exploration_config": config["evaluation_config"]["exploration_config"]}
            configs.append(merge_dicts(config, override)["exploration_config"])
        for exploration_config in configs:
            try:
                check_exploration_config(exploration_config)
            except PluginError:
                continue

    def _make_workers(
        self, env_creator: Any, policy: Any, config: dict, num_workers: int
    ) -> WorkerSet:
        return WorkerSet(
            env_creator=env_creator,
            policy=policy,
            trainer_config=config,
            num_workers=num_workers,
            logdir=self.logdir,
        )

    def _make_evaluation_workers(self) -> WorkerSet:
        """The evaluation workers, owned by the trainer's :class:`Evaluator`."""
        self._evaluator = Evaluator(self)
        return self._evaluator.workers

    # --- training ---------------------------------------------------------------------------

    def train(self) -> dict[str, Any]:
        """Run one iteration and return its result (RLlib's result keys)."""
        t = self._template
        start = time.time()
        if self._evaluator:  # evaluation_parallel_to_training: starts beside the step
            self._evaluator.start_parallel(self.iteration + 1)
        if t["before_train_step"]:
            t["before_train_step"](self)
        sampled_before = self.optimizer.num_steps_sampled
        steps = 0
        while True:
            try:
                fetches = self.optimizer.step()
            except NonFiniteError as exc:
                raise NonFiniteError(f"Iteration {self.iteration + 1}: {exc}") from None
            steps += 1
            if t["after_optimizer_step"]:
                t["after_optimizer_step"](self, fetches)
            elapsed = time.time() - start
            sampled = self.optimizer.num_steps_sampled - sampled_before
            if (
                elapsed >= self.config["min_iter_time_s"]
                and sampled >= self.config["timesteps_per_iteration"]
            ):
                break
        self._sync_filters()
        if t["collect_metrics_fn"]:
            result = t["collect_metrics_fn"](self)
        else:
            result = self.collect_metrics()
        self.iteration += 1
        time_this_iter = time.time() - start
        self._time_total += time_this_iter
        self._episodes_total += result["episodes_this_iter"]
        now = datetime.now()
        result.update(
            training_iteration=self.iteration,
            timesteps_total=self.optimizer.num_steps_sampled,
            timesteps_this_iter=self.optimizer.num_steps_sampled - sampled_before,
            optimizer_steps_this_iter=steps,
            episodes_total=self._episodes_total,
            time_this_iter_s=time_this_iter,
            time_total_s=self._time_total,
            num_healthy_workers=len(self.workers.remote_workers()),
            num_remote_worker_restarts=self.workers.num_restarts,
            num_skipped_updates=sum(
                getattr(p, "num_skipped_updates", 0)
                for p in self.workers.local_worker().policy_map.values()
            ),
            done=False,
            date=now.strftime("%Y-%m-%d_%H-%M-%S"),
            timestamp=int(now.timestamp()),
            hostname=platform.node(),
        )
        if t["after_train_result"]:
            t["after_train_result"](self, result)
        if self._evaluator and self._evaluator.due(self.iteration):
            parallel = self._evaluator.finish_parallel()
            result["evaluation"] = self._evaluate() if parallel is None else parallel
        if self.config["env_task_fn"]:
            result.update(set_env_tasks(self.workers, self.config["env_task_fn"], result))
        self.callbacks.call("on_train_result", trainer=self, result=result)
        self._log_result(result)
        return result

    def _open_logdir(self) -> None:
        """Create the run folder with ``params.json`` and open the registered sinks (unless
        a custom sink was given), once: at the first result or save."""
        if self._logdir_open:
            return
        try:
            write_params(Path(self.logdir), self.config)
            if not self._sinks:
                self._sinks = [
                    registry("loggers").get(name)(self.logdir, self.config)
                    for name in registry("loggers").names()
                ]
        except OSError as exc:
            raise ResultsError(
                f"Could not create the run folder {self.logdir!r}: {exc.strerror or exc}. "
                "Free some disk space or choose another --local-dir (or logdir=)."
            ) from None
        self._logdir_open = True

    def _log_result(self, result: dict[str, Any]) -> None:
        """Hand ``result`` to every sink; a failing disk is one :class:`ResultsError`."""
        self._open_logdir()
        try:
            for sink in self._sinks:
                sink.on_result(result)
        except OSError as exc:
            raise ResultsError(
                f"Could not write the results of iteration {self.iteration} to "
                f"{self.logdir!r}: {exc.strerror or exc}. Checkpoints already saved are "
                "intact; free some disk space or choose another --local-dir."
            ) from None

    def collect_metrics(self, selected_workers: list | None = None) -> dict[str, Any]:
        """Episode metrics over the smoothing window, with the optimizer's ``info``."""
        return self.optimizer.collect_metrics(selected_workers=selected_workers)

    def _sync_filters(self) -> None:
        """Merge what remote workers' filters saw into the local one and send it back."""
        remotes = self.workers.remote_workers()
        if not remotes or not self.config["synchronize_filters"]:
            return
        local = self.workers.local_worker()
        for filters in self.workers.get([w.get_filters.remote(True) for w in remotes], remotes):
            for pid, f in filters.items():
                local.filters[pid].apply_changes(f)
        synced = local.get_filters()
        self.workers.get([w.sync_filters.remote(synced) for w in remotes], remotes)

    def _evaluate(self) -> dict[str, Any]:
        """Run one evaluation round now, with the current weights and filters (see
        :class:`~plugrl.trainer.evaluation.Evaluator`)."""
        if self._evaluator is None:
            raise ConfigError(
                "This trainer has no evaluation workers: set evaluation_interval (e.g. 1) in "
                "its config to evaluate."
            )
        return self._evaluator.evaluate()

    # --- acting -----------------------------------------------------------------------------

    def compute_single_action(
        self,
        observation: Any,
        state: list | None = None,
        prev_action: Any = None,
        prev_reward: Any = None,
        info: Any = None,
        policy_id: str = DEFAULT_POLICY_ID,
        full_fetch: bool = False,
        explore: bool | None = None,
    ) -> Any:
        """The action for one raw env observation, through the workers' pipeline: the same
        preprocessing and filter going in, the same rescaling and clipping coming out.

        Returns the action, or ``(action, state_out, extra)`` when ``state`` is given or
        ``full_fetch`` is True.
        """
        local = self.workers.local_worker()
        obs = local.preprocessors[policy_id].transform(observation)
        obs = local.filters[policy_id](obs, update=False)
        action, state_out, extra = self.get_policy(policy_id).compute_single_action(
            obs, state or [], prev_action, prev_reward, info, explore=explore
        )
        action = local.to_env_actions(np.asarray([action]), policy_id)[0]
        return (action, state_out, extra) if (state or full_fetch) else action

    compute_action = compute_single_action  # RLlib's earlier name

    def compute_actions(
        self,
        observations: dict[Any, Any],
        policy_id: str = DEFAULT_POLICY_ID,
        explore: bool | None = None,
        full_fetch: bool = False,
    ) -> dict[Any, Any]:
        """Actions for a dict of raw observations, keyed like the input, in one batched call."""
        local = self.workers.local_worker()
        keys = list(observations)
        prep, filt = local.preprocessors[policy_id], local.filters[policy_id]
        obs = np.stack([filt(prep.transform(observations[k]), update=False) for k in keys])
        actions, _, extra = self.get_policy(policy_id).compute_actions(obs, explore=explore)
        out = dict(zip(keys, local.to_env_actions(np.asarray(actions), policy_id), strict=True))
        if full_fetch:
            return {
                k: (out[k], [], {n: v[i] for n, v in extra.items()}) for i, k in enumerate(keys)
            }
        return out

    def get_policy(self, policy_id: str = DEFAULT_POLICY_ID) -> Any:
        return self.workers.local_worker().get_policy(policy_id)

    def get_weights(self, policies: list[str] | None = None) -> dict[str, Any]:
        return self.workers.local_worker().get_weights(policies)

    def set_weights(self, weights: dict[str, Any]) -> None:
        self.workers.local_worker().set_weights(weights)
        self.workers.sync_weights()

    # --- checkpoints ---------------------------------------------------------------------

    def save(self, checkpoint_dir: str | None = None) -> str:
        """Write a checkpoint folder ``checkpoint_<iteration>`` and return its path; with
        ``keep_checkpoints_num`` set, older checkpoints in that folder beyond it are deleted."""
        if not checkpoint_dir:
            self._open_logdir()  # a run saved before any result still gets its params.json
        parent = Path(checkpoint_dir) if checkpoint_dir else Path(self.logdir)
        path = parent / f"checkpoint_{self.iteration:06d}"
        write_state(path, self.__getstate__())
        if self.config["keep_checkpoints_num"]:
            prune_checkpoints(parent, self.config["keep_checkpoints_num"])
        return str(path)

    def __getstate__(self) -> dict[str, Any]:
        local = self.workers.local_worker()
        return {
            "trainer": type(self).__name__,
            "lineage": lineage_of(type(self)),
            "spaces": {
                pid: {
                    "observation_space": space_signature(local.preprocessors[pid].original_space),
                    "action_space": space_signature(policy.action_space),
                }
                for pid, policy in local.policy_map.items()
            },
            "iteration": self.iteration,
            "time_total_s": self._time_total,
            "episodes_total": self._episodes_total,
            "trainer_state": to_jsonable(self.state),
            "optimizer": self.optimizer.save(),
            "worker": local.save(),
            "config": to_jsonable(self.config),
        }

    def restore(self, checkpoint_path: str, state: dict[str, Any] | None = None) -> None:
        """Continue from a checkpoint: weights, optimizer state, filters, counters.

        Everything is checked against this trainer first (algorithm, spaces, the name, shape
        and dtype of every array, counters, exploration state); then all of it is applied, or
        none of it: a :class:`CheckpointError` leaves the trainer as it was. ``state`` is the
        checkpoint already read with :func:`plugrl.checkpoint.read_state`.
        """
        if state is None:
            state = read_state(checkpoint_path)
        current = self.__getstate__()
        problem = _header_mismatch(state, current) or first_mismatch(
            {k: v for k, v in state.items() if k not in _HEADER},
            {k: v for k, v in current.items() if k not in _HEADER},
        )
        if problem:
            raise CheckpointError(
                f"Checkpoint {str(checkpoint_path)!r} does not fit {type(self).__name__} with "
                f"this config: {problem}. Restore it with the algorithm, env and model config "
                "that wrote it."
            )
        try:
            self.__setstate__(state)
        except Exception as exc:
            self.__setstate__(current)
            raise CheckpointError(
                f"Checkpoint {str(checkpoint_path)!r} could not be applied to "
                f"{type(self).__name__} ({type(exc).__name__}: {exc}); the trainer is unchanged."
            ) from None

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.workers.local_worker().restore(state["worker"])
        self.optimizer.restore(state["optimizer"])
        self.iteration = int(state["iteration"])
        self._time_total = float(state["time_total_s"])
        self._episodes_total = int(state["episodes_total"])
        self.state = state.get("trainer_state", {})
        local = self.workers.local_worker()
        local.set_global_vars({"timestep": self.optimizer.num_steps_sampled})
        if self.workers.remote_workers():
            self.workers.sync_weights(local.get_global_vars())
            filters = local.get_filters()
            remotes = self.workers.remote_workers()
            self.workers.get([w.sync_filters.remote(filters) for w in remotes], remotes)

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint_path: str,
        config: dict | None = None,
        *,
        env: Any = None,
        logger_creator: Any = None,
        logdir: str | None = None,
    ) -> Trainer:
        """A trainer built from a checkpoint's config and restored from it.

        The saved config may name only registered things (plugins, ``register_env``,
        ``ModelCatalog``) and gymnasium ids: code it names otherwise is never imported; pass it
        in ``config`` / ``env`` if you trust it. On ``Trainer`` itself, the algorithm is the one
        the checkpoint records.
        """
        state = read_state(checkpoint_path)
        overrides = dict(config or {})
        if env is not None:
            overrides["env"] = env
        trusted = trusted_config(
            saved_config(checkpoint_path, state), overrides, str(checkpoint_path)
        )
        trainer_cls = cls if cls is not Trainer else _recorded_trainer(state, checkpoint_path)
        trainer = trainer_cls(config=trusted, logger_creator=logger_creator, logdir=logdir)
        try:
            trainer.restore(checkpoint_path, state)
        except BaseException:
            trainer.stop()
            raise
        return trainer

    def export_policy_checkpoint(self, export_dir: str, policy_id: str = DEFAULT_POLICY_ID) -> None:
        self.get_policy(policy_id).export_checkpoint(export_dir)

    def export_policy_model(
        self, export_dir: str, policy_id: str = DEFAULT_POLICY_ID, onnx: int | None = None
    ) -> None:
        """Write the policy's model for serving without plugrl: its forward pass (torch:
        TorchScript, or ONNX of opset ``onnx``; tf: a SavedModel) and ``policy.json`` with this
        trainer's preprocessing, observation filter and action rescaling.
        ``plugrl.export.import_model(export_dir).compute_actions(observations)`` then gives the
        actions ``compute_single_action(obs, explore=False)`` gives (see :mod:`plugrl.export`).
        """
        policy = self.get_policy(policy_id)
        if not isinstance(policy, TemplatePolicy):
            raise ExportError(
                f"Policy {policy_id!r} is a {type(policy).__name__}, not a TemplatePolicy: only "
                "policies built on a framework backend (build_torch_policy, build_tf_policy) "
                "can be exported."
            )
        local = self.workers.local_worker()
        preprocessor = local.preprocessors[policy_id]
        if type(preprocessor) not in (FlattenPreprocessor, ImagePreprocessor):
            raise ExportError(
                f"Policy {policy_id!r} takes observations through the custom preprocessor "
                f"{type(preprocessor).__name__}, which an export cannot replay: export the "
                "policy's model alone with get_policy().export_model(dir), which takes "
                "preprocessed observations."
            )
        policy.export_model(export_dir, onnx)
        add_pipeline(
            export_dir,
            preprocessor.original_space,
            local.filters[policy_id],
            normalize_actions=local.config["normalize_actions"],
            clip_actions=local.config["clip_actions"],
        )

    def stop(self) -> None:
        """Stop workers and close result files (of a trainer whose construction failed: what
        was built)."""
        for part in (getattr(self, "optimizer", None), getattr(self, "workers", None)):
            if part is not None:
                part.stop()
        if self._evaluator:
            self._evaluator.stop()
        for sink in self._sinks:
            sink.close()

    @property
    def __name__(self) -> str:  # noqa: PLW3201 - RLlib-era code reads trainer.__name__
        """The algorithm name, as RLlib-era callbacks read it from the trainer instance."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}(env={self.config['env']!r}, logdir={self.logdir!r})"


# Checkpoint entries that say what wrote it, compared by value rather than by shape.
_HEADER = ("trainer", "lineage", "spaces")


def _header_mismatch(saved: dict[str, Any], current: dict[str, Any]) -> str | None:
    """Why a checkpoint is not this trainer's algorithm, or not for these spaces (or None)."""
    problem = algorithm_mismatch(saved, current["lineage"])
    if problem:
        return problem
    theirs = saved.get("spaces", current["spaces"])
    for pid, spaces in current["spaces"].items():
        found = theirs.get(pid) if isinstance(theirs, dict) else None
        if found != spaces:
            return f"its spaces for policy {pid!r} are {found}, this trainer's are {spaces}"
    return None


def algorithm_mismatch(state: dict[str, Any], lineage: list[str]) -> str | None:
    """Why a checkpoint's ``state`` was not written by a trainer of ``lineage`` (the names
    of a trainer class and those it derives from), or None when it was."""
    saved = state.get("lineage") or [state.get("trainer")]
    if isinstance(saved, list) and set(map(str, saved)) & set(lineage):
        return None
    name = saved[0] if isinstance(saved, list) else saved
    return f"it was written by {name!r}, not by {lineage[0]!r}"


def lineage_of(cls: type) -> list[str]:
    """The names of ``cls`` and the trainer classes it was derived from (``with_updates``)."""
    names = [c.__name__ for c in cls.__mro__ if issubclass(c, Trainer) and c is not Trainer]
    return names or [cls.__name__]


def _recorded_trainer(state: dict[str, Any], checkpoint_path: str) -> type:
    """The trainer class a checkpoint records: registered under one of its lineage's names, or
    registered under another name (a plugin's trainer class may be named differently)."""
    names = state.get("lineage") or [state.get("trainer")]
    names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
    algorithms = registry("algorithms")
    for name in names:
        if name in algorithms:
            return get_trainer_class(name)
    for registered in algorithms.names():
        trainer_cls = get_trainer_class(registered)
        if names and lineage_of(trainer_cls)[0] == names[0]:
            return trainer_cls
    raise CheckpointError(
        f"Checkpoint {str(checkpoint_path)!r} was written by {names or 'an unnamed trainer'}, "
        f"which is not a registered algorithm (installed: {', '.join(algorithms.names())}). "
        "Name the algorithm yourself: --run NAME, or NAME.from_checkpoint(...) in Python."
    )


def _env_label(env: Any) -> str:
    from plugrl.env.creator import env_name

    return env_name(env)


def _log_level(name: str) -> int:
    return logging.WARNING if name == "WARN" else getattr(logging, str(name).upper(), 30)
