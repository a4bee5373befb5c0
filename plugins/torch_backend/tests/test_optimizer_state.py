"""The torch backend's optimizer state round trip (checkpoints)."""

from __future__ import annotations

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from plugrl.worker_context import WorkerContext
from plugrl_torch.backend import TorchBackend, adam


def _stepped(optimizer: torch.optim.Optimizer, net: torch.nn.Module) -> None:
    net(torch.ones(1, 3)).sum().backward()
    optimizer.step()


def test_restoring_keeps_the_optimizers_own_implementation():
    backend = TorchBackend({"num_gpus": 0, "num_cpus_for_driver": 1}, WorkerContext())
    net = torch.nn.Linear(3, 2)
    optimizer = adam(net.parameters(), 1e-3)
    _stepped(optimizer, net)
    state = backend.optimizer_state(optimizer)
    # as a checkpoint written before fused Adam has it
    state["param_groups"][0].update(fused=None, foreach=True)
    restored = adam(net.parameters(), 1e-3)
    backend.set_optimizer_state(restored, state)
    assert restored.param_groups[0]["fused"] and not restored.param_groups[0]["foreach"]
    assert restored.state[net.weight]["step"].item() == 1
    _stepped(restored, net)  # fused steps take their step count on the weights' device
    assert restored.state[net.weight]["step"].item() == 2


def test_plugrls_adam_steps_as_torchs_and_calls_step_hooks():
    net = torch.nn.Linear(3, 2)
    twin = torch.nn.Linear(3, 2)
    twin.load_state_dict(net.state_dict())
    ours, theirs = adam(net.parameters(), 1e-2), torch.optim.Adam(twin.parameters(), 1e-2)
    steps = []
    handle = register_optimizer_step_post_hook(lambda optimizer, *_: steps.append(optimizer))
    try:
        for _ in range(3):
            for optimizer, model in ((ours, net), (theirs, twin)):
                optimizer.zero_grad()
                _stepped(optimizer, model)
    finally:
        handle.remove()
    assert steps == [ours, theirs] * 3
    for mine, torchs in zip(net.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(mine, torchs)
    restored = adam(twin.parameters(), 1e-2)
    restored.load_state_dict(ours.state_dict())
    assert restored.state[twin.weight]["step"].item() == 3
