"""The random state a worker saves: the framework's generator goes back only into its own; a
worker's own generators are saved and restored in place."""

from __future__ import annotations

import numpy as np
import torch

from plugrl.sampling.seeding import (
    drawing_from,
    fork_generators,
    framework_generator,
    numpy_random,
    random_state,
    seed_all,
    set_random_state,
)


def test_the_frameworks_state_goes_back_only_into_the_framework_that_saved_it():
    seed_all(0, "torch")
    state = random_state("torch")
    assert state["framework_name"] == "torch"
    expected = torch.rand(3)
    torch.rand(5)
    set_random_state(state, "torch")
    np.testing.assert_array_equal(torch.rand(3), expected)
    # another framework's state (TF's is three int64s) is left out, not forced into torch
    foreign = {**state, "framework": np.array([1, 2, 3], np.int64), "framework_name": "tf"}
    before = torch.get_rng_state()
    set_random_state(foreign, "torch")
    assert torch.equal(torch.get_rng_state(), before)


def test_a_state_saved_before_the_name_was_is_torchs():
    seed_all(0, "torch")
    state = random_state("torch")
    del state["framework_name"]
    expected = torch.rand(3)
    set_random_state(state, "torch")
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_a_workers_own_generators_are_saved_restored_in_place_and_isolated():
    seed_all(0, "torch")
    own = fork_generators("torch")
    with drawing_from(own):
        assert framework_generator() is own.framework
        assert numpy_random() is own.numpy
    assert framework_generator() is None and numpy_random() is np.random
    state = random_state("torch", own)
    process = np.random.get_state()[2], torch.get_rng_state()
    expected = own.numpy.random_sample(3), torch.rand(3, generator=own.framework)
    # drawing from a worker's generators leaves the process's alone
    assert np.random.get_state()[2] == process[0] and torch.equal(torch.get_rng_state(), process[1])
    numpy, framework = own.numpy, own.framework
    own.numpy.random_sample(5)
    set_random_state(state, "torch", own)
    assert own.numpy is numpy and own.framework is framework  # in place
    np.testing.assert_array_equal(own.numpy.random_sample(3), expected[0])
    assert torch.equal(torch.rand(3, generator=own.framework), expected[1])


def test_a_state_saved_before_workers_had_generators_sets_them_to_the_process_ones():
    seed_all(0, "torch")
    state = random_state("torch")  # as saved until 2026-12: no "worker"
    expected = np.random.random_sample(3), torch.rand(3)
    own = fork_generators("torch")
    set_random_state(state, "torch", own)
    np.testing.assert_array_equal(own.numpy.random_sample(3), expected[0])
    assert torch.equal(torch.rand(3, generator=own.framework), expected[1])
