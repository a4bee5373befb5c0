"""The torch backend's optimizer state round trip (checkpoints)."""

from __future__ import annotations

import torch

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
