"""RolloutWorker: batch modes, truncation bootstrapping, access helpers, seeding."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from plugrl import DefaultCallbacks, RolloutWorker, SampleBatch, hookimpl, plugins
from plugrl.env.creator import make_env_creator
from plugrl.postprocessing import compute_advantages
from plugrl_ppo import PPOTorchPolicy

BASE = {
    "model": {"fcnet_hiddens": [8]},
    "seed": 0,
    "num_envs_per_worker": 3,
    "rollout_fragment_length": 10,
}


def _worker(**overrides) -> RolloutWorker:
    config = {**BASE, **overrides}
    return RolloutWorker(make_env_creator("CartPole-v1"), PPOTorchPolicy, config)


def test_truncate_episodes_gives_fragment_times_envs_rows():
    w = _worker()
    for _ in range(3):
        batch = w.sample()
        assert batch.count == 10 * 3
    for col in (
        "obs",
        "new_obs",
        "actions",
        "rewards",
        "terminateds",
        "truncateds",
        "eps_id",
        "t",
        "action_logp",
        "vf_preds",
        "advantages",
        "value_targets",
    ):
        assert col in batch, col
    assert batch["obs"].shape == (30, 4)


def test_complete_episodes_gives_whole_episodes():
    w = _worker(batch_mode="complete_episodes", rollout_fragment_length=5)
    batch = w.sample()
    assert batch.count >= 5 * 3
    episodes = batch.split_by_episode()
    assert len({int(e["eps_id"][0]) for e in episodes}) == len(episodes)
    for ep in episodes:
        assert ep["t"][0] == 0, "an episode starts at t=0"
        np.testing.assert_array_equal(ep["t"], np.arange(ep.count))
        last = ep["terminateds"][-1] or ep["truncateds"][-1]
        assert last, "every episode ends terminated or truncated"
        assert not (ep["terminateds"][:-1] | ep["truncateds"][:-1]).any()
    metrics = w.get_metrics()
    assert sorted(m.episode_length for m in metrics) == sorted(e.count for e in episodes)
    assert w.get_metrics() == []


def test_complete_episodes_carry_running_episodes_across_calls():
    w = _worker(batch_mode="complete_episodes", rollout_fragment_length=5)
    w.sample()
    running = {int(e.episode_id) for e in w._episodes}
    second = w.sample()
    episodes = second.split_by_episode()
    assert running & {int(e["eps_id"][0]) for e in episodes}, "an episode spanned both calls"
    for ep in episodes:
        np.testing.assert_array_equal(ep["t"], np.arange(ep.count))
        assert ep["terminateds"][-1] or ep["truncateds"][-1]
        np.testing.assert_array_equal(ep["obs"][1:], ep["new_obs"][:-1])


def test_truncation_bootstraps_with_the_critic():
    w = _worker(
        batch_mode="complete_episodes",
        rollout_fragment_length=5,
        env_config={"max_episode_steps": 5},
        num_envs_per_worker=1,
    )
    batch = w.sample()
    ep = batch.split_by_episode()[0]
    assert ep.count == 5
    assert ep["truncateds"][-1] and not ep["terminateds"][-1]
    policy = w.get_policy()
    gamma = policy.config["gamma"]
    v_next = float(policy.value(ep["new_obs"][-1]))
    assert abs(v_next) > 1e-6
    # GAE at the last step: target = r + gamma * V(s'), not the reward-only return r
    assert ep["value_targets"][-1] != pytest.approx(ep["rewards"][-1])
    assert ep["value_targets"][-1] == pytest.approx(1.0 + gamma * v_next, rel=1e-4)


def test_termination_does_not_bootstrap():
    w = _worker(batch_mode="complete_episodes", rollout_fragment_length=1, num_envs_per_worker=1)
    ep = w.sample().split_by_episode()[0]
    assert ep["terminateds"][-1]
    adv, vf = ep["advantages"][-1], ep["vf_preds"][-1]
    assert adv == pytest.approx(1.0 - vf, rel=1e-4)


def test_cut_trajectories_bootstrap_from_one_batched_call_of_the_critic(monkeypatch):
    w = _worker(num_envs_per_worker=4)
    policy = w.get_policy()
    calls = []

    def bootstrap_values(next_obs):
        calls.append((next_obs, type(policy).bootstrap_values(policy, next_obs)))
        return calls[-1][1]

    monkeypatch.setattr(policy, "bootstrap_values", bootstrap_values)
    with monkeypatch.context() as m:
        m.setattr(policy, "value", lambda *a, **k: pytest.fail("a value() per trajectory"))
        batch = w.sample()
    assert SampleBatch.VALUES_BOOTSTRAPPED not in batch  # postprocessing took it
    [(next_obs, values)] = calls
    assert len(values) == 4  # each env's trajectory, cut at the end of the call
    gamma = policy.config["gamma"]
    for obs, value in zip(next_obs, values, strict=True):
        assert value == pytest.approx(policy.value(obs), rel=1e-5, abs=1e-6)
        [last] = np.flatnonzero((batch["new_obs"] == obs).all(axis=1))
        assert batch["value_targets"][last] == pytest.approx(1.0 + gamma * value, rel=1e-5)


class _SeesTrajectories(DefaultCallbacks):
    columns: list = []

    def on_postprocess_trajectory(self, *, postprocessed_batch, original_batches, **kwargs):
        _SeesTrajectories.columns += [set(postprocessed_batch), set(original_batches["agent0"])]


def test_the_bootstrap_column_reaches_neither_callbacks_nor_the_batch():
    _SeesTrajectories.columns = []
    batch = _worker(num_envs_per_worker=4, callbacks=_SeesTrajectories).sample()
    assert len(_SeesTrajectories.columns) >= 8  # 4 cut trajectories at least, 2 sets each
    for columns in [*_SeesTrajectories.columns, set(batch)]:
        assert SampleBatch.VALUES_BOOTSTRAPPED not in columns


class _OwnPostprocessing(PPOTorchPolicy):
    def postprocess_trajectory(self, sample_batch, other_agent_batches=None, episode=None):
        return compute_advantages(sample_batch, 0.0, 0.99, 0.95)  # no bootstrap


class _OwnValue(PPOTorchPolicy):
    def value(self, obs, *args):
        return 100.0 + super().value(obs, *args)


@pytest.mark.parametrize("policy_class", [_OwnPostprocessing, _OwnValue])
def test_a_policy_with_its_own_postprocessing_or_value_is_not_bootstrapped_in_batch(
    policy_class,
):
    config = {**BASE, "rollout_fragment_length": 30}  # some episodes end, some are cut
    worker = RolloutWorker(make_env_creator("CartPole-v1"), policy_class, config)
    batch = worker.sample()
    assert SampleBatch.VALUES_BOOTSTRAPPED not in batch
    trajectory = batch["unroll_id"]
    last = np.append(trajectory[1:] != trajectory[:-1], True)
    cut = last & ~batch["terminateds"]
    assert cut.any() and batch["terminateds"].any()
    if policy_class is _OwnValue:  # its value() is what they bootstrap with
        assert (batch["value_targets"][cut] > 90.0).all()


def test_horizon_truncates_episodes():
    w = _worker(
        batch_mode="complete_episodes", rollout_fragment_length=3, horizon=3, num_envs_per_worker=1
    )
    for ep in w.sample().split_by_episode():
        assert ep.count <= 3
        assert ep["truncateds"][-1] or ep["terminateds"][-1]


def test_access_helpers():
    w = _worker(num_envs_per_worker=2)
    assert set(w.policy_map) == {"default_policy"}
    assert w.get_policy() is w.policy_map["default_policy"]
    assert isinstance(w.get_policy(), PPOTorchPolicy)
    specs = w.foreach_env(lambda env: env.spec.id)
    assert specs == ["CartPole-v1", "CartPole-v1"]
    assert w.foreach_policy(lambda p, pid: (pid, type(p).__name__)) == [
        ("default_policy", "PPOTorchPolicy")
    ]
    assert w.for_policy(lambda p: p.action_space) == gym.spaces.Discrete(2)
    weights = w.get_weights()
    assert set(weights) == {"default_policy"}
    new = {k: np.zeros_like(v) for k, v in weights["default_policy"].items()}
    w.set_weights({"default_policy": new}, {"timestep": 123})
    assert all(not v.any() for v in w.get_policy().get_weights().values())
    assert w.get_global_vars()["timestep"] == 123
    assert w.get_policy().global_timestep == 123


def test_same_seed_gives_identical_samples():
    # each seeded worker draws from generators of its own: two built together and sampled in
    # turns draw alike, episode ids included
    a, b = _worker(seed=7), _worker(seed=7)
    for sa, sb in ((a.sample(), b.sample()), (a.sample(), b.sample())):
        for col in ("obs", "actions", "rewards", "terminateds", "action_logp", "eps_id"):
            np.testing.assert_array_equal(sa[col], sb[col])
    assert not np.array_equal(_worker(seed=8).sample()["obs"], _worker(seed=7).sample()["obs"])
    # an evaluation worker (its index starts at 0 again) draws other streams than training's
    evaluation = _worker(seed=7, in_evaluation=True).sample()
    assert not np.array_equal(evaluation["obs"], _worker(seed=7).sample()["obs"])


class _SamplesWhenCreated:
    @hookimpl
    def on_worker_created(self, worker: RolloutWorker) -> None:
        worker.sample()  # e.g. a warm-up


def test_a_plugin_may_sample_as_the_worker_is_created():
    plugins.register_plugin(_SamplesWhenCreated(), "samples-when-created")
    try:
        _worker(seed=7).sample()
    finally:
        plugins.unregister_plugin("samples-when-created")


def test_learn_on_batch_returns_stats_per_policy():
    w = _worker()
    stats = w.learn_on_batch(w.sample())
    assert "total_loss" in stats["default_policy"]["learner_stats"]


def test_unknown_kwarg_is_refused():
    with pytest.raises(TypeError, match="unexpected"):
        RolloutWorker(make_env_creator("CartPole-v1"), PPOTorchPolicy, BASE, num_env=2)


def test_rllib_style_kwargs():
    w = RolloutWorker(
        lambda ctx: gym.make("CartPole-v1"),
        PPOTorchPolicy,
        {"model": {"fcnet_hiddens": [8]}},
        rollout_fragment_length=4,
        num_envs=2,
    )
    assert w.sample().count == 8
    assert isinstance(w.sample(), SampleBatch)


def test_box_actions_are_rescaled_and_clipped_for_the_env():
    def pendulum(**overrides) -> RolloutWorker:
        config = {**BASE, "num_envs_per_worker": 1, **overrides}
        return RolloutWorker(make_env_creator("Pendulum-v1"), PPOTorchPolicy, config)

    actions = np.array([[-1.0], [0.5], [3.0]], dtype=np.float32)
    scaled = pendulum(normalize_actions=True).to_env_actions(actions)
    np.testing.assert_allclose(scaled, [[-2.0], [1.0], [2.0]])
    clipped = pendulum().to_env_actions(actions)
    np.testing.assert_allclose(clipped, [[-1.0], [0.5], [2.0]])
    unclipped = pendulum(clip_actions=False).to_env_actions(actions)
    np.testing.assert_allclose(unclipped, actions)
