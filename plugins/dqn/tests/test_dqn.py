"""DQN and SimpleQ: loss targets, learner stats, target updates, replay wiring, exploration
configs from the seeds, save/restore, and custom and vision trunks."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch

from plugrl import ConfigError, EnvError, SampleBatch
from plugrl.env.examples import BrightSquareEnv
from plugrl.registry import registry
from plugrl_dqn import (
    DQNTorchPolicy,
    DQNTrainer,
    PrioritizedReplayBuffer,
    ReplayBuffer,
    SimpleQTrainer,
    SyncReplayOptimizer,
)
from plugrl_dqn.replay_buffer import WEIGHTS
from plugrl_dqn.testing import TINY_CONFIG, random_transitions
from plugrl_dqn.torch_policy import q_loss
from plugrl_exploration import EpsilonGreedy

OBS_SPACE = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)


def _policy(**config) -> DQNTorchPolicy:
    config = {"model": {"fcnet_hiddens": [8]}, "hiddens": [8], **config}
    return DQNTorchPolicy(OBS_SPACE, gym.spaces.Discrete(3), config)


def _batch(n: int = 16, seed: int = 0) -> SampleBatch:
    return random_transitions(n, seed)


def _q(model: torch.nn.Module, obs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model({"obs": torch.as_tensor(obs), "is_training": False}, [], None)[0].numpy()


@pytest.mark.parametrize("double_q", [True, False])
def test_td_error_uses_the_target_network_and_double_q(double_q):
    torch.manual_seed(0)
    policy = _policy(double_q=double_q, gamma=0.9)
    for p in policy.target_model.parameters():  # make the target differ from the online net
        p.add_(0.3 * torch.randn_like(p))
    batch = _batch()
    q_t, q_next, q_next_target = (
        _q(policy.model, batch["obs"]),
        _q(policy.model, batch["new_obs"]),
        _q(policy.target_model, batch["new_obs"]),
    )
    chosen = q_next.argmax(1) if double_q else q_next_target.argmax(1)
    bootstrap = q_next_target[np.arange(16), chosen] * (1 - batch["terminateds"])
    expected = q_t[np.arange(16), batch["actions"]] - (batch["rewards"] + 0.9 * bootstrap)
    fetches = policy.learn_on_batch(batch)
    np.testing.assert_allclose(fetches["td_error"], expected, rtol=1e-4, atol=1e-5)
    stats = fetches["learner_stats"]
    assert {"cur_lr", "mean_q", "min_q", "max_q", "mean_td_error"} <= set(stats)
    assert stats["mean_td_error"] == pytest.approx(expected.mean(), abs=1e-5)


def test_loss_is_importance_weighted_huber():
    policy = _policy(grad_clip=None)
    batch = _batch()
    weights = torch.as_tensor(batch[WEIGHTS])
    out = q_loss(policy, policy.model, policy.dist_class, policy.backend.train_batch(batch))
    td = out.fetches["td_error"]
    huber = torch.where(td.abs() < 1, 0.5 * td**2, td.abs() - 0.5)
    assert float(out.loss.detach()) == pytest.approx(float((weights * huber).mean()), rel=1e-5)


def test_dueling_head_centres_advantages():
    policy = _policy(dueling=True)
    model = policy.model
    obs = torch.zeros(4, 3)
    q = _q(model, obs.numpy())
    with torch.no_grad():
        features = torch.relu(model.hidden[0](obs))
        value = model.value_out(torch.relu(model.value_hidden[0](features)))
    np.testing.assert_allclose(q.mean(axis=1), value.squeeze(1).numpy(), rtol=1e-5, atol=1e-6)
    names = set(policy.get_weights())
    assert {"hidden.0.weight", "advantage_out.weight", "value_out.weight"} <= names


def test_trainer_reports_stats_and_updates_the_target_network():
    trainer = DQNTrainer(config=TINY_CONFIG)
    result = trainer.train()
    result = trainer.train()
    stats = result["info"]["learner"]["default_policy"]
    assert {"cur_lr", "mean_q", "min_q", "max_q", "mean_td_error", "cur_epsilon"} <= set(stats)
    assert result["info"]["num_target_updates"] == 200 // 40
    assert result["info"]["replay_buffer_size"] == 200
    assert isinstance(trainer.optimizer.buffer, PrioritizedReplayBuffer)
    policy = trainer.get_policy()
    online, target = policy.get_weights(), policy.get_state()["target_model"]
    assert all(np.array_equal(online[k], target[k]) for k in online)  # just synced at 200
    with torch.no_grad():  # the target holds copies, not the online weights themselves
        for weight in policy.model.parameters():
            weight.add_(1.0)
    assert all(np.array_equal(policy.get_state()["target_model"][k], target[k]) for k in target)
    trainer.stop()


def test_with_updates_replaces_the_target_update_hook():
    calls = []
    Custom = DQNTrainer.with_updates(after_optimizer_step=lambda t, f: calls.append(1))
    trainer = Custom(config=TINY_CONFIG)
    trainer.train()
    assert calls and trainer.state["num_target_updates"] == 0
    trainer.stop()


def test_replay_optimizer_comes_from_the_optimizer_hook_and_honours_intensity():
    assert registry("optimizers").load("SyncReplayOptimizer") is SyncReplayOptimizer
    trainer = DQNTrainer(config={**TINY_CONFIG, "training_intensity": 8})
    trainer.train()
    trainer.train()
    optimizer = trainer.optimizer
    # learning starts with the sampling round that brings the buffer to learning_starts rows
    learned_on = optimizer.num_steps_sampled - TINY_CONFIG["learning_starts"] + 4
    assert optimizer.num_steps_trained == pytest.approx(8 * learned_on, abs=16)
    trainer.stop()


def test_simple_q_has_no_dqn_extensions():
    trainer = SimpleQTrainer(config=_simple_config())
    policy = trainer.get_policy()
    assert not policy.model.dueling and not policy.config.get("double_q", False)
    assert not any(k.startswith("value") for k in policy.get_weights())
    assert type(trainer.optimizer.buffer) is ReplayBuffer  # uniform replay
    trainer.train()
    trainer.stop()
    with pytest.raises(ConfigError, match="Unknown config key 'dueling'"):
        SimpleQTrainer(config={**_simple_config(), "dueling": True})


def _simple_config() -> dict:
    return {k: v for k, v in TINY_CONFIG.items() if k != "hiddens"}


def test_bad_inputs_are_refused_clearly():
    with pytest.raises(ConfigError, match="n_step"):
        DQNTrainer(config={**TINY_CONFIG, "n_step": 0})
    with pytest.raises(ConfigError, match="buffer_size"):
        DQNTrainer(config={**TINY_CONFIG, "buffer_size": 8})
    with pytest.raises(ConfigError, match="v_min"):
        DQNTrainer(config={**TINY_CONFIG, "num_atoms": 51, "v_min": 10.0, "v_max": 0.0})
    with pytest.raises(ConfigError, match="ParameterNoise"):
        DQNTrainer(config={**TINY_CONFIG, "noisy": True})
    with pytest.raises(EnvError, match="Discrete action space"):
        DQNTrainer(config={**TINY_CONFIG, "env": "Pendulum-v1"})


SEED_EXPLORATIONS = [
    {
        "type": "EpsilonGreedy",
        "initial_epsilon": 1.0,
        "final_epsilon": 0.02,
        "epsilon_timesteps": 10000,
    },
    {"type": "SoftQ", "temperature": 1.0},
]


@pytest.mark.parametrize("exploration_config", SEED_EXPLORATIONS, ids=lambda c: c["type"])
def test_seed_exploration_configs_run(exploration_config):
    config = {
        **TINY_CONFIG,
        "explore": True,
        "exploration_config": exploration_config,
        "evaluation_interval": 1,
        "evaluation_num_episodes": 1,
        "evaluation_config": {"explore": False},
    }
    trainer = DQNTrainer(config=config)
    result = trainer.train()
    assert result["evaluation"]["episodes_this_iter"] >= 1
    assert type(trainer.get_policy().exploration).__name__ == exploration_config["type"]
    trainer.stop()


def test_explore_false_gives_greedy_actions_and_per_call_override():
    trainer = DQNTrainer(config={**TINY_CONFIG, "explore": False})
    obs = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    greedy = int(_q(trainer.get_policy().model, obs[None]).argmax())
    assert all(trainer.compute_action(obs) == greedy for _ in range(20))
    # epsilon is 1.0 at timestep 0: exploring per call gives random actions
    explored = {int(trainer.compute_action(obs, explore=True)) for _ in range(40)}
    assert explored == {0, 1}
    trainer.stop()


@pytest.mark.parametrize("store_buffer", [False, True])
def test_restore_continues_epsilon_counters_and_optionally_the_buffer(tmp_path, store_buffer):
    config = {**TINY_CONFIG, "store_buffer_in_checkpoints": store_buffer}
    trainer = DQNTrainer(config=config)
    for _ in range(3):
        trainer.train()
    path = trainer.save(str(tmp_path))
    epsilon = trainer.get_policy().exploration.epsilon
    state = copy.deepcopy(trainer.state)
    trainer.stop()

    restored = DQNTrainer(config=config)
    restored.restore(path)
    policy = restored.get_policy()
    assert policy.exploration.epsilon == pytest.approx(epsilon) and epsilon < 1.0
    assert restored.optimizer.num_steps_sampled == 300
    assert restored.state == state
    assert len(restored.optimizer.buffer) == (300 if store_buffer else 0)
    result = restored.train()
    assert result["timesteps_total"] == 400
    assert policy.exploration.epsilon < epsilon
    restored.stop()


class AlwaysFirstAction(EpsilonGreedy):
    """A user subclass: explores by always taking action 0."""

    def get_exploration_action(self, *, action_distribution, timestep, explore=True):
        actions, logp = super().get_exploration_action(
            action_distribution=action_distribution, timestep=timestep, explore=explore
        )
        return (np.zeros_like(actions) if explore else actions), logp


@pytest.mark.parametrize(
    "exploration_type",
    [AlwaysFirstAction, "plugrl_exploration.epsilon_greedy.EpsilonGreedy"],
    ids=["class", "dotted-path"],
)
def test_user_exploration_by_class_or_dotted_path(exploration_type):
    config = {**TINY_CONFIG, "exploration_config": {"type": exploration_type, "final_epsilon": 0.5}}
    trainer = DQNTrainer(config=config)
    policy = trainer.get_policy()
    assert isinstance(policy.exploration, EpsilonGreedy)
    actions, _, _ = policy.compute_actions(np.zeros((6, 4), np.float32))
    if exploration_type is AlwaysFirstAction:
        assert actions.tolist() == [0] * 6
    trainer.stop()


def test_projection_onto_the_support_keeps_mass_and_mean():
    from plugrl_dqn.torch_policy import project_onto_support

    support = torch.linspace(-10, 10, 21)
    probs = torch.softmax(torch.randn(5, 21), dim=-1)
    rewards = torch.tensor([0.0, 1.3, -2.5, 0.7, 4.0])
    bootstrap = torch.tensor([0.9, 0.5, 0.0, 0.9, 0.3])
    projected = project_onto_support(probs, rewards, bootstrap, support)
    np.testing.assert_allclose(projected.sum(-1).numpy(), np.ones(5), rtol=1e-6)
    # no clamping is needed for these rows, so the mean moves exactly like the values
    expected_mean = rewards + bootstrap * (probs * support).sum(-1)
    np.testing.assert_allclose((projected * support).sum(-1).numpy(), expected_mean, atol=1e-5)
    assert projected[2].argmax() == 7 and projected[2].max() == pytest.approx(0.5)  # -2.5


def test_distributional_dqn_trains_and_reports_q_means():
    config = {**TINY_CONFIG, "num_atoms": 11, "v_min": 0.0, "v_max": 20.0}
    trainer = DQNTrainer(config=config)
    model = trainer.get_policy().model
    assert model.advantage_out.out_features == 2 * 11 and model.value_out.out_features == 11
    assert "support" not in trainer.get_policy().get_weights()
    result = trainer.train()
    stats = result["info"]["learner"]["default_policy"]
    assert 0.0 <= stats["min_q"] <= stats["max_q"] <= 20.0
    assert stats["mean_td_error"] > 0  # cross-entropies
    trainer.stop()


class TwoFeatureTrunk(torch.nn.Module):
    """A custom model DQN uses as its trunk: observation -> 5 features."""

    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        super().__init__()
        self.layer = torch.nn.Linear(4, 5)
        self.num_outputs = 5

    def forward(self, input_dict, state, seq_lens):
        return torch.tanh(self.layer(input_dict["obs"])), state


class NoSizeTrunk(TwoFeatureTrunk):
    def __init__(self, *args):
        super().__init__(*args)
        self.num_outputs = None


def test_custom_model_is_the_q_network_trunk():
    config = {**TINY_CONFIG, "model": {"custom_model": TwoFeatureTrunk}}
    trainer = DQNTrainer(config=config)
    weights = trainer.get_policy().get_weights()
    assert weights["base.layer.weight"].shape == (5, 4)
    assert weights["advantage_hidden.0.weight"].shape == (16, 5)
    trainer.train()
    trainer.stop()
    with pytest.raises(ConfigError, match="must set self.num_outputs"):
        DQNTrainer(config={**TINY_CONFIG, "model": {"custom_model": NoSizeTrunk}})


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_images_get_the_vision_network_as_trunk(framework):
    config = {**TINY_CONFIG, "env": BrightSquareEnv, "framework": framework}
    trainer = DQNTrainer(config={**config, "model": {"fcnet_hiddens": [8]}})
    try:
        weights = trainer.get_policy().get_weights()
        conv = [k for k in weights if "policy_conv.0.weight" in k]
        assert len(conv) == 1 and weights[conv[0]].shape == (16, 1, 3, 3)
        assert not any("value_conv" in k for k in weights)  # one conv tower
        trainer.train()
    finally:
        trainer.stop()
