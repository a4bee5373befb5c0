"""The TF backend: distributions, models, the catalog, TFPolicy (eager and traced), state."""

from __future__ import annotations

import pickle
import subprocess
import sys

import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces

from plugrl import Postprocessing, SampleBatch, compute_advantages, plugins
from plugrl.env.creator import make_env_creator
from plugrl.errors import CheckpointError, ConfigError, PlugrlError
from plugrl.models import ModelCatalog
from plugrl.postprocessing import vf_preds_fetches
from plugrl.registry import registry
from plugrl.sampling.rollout_worker import RolloutWorker
from plugrl_exploration import Random, StochasticSampling
from plugrl_tf import (
    FullyConnectedNetwork,
    TFCategorical,
    TFDiagGaussian,
    TFModelV2,
    TFMultiCategorical,
    build_tf_policy,
    get_action_dist,
    get_model,
)
from plugrl_tf.distributions import unit_interval

B = 5
SMALL = {"fcnet_hiddens": [8, 8]}
OBS = spaces.Box(-1.0, 1.0, (2, 2))
CARTPOLE_OBS = spaces.Box(-np.inf, np.inf, (4,), np.float32)


def test_registered_as_tf_and_tf2():
    info = plugins.get_host().infos["tf"]
    assert info.distribution == "plugrl-tf" and "register_frameworks" in info.hooks
    frameworks = registry("frameworks")
    assert frameworks.source("tf") == frameworks.source("tf2") == "tf"
    assert frameworks.get("tf2").name == "tf"  # one backend under both names


# --- distributions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("space", "action_shape", "dtype"),
    [
        (spaces.Discrete(4), (B,), tf.int64),
        (spaces.MultiDiscrete([3, 2, 4]), (B, 3), tf.int64),
        (spaces.MultiDiscrete([[3, 2], [2, 2]]), (B, 2, 2), tf.int64),
        (spaces.Box(-1.0, 1.0, (3,)), (B, 3), tf.float32),
        (spaces.Box(-1.0, 1.0, (2, 3)), (B, 2, 3), tf.float32),
    ],
)
def test_distribution_shapes(space, action_shape, dtype):
    dist_class, n = get_action_dist(space, {})
    rng = np.random.default_rng(0)
    dist = dist_class(rng.normal(size=(B, n)).astype(np.float32), None)
    other = dist_class(rng.normal(size=(B, n)).astype(np.float32), None)
    actions = dist.sample()
    assert tuple(actions.shape) == action_shape and actions.dtype == dtype
    assert tuple(dist.deterministic_sample().shape) == action_shape
    for values in (dist.logp(actions), dist.sampled_action_logp(), dist.entropy(), dist.kl(other)):
        assert tuple(values.shape) == (B,)
    np.testing.assert_allclose(dist.kl(dist), np.zeros(B), atol=1e-6)
    np.testing.assert_allclose(dist.logp(actions.numpy()), dist.logp(actions))


def test_categorical_reference_values():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], np.float32)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    dist = TFCategorical(logits)
    np.testing.assert_array_equal(dist.deterministic_sample(), [1, 2])
    np.testing.assert_allclose(dist.logp([1, 0]), [log_probs[0, 1], log_probs[1, 0]], rtol=1e-6)
    entropy = -(np.exp(log_probs) * log_probs).sum(-1)
    np.testing.assert_allclose(dist.entropy(), entropy, rtol=1e-6)


def test_categorical_samples_follow_the_probabilities():
    tf.random.get_global_generator().reset_from_seed(0)
    probs = np.array([0.2, 0.5, 0.3], np.float32)
    dist = TFCategorical(np.tile(np.log(probs), (20000, 1)))
    counts = np.bincount(dist.sample().numpy(), minlength=3) / 20000
    np.testing.assert_allclose(counts, probs, atol=0.015)


def test_diag_gaussian_reference_values():
    mean, std = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    dist = TFDiagGaussian(np.concatenate([mean, np.log(std)])[None].astype(np.float32))
    action = np.array([1.0, 0.0])
    logp = (-0.5 * ((action - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)).sum()
    np.testing.assert_allclose(dist.logp(action[None]), [logp], rtol=1e-6)
    np.testing.assert_allclose(
        dist.entropy(), [(np.log(std) + 0.5 * np.log(2 * np.pi * np.e)).sum()]
    )
    tf.random.get_global_generator().reset_from_seed(0)
    samples = TFDiagGaussian(np.tile(dist.inputs.numpy(), (20000, 1))).sample().numpy()
    np.testing.assert_allclose(samples.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(samples.std(0), std, atol=0.05)


@pytest.mark.parametrize("space", [spaces.Discrete(3), spaces.Box(-1.0, 1.0, (2,))])
def test_draws_are_the_same_eager_in_a_graph_and_under_xla(space):
    dist_class, n = get_action_dist(space, {})
    inputs = tf.constant(np.random.default_rng(0).normal(size=(64, n)).astype(np.float32))

    def draw():
        return dist_class(inputs, None).sample()

    draws = []
    for fn in (draw, tf.function(draw), tf.function(draw, jit_compile=True)):
        tf.random.get_global_generator().reset_from_seed(5)
        draws.append(fn().numpy())
    for other in draws[1:]:
        np.testing.assert_allclose(other, draws[0], rtol=1e-5, atol=1e-6)
    assert len(np.unique(draws[0])) > 2  # draws, not a constant


def test_uniform_draws_stay_inside_the_unit_interval():
    bits = tf.constant([0, 1, 0xFFFFFF00, 0xFFFFFFFF], tf.uint32)  # the ends of the range
    values = unit_interval(bits).numpy()
    assert values.dtype == np.float32 and np.all((values > 0) & (values < 1))
    assert np.all(np.isfinite(np.log(-np.log(values))))  # Gumbel noise is finite


def test_preset_draws_are_used_once():
    dist = TFCategorical(np.zeros((4, 3), np.float32))
    sample, logp, mode = (
        tf.constant([2, 2, 2, 2], tf.int64),
        tf.fill([4], -7.0),
        tf.zeros(4, tf.int64),
    )
    dist.preset(sample, logp, mode)
    assert dist.sample() is sample and dist.sampled_action_logp() is logp
    assert dist.deterministic_sample() is mode
    tf.random.set_seed(0)
    fresh = [dist.sample() for _ in range(20)]  # later draws are new ones
    assert any(not np.array_equal(f, sample) for f in fresh)
    np.testing.assert_allclose(dist.sampled_action_logp(), np.full(4, -np.log(3)), rtol=1e-6)


def test_multi_categorical_is_bound_to_its_space_and_pickles():
    space = spaces.MultiDiscrete([3, 2])
    dist_class, n = get_action_dist(space, {})
    assert n == 5 and issubclass(dist_class, TFMultiCategorical)
    assert TFMultiCategorical.for_space(space) is dist_class
    assert pickle.loads(pickle.dumps(dist_class)) is dist_class
    with pytest.raises(TypeError, match="for_space"):
        TFMultiCategorical(np.zeros((1, 5), np.float32))


# --- models ----------------------------------------------------------------------------------


def _forward(model, obs_space):
    obs = np.random.default_rng(0).uniform(-1, 1, (B, *obs_space.shape)).astype(np.float32)
    out, _ = model({"obs": obs, "is_training": False})
    return out, model.value_function()


@pytest.mark.parametrize("vf_share_layers", [True, False])
def test_fcnet_shapes_and_names(vf_share_layers):
    model = get_model(OBS, spaces.Discrete(3), 3, {**SMALL, "vf_share_layers": vf_share_layers})
    assert isinstance(model, FullyConnectedNetwork) and model.get_initial_state() == []
    out, value = _forward(model, OBS)
    assert out.shape == (B, 3) and value.shape == (B,)
    names = {"policy_hidden.0", "policy_hidden.1", "policy_out", "value_out"}
    if not vf_share_layers:
        names |= {"value_hidden.0", "value_hidden.1"}
    weights = model.variables(as_dict=True)
    assert set(weights) == {f"{n}.{p}" for n in names for p in ("weight", "bias")}
    assert weights["policy_hidden.0.weight"].shape == (8, 4)  # torch's [out, in]


def test_fcnet_flattens_only_what_needs_it():
    model = get_model(spaces.Box(-1.0, 1.0, (2, 3)), spaces.Discrete(3), 3, SMALL)

    def logits(obs):
        return model({"obs": obs, "is_training": False})[0]

    flat = tf.function(logits).get_concrete_function(tf.TensorSpec([None, 6], tf.float32))
    assert "Reshape" not in {op.type for op in flat.graph.get_operations()}
    grid = np.random.default_rng(0).uniform(-1, 1, (B, 2, 3))  # float64, flattened and cast
    np.testing.assert_allclose(
        logits(grid), logits(grid.reshape(B, 6).astype(np.float32)), rtol=1e-6
    )


def test_fcnet_free_log_std_and_no_outputs():
    action_space = spaces.Box(-1.0, 1.0, (2,))
    model = get_model(OBS, action_space, 4, {**SMALL, "free_log_std": True})
    out, _ = _forward(model, OBS)
    assert out.shape == (B, 4) and model.variables(as_dict=True)["log_std"].shape == (2,)
    np.testing.assert_array_equal(out[:, 2:], np.zeros((B, 2)))
    trunk = get_model(OBS, action_space, None, SMALL)
    assert trunk.num_outputs == 8 and _forward(trunk, OBS)[0].shape == (B, 8)


def test_fcnet_rejects_unknown_activation():
    with pytest.raises(ConfigError, match="relu"):
        get_model(OBS, spaces.Discrete(3), 3, {**SMALL, "fcnet_activation": "rleu"})


class KerasModel(TFModelV2):
    """An RLlib-style custom model: a Keras model with policy and value outputs."""

    def __init__(self, obs_space, action_space, num_outputs, model_config, name, width=4):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        inputs = keras.Input(shape=obs_space.shape)
        hidden = keras.layers.Dense(width, activation="tanh")(inputs)
        outputs = keras.layers.Dense(num_outputs)(hidden)
        value = keras.layers.Dense(1)(hidden)
        self.base_model = keras.Model(inputs, [outputs, value])

    def forward(self, input_dict, state, seq_lens):
        out, self._value = self.base_model(input_dict["obs"])
        return out, state

    def value_function(self):
        return tf.reshape(self._value, [-1])


def test_custom_keras_model_through_the_catalog():
    ModelCatalog.register_custom_model("test_tf_keras_model", KerasModel)
    config = {"custom_model": "test_tf_keras_model", "custom_model_config": {"width": 6}}
    model = get_model(CARTPOLE_OBS, spaces.Discrete(2), 2, config)
    assert len(model.trainable_variables()) == 6
    assert model.variables(as_dict=True)  # named, so weights travel as a dict
    policy = PGPolicy(CARTPOLE_OBS, spaces.Discrete(2), {"model": config})
    before = policy.get_weights()
    assert any(w.shape == (4, 6) for w in before.values())
    policy.learn_on_batch(_pg_batch(policy))
    after = policy.get_weights()
    assert any(not np.array_equal(before[k], after[k]) for k in before)


def test_custom_model_must_be_a_tf_model():
    ModelCatalog.register_custom_model("test_tf_not_a_model", dict)
    with pytest.raises(ConfigError, match="TFModelV2"):
        get_model(OBS, spaces.Discrete(3), 3, {"custom_model": "test_tf_not_a_model"})


# --- policies --------------------------------------------------------------------------------


def pg_loss(policy, model, dist_class, train_batch):
    logits, _ = model.from_batch(train_batch)
    logp = dist_class(logits, model).logp(train_batch[SampleBatch.ACTIONS])
    values = model.value_function()
    returns = train_batch[Postprocessing.ADVANTAGES]
    return -tf.reduce_mean(logp * returns) + tf.reduce_mean(tf.square(values - returns))


def _returns(policy, batch, other_agent_batches=None, episode=None):
    return compute_advantages(batch, 0.0, 0.99, use_gae=False, use_critic=False)


PGPolicy = build_tf_policy(
    name="PGPolicy",
    loss_fn=pg_loss,
    postprocess_fn=_returns,
    extra_action_out_fn=vf_preds_fetches,
)


def _pg_batch(policy, steps: int = 64) -> SampleBatch:
    worker = RolloutWorker(
        make_env_creator("CartPole-v1"),
        type(policy),
        {**policy.config, "rollout_fragment_length": steps, "seed": 0},
    )
    return worker.sample()


def _policy(tracing: bool = False, **config):
    tf.random.set_seed(0)
    config = {"model": SMALL, "eager_tracing": tracing, "lr": 0.01, **config}
    return PGPolicy(CARTPOLE_OBS, spaces.Discrete(2), config)


def test_with_updates_makes_a_named_subclass():
    Updated = PGPolicy.with_updates(name="Updated", stats_fn=lambda p, b: {"answer": 42})
    assert Updated.__name__ == "Updated" and issubclass(Updated, PGPolicy)
    policy = Updated(CARTPOLE_OBS, spaces.Discrete(2), {"model": SMALL})
    stats = policy.learn_on_batch(_pg_batch(policy))["learner_stats"]
    assert stats["answer"] == 42 and set(stats) == {"answer", "total_loss", "cur_lr"}
    with pytest.raises(ConfigError, match="loss_fn"):
        PGPolicy.with_updates(los_fn=pg_loss)


@pytest.mark.parametrize("tracing", [False, True])
def test_actions_and_fetches(tracing):
    policy = _policy(tracing=tracing)
    obs = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    actions, state, extra = policy.compute_actions(obs)
    assert actions.shape == (3,) and state == []
    assert set(extra) == {"action_dist_inputs", "action_logp", "action_prob", "vf_preds"}
    assert extra["vf_preds"].shape == (3,) and extra["action_dist_inputs"].shape == (3, 2)
    # the log-probability stored is the one of the action taken (drawn in the trace or not)
    expected = TFCategorical(extra["action_dist_inputs"]).logp(actions)
    np.testing.assert_allclose(extra["action_logp"], expected, rtol=1e-6)
    greedy, _, extra = policy.compute_actions(obs, explore=False)
    np.testing.assert_array_equal(greedy, extra["action_dist_inputs"].argmax(-1))
    assert policy.global_timestep == 6


def test_traced_and_eager_policies_learn_the_same():
    eager, traced = _policy(tracing=False), _policy(tracing=True)
    for name, value in eager.get_weights().items():
        np.testing.assert_array_equal(value, traced.get_weights()[name])
    batch = _pg_batch(eager)
    for _ in range(3):
        eager.learn_on_batch(batch)
        traced.learn_on_batch(batch)
    for name, value in eager.get_weights().items():
        np.testing.assert_allclose(value, traced.get_weights()[name], rtol=1e-5, atol=1e-6)
    obs = batch[SampleBatch.OBS][:8]
    np.testing.assert_array_equal(
        eager.compute_actions(obs, explore=False)[0], traced.compute_actions(obs, explore=False)[0]
    )


def test_a_traced_forward_pass_reads_each_calls_timestep():
    def tilted(policy, model, obs, *, explore, timestep, is_training):
        logits, _ = model({"obs": obs}, [], None)
        # action 1 wins once the step passes 1,000, whatever the network says
        tilt = tf.cast(timestep > 1000, tf.float32) * 1e6
        return logits + tf.stack([0.0, 1.0]) * tilt, TFCategorical, []

    TiltedPolicy = PGPolicy.with_updates(name="TiltedPolicy", action_distribution_fn=tilted)
    policy = TiltedPolicy(CARTPOLE_OBS, spaces.Discrete(2), {"model": SMALL})
    obs = np.zeros((4, 4), np.float32)
    for timestep, expected in ((0, None), (2000, 1), (3000, 1), (5, None)):
        actions, _, extra = policy.compute_actions(obs, explore=False, timestep=timestep)
        greedy = extra["action_dist_inputs"].argmax(-1)
        np.testing.assert_array_equal(actions, greedy if expected is None else [expected] * 4)
        assert (extra["action_dist_inputs"][:, 1] > 1e5).all() == (expected == 1)


def test_traced_paths_do_not_retrace_per_call():
    policy = _policy(tracing=True)
    rng = np.random.default_rng(0)
    for n in (1, 3, 8, 8, 5, 8, 2, 8):
        policy.compute_actions(rng.normal(size=(n, 4)).astype(np.float32), timestep=n)
    policy.compute_actions(rng.normal(size=(8, 4)).astype(np.float32), explore=False)
    # one fixed-signature forward pass per explore value, whatever the batch size or timestep
    traced = policy.backend.traced
    assert sorted(k for k in traced if k.startswith("forward ")) == [
        "forward explore=False",
        "forward explore=True",
    ]
    batch = _pg_batch(policy)
    for size in (64, 64, 32, 48, 64, 16):
        policy.learn_on_batch(batch.slice(0, size))
    # the columns the loss reads are found by a trace of its own; one trace for any size
    assert traced["_learn_step"].experimental_get_tracing_count() == 1


def test_draws_follow_the_seed_and_the_saved_random_state():
    framework = registry("frameworks").get("tf")
    traced, eager = _policy(tracing=True), _policy(tracing=False)
    eager.set_weights(traced.get_weights())
    obs = np.zeros((8, 4), np.float32)  # near-uniform action probabilities

    def draws(seed=None, policy=traced):
        if seed is not None:
            framework.seed(seed)
        return np.concatenate([policy.compute_actions(obs)[0] for _ in range(4)])

    first, again, other = draws(0), draws(0), draws(1)
    np.testing.assert_array_equal(first, again)  # reseeding reaches the traced pass
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(draws(0, eager), first)  # tf2 draws as tf does
    state = framework.get_rng_state()
    after = draws()
    framework.set_rng_state(state)
    np.testing.assert_array_equal(draws(), after)
    with pytest.raises(ValueError, match="the TF random state must be 3 integers"):
        framework.set_rng_state(np.zeros(5056, np.uint8))  # e.g. torch's


def test_nearby_seeds_draw_unrelated_streams():
    framework = registry("frameworks").get("tf")
    streams = []
    for seed in (0, 1, 1000):  # a worker's seed is the config's plus 1000 per worker index
        framework.seed(seed)
        streams.append(tf.random.get_global_generator().uniform_full_int([4000], tf.uint32))
    for i, j in ((0, 1), (0, 2), (1, 2)):
        # a seed in Philox's counter, not its key, gives seed + 1 the stream of seed shifted
        assert np.intersect1d(streams[i].numpy(), streams[j].numpy()).size == 0


def test_a_forked_generator_draws_the_global_stream_on_its_own():
    framework = registry("frameworks").get("tf")
    framework.seed(0)
    first, second = framework.fork_generator(), framework.fork_generator()
    expected = tf.random.get_global_generator().uniform_full_int([8], tf.uint32).numpy()
    framework.seed(0)
    state = framework.get_rng_state()
    # each fork has a state of its own (from_state given the variable would share it)
    np.testing.assert_array_equal(first.uniform_full_int([8], tf.uint32), expected)
    np.testing.assert_array_equal(second.uniform_full_int([8], tf.uint32), expected)
    np.testing.assert_array_equal(framework.get_rng_state(), state)
    saved = framework.get_rng_state(first)
    after = first.uniform_full_int([8], tf.uint32).numpy()
    framework.set_rng_state(saved, first)
    np.testing.assert_array_equal(first.uniform_full_int([8], tf.uint32), after)


def test_compute_and_apply_gradients_equal_learn_on_batch():
    learner, applier = _policy(), _policy()
    batch = _pg_batch(learner)
    grads, info = learner.compute_gradients(batch)
    assert [g.shape for g in grads] == [tuple(v.shape) for v in learner.model.trainable_variables()]
    applier.apply_gradients(grads)
    learner.learn_on_batch(batch)
    for name, value in learner.get_weights().items():
        np.testing.assert_allclose(value, applier.get_weights()[name], rtol=1e-6)


def test_state_round_trip_includes_the_optimizer():
    policy = _policy()
    tf.random.set_seed(1)
    restored = PGPolicy(
        CARTPOLE_OBS, spaces.Discrete(2), {"model": SMALL, "lr": 0.01, "eager_tracing": False}
    )  # eager as ``policy`` is: a traced step rounds differently
    batch = _pg_batch(policy)
    policy.learn_on_batch(batch)
    restored.set_state(policy.get_state())
    assert restored.global_timestep == policy.global_timestep
    policy.learn_on_batch(batch)
    restored.learn_on_batch(batch)  # same Adam moments, so the same step
    for name, value in policy.get_weights().items():
        np.testing.assert_allclose(value, restored.get_weights()[name], rtol=1e-6)


def test_set_weights_that_do_not_fit_is_a_checkpoint_error():
    policy = _policy()
    weights = policy.get_weights()
    with pytest.raises(CheckpointError, match="missing"):
        policy.set_weights({k: v for k, v in weights.items() if k != "value_out.bias"})
    with pytest.raises(CheckpointError, match="shape"):
        policy.set_weights({**weights, "value_out.bias": np.zeros(3)})


@pytest.mark.parametrize("exploration", [StochasticSampling, Random])
def test_explorations_work_on_tf_distributions(exploration):
    policy = _policy(exploration_config={"type": exploration.__name__})
    assert isinstance(policy.exploration, exploration)
    obs = np.zeros((6, 4), np.float32)
    for explore in (True, False):
        actions, _, extra = policy.compute_actions(obs, explore=explore)
        assert actions.shape == (6,) and set(np.unique(actions)) <= {0, 1}
        assert extra["action_logp"].shape == (6,)


SPACES = {"discrete": spaces.Discrete(3), "box": spaces.Box(-2.0, 2.0, (2,), np.float32)}


@pytest.mark.parametrize("space", list(SPACES))
@pytest.mark.parametrize("name", registry("explorations").names())
def test_every_registered_exploration_acts_on_tf_or_refuses_clearly(name, space):
    """Each installed exploration, eager and traced: actions in the space, or a PlugrlError
    saying the space is not supported."""
    action_space = SPACES[space]
    for tracing in (False, True):
        config = {"model": SMALL, "eager_tracing": tracing, "exploration_config": {"type": name}}
        try:
            policy = PGPolicy(CARTPOLE_OBS, action_space, config)
            policy.exploration.on_episode_start(policy)
            obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
            results = [policy.compute_actions(obs, explore=e) for e in (True, False)]
        except PlugrlError:
            continue
        for actions, _, extra in results:
            # Box samples are unbounded here: the rollout worker clips them (clip_actions)
            assert actions.shape == (5, *action_space.shape) and np.all(np.isfinite(actions))
            if space == "discrete":
                assert all(action_space.contains(int(a)) for a in actions)
            assert extra.get("action_logp", np.zeros(5)).shape == (5,)


def test_box_actions_sample_the_gaussian():
    env = gym.make("Pendulum-v1")
    policy = PGPolicy(env.observation_space, env.action_space, {"model": SMALL})
    actions, _, extra = policy.compute_actions(np.zeros((4, 3), np.float32))
    assert actions.shape == (4, 1) and extra["action_dist_inputs"].shape == (4, 2)


def test_seeding_with_op_determinism_on():
    script = """
import numpy as np
import tensorflow as tf
from plugrl.registry import registry
tf.config.experimental.enable_op_determinism()
registry("frameworks").get("tf").seed(3)
first = tf.random.get_global_generator().uniform_full_int([4], tf.uint32).numpy()
registry("frameworks").get("tf").seed(3)
assert (tf.random.get_global_generator().uniform_full_int([4], tf.uint32).numpy() == first).all()
"""
    # a process of its own: op determinism cannot be switched off again
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
