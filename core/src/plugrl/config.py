"""Configuration: the common keys every trainer accepts, merging, and validation.

Every key has a comment. An algorithm's ``DEFAULT_CONFIG`` is :data:`COMMON_CONFIG` updated
with its own keys (:func:`with_common_config`); a user's config is deep-merged on top, and any
unknown key, at any level that has a schema, is an error naming the closest valid keys.
"""

from __future__ import annotations

import copy
import difflib
import warnings
from collections.abc import Mapping
from typing import Any

from plugrl.errors import ConfigError

MODEL_DEFAULTS: dict[str, Any] = {
    # Sizes of the hidden layers of the default fully connected network.
    "fcnet_hiddens": [256, 256],
    # Activation of those layers: "tanh", "relu", "elu", "swish" or "linear".
    "fcnet_activation": "tanh",
    # Share the hidden layers between the policy and the value function (one trunk, two heads).
    "vf_share_layers": False,
    # For Box actions: learn the log std as free variables instead of model outputs.
    "free_log_std": False,
    # Don't add a final linear layer: the last hidden layer is the output.
    "no_final_linear": False,
    # Image observations ([H, W, C] Boxes) get a vision network: these convolutions
    # ([[out_channels, [kernel_h, kernel_w], stride], ...], no padding), then the fcnet_hiddens
    # layers on their flattened output. None: defaults for 84x84, 64x64, 42x42 and 10x10 images.
    "conv_filters": None,
    # Activation of the convolutions: "tanh", "relu", "elu", "swish" or "linear".
    "conv_activation": "relu",
    # Name of a model registered with ModelCatalog.register_custom_model or a plugin.
    "custom_model": None,
    # Extra keyword arguments for the custom model (free-form).
    "custom_model_config": {},
    # Name of a custom action distribution class registered like a custom model.
    "custom_action_dist": None,
    # Name of a preprocessor registered with ModelCatalog.register_custom_preprocessor; None:
    # images as they are, every other observation flattened to one float32 vector.
    "custom_preprocessor": None,
    # Wrap the model (the default network or the custom_model) in an LSTM: the policy then
    # carries a recurrent state from step to step (see get_initial_state()).
    "use_lstm": False,
    # Longest sequence (in steps) a recurrent model is trained on: trajectories are cut into
    # sequences of at most this many steps, each starting from the state sampled with it.
    "max_seq_len": 20,
    # Width of the LSTM's hidden and cell state (with use_lstm).
    "lstm_cell_size": 256,
    # Feed the previous action (one-hot for discrete actions) to the LSTM (with use_lstm).
    "lstm_use_prev_action": False,
    # Feed the previous reward to the LSTM (with use_lstm).
    "lstm_use_prev_reward": False,
}

MULTIAGENT_DEFAULTS: dict[str, Any] = {
    # The policies of a multi-agent env: {policy_id: (policy class or None for the
    # trainer's, observation space or None, action space or None, config overrides)} (or a
    # PolicySpec), or a list of policy ids. Spaces left None are the env's for the agents
    # mapped to the policy. Empty: one policy ("default_policy") acts for every agent.
    "policies": {},
    # fn(agent_id, episode, worker, **kwargs) -> policy_id (or a "module:function" path);
    # None maps every agent to the only policy (or to "default_policy").
    "policy_mapping_fn": None,
    # The policy ids that learn; None: all of them.
    "policies_to_train": None,
    # How rollout_fragment_length and train_batch_size count: "env_steps" (one per step
    # of an env, however many agents acted) or "agent_steps" (one per agent that acted).
    "count_steps_by": "env_steps",
}

COMMON_CONFIG: dict[str, Any] = {
    # === Rollouts ===
    # Number of remote rollout workers (Ray actors). 0 samples in the driver process.
    "num_workers": 0,
    # Envs stepped together by each worker, with one batched policy call per step.
    "num_envs_per_worker": 1,
    # Steps collected per env for each sample() call (a fragment; may cross episodes).
    "rollout_fragment_length": 200,
    # "truncate_episodes": fragments of exactly rollout_fragment_length steps per env;
    # "complete_episodes": only whole episodes, at least rollout_fragment_length steps per env.
    "batch_mode": "truncate_episodes",
    # === Training ===
    # GPUs the driver's policy uses (torch backend: the model moves to cuda:0 when > 0;
    # without a CUDA device it warns and stays on the CPU).
    "num_gpus": 0,
    # Size of the batch each optimizer step learns on.
    "train_batch_size": 200,
    # Model options, see MODEL_DEFAULTS.
    "model": MODEL_DEFAULTS,
    # Extra keyword arguments for the policy optimizer (free-form).
    "optimizer": {},
    # Discount factor.
    "gamma": 0.99,
    # Learning rate.
    "lr": 1e-4,
    # === Environment ===
    # The env: a registered name, a gymnasium id, a dotted class path, a class or a callable.
    "env": None,
    # Keyword arguments for the env creator (gymnasium.make kwargs for gymnasium ids).
    "env_config": {},
    # The spaces of the observations and actions when there is no env (env: None, e.g. a
    # trainer fed by a PolicyServerInput): gymnasium spaces, or their JSON form in a YAML or
    # JSON config ({"type": "Discrete", "n": 2}; see plugrl.env.spaces). Given with an env,
    # they must be the env's. None: the env's.
    "observation_space": None,
    # See observation_space.
    "action_space": None,
    # Atari envs (ale-py ids such as ALE/Pong-v5): "deepmind" wraps them in the standard
    # pipeline (no-op starts, 4 frames per step, 84x84 grayscale uint8, 4 stacked frames as
    # channels: [84, 84, 4]); None makes them as gymnasium does ([210, 160, 3] frames).
    "preprocessor_pref": "deepmind",
    # Cut episodes after this many steps (truncated, with bootstrapping); None = env's limit.
    "horizon": None,
    # Rescale policy outputs in [-1, 1] to a Box action space's bounds.
    "normalize_actions": False,
    # None or False: rewards as given; True: sign of the reward; a float c: clip to [-c, c].
    "clip_rewards": None,
    # Clip Box actions to the action space's bounds before stepping the env.
    "clip_actions": True,
    # === Debugging ===
    # Log level of the "plugrl" logger: DEBUG, INFO, WARN or ERROR.
    "log_level": "WARN",
    # Record episodes as MP4 files in <logdir>/videos/ (moviepy: pip install 'plugrl[video]'),
    # from the first env of the worker that samples (remote worker 1 when num_workers > 0),
    # created with env_config["render_mode"] = "rgb_array"; episodes 0, 1, 8, 27, 64, ...
    # (gymnasium RecordVideo's schedule). Evaluation workers record as evaluation-episode-*.
    "monitor": False,
    # Callbacks: a class with @hookimpl methods, a DefaultCallbacks subclass, a list of either,
    # or the legacy dict {"on_episode_end": fn(info), ...}.
    "callbacks": None,
    # A failed remote worker (its env raised, its process died) stops training with an error
    # naming it, unless: carry on with the healthy remote workers (result key
    # num_healthy_workers) ...
    "ignore_worker_failures": False,
    # ... or replace it with a new actor holding the current weights, global vars and filters
    # (result key num_remote_worker_restarts).
    "recreate_failed_workers": False,
    # The most replacements recreate_failed_workers starts in one run; the next failure is an
    # error (an env that fails every time would otherwise be restarted forever).
    "max_num_worker_restarts": 10,
    # A reward or observation from an env that is NaN, infinite or missing: "error" stops with
    # an error naming the env and the step; "clip" replaces it (NaN and missing with 0,
    # infinities with the largest float32) and counts it in sampler_perf.
    "nonfinite_env_values": "error",
    # A loss or gradient that is NaN or infinite is never applied; False stops training with
    # an error naming the iteration, the policy and the stats, True skips the update and
    # counts it (result key num_skipped_updates).
    "skip_nonfinite_updates": False,
    # === Framework ===
    # Deep-learning backend plugin: "torch" (plugrl-torch) or "tf" (plugrl-tf: acting and
    # learning traced into graphs with tf.function, as RLlib's "tf" ran a static graph); "tf2"
    # is the same TF backend in eager mode, without tracing: slower, for debugging.
    "framework": "torch",
    # TF backend only: trace acting and learning with tf.function. None: "tf" traces and
    # "tf2" does not; True or False decides for either.
    "eager_tracing": None,
    # === Exploration ===
    # Whether compute_action(s) explores by default (overridable per call).
    "explore": True,
    # The Exploration: "type" is a registered name, a dotted path or a class; other keys are
    # its constructor arguments.
    "exploration_config": {"type": "StochasticSampling"},
    # === Evaluation ===
    # Evaluate every N train() calls, on evaluation workers of their own; results go under
    # result["evaluation"] (training's keys, plus units_per_worker). None turns evaluation off.
    "evaluation_interval": None,
    # How long each evaluation round runs, in evaluation_duration_unit; "auto" (only with
    # evaluation_parallel_to_training) evaluates in rounds until the training step finishes.
    "evaluation_duration": 10,
    # "episodes" (complete episodes) or "timesteps" (truncated fragments; metrics from the
    # episodes that complete). Episodes not divisible by the evaluation workers: the remainder
    # runs on the first workers (10 on 7: 2, 2, 2, 1, 1, 1, 1); timesteps are rounded up to a
    # multiple of them (200 on 3: 67 each). An unfinished episode goes on in the next round.
    "evaluation_duration_unit": "episodes",
    # The older name: N means evaluation_duration N in episodes (None: use evaluation_duration).
    "evaluation_num_episodes": None,
    # Evaluate in a thread while the training step runs; evaluation in iteration n then uses
    # the weights (and filters) from the end of iteration n - 1.
    "evaluation_parallel_to_training": False,
    # A stuck or failed evaluation worker does not hold up the round: idle workers cover its
    # share, a worker still busy from an earlier round is not waited for, and a failed one is
    # recreated (recreate_failed_workers) or else dropped with a warning.
    "enable_async_evaluation": False,
    # With enable_async_evaluation: the longest an evaluation round waits for its units (then
    # it reports what came, with a warning).
    "evaluation_sample_timeout_s": 180.0,
    # Set on evaluation workers (read it in callbacks or envs); True while evaluating.
    "in_evaluation": False,
    # Config overrides for evaluation workers, e.g. {"explore": False}.
    "evaluation_config": {},
    # Remote workers (Ray actors) for evaluation; 0 evaluates on a local worker in the driver.
    "evaluation_num_workers": 0,
    # fn(trainer, eval_workers) -> metrics dict, replacing the default evaluation round (in
    # the evaluation thread with evaluation_parallel_to_training).
    "custom_eval_function": None,
    # === Offline data ===
    # Where sample() gets experiences: "sampler" (the envs); a folder, glob or file of JSON
    # batches (any fsspec URL: s3://, gs://, memory://...) or a list of them; a dict of such
    # sources (and "sampler") with the probability of reading each; or fn(ioctx) -> reader.
    "input": "sampler",
    # Options of the JSON input: {"on_bad_line": "skip"} (the default; a line that is not a
    # batch is skipped with a warning naming its file and line) or "raise".
    "input_config": {},
    # Run the policy's postprocessing (e.g. returns, advantages) on each episode read from the
    # input, as if it had just been sampled.
    "postprocess_inputs": False,
    # Mix the rows of this many input steps before handing them out (0: batches as read).
    "shuffle_buffer_size": 0,
    # Off-policy estimates of the policy's value from the input's episodes (needs the
    # action_prob column): "is", "wis"; "simulation" also runs the envs for episode metrics,
    # without learning from them. Results under off_policy_estimator.
    "input_evaluation": ["is", "wis"],
    # Write every sampled batch as JSON lines: None (off), "logdir" (the run folder), a folder
    # or fsspec URL, or fn(ioctx) -> writer. Each worker writes its own files.
    "output": None,
    # Columns written LZ4-compressed (base64 in the JSON); [] writes readable episode traces.
    "output_compress_columns": ["obs", "new_obs"],
    # Start a new output file once one holds this many bytes.
    "output_max_file_size": 64 * 1024 * 1024,
    # === Advanced rollouts ===
    # Sample in a background thread of the worker (algorithms that support it).
    "sample_async": False,
    # "NoFilter" or "MeanStdFilter" (running mean/std of observations, synced across workers).
    "observation_filter": "NoFilter",
    # Merge the workers' filter statistics into the driver's after each iteration.
    "synchronize_filters": True,
    # Seconds to wait for remote workers to report their episode metrics (then an error).
    "collect_metrics_timeout": 180,
    # Episode metrics are averaged over this many most recent completed episodes.
    "metrics_smoothing_episodes": 100,
    # Each train() call runs optimizer steps for at least this many seconds.
    "min_iter_time_s": 0,
    # Each train() call samples at least this many env steps.
    "timesteps_per_iteration": 0,
    # Curriculum: fn(train_results, task_settable_env, env_context) -> task, called after each
    # train() for every sub-env of every rollout worker (the env is a TaskSettableEnv).
    "env_task_fn": None,
    # Seed for numpy, random, the framework and the envs (worker i uses seed + 1000 * i, an
    # evaluation worker 500 more; env j of a worker resets with its seed + j).
    "seed": None,
    # === Resources ===
    # CPUs reserved for each remote worker.
    "num_cpus_per_worker": 1,
    # GPUs reserved for each remote worker.
    "num_gpus_per_worker": 0,
    # CPUs reserved for the driver.
    "num_cpus_for_driver": 1,
    # Address of a running Ray cluster to join; None starts a local one when needed.
    "ray_address": None,
    # === Multi-agent ===
    # Which policies act for which agents of a multi-agent env: see MULTIAGENT_DEFAULTS.
    "multiagent": MULTIAGENT_DEFAULTS,
    # === Checkpoints ===
    # Keep only the newest N checkpoints of a run folder (older ones are deleted after each
    # save); None keeps them all.
    "keep_checkpoints_num": None,
}

# Keys whose values are replaced whole when merged, never checked key by key: free-form dicts,
# and the spaces (whose JSON form is read on its own, plugrl.env.spaces).
FREE_FORM = frozenset(
    {
        "env_config",
        "optimizer",
        "custom_model_config",
        "input_config",
        "policies",
        "observation_space",
        "action_space",
    }
)


# Keys RLlib configs may set that plugrl accepts but cannot honour yet, with what happens now.
NOT_SUPPORTED_YET = {
    "sample_async": "workers sample in their own thread of control; leave it False.",
}


def with_common_config(extra: Mapping[str, Any]) -> dict[str, Any]:
    """COMMON_CONFIG updated with an algorithm's own keys (which may add new keys)."""
    return merge_dicts(COMMON_CONFIG, extra, allow_new=True)


def merge_dicts(base: Mapping, override: Mapping, allow_new: bool = False, _path: str = "") -> dict:
    """Deep-merge ``override`` onto a copy of ``base``, refusing unknown keys unless allowed.

    ``exploration_config`` is replaced wholesale when its ``"type"`` changes.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        path = f"{_path}{key}"
        if key not in merged:
            if not allow_new:
                raise ConfigError(_unknown_key_message(path, key, merged))
            merged[key] = copy.deepcopy(value)
            continue
        old = merged[key]
        if key == "exploration_config" and isinstance(value, Mapping):
            if "type" in value and value["type"] != old.get("type"):
                merged[key] = copy.deepcopy(dict(value))
            else:
                merged[key] = {**old, **copy.deepcopy(dict(value))}
        elif key == "evaluation_config" and isinstance(value, Mapping):
            merged[key] = copy.deepcopy(dict(value))  # validated against the top level later
        elif isinstance(old, Mapping) and isinstance(value, Mapping) and key not in FREE_FORM:
            merged[key] = merge_dicts(old, value, allow_new, _path=f"{path}.")
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# Names other libraries (Stable-Baselines3, CleanRL, newer RLlib) give to plugrl's keys.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "learning_rate": ("lr",),
    "discount": ("gamma",),
    "discount_factor": ("gamma",),
    "batch_size": ("train_batch_size", "sgd_minibatch_size"),
    "minibatch_size": ("sgd_minibatch_size",),
    "mini_batch_size": ("sgd_minibatch_size",),
    "n_epochs": ("num_sgd_iter",),
    "update_epochs": ("num_sgd_iter",),
    "n_steps": ("rollout_fragment_length",),
    "num_steps": ("rollout_fragment_length",),
    "n_envs": ("num_envs_per_worker",),
    "num_envs": ("num_envs_per_worker",),
    "num_envs_per_env_runner": ("num_envs_per_worker",),
    "n_workers": ("num_workers",),
    "num_rollout_workers": ("num_workers",),
    "num_env_runners": ("num_workers",),
    "ent_coef": ("entropy_coeff",),
    "vf_coef": ("vf_loss_coeff",),
    "gae_lambda": ("lambda",),
    "clip_range": ("clip_param",),
    "clip_coef": ("clip_param",),
    "clip_range_vf": ("vf_clip_param",),
    "max_grad_norm": ("grad_clip",),
    "target_kl": ("kl_target",),
    "target_update_interval": ("target_network_update_freq",),
    "replay_buffer_size": ("buffer_size",),
    "eval_freq": ("evaluation_interval",),
    "n_eval_episodes": ("evaluation_duration",),
    "env_kwargs": ("env_config",),
    "policy_kwargs": ("model",),
    "use_pytorch": ("framework",),
    "eager": ("framework",),
}


def _unknown_key_message(path: str, key: str, valid: Mapping) -> str:
    """The error for an unknown key: the plugrl name of a known synonym, else the closest
    names among ``valid``, and how to list them all (never the whole list: there are dozens)."""
    where = f" in {path.rsplit('.', 1)[0]!r}" if "." in path else ""
    names = [name for name in _SYNONYMS.get(str(key).lower(), ()) if name in valid]
    names = names or difflib.get_close_matches(str(key), list(valid), n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(repr(n) for n in names)}?" if names else ""
    return (
        f"Unknown config key {key!r}{where}.{hint} `plugrl config <algorithm>` lists every "
        "key with its default and what it does."
    )


class TrainerConfig(dict):
    """A config merged onto its defaults and checked, once, by the Trainer: workers and
    policies given one use it as it is (given a plain dict, they fill in defaults)."""


def complete_config(config: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> dict:
    """``config`` as is when the Trainer merged it already, else merged onto ``defaults``
    (a worker or policy built on its own with a partial config)."""
    if isinstance(config, TrainerConfig):
        return config
    return merge_dicts(defaults, config or {}, allow_new=True)


def merge_trainer_config(
    default: Mapping, user: Mapping | None, schema: type | None = None
) -> TrainerConfig:
    """Merge a user config onto a trainer's defaults and check it: unknown keys at every
    level, and every value against ``schema`` (default :class:`CommonConfig`), the overrides
    in ``evaluation_config`` too."""
    from plugrl.config_schema import CommonConfig, check_config  # pydantic: when needed

    schema = schema or CommonConfig
    config = merge_dicts(default, user or {})
    check_config(config, schema)
    evaluation = merge_dicts(config, config["evaluation_config"], _path="evaluation_config.")
    check_config(evaluation, schema, prefix="evaluation_config.")
    for policy_id, overrides in policy_overrides(config).items():
        prefix = f"multiagent.policies.{policy_id}."
        check_config(merge_dicts(config, overrides, _path=prefix), schema, prefix=prefix)
    for key, instead in NOT_SUPPORTED_YET.items():
        if config[key]:
            raise ConfigError(f"Config key {key!r} is not supported yet: {instead}")
    return TrainerConfig(config)


def policy_overrides(config: Mapping[str, Any]) -> dict[str, dict]:
    """``{policy_id: config overrides}`` of the policies in ``config["multiagent"]`` that
    have any (the fourth item of a policy's tuple, or a PolicySpec's ``config``)."""
    policies = config.get("multiagent", {}).get("policies") or {}
    if not isinstance(policies, Mapping):
        return {}
    out = {}
    for policy_id, spec in policies.items():
        overrides = getattr(spec, "config", None)
        if isinstance(spec, list | tuple) and len(spec) == 4:
            overrides = spec[3]
        if overrides:
            out[str(policy_id)] = overrides
    return out


def warn_if_train_batch_uneven(config: Mapping[str, Any]) -> None:
    """Warn when synchronous sampling cannot fill ``train_batch_size`` exactly (optimizers
    that collect ``train_batch_size`` samples per step call this; replay does not)."""
    per_sample = config["rollout_fragment_length"] * config["num_envs_per_worker"]
    per_round = per_sample * max(1, config["num_workers"])
    train = config["train_batch_size"]
    sampled = config.get("input", "sampler") == "sampler"  # read batches have their own sizes
    if sampled and config["batch_mode"] == "truncate_episodes" and train % per_round:
        rounds = -(-train // per_round)
        warnings.warn(
            f"train_batch_size={train} is not a multiple of rollout_fragment_length x "
            f"num_envs_per_worker x max(1, num_workers) = {per_round}; each train batch "
            f"will hold {rounds * per_round} steps.",
            UserWarning,
            stacklevel=4,
        )
