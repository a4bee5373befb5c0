"""The random state a worker saves: the framework's generator goes back only into its own."""

from __future__ import annotations

import numpy as np
import torch

from plugrl.sampling.seeding import random_state, seed_all, set_random_state


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
