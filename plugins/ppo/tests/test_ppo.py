"""PPO: loss, KL adaptation, config checks, template updates, and a seeded learning run per
framework (the tuned example traces with tf)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import plugrl_ppo
from plugrl import ConfigError, Policy, RolloutWorker
from plugrl.config import merge_trainer_config
from plugrl.env.creator import make_env_creator
from plugrl.testing import assert_learns
from plugrl_ppo import DEFAULT_CONFIG, PPOTorchPolicy, PPOTrainer
from plugrl_ppo.config import PPOConfig
from plugrl_ppo.ppo import update_kl, validate_config
from plugrl_ppo.testing import TINY_CONFIG
from plugrl_ppo.torch_policy import ppo_surrogate_loss

TINY = TINY_CONFIG
TUNED = Path(plugrl_ppo.__file__).parent / "tuned_examples" / "cartpole-ppo.yaml"


def _worker(policy_cls=PPOTorchPolicy, **config) -> RolloutWorker:
    return RolloutWorker(
        make_env_creator("CartPole-v1"),
        policy_cls,
        {
            **DEFAULT_CONFIG,
            "model": {"fcnet_hiddens": [16]},
            "seed": 1,
            "num_envs_per_worker": 2,
            "rollout_fragment_length": 64,
            **config,
        },
    )


def test_loss_decreases_on_a_fixed_batch():
    w = _worker(lr=0.01)
    batch = w.sample()
    policy = w.get_policy()
    losses = [policy.learn_on_batch(batch.copy())["learner_stats"]["total_loss"] for _ in range(15)]
    assert losses[-1] < 0.9 * losses[0], losses
    assert sum(b < a for a, b in zip(losses[:-1], losses[1:], strict=True)) >= 12, losses
    stats = policy.learn_on_batch(batch.copy())["learner_stats"]
    assert {
        "policy_loss",
        "vf_loss",
        "kl",
        "entropy",
        "cur_kl_coeff",
        "cur_lr",
        "vf_explained_var",
    } <= set(stats)
    assert stats["cur_lr"] == pytest.approx(0.01)
    assert stats["kl"] > 0  # the policy moved away from the sampling one


@pytest.mark.parametrize(("kl_coeff", "entropy_coeff"), [(0.0, 0.0), (0.2, 0.0), (0.0, 0.01)])
def test_a_term_with_coefficient_0_is_computed_only_for_the_stats(
    kl_coeff, entropy_coeff, monkeypatch
):
    """KL and entropy are always reported; the loss computes only the terms its total uses,
    and the stats (computed when they are read) the others."""
    w = _worker(kl_coeff=kl_coeff, entropy_coeff=entropy_coeff)
    batch = w.sample()
    policy = w.get_policy()
    calls: list[str] = []
    for term in ("kl", "entropy"):
        method = getattr(policy.dist_class, term)
        monkeypatch.setattr(
            policy.dist_class,
            term,
            lambda self, *args, term=term, method=method: calls.append(term) or method(self, *args),
        )
    out = ppo_surrogate_loss(
        policy, policy.model, policy.dist_class, policy.backend.train_batch(batch)
    )
    in_loss = [term for term, coeff in (("kl", kl_coeff), ("entropy", entropy_coeff)) if coeff]
    assert calls == in_loss and out.loss.requires_grad
    stats = out.computed_stats()
    assert sorted(calls) == ["entropy", "kl"]  # each once, the rest only now
    # the policy has not moved: KL 0, up to round-off (the acting pass joins the branches)
    assert stats["kl"] > -1e-6 and stats["entropy"] > 0


def test_surrogate_is_clipped():
    """With a ratio far above 1 + clip and positive advantages, the policy gradient is zero."""
    w = _worker(kl_coeff=0.0, entropy_coeff=0.0, vf_loss_coeff=0.0, use_critic=True)
    batch = w.sample()
    policy = w.get_policy()
    batch["advantages"] = np.ones(batch.count, np.float32)
    batch["action_logp"] = batch["action_logp"] - 5.0  # ratio = e^5 >> 1.3
    policy.config = {**policy.config, "vf_loss_coeff": 0.0}
    policy.model.zero_grad()
    out = ppo_surrogate_loss(
        policy, policy.model, policy.dist_class, policy.backend.train_batch(batch)
    )
    out.loss.backward()
    grads = [
        p.grad
        for n, p in policy.model.named_parameters()
        if "value" not in n and p.grad is not None
    ]
    assert grads and all(float(g.abs().max()) == 0.0 for g in grads)
    assert float(out.computed_stats()["policy_loss"].detach()) == pytest.approx(-1.3, rel=1e-5)


def test_update_kl_raises_and_lowers_coeff():
    policy = _worker(kl_coeff=0.2, kl_target=0.01).get_policy()
    assert policy.kl_coeff.update(0.05) == pytest.approx(0.3)
    assert policy.kl_coeff.update(0.001) == pytest.approx(0.15)
    assert policy.kl_coeff.update(0.01) == pytest.approx(0.15)
    assert policy.get_state()["kl_coeff"] == pytest.approx(0.15)


def test_trainer_update_kl_uses_fetches(tmp_path):
    trainer = PPOTrainer(config=TINY, logdir=str(tmp_path))
    try:
        policy = trainer.get_policy()
        before = float(policy.kl_coeff)
        update_kl(trainer, {"default_policy": {"kl": 100.0}})
        assert float(policy.kl_coeff) == pytest.approx(1.5 * before)
        update_kl(trainer, {"default_policy": {}})
        assert float(policy.kl_coeff) == pytest.approx(1.5 * before)
    finally:
        trainer.stop()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sgd_minibatch_size": 256, "train_batch_size": 200}, "sgd_minibatch_size"),
        ({"entropy_coeff": -0.1}, "entropy_coeff"),
        ({"use_gae": False}, "truncate_episodes"),
        ({"use_critic": False}, "use_critic"),
    ],
)
def test_validate_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):  # a value's schema, or a check across keys
        validate_config(merge_trainer_config(DEFAULT_CONFIG, overrides, PPOConfig))


def test_validate_config_accepts_non_gae_with_complete_episodes():
    validate_config(
        merge_trainer_config(DEFAULT_CONFIG, {"use_gae": False, "batch_mode": "complete_episodes"})
    )


def test_validate_config_via_trainer(tmp_path):
    with pytest.raises(ConfigError, match="sgd_minibatch_size"):
        PPOTrainer(config={**TINY, "sgd_minibatch_size": 1000}, logdir=str(tmp_path))


def test_policy_with_updates_is_a_real_subclass():
    calls = []

    def my_loss(policy, model, dist_class, train_batch):
        calls.append(train_batch.count)
        return ppo_surrogate_loss(policy, model, dist_class, train_batch).loss * 0.5

    MyPolicy = PPOTorchPolicy.with_updates(name="MyPPOPolicy", loss_fn=my_loss)
    assert MyPolicy.__name__ == "MyPPOPolicy"
    assert issubclass(MyPolicy, PPOTorchPolicy) and MyPolicy is not PPOTorchPolicy
    assert MyPolicy._template["loss_fn"] is my_loss
    assert PPOTorchPolicy._template["loss_fn"] is ppo_surrogate_loss
    w = _worker(MyPolicy)
    assert type(w.get_policy()) is MyPolicy
    stats = w.learn_on_batch(w.sample())["default_policy"]["learner_stats"]
    assert calls == [128]
    # the inherited pieces (postprocessing, parts, stats) still work with a bare loss
    assert {"total_loss", "cur_lr", "cur_kl_coeff", "entropy_coeff"} == set(stats)


def test_policy_with_updates_unknown_name():
    with pytest.raises(ConfigError, match=r"'loss'.*Did you mean: 'loss_fn'"):
        PPOTorchPolicy.with_updates(loss=lambda *a: None)


class CustomPolicy(Policy):
    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.w = 1.0

    def compute_actions(
        self,
        obs_batch,
        state_batches=None,
        prev_action_batch=None,
        prev_reward_batch=None,
        info_batch=None,
        episodes=None,
        **kwargs,
    ):
        return np.array([self.action_space.sample() for _ in obs_batch]), [], {}

    def learn_on_batch(self, samples):
        self.w += 1.0
        return {}

    def get_weights(self):
        return {"w": np.float32(self.w)}

    def set_weights(self, weights):
        self.w = float(weights["w"])


def test_trainer_with_updates_uses_the_given_policy(tmp_path):
    CustomTrainer = PPOTrainer.with_updates(
        name="CustomPPO", default_policy=CustomPolicy, make_policy_optimizer=None
    )
    assert CustomTrainer.__name__ == "CustomPPO"
    assert issubclass(CustomTrainer, PPOTrainer)
    trainer = CustomTrainer(config={**TINY, "num_sgd_iter": 1}, logdir=str(tmp_path))
    try:
        assert type(trainer.get_policy()) is CustomPolicy
        result = trainer.train()
        assert result["timesteps_total"] >= TINY["train_batch_size"]
        assert trainer.get_policy().w > 1.0
    finally:
        trainer.stop()
    assert PPOTrainer._template["default_policy"] is None  # the parent is unchanged


def test_trainer_with_updates_unknown_name():
    with pytest.raises(ConfigError, match="Did you mean: 'default_policy'"):
        PPOTrainer.with_updates(default_polcy=CustomPolicy)


def test_result_keys(tmp_path):
    trainer = PPOTrainer(config=TINY, logdir=str(tmp_path))
    try:
        result = trainer.train()
    finally:
        trainer.stop()
    for key in (
        "episode_reward_mean",
        "episode_reward_min",
        "episode_reward_max",
        "episode_len_mean",
        "episodes_this_iter",
        "timesteps_total",
        "training_iteration",
        "time_this_iter_s",
        "custom_metrics",
    ):
        assert key in result, key
    assert result["timesteps_total"] == 128
    learner = result["info"]["learner"]["default_policy"]
    assert np.isfinite(learner["total_loss"])
    assert (tmp_path / "result.json").exists() and (tmp_path / "params.json").exists()


@pytest.mark.learning
@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_ppo_learns_cartpole(tmp_path, framework):
    assert_learns(TUNED, 150, 100_000, tmp_path, seed=0, framework=framework)


def test_the_optimizer_sub_config_reaches_the_optimizer(tmp_path):
    trainer = PPOTrainer(
        config={**TINY, "optimizer": {"shuffle_sequences": False}}, logdir=str(tmp_path)
    )
    try:
        assert trainer.optimizer.shuffle_sequences is False
    finally:
        trainer.stop()
    with pytest.raises(ConfigError, match=r"Unknown key 'shufle_sequences' in 'optimizer'.*Did"):
        PPOTrainer(config={**TINY, "optimizer": {"shufle_sequences": False}}, logdir=str(tmp_path))


@pytest.mark.parametrize("simple_optimizer", [False, True])
def test_advantages_are_standardised_by_either_optimizer(tmp_path, simple_optimizer):
    seen = []

    def recording_loss(policy, model, dist_class, train_batch):
        seen.append(train_batch["advantages"].detach().numpy().copy())
        return ppo_surrogate_loss(policy, model, dist_class, train_batch)

    policy = PPOTorchPolicy.with_updates(name="Recording", loss_fn=recording_loss)
    trainer = PPOTrainer.with_updates(default_policy=policy)(
        config={**TINY, "simple_optimizer": simple_optimizer}, logdir=str(tmp_path)
    )
    try:
        trainer.train()
    finally:
        trainer.stop()
    advantages = np.concatenate(seen[: len(seen) // TINY["num_sgd_iter"]])
    assert advantages.mean() == pytest.approx(0.0, abs=1e-5)
    assert advantages.std() == pytest.approx(1.0, rel=1e-3)
