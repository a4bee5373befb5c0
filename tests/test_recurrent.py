"""Recurrent policies on both frameworks: state through the sampler (carried across fragments,
reset at episode starts), acting with a state, losses over padded sequences (masked, the same
on torch and TF), PG and A2C training with use_lstm, custom recurrent models from the catalog,
previous actions and rewards reaching the models that read them, and the clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tensorflow as tf
import torch

from plugrl import ConfigError, DefaultCallbacks, ModelCatalog, RolloutWorker, SampleBatch
from plugrl.env.creator import make_env_creator
from plugrl.env.stateless_cartpole import StatelessCartPole
from plugrl.policy.sequences import SEQ_LENS, pad_into_sequences
from plugrl_a3c import A2CTrainer
from plugrl_a3c.testing import TINY_CONFIG as A2C_TINY
from plugrl_pg import PGTrainer
from plugrl_pg.testing import TINY_CONFIG as PG_TINY
from plugrl_ppo import DEFAULT_CONFIG, PPOTFPolicy, PPOTorchPolicy, PPOTrainer
from plugrl_tf.models import TFModelV2, dense
from plugrl_torch.models import TorchModelV2

ENV = "StatelessCartPole"
LSTM = {"fcnet_hiddens": [8], "use_lstm": True, "lstm_cell_size": 6, "max_seq_len": 5}


def _worker(policy: type = PPOTorchPolicy, callbacks: Any = None, **config: Any) -> RolloutWorker:
    return RolloutWorker(
        make_env_creator(ENV),
        policy,
        {
            **DEFAULT_CONFIG,
            "model": LSTM,
            "seed": 2,
            "num_envs_per_worker": 2,
            "rollout_fragment_length": 16,
            "callbacks": callbacks,
            **config,
        },
    )


def test_stateless_cartpole_hides_the_velocities():
    env = StatelessCartPole()
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2,) and env.observation_space.shape == (2,)
    assert env.observation_space.contains(obs)
    assert env.unwrapped.state[[0, 2]] == pytest.approx(obs)


class _RecordStates(DefaultCallbacks):
    """The episodes' rnn_state_for() at their starts and at every step (in class attributes:
    the worker builds its own instance)."""

    at_start: list[list[np.ndarray]] = []
    at_step: list[tuple[int, list[np.ndarray]]] = []

    def on_episode_start(self, *, episode, **kwargs):
        self.at_start.append([s.copy() for s in episode.rnn_state_for()])

    def on_episode_step(self, *, episode, **kwargs):
        self.at_step.append((episode.episode_id, [s.copy() for s in episode.rnn_state_for()]))


def test_state_is_carried_across_fragments_and_reset_at_episode_starts():
    recorder = _RecordStates
    recorder.at_start, recorder.at_step = [], []
    worker = _worker(callbacks=recorder)
    batches = [worker.sample() for _ in range(4)]
    policy = worker.get_policy()
    initial = policy.get_initial_state()
    assert [s.shape for s in initial] == [(6,), (6,)] and not np.any(initial)

    continued = starts = 0
    last_out: dict[int, list[np.ndarray]] = {}  # episode -> its last state out so far
    for batch in batches:
        assert batch["state_in_0"].shape == (batch.count, 6)
        for row in batch.rows():
            eps = int(row["eps_id"])
            state_in = [row["state_in_0"], row["state_in_1"]]
            if row["t"] == 0:
                starts += 1
                for s, s0 in zip(state_in, initial, strict=True):
                    np.testing.assert_array_equal(s, s0)
            else:  # the state out of the episode's step before, also across fragments
                for s, prev in zip(state_in, last_out[eps], strict=True):
                    np.testing.assert_array_equal(s, prev)
                continued += 1
            last_out[eps] = [row["state_out_0"], row["state_out_1"]]
    assert starts >= 3 and continued > 100
    # a fragment starts in the middle of an episode with the state it left off with
    assert any(b["t"][0] > 0 and np.any(b["state_in_0"][0]) for b in batches[1:])

    # the episodes see the same: the initial state at their start, then the last state out
    assert len(recorder.at_start) >= starts
    assert all(not np.any(s) for start in recorder.at_start for s in start)
    outs = {
        (int(b["eps_id"][i]), int(b["t"][i])): b["state_out_0"][i]
        for b in batches
        for i in range(b.count)
    }
    seen: dict[int, int] = {}
    for eps, state in recorder.at_step:
        t = seen.get(eps, 0)
        seen[eps] = t + 1
        np.testing.assert_array_equal(state[0], outs[(eps, t)])
    assert len(recorder.at_step) == len(outs)


def test_the_sampled_distribution_is_what_learning_recomputes_over_sequences():
    """Cut into sequences of 5 from their sampled states, the model recomputes the sampled
    action distributions exactly (with the previous actions and rewards it was fed): PPO's
    first KL is 0 and its ratio 1 (padding masked)."""
    model = {**LSTM, "lstm_use_prev_action": True, "lstm_use_prev_reward": True}
    worker = _worker(model=model, rollout_fragment_length=23)
    batch = worker.sample()
    assert pad_into_sequences(batch, 5)[SEQ_LENS].min() < 5  # some padding
    stats = worker.get_policy().learn_on_batch(batch)["learner_stats"]
    assert abs(stats["kl"]) < 1e-6
    assert stats["policy_loss"] == pytest.approx(-batch["advantages"].mean(), abs=1e-5)


def test_losses_do_not_count_padding():
    """The same batch cut into sequences of 3 (much padding) or 16 gives the same loss."""
    worker = _worker(rollout_fragment_length=40)
    batch = worker.sample()
    short = worker.get_policy()
    long_ = PPOTorchPolicy(
        short.observation_space,
        short.action_space,
        {**short.config, "model": {**LSTM, "max_seq_len": 16}},
    )
    long_.set_weights(short.get_weights())
    _, a = short.compute_gradients(batch.copy())
    _, b = long_.compute_gradients(batch.copy())
    for key in ("total_loss", "policy_loss", "vf_loss", "entropy"):
        assert a["learner_stats"][key] == pytest.approx(b["learner_stats"][key], rel=1e-4), key


@pytest.mark.parametrize("framework", ["torch", "tf2"])  # eager TF: quick; traced LSTMs below
def test_compute_single_action_with_a_state(framework):
    config = {"env": ENV, "framework": framework, "model": LSTM, "seed": 0}
    trainer = PPOTrainer(config=config)
    try:
        policy = trainer.get_policy()
        state = policy.get_initial_state()
        assert [s.shape for s in state] == [(6,), (6,)]
        action, state_out, info = policy.compute_single_action(np.zeros(2), state=state)
        assert action in (0, 1) and "vf_preds" in info
        assert [s.shape for s in state_out] == [(6,), (6,)] and np.any(state_out[0])
        # the trainer returns (action, state_out, info) when given a state, and moves it on
        obs = np.array([0.1, -0.05])
        action, state1, _ = trainer.compute_action(obs, state=state, explore=False)
        _, state2, _ = trainer.compute_action(obs, state=state1, explore=False)
        assert not np.allclose(state1[0], state2[0])
        _, again, _ = trainer.compute_action(obs, state=state, explore=False)
        np.testing.assert_allclose(again[0], state1[0], rtol=1e-6)
        with pytest.raises(ConfigError, match="is recurrent: pass its state"):
            trainer.compute_action(obs)
    finally:
        trainer.stop()


@pytest.mark.parametrize("framework", ["torch", "tf2"])  # eager TF: quick; traced LSTMs below
@pytest.mark.parametrize("trainer_class", [PGTrainer, A2CTrainer])
def test_pg_and_a2c_train_recurrent_policies(trainer_class, framework):
    tiny = PG_TINY if trainer_class is PGTrainer else A2C_TINY
    model = {**LSTM, "lstm_use_prev_action": True, "lstm_use_prev_reward": True}
    config = {**tiny, "env": ENV, "framework": framework, "model": model}
    trainer = trainer_class(config=config)
    try:
        before = trainer.get_policy().get_weights()
        for _ in range(2):
            result = trainer.train()
        stats = result["info"]["learner"]["default_policy"]
        assert np.isfinite(stats["total_loss"]) and stats["policy_entropy"] > 0.1
        after = trainer.get_policy().get_weights()
        assert not np.allclose(before["lstm.weight_hh_l0"], after["lstm.weight_hh_l0"])
        # one-hot previous action (2) and previous reward (1) beside the 8 features
        assert after["lstm.weight_ih_l0"].shape == (24, 11)
    finally:
        trainer.stop()


@pytest.mark.parametrize("tracing", [False, True])
def test_torch_and_tf_agree_on_a_loss_over_sequences(tracing):
    model = {**LSTM, "lstm_use_prev_action": True, "lstm_use_prev_reward": True}
    worker = _worker(model=model, rollout_fragment_length=23, entropy_coeff=0.01, lr=0.01)
    batch = worker.sample()
    pt = worker.get_policy()
    pt.learn_on_batch(batch.copy())  # move away from the sampling policy: kl > 0
    tf_config = {**pt.config, "framework": "tf", "eager_tracing": tracing}
    tfp = PPOTFPolicy(pt.observation_space, pt.action_space, tf_config)
    assert set(tfp.get_weights()) == set(pt.get_weights())
    tfp.set_weights(pt.get_weights())
    pt_grads, pt_info = pt.compute_gradients(batch.copy())
    tf_grads, tf_info = tfp.compute_gradients(batch.copy())
    pt_stats, tf_stats = pt_info["learner_stats"], tf_info["learner_stats"]
    for key in ("total_loss", "policy_loss", "vf_loss", "kl", "entropy", "vf_explained_var"):
        assert tf_stats[key] == pytest.approx(pt_stats[key], rel=1e-4, abs=1e-5), key
    assert pt_stats["kl"] > 1e-6
    names = [name for name, _ in pt.model.named_parameters()]
    tf_by_name = dict(zip(tfp.model.trainable_variables(as_dict=True), tf_grads, strict=True))
    for name, grad in zip(names, pt_grads, strict=True):
        np.testing.assert_allclose(tf_by_name[name], grad, rtol=1e-4, atol=1e-5, err_msg=name)
    # and the same actions' state when acting
    state = pt.get_initial_state()
    obs = batch["obs"][:3]
    states = [np.repeat(s[None], 3, axis=0) for s in state]
    _, pt_out, _ = pt.compute_actions(obs, states, batch["actions"][:3], batch["rewards"][:3])
    _, tf_out, _ = tfp.compute_actions(obs, states, batch["actions"][:3], batch["rewards"][:3])
    np.testing.assert_allclose(tf_out[0], pt_out[0], rtol=1e-4, atol=1e-5)


class _TinyGRU(TorchModelV2):
    """A custom recurrent model (RLlib's contract): a GRU over the observations and the
    previous reward, one state tensor; it records the inputs it was given."""

    uses_prev_rewards = True

    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.gru = torch.nn.GRU(obs_space.shape[0] + 1, 4, batch_first=True)
        self.logits = torch.nn.Linear(4, num_outputs or 4)
        self.value = torch.nn.Linear(4, 1)
        self.seen: list[tuple[str, ...]] = []

    def get_initial_state(self):
        return [torch.zeros(4)]

    def forward(self, input_dict, state, seq_lens):
        self.seen.append(tuple(sorted(k for k in input_dict if k != "is_training")))
        x = torch.cat([input_dict["obs"], input_dict["prev_rewards"].reshape(-1, 1)], -1)
        x = x.reshape(len(seq_lens), -1, x.shape[-1])
        out, h = self.gru(x, state[0][None])
        self._features = out.reshape(-1, 4)
        return self.logits(self._features), [h[0]]

    def value_function(self):
        return self.value(self._features).squeeze(-1)


class _TinyTFRNN(TFModelV2):
    """The same contract on TF: a plain RNN over the observations and the previous reward."""

    uses_prev_rewards = True

    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.w_in = self.create_variable("w_in", tf.random.normal([obs_space.shape[0] + 1, 4]))
        self.w_h = self.create_variable("w_h", 0.5 * tf.random.normal([4, 4]))
        self.logits = self.linear("logits", 4, num_outputs or 4, 0.01)
        self.value = self.linear("value", 4, 1, 1.0)
        self.seen: list[tuple[str, ...]] = []

    def get_initial_state(self):
        return [np.zeros(4, np.float32)]

    def forward(self, input_dict, state, seq_lens):
        self.seen.append(tuple(sorted(k for k in input_dict if k != "is_training")))
        rewards = tf.reshape(tf.cast(input_dict["prev_rewards"], tf.float32), [-1, 1])
        x = tf.concat([tf.cast(input_dict["obs"], tf.float32), rewards], -1) @ self.w_in
        x = tf.transpose(tf.reshape(x, [tf.shape(seq_lens)[0], -1, 4]), [1, 0, 2])
        hs = tf.scan(lambda h, xt: tf.tanh(xt + h @ self.w_h), x, initializer=state[0])
        self._features = tf.reshape(tf.transpose(hs, [1, 0, 2]), [-1, 4])
        return dense(self._features, *self.logits), [hs[-1]]

    def value_function(self):
        return tf.squeeze(dense(self._features, *self.value), 1)


@pytest.mark.parametrize(("framework", "model_class"), [("torch", _TinyGRU), ("tf", _TinyTFRNN)])
def test_a_custom_recurrent_model_from_the_catalog_trains_with_its_state(framework, model_class):
    ModelCatalog.register_custom_model("tiny_rnn", model_class)
    model = {"custom_model": "tiny_rnn", "max_seq_len": 4}
    config = {**PG_TINY, "env": ENV, "framework": framework, "model": model}
    trainer = PGTrainer(config=config)
    try:
        model = trainer.get_policy().model
        trainer.train()
        batch = trainer.workers.local_worker().sample()
        assert batch["state_in_0"].shape == (batch.count, 4) and "state_in_1" not in batch
        # acting and learning both handed it the previous reward it asked for
        assert set(model.seen) == {("obs", "prev_rewards")}
        assert np.any(batch["prev_rewards"])
    finally:
        trainer.stop()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"use_lstm": True, "max_seq_len": 0}, "max_seq_len"),
        ({"use_lstm": True, "lstm_cell_size": 0}, "lstm_cell_size"),
        ({"use_lstm": True, "lstm_use_prev_action": "yes"}, "lstm_use_prev_action"),
        ({"use_lstm": True, "custom_model": "tiny_gru"}, "recurrent already"),
    ],
)
def test_bad_recurrent_settings_are_clear_errors(model, message):
    ModelCatalog.register_custom_model("tiny_gru", _TinyGRU)
    with pytest.raises(ConfigError, match=message):
        PPOTrainer(config={"env": ENV, "model": model})


def test_a_policy_built_without_a_trainer_checks_max_seq_len():
    env = StatelessCartPole()
    config = {**DEFAULT_CONFIG, "model": {**LSTM, "max_seq_len": 0}}
    with pytest.raises(ConfigError, match="max_seq_len must be an integer >= 1"):
        PPOTorchPolicy(env.observation_space, env.action_space, config)


def test_dqn_and_marwil_refuse_use_lstm():
    from plugrl_dqn import DQNTrainer
    from plugrl_marwil import BCTrainer

    with pytest.raises(
        ConfigError, match="DQN builds its own Q-network and cannot make it recurrent"
    ):
        DQNTrainer(config={"env": ENV, "model": {"use_lstm": True}})
    with pytest.raises(ConfigError, match="MARWIL and BC learn from logged steps"):
        BCTrainer(config={"env": ENV, "model": {"use_lstm": True}})


def test_offline_input_and_the_policy_server_refuse_recurrent_policies(tmp_path):
    with pytest.raises(ConfigError, match="carry no recurrent state"):
        PPOTrainer(config={"env": ENV, "model": LSTM, "input": str(tmp_path)})

    def server(ioctx: Any) -> Any:
        from plugrl.serving import PolicyServerInput

        return PolicyServerInput(ioctx, "127.0.0.1", 0)

    config = {"env": ENV, "model": LSTM, "input": server}
    with pytest.raises(ConfigError, match="carry no recurrent state"):  # before it serves
        PPOTrainer(config=config)


def test_offline_output_keeps_the_state_columns(tmp_path):
    from plugrl.offline.json_reader import JsonReader

    worker = _worker(output=str(tmp_path))
    written = worker.sample()
    worker.stop()
    read = JsonReader(str(tmp_path)).next()
    assert isinstance(read, SampleBatch)
    np.testing.assert_allclose(read["state_in_0"], written["state_in_0"][: read.count])
    np.testing.assert_allclose(read["state_out_1"], written["state_out_1"][: read.count])


def test_export_refuses_recurrent_policies(tmp_path):
    from plugrl.export import ExportError

    trainer = PPOTrainer(config={"env": ENV, "model": LSTM})
    try:
        with pytest.raises(ExportError, match="recurrent state"):
            trainer.export_policy_model(str(tmp_path / "export"))
    finally:
        trainer.stop()


def test_plugrl_rollout_plays_a_recurrent_checkpoint(capsys, tmp_path):
    from plugrl.testing import run_cli

    trainer = PPOTrainer(config={"env": ENV, "model": LSTM})
    try:
        checkpoint = trainer.save(str(tmp_path))
    finally:
        trainer.stop()
    code, out, err = run_cli(capsys, "rollout", checkpoint, "--episodes", "2", "--no-render")
    assert code == 0, err
    assert "Mean reward over 2 episodes" in out


class _PrevActionMLP(TorchModelV2):
    """A feed-forward model that reads the previous action: it records what it was fed."""

    uses_prev_actions = True

    def __init__(self, obs_space, action_space, num_outputs, model_config, name):
        super().__init__(obs_space, action_space, num_outputs, model_config, name)
        self.net = torch.nn.Linear(obs_space.shape[0] + 1, num_outputs)
        self.value = torch.nn.Linear(obs_space.shape[0] + 1, 1)
        self.prev_actions: list[np.ndarray] = []

    def forward(self, input_dict, state, seq_lens):
        prev = input_dict["prev_actions"].float().reshape(-1, 1)
        self.prev_actions.append(prev.detach().numpy().ravel().copy())
        self._x = torch.cat([input_dict["obs"], prev], -1)
        return self.net(self._x), state

    def value_function(self):
        return self.value(self._x).squeeze(-1)


def test_a_feed_forward_model_that_asks_gets_the_previous_actions():
    ModelCatalog.register_custom_model("prev_action_mlp", _PrevActionMLP)
    worker = _worker(model={"custom_model": "prev_action_mlp"}, num_envs_per_worker=1)
    model = worker.get_policy().model
    batch = worker.sample()
    assert "state_in_0" not in batch
    fed = np.concatenate(model.prev_actions[: batch.count])
    np.testing.assert_array_equal(fed, batch["prev_actions"])
    np.testing.assert_array_equal(
        fed[1:][batch["t"][1:] > 0], batch["actions"][:-1][batch["t"][1:] > 0]
    )


def test_a_traced_tf_lstm_reading_previous_actions_acts_before_and_after_the_first_step():
    model = {**LSTM, "lstm_use_prev_action": True, "lstm_use_prev_reward": True}
    worker = _worker(PPOTFPolicy, framework="tf", eager_tracing=True, model=model)
    policy = worker.get_policy()
    obs = np.zeros((2, 2), np.float32)
    state = policy.get_initial_state()
    states = [np.stack([s, s]) for s in state]
    actions, states, _ = policy.compute_actions(obs, states)  # no previous step yet
    actions, _, _ = policy.compute_actions(obs, states, actions, np.ones(2, np.float32))
    assert actions.shape == (2,)
    assert worker.sample().count == 32
