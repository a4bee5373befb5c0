"""Multi-agent training: MultiAgentEnv, policy maps, MultiAgentBatch through sampling,
postprocessing, optimizers, replay, offline output, callbacks and checkpoints."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from plugrl import (
    CheckpointError,
    ConfigError,
    DefaultCallbacks,
    EnvError,
    MultiAgentBatch,
    MultiAgentEnv,
    PolicySpec,
    RolloutWorker,
    SampleBatch,
    make_multi_agent,
)
from plugrl.env.multi_agent_env import ALL
from plugrl.examples.rock_paper_scissors import (
    AlwaysSameHeuristic,
    CyclingHeuristic,
    RockPaperScissors,
)
from plugrl.offline import JsonReader
from plugrl.offline.codec import decode_line, encode_batch
from plugrl.registry import get_policy_class
from plugrl.testing import local_ray
from plugrl_a3c import A2CTrainer
from plugrl_dqn import DQNTrainer
from plugrl_pg import PGTrainer
from plugrl_ppo import PPOTrainer
from plugrl_torch import ActionMaskModel, TorchModelV2

TwoCartPoles = make_multi_agent("CartPole-v1")
TINY = {"model": {"fcnet_hiddens": [8]}, "seed": 0}
D4, D3 = gym.spaces.Discrete(4), gym.spaces.Discrete(3)


def by_agent_id(agent_id, episode=None, worker=None, **kwargs):
    return f"p{agent_id}"


TWO_POLICIES = {
    "policies": {"p0": (None, None, None, {"lr": 3e-3}), "p1": (None, None, None, {})},
    "policy_mapping_fn": by_agent_id,
}


class ComingAndGoing(MultiAgentEnv):
    """Six steps: "a" acts every step, "b" every other step (rewarded on every step), "c"
    enters at step 2 and is terminated at step 4. Rewards: a 1, b 10, c 100 per step."""

    possible_agents = ["a", "b", "c"]
    observation_space = gym.spaces.Box(-1e3, 1e3, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, config=None):
        self.t = 0

    def _obs(self, agents):
        return {a: np.array([self.t], np.float32) for a in agents}

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._obs(["a", "b"]), {}

    def step(self, action_dict):
        self.t += 1
        agents = ["a"] + (["b"] if self.t % 2 == 0 else [])
        if 2 <= self.t <= 4:
            agents.append("c")
        rewards = {"a": 1.0, "b": 10.0}
        if "c" in action_dict:
            rewards["c"] = 100.0
        over = self.t >= 6
        terminateds = {"c": self.t == 4, ALL: over}
        return self._obs(agents), rewards, terminateds, {ALL: False}, {"a": {"t": self.t}}


def ppo_worker(env, multiagent=None, **config):
    policy = get_policy_class(["PPO"], "torch")
    config = {**TINY, "multiagent": multiagent or {}, **config}
    return RolloutWorker(lambda ctx: env(ctx), policy, config)


def test_seeded_random_actions_repeat():
    def actions():
        worker = ppo_worker(
            TwoCartPoles, TWO_POLICIES, exploration_config={"type": "Random"}, seed=3
        )
        batch = worker.sample()
        return [batch.policy_batches[pid]["actions"] for pid in ("p0", "p1")]

    for first, again in zip(actions(), actions(), strict=True):
        np.testing.assert_array_equal(first, again)


def test_multi_agent_batch_counts_concat_and_json():
    a = SampleBatch({"obs": np.zeros((3, 2), np.float32), "actions": [0, 1, 0]})
    b = SampleBatch({"obs": np.ones((2, 2), np.float32), "actions": [1, 1]})
    batch = MultiAgentBatch({"p0": a, "p1": b}, env_steps=3)
    assert (batch.count, batch.env_steps(), batch.agent_steps()) == (3, 3, 5)
    both = SampleBatch.concat_samples([batch, batch])
    assert isinstance(both, MultiAgentBatch)
    assert both.count == 6 and both.policy_batches["p1"].count == 4
    for compress in ((), ("obs",)):
        back = decode_line(encode_batch(batch, compress))
        assert isinstance(back, MultiAgentBatch) and back.count == 3
        np.testing.assert_array_equal(back.policy_batches["p1"]["obs"], b["obs"])


def test_agents_acting_on_some_steps_entering_and_leaving():
    worker = ppo_worker(
        ComingAndGoing,
        {"policies": {"shared": PolicySpec()}},
        rollout_fragment_length=6,
        batch_mode="complete_episodes",
        gamma=1.0,
        **{"lambda": 1.0},
    )
    batch = worker.sample()
    assert isinstance(batch, MultiAgentBatch) and batch.count == 6
    rows = batch.policy_batches["shared"]
    by_agent = {}
    for index in np.unique(rows["agent_index"]):
        by_agent[int(index)] = rows.take(np.flatnonzero(rows["agent_index"] == index))
    a, b, c = by_agent[0], by_agent[1], by_agent[2]  # in the order they appeared
    # a acts on every step
    assert a.count == 6 and a["rewards"].tolist() == [1.0] * 6
    assert a["t"].tolist() == list(range(6)) and a["dones"].tolist() == [False] * 5 + [True]
    assert a["infos"][0] == {"t": 1}
    # b acts at steps 0, 2, 4: each of its actions collects the rewards of two steps
    assert b.count == 3 and b["rewards"].tolist() == [20.0, 20.0, 20.0]
    np.testing.assert_array_equal(b["obs"][:, 0], [0, 2, 4])
    np.testing.assert_array_equal(b["new_obs"][:, 0], [2, 4, 6])
    assert b["terminateds"].tolist() == [False, False, True]  # "__all__" terminated it
    # c first observes after step 2, acts twice, and leaves terminated after step 4
    assert c["rewards"].tolist() == [100.0, 100.0]
    assert c["terminateds"].tolist() == [False, True]
    assert c["prev_rewards"].tolist() == [0.0, 100.0]
    # returns within its own trajectory
    np.testing.assert_allclose(c["value_targets"], [200.0, 100.0], rtol=1e-6)
    assert len({*rows["eps_id"]}) == 1
    (episode,) = worker.get_metrics()
    assert episode.episode_length == 6
    assert episode.episode_reward == 6 * 1 + 6 * 10 + 2 * 100
    assert sorted(episode.policy_rewards["shared"]) == [6.0, 60.0, 200.0]


def test_count_steps_by_agent_steps():
    multiagent = {**TWO_POLICIES, "count_steps_by": "agent_steps"}
    worker = ppo_worker(lambda ctx: TwoCartPoles({"num_agents": 2}), multiagent)
    worker.config["rollout_fragment_length"] = 10
    batch, steps = worker.sample_with_count()
    assert steps == batch.agent_steps() >= 10
    assert batch.count < steps  # two agents acted on most env steps


def test_policy_map_errors():
    with pytest.raises(ConfigError, match="no policy_mapping_fn"):
        ppo_worker(lambda ctx: TwoCartPoles(), {"policies": ["p0", "p1"]})
    with pytest.raises(ConfigError, match="mapped agent 0 to 'nope'"):
        worker = ppo_worker(
            lambda ctx: TwoCartPoles(),
            {
                "policies": {"p0": PolicySpec(None, gym.spaces.Box(-5, 5, (4,)), D3)},
                "policy_mapping_fn": lambda *a, **k: "nope",
            },
        )
        worker.sample()
    with pytest.raises(ConfigError, match="policies_to_train names"):
        ppo_worker(lambda ctx: TwoCartPoles(), {**TWO_POLICIES, "policies_to_train": ["p9"]})
    with pytest.raises(ConfigError, match=r"multiagent.policies\['p0'\] must be"):
        ppo_worker(lambda ctx: TwoCartPoles(), {**TWO_POLICIES, "policies": {"p0": (1, 2)}})
    with pytest.raises(ConfigError, match="Cannot infer the spaces of policy 'p2'"):
        policies = {**TWO_POLICIES["policies"], "p2": PolicySpec()}
        ppo_worker(lambda ctx: TwoCartPoles(), {**TWO_POLICIES, "policies": policies})
    tf_policy = get_policy_class(["PPO"], "tf")
    with pytest.raises(ConfigError, match="different frameworks"):
        policies = {"p0": (None, None, None, {}), "p1": (tf_policy, None, None, {})}
        ppo_worker(lambda ctx: TwoCartPoles(), {**TWO_POLICIES, "policies": policies})


def test_per_policy_overrides_are_checked_like_the_config():
    policies = {"p0": (None, None, None, {"lr": "fast"}), "p1": (None, None, None, {})}
    with pytest.raises(ConfigError, match=r"multiagent\.policies\.p0\.lr"):
        PPOTrainer(
            env=TwoCartPoles, config={**TINY, "multiagent": {**TWO_POLICIES, "policies": policies}}
        )
    policies = {"p0": (None, None, None, {"lr_typo": 1}), "p1": (None, None, None, {})}
    with pytest.raises(ConfigError, match="lr_typo"):
        PPOTrainer(
            env=TwoCartPoles, config={**TINY, "multiagent": {**TWO_POLICIES, "policies": policies}}
        )


class NoAllKey(ComingAndGoing):
    def step(self, action_dict):
        obs, rewards, terminateds, truncateds, infos = super().step(action_dict)
        del terminateds[ALL]
        return obs, rewards, terminateds, truncateds, infos


class BadObservation(ComingAndGoing):
    def step(self, action_dict):
        obs, *rest = super().step(action_dict)
        obs["a"] = np.zeros(3, np.float32)
        return (obs, *rest)


@pytest.mark.parametrize(
    ("env", "message"),
    [(NoAllKey, "without the key '__all__'"), (BadObservation, "for agent 'a' that does not fit")],
)
def test_env_mistakes_are_one_clear_error(env, message):
    worker = ppo_worker(env, rollout_fragment_length=4)
    with pytest.raises(EnvError, match=message):
        worker.sample()


class TrajectoryRecorder(DefaultCallbacks):
    seen: list = []

    def on_postprocess_trajectory(
        self, *, agent_id, policy_id, postprocessed_batch, original_batches, **kwargs
    ):
        TrajectoryRecorder.seen.append((agent_id, policy_id, sorted(original_batches)))


def test_callbacks_and_postprocessing_see_agents_policies_and_the_other_agents(tmp_path):
    TrajectoryRecorder.seen = []
    others = []
    worker = ppo_worker(
        lambda ctx: TwoCartPoles(),
        TWO_POLICIES,
        callbacks=TrajectoryRecorder,
        rollout_fragment_length=20,
        output=str(tmp_path),
    )
    original = worker.policy_map["p0"].postprocess_trajectory

    def spy(batch, other_agent_batches=None, episode=None):
        others.append({k: (type(p).__name__, b.count) for k, (p, b) in other_agent_batches.items()})
        return original(batch, other_agent_batches, episode)

    worker.policy_map["p0"].postprocess_trajectory = spy
    batch = worker.sample()
    worker.stop()
    assert (0, "p0", [0, 1]) in TrajectoryRecorder.seen
    assert (1, "p1", [0, 1]) in TrajectoryRecorder.seen
    assert others and all(list(o) == [1] for o in others)  # agent 1's batch, for agent 0
    (written,) = [line for f in tmp_path.iterdir() for line in f.read_text().splitlines()]
    back = decode_line(written)
    assert isinstance(back, MultiAgentBatch) and back.count == batch.count
    assert sorted(back.policy_batches) == ["p0", "p1"]
    assert isinstance(JsonReader(str(tmp_path)).next(), MultiAgentBatch)


def zero_apart(agent_id, episode=None, worker=None, **kwargs):
    return "p0" if agent_id == 0 else "p1"


class ColumnRecorder(DefaultCallbacks):
    columns: list = []

    def on_postprocess_trajectory(self, *, postprocessed_batch, original_batches, **kwargs):
        ColumnRecorder.columns += [set(postprocessed_batch)]
        ColumnRecorder.columns += [set(b) for b in original_batches.values()]  # the others' too


def test_cut_trajectories_bootstrap_from_one_critic_call_per_policy(monkeypatch):
    worker = ppo_worker(
        lambda ctx: TwoCartPoles({"num_agents": 3}),
        {**TWO_POLICIES, "policy_mapping_fn": zero_apart},
        rollout_fragment_length=10,
        num_envs_per_worker=2,
        callbacks=ColumnRecorder,
    )
    ColumnRecorder.columns = []
    calls: dict[str, list] = {"p0": [], "p1": []}
    for pid, policy in worker.policy_map.items():

        def bootstrap_values(next_obs, policy=policy, pid=pid):
            calls[pid].append((next_obs, type(policy).bootstrap_values(policy, next_obs)))
            return calls[pid][-1][1]

        monkeypatch.setattr(policy, "bootstrap_values", bootstrap_values)
    with monkeypatch.context() as m:
        for policy in worker.policy_map.values():
            m.setattr(policy, "value", lambda *a, **k: pytest.fail("a value() per trajectory"))
        batch = worker.sample()  # 10 steps: no CartPole episode ends
    worker.stop()
    assert len(ColumnRecorder.columns) == 6 * 4  # per trajectory: its result, 3 originals
    assert not any(SampleBatch.VALUES_BOOTSTRAPPED in c for c in ColumnRecorder.columns)
    # the end of the call cuts every agent's trajectory: one call per policy for all envs
    assert [len(calls["p0"]), len(calls["p1"])] == [1, 1]
    assert [len(calls["p0"][0][0]), len(calls["p1"][0][0])] == [2, 4]
    for pid, [(next_obs, values)] in calls.items():
        policy, rows = worker.policy_map[pid], batch.policy_batches[pid]
        assert SampleBatch.VALUES_BOOTSTRAPPED not in rows
        for obs, value in zip(next_obs, values, strict=True):
            assert value == pytest.approx(policy.value(obs), rel=1e-5, abs=1e-6)
            [last] = np.flatnonzero((rows["new_obs"] == obs).all(axis=1))
            target = 1.0 + policy.config["gamma"] * value
            assert rows["value_targets"][last] == pytest.approx(target, rel=1e-5)


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_two_policies_train_save_restore_and_act(tmp_path, framework):
    config = {
        **TINY,
        "framework": framework,
        "env_config": {"num_agents": 2},
        "train_batch_size": 200,
        "rollout_fragment_length": 100,
        "sgd_minibatch_size": 64,
        "num_sgd_iter": 2,
        "multiagent": {**TWO_POLICIES, "policies_to_train": ["p0"]},
        "evaluation_interval": 1,
        "evaluation_duration": 2,
    }
    trainer = PPOTrainer(env=TwoCartPoles, config=config, logdir=str(tmp_path))
    fixed = trainer.get_weights(["p1"])
    result = trainer.train()
    assert sorted(result["policy_reward_mean"]) == ["p0", "p1"]
    assert sorted(result["evaluation"]["policy_reward_mean"]) == ["p0", "p1"]
    assert list(result["info"]["learner"]) == ["p0"]
    assert trainer.get_policy("p0").config["lr"] == 3e-3
    for name, value in trainer.get_weights(["p1"])["p1"].items():
        np.testing.assert_array_equal(value, fixed["p1"][name])  # not in policies_to_train
    assert trainer.compute_single_action(np.zeros(4), policy_id="p1", explore=False) in (0, 1)
    checkpoint = trainer.save()
    trainer.stop()
    with pytest.raises(CheckpointError, match="multi-agent policies"):
        PPOTrainer.from_checkpoint(checkpoint, env=TwoCartPoles)
    restored = PPOTrainer.from_checkpoint(
        checkpoint, config={"multiagent": config["multiagent"]}, env=TwoCartPoles
    )
    for pid in ("p0", "p1"):
        got = restored.get_weights([pid])[pid]
        for name, value in trainer.get_weights([pid])[pid].items():
            np.testing.assert_array_equal(got[name], value)
    restored.train()
    restored.stop()


@pytest.mark.parametrize(
    ("trainer_class", "config"),
    [
        (
            DQNTrainer,
            {
                "learning_starts": 64,
                "rollout_fragment_length": 4,
                "train_batch_size": 16,
                "timesteps_per_iteration": 100,
                "store_buffer_in_checkpoints": True,
            },
        ),
        (A2CTrainer, {"rollout_fragment_length": 20, "train_batch_size": 40}),
    ],
)
def test_dqn_and_a2c_train_two_policies(tmp_path, trainer_class, config):
    config = {**TINY, **config, "env_config": {"num_agents": 2}, "multiagent": TWO_POLICIES}
    trainer = trainer_class(env=TwoCartPoles, config=config, logdir=str(tmp_path))
    before = trainer.get_weights()
    for _ in range(3):
        result = trainer.train()
    assert sorted(result["info"]["learner"]) == ["p0", "p1"]
    for pid in ("p0", "p1"):  # both policies learned
        after = trainer.get_weights([pid])[pid]
        assert any(not np.array_equal(after[k], before[pid][k]) for k in after)
    checkpoint = trainer.save()
    trainer.restore(checkpoint)
    if trainer_class is DQNTrainer:
        assert sorted(trainer.optimizer.buffers) == ["p0", "p1"]
    trainer.train()
    trainer.stop()


def test_pettingzoo_aec_with_action_masks_and_parallel_envs(tmp_path):
    from pettingzoo.classic import rps_v2, tictactoe_v3

    from plugrl import ParallelPettingZooEnv, PettingZooEnv

    small = {**TINY, "train_batch_size": 128, "sgd_minibatch_size": 64, "num_sgd_iter": 1}
    small["rollout_fragment_length"] = 64
    masked = {**small, "model": {"custom_model": ActionMaskModel, "fcnet_hiddens": [16]}}
    trainer = PPOTrainer(env=lambda ctx: PettingZooEnv(tictactoe_v3.env()), config=masked)
    for _ in range(2):
        result = trainer.train()
    assert result["episodes_this_iter"] > 0 and result["timesteps_total"] == 256
    rows = trainer.workers.local_worker().sample().policy_batches["default_policy"]
    # Dict observation flattened: the 9-entry action mask comes first, then the board
    assert rows["obs"].shape[1] == 9 + 18
    assert set(np.unique(rows["agent_index"])) == {0, 1}  # the two players take turns
    # the mask reached the model: every move taken was a legal one
    assert rows["obs"][np.arange(rows.count), rows["actions"]].all()
    assert (rows["obs"][:, :9] == 0).any()  # and it did rule moves out
    trainer.stop()

    multiagent = {
        "policies": ["left", "right"],
        "policy_mapping_fn": lambda agent_id, *args, **kwargs: (
            "left" if agent_id == "player_0" else "right"
        ),
    }
    trainer = PPOTrainer(
        env=lambda ctx: ParallelPettingZooEnv(rps_v2.parallel_env()),
        config={**small, "multiagent": multiagent},
    )
    for _ in range(2):
        result = trainer.train()
    assert sorted(result["policy_reward_mean"]) == ["left", "right"]
    left, right = (result["policy_reward_mean"][p] for p in ("left", "right"))
    assert left == pytest.approx(-right)  # a zero-sum game
    trainer.stop()


@pytest.fixture(scope="module")
def ray_session():
    with local_ray(sys.modules[__name__]) as ray:
        yield ray


@pytest.mark.ray
def test_a_shared_policy_for_every_agent_on_ray_workers(ray_session):
    config = {
        **TINY,
        "num_workers": 1,
        "train_batch_size": 100,
        "rollout_fragment_length": 50,
        "sgd_minibatch_size": 50,
        "num_sgd_iter": 1,
        "env_config": {"num_agents": 3},
    }
    trainer = PPOTrainer(env=TwoCartPoles, config=config)
    result = trainer.train()
    trainer.stop()
    assert list(result["info"]["learner"]) == ["default_policy"]
    assert result["timesteps_total"] >= 100
    assert len(result["hist_stats"]["policy_default_policy_reward"]) == 3 * len(
        result["hist_stats"]["episode_reward"]
    )


def rps_mapping(agent_id, episode, worker, **kwargs):
    if agent_id == "player_0":
        return "learned"
    return "always_same" if episode.episode_id % 2 else "cycling"


@pytest.mark.learning
def test_rock_paper_scissors_learned_policy_beats_heuristics():
    config = {
        "seed": 0,
        "train_batch_size": 500,
        "rollout_fragment_length": 50,
        "num_envs_per_worker": 2,
        "lr": 1e-2,
        "model": {"fcnet_hiddens": [32]},
        "multiagent": {
            "policies": {
                "learned": (None, D4, D3, {}),
                "always_same": (AlwaysSameHeuristic, D4, D3, {}),
                "cycling": (CyclingHeuristic, D4, D3, {}),
            },
            "policy_mapping_fn": rps_mapping,
            "policies_to_train": ["learned"],
        },
    }
    trainer = PGTrainer(env=RockPaperScissors, config=config)
    for _ in range(25):
        result = trainer.train()
    trainer.stop()
    rewards = result["policy_reward_mean"]
    # 10 rounds per episode: about 3 expected from chance alone would be a mean of 0
    assert rewards["learned"] >= 2.5, rewards
    assert rewards["always_same"] <= -4.0, rewards
    assert list(result["info"]["learner"]) == ["learned"]


@pytest.mark.learning
def test_two_cartpoles_two_ppo_policies_with_their_own_lr_reach_150():
    """The example itself (examples/multi_agent/two_cartpoles.py), seeded."""
    example = runpy.run_path(
        str(Path(__file__).parents[1] / "examples/multi_agent/two_cartpoles.py")
    )
    result = example["train"](reward=150, max_iterations=60, verbose=False)
    assert sorted(result["policy_reward_mean"]) == ["fast", "slow"]
    assert min(result["policy_reward_mean"].values()) >= 150, result["policy_reward_mean"]


def test_cli_trains_and_rolls_out_a_multi_agent_env(capsys, tmp_path, monkeypatch):
    import json

    from plugrl import register_env
    from plugrl.testing import run_cli

    monkeypatch.syspath_prepend(str(Path(__file__).parent))  # the mapping's module path
    register_env("two_cartpoles", lambda ctx: TwoCartPoles(ctx))
    multiagent = {"policies": ["p0", "p1"], "policy_mapping_fn": "test_multi_agent:by_agent_id"}
    config = json.dumps(
        {
            **TINY,
            "train_batch_size": 128,
            "sgd_minibatch_size": 64,
            "num_sgd_iter": 1,
            "rollout_fragment_length": 128,
            "multiagent": multiagent,
        }
    )
    args = ["--env", "two_cartpoles", "--config", config, "--local-dir", str(tmp_path)]
    stop = ["--stop", '{"training_iteration": 1}']
    code, out, err = run_cli(capsys, "train", "--run", "PPO", *args, *stop)
    assert code == 0, err
    (checkpoint,) = (tmp_path / "default").glob("*/checkpoint_000001")
    code, out, err = run_cli(capsys, "rollout", str(checkpoint), "--episodes", "1", "--no-render")
    assert code == 2 and "multi-agent policies ['p0', 'p1']" in err, err
    overrides = json.dumps({"multiagent": multiagent})
    rollout = ["rollout", str(checkpoint), "--episodes", "2", "--no-render", "--config", overrides]
    code, out, err = run_cli(capsys, *rollout)
    assert code == 0, err
    assert "Mean reward over 2 episodes" in out


class PrevActionRecorder(TorchModelV2):
    """A feed-forward model that reads the previous action and records what it was fed."""

    uses_prev_actions = True

    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.net = torch.nn.Linear(obs_space.shape[0] + 1, num_outputs)
        self.value = torch.nn.Linear(obs_space.shape[0] + 1, 1)
        self.fed: list[np.ndarray] = []

    def forward(self, input_dict, state, seq_lens):
        prev = input_dict["prev_actions"].float().reshape(-1, 1)
        self.fed.append(prev.detach().numpy().ravel().copy())
        self._x = torch.cat([input_dict["obs"], prev], -1)
        return self.net(self._x), state

    def value_function(self):
        return self.value(self._x).squeeze(-1)


def test_models_that_read_the_previous_action_get_each_agents_own():
    worker = ppo_worker(
        ComingAndGoing,
        {"policies": {"shared": PolicySpec()}},
        rollout_fragment_length=6,
        batch_mode="complete_episodes",
        model={"custom_model": PrevActionRecorder},
    )
    model = worker.get_policy("shared").model
    rows = worker.sample().policy_batches["shared"]
    fed = np.concatenate(model.fed)
    acting = fed[: rows.count]  # the acting calls (learning may add more later)
    assert len(acting) == rows.count
    assert sorted(acting.tolist()) == sorted(rows["prev_actions"].astype(float).tolist())
    for index in np.unique(rows["agent_index"]):  # per agent: its own previous action
        own = rows.take(np.flatnonzero(rows["agent_index"] == index))
        assert own["prev_actions"][0] == 0
        np.testing.assert_array_equal(own["prev_actions"][1:], own["actions"][:-1])


def test_a_checkpoint_never_names_a_mapping_function_that_gets_imported():
    from plugrl.checkpoint.config import trusted_config

    saved = {
        "evaluation_interval": 1,
        "evaluation_config": {
            "multiagent": {"policies": ["a"], "policy_mapping_fn": "os:system"},
        },
    }
    with pytest.raises(CheckpointError, match="sets evaluation_config.multiagent.policies"):
        trusted_config(saved, {}, "ckpt")
    mine = {"policies": ["a"], "policy_mapping_fn": by_agent_id}  # the user's own
    config = trusted_config(saved, {"evaluation_config": {"multiagent": mine}}, "ckpt")
    assert config["evaluation_config"]["multiagent"]["policy_mapping_fn"] is by_agent_id


def test_several_policies_on_a_single_agent_env_is_one_clear_error():
    with pytest.raises(ConfigError, match="single-agent env: several policies need"):
        ppo_worker(lambda ctx: gym.make("CartPole-v1"), {"policies": ["p0"]})
