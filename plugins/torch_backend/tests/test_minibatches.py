"""Epochs of minibatches on torch: the batch becomes tensors once, every minibatch is taken from
those tensors, nothing is read back from the device until the stats of the last update, and
the updates are the ones a ``learn_on_batch`` per minibatch makes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

import plugrl_torch.batches
from plugrl.errors import NonFiniteError
from plugrl.optimizers.sync_samples import collect_samples, standardized
from plugrl.policy import LossOutput
from plugrl.policy.policy import Policy, learner_stats, mean_stats
from plugrl.testing import assert_same_updates
from plugrl_ppo import PPOTrainer
from plugrl_ppo.testing import TINY_CONFIG

# every way a tensor's value reaches Python, each of which waits for a device's queue
HOST_READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")


@pytest.fixture(params=[None, 0.5], ids=["no grad_clip", "grad_clip"])
def ppo(request, tmp_path):
    """A PPO policy, one standardized batch of its samples and its optimizer's minibatches
    (2 epochs of 2)."""
    config = {**TINY_CONFIG, "num_sgd_iter": 2, "grad_clip": request.param}
    trainer = PPOTrainer(config=config, logdir=str(tmp_path))
    optimizer = trainer.optimizer
    samples = collect_samples(trainer.workers, optimizer.train_batch_size)
    samples = standardized(samples, optimizer.standardize_fields)
    rows = [r for _ in range(2) for r in optimizer.minibatch_rows(samples)]
    yield trainer.get_policy(), samples, rows
    trainer.stop()


def test_the_batch_becomes_tensors_once(ppo, monkeypatch):
    policy, samples, rows = ppo
    converted: list[int] = []
    to_tensor = plugrl_torch.batches.to_tensor

    def counting(value, device):
        converted.append(id(value))
        return to_tensor(value, device)

    monkeypatch.setattr(plugrl_torch.batches, "to_tensor", counting)
    policy.learn_on_minibatches(samples, rows)
    assert len(rows) == 4 and converted
    assert len(converted) == len(set(converted)) <= len(samples)  # each column at most once


@contextmanager
def no_host_reads() -> Iterator[list[str]]:
    """Record every read of a tensor's value into Python."""
    reads: list[str] = []
    originals = {name: getattr(torch.Tensor, name) for name in HOST_READS}

    def trap(name):
        def read(self, *args, **kwargs):
            reads.append(name)
            return originals[name](self, *args, **kwargs)

        return read

    for name in HOST_READS:
        setattr(torch.Tensor, name, trap(name))
    try:
        yield reads
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


def test_nothing_is_read_back_until_the_stats_of_the_last_update(ppo, monkeypatch):
    policy, samples, rows = ppo
    numpy_many = policy.backend.numpy_many
    reads_before_stats: list[list[str]] = []

    with no_host_reads() as reads:

        def stats_come_back(values):
            reads_before_stats.append(list(reads))
            return numpy_many(values)

        monkeypatch.setattr(policy.backend, "numpy_many", stats_come_back)
        stats = policy.learn_on_minibatches(samples, rows)
    assert reads_before_stats == [[]]  # one read-back, and nothing before it
    assert np.isfinite(stats["total_loss"]) and stats["cur_lr"] == pytest.approx(5e-5)


def test_the_same_updates_as_one_learn_on_batch_per_minibatch(ppo):
    policy, samples, rows = ppo
    start = policy.get_state()
    stats = policy.learn_on_minibatches(samples, rows)
    weights = policy.get_weights()
    policy.set_state(start)
    assert_same_updates(policy, weights, stats, Policy.learn_on_minibatches(policy, samples, rows))


def test_only_the_last_updates_compute_their_stats_and_all_update_alike(ppo, monkeypatch):
    policy, samples, rows = ppo
    ppo_loss = policy._loss_fn
    computed: list[int] = []

    def loss_fn(*args):  # PPO's loss, counting the times its stats are computed
        out = ppo_loss(*args)

        def stats():
            computed.append(1)
            return out.computed_stats()

        return LossOutput(out.loss, stats)

    monkeypatch.setattr(policy, "_loss_fn", loss_fn)
    start = policy.get_state()
    stats = policy.learn_on_minibatches(samples, rows, stats_of_last=2)
    weights = policy.get_weights()
    assert len(computed) == 2  # of 4 updates
    policy.set_state(start)
    updates = [learner_stats(policy.learn_on_batch(samples.take(r))) for r in rows]
    assert_same_updates(policy, weights, stats, mean_stats(updates[2:]))


def test_the_optimizer_reports_the_last_epoch(tmp_path, monkeypatch):
    config = {**TINY_CONFIG, "num_sgd_iter": 3}  # 3 epochs of 2 minibatches
    trainer = PPOTrainer(config=config, logdir=str(tmp_path))
    policy = trainer.get_policy()
    calls = []
    learn = policy.learn_on_minibatches

    def recorded(samples, rows, **kwargs):
        calls.append((len(rows), kwargs))
        return learn(samples, rows, **kwargs)

    monkeypatch.setattr(policy, "learn_on_minibatches", recorded)
    try:
        result = trainer.train()
    finally:
        trainer.stop()
    assert calls == [(6, {"stats_of_last": 2})]
    assert np.isfinite(result["info"]["learner"]["default_policy"]["kl"])


def test_a_learn_on_batch_of_its_own_is_called_once_per_minibatch(ppo):
    policy, samples, rows = ppo
    calls: list[int] = []

    class CountsItsBatches:  # a mixin, placed before the policy class as RLlib's were
        def learn_on_batch(self, samples):
            calls.append(samples.count)
            return super().learn_on_batch(samples)

    counting = type("Counting", (CountsItsBatches, type(policy)), {})
    policy.__class__ = counting
    stats = policy.learn_on_minibatches(samples, rows)
    assert calls == [len(r) for r in rows] and np.isfinite(stats["total_loss"])


def _poisoned(samples, rows):
    """``samples`` with a NaN advantage in the first minibatch's rows only."""
    samples = samples.copy()
    first, second = set(rows[0].tolist()), set(rows[1].tolist())
    row = next(r for r in first if r not in second)
    samples["advantages"][row] = np.nan
    return samples


def test_a_non_finite_update_is_left_out_and_the_others_applied(ppo):
    policy, samples, rows = ppo
    policy.config = {**policy.config, "skip_nonfinite_updates": True}
    bad = _poisoned(samples, rows[:2])  # in epoch 1's first minibatch, epoch 2's somewhere
    before = policy.get_weights()
    policy.learn_on_minibatches(bad, rows[:1])
    for name, value in policy.get_weights().items():
        np.testing.assert_array_equal(value, before[name])  # left out, on the device
    assert policy.num_skipped_updates == 1
    policy.learn_on_minibatches(bad, rows[1:2])
    after = policy.get_weights()
    assert any(not np.array_equal(after[n], before[n]) for n in before)  # a good one applied
    assert all(np.isfinite(w).all() for w in after.values())
    assert policy.num_skipped_updates == 1


def test_non_finite_updates_are_an_error_after_the_last_naming_how_many(ppo):
    policy, samples, rows = ppo
    bad = _poisoned(samples, rows[:2])
    with pytest.raises(NonFiniteError) as error:
        policy.learn_on_minibatches(bad, rows[:2])
    pattern = r"\(total_loss=nan, policy_loss=nan(, grad_gnorm=nan)?\); 1 of 2 updates were not"
    assert re.search(pattern, str(error.value))
    assert policy.num_skipped_updates == 1
    assert all(np.isfinite(w).all() for w in policy.get_weights().values())


def test_a_non_finite_update_whose_stats_are_not_reported_names_its_loss(ppo):
    policy, samples, rows = ppo
    bad = _poisoned(samples, rows[:2])
    with pytest.raises(NonFiniteError) as error:
        policy.learn_on_minibatches(bad, rows[:2], stats_of_last=1)
    assert "(total_loss=nan, grad_gnorm=nan); 1 of 2 updates were not" in str(error.value)
    assert policy.num_skipped_updates == 1


def test_a_finite_loss_with_a_non_finite_gradient_is_not_applied(ppo, monkeypatch):
    policy, samples, rows = ppo
    ppo_loss = policy._loss_fn

    def loss_fn(policy, model, dist_class, batch):  # sqrt at 0: a loss of 0, a gradient of inf
        out = ppo_loss(policy, model, dist_class, batch)
        return LossOutput(out.loss + (model.value_function() * 0).sqrt().sum(), out.stats)

    monkeypatch.setattr(policy, "_loss_fn", loss_fn)
    before = policy.get_weights()
    what = r"non-finite (gradient|loss or gradient \(grad_gnorm=nan\));"
    with pytest.raises(NonFiniteError, match=what + " 2 of 2 updates were not applied"):
        policy.learn_on_minibatches(samples, rows[:2])
    with pytest.raises(NonFiniteError, match=what + " the update was not applied"):
        policy.learn_on_batch(samples)
    for name, value in policy.get_weights().items():
        np.testing.assert_array_equal(value, before[name])
    assert policy.num_skipped_updates == 3


def test_a_read_only_column_is_copied_not_shared():
    column = np.arange(6, dtype=np.float32)
    column.setflags(write=False)  # as a batch from Ray's object store arrives
    tensor = plugrl_torch.batches.to_tensor(column, torch.device("cpu"))
    tensor += 1  # a loss writing into its batch cannot reach the sampled data
    np.testing.assert_array_equal(column, np.arange(6))
    writable = np.arange(6, dtype=np.float32)
    assert plugrl_torch.batches.to_tensor(writable, torch.device("cpu")).data_ptr() == (
        writable.ctypes.data
    )  # zero-copy otherwise
