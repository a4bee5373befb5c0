"""The torch backend's optimizer: its state round trip (checkpoints), plugrl's Adam against
torch's, and the gradients' global norm (whose finiteness decides whether an update is applied);
and tensors back to numpy."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from plugrl.worker_context import WorkerContext
from plugrl_torch.backend import TorchBackend, adam
from plugrl_torch.optim import Adam

_INIT_GROUP = torch.optim.Adam._init_group


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


@pytest.mark.parametrize(
    "options",
    [{}, {"weight_decay": 0.1, "maximize": True}, {"amsgrad": True}],
    ids=["plain", "weight decay, maximize", "amsgrad (torch's own step)"],
)
@pytest.mark.parametrize("found_inf", [True, False], ids=["found_inf", "no found_inf"])
def test_plugrls_fused_step_is_torchs_bit_for_bit(options, found_inf, monkeypatch):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    twin = copy.deepcopy(net)
    ours = Adam(net.parameters(), lr=1e-2, fused=True, **options)
    theirs = torch.optim.Adam(twin.parameters(), lr=1e-2, fused=True, **options)
    general = []
    monkeypatch.setattr(Adam, "_init_group", lambda *a: general.append(1) or _INIT_GROUP(*a))
    x = torch.randn(5, 3)
    for step, skip in enumerate([0.0, 0.0, 1.0, 0.0]):  # the third left out, as GradScaler does
        for optimizer, model in ((ours, net), (theirs, twin)):
            optimizer.zero_grad()
            model(x).pow(2).sum().backward()
            optimizer.param_groups[0]["lr"] = 1e-2 / (step + 1)  # a schedule sets it
            if found_inf:
                optimizer.found_inf = torch.tensor(skip)
            optimizer.step()
    for mine, torchs in zip(net.parameters(), twin.parameters(), strict=True):
        assert torch.equal(mine, torchs)
        assert torch.equal(ours.state[mine]["step"], theirs.state[torchs]["step"])
        assert ours.state[mine]["step"].item() == (3 if found_inf else 4)
    # torch's general step makes the state on the first step; after that, plain Adam skips it
    assert len(general) == (4 if options.get("amsgrad") else 1)


@pytest.mark.parametrize("second", [torch.float32, torch.float64], ids=["one dtype", "two"])
def test_the_global_norm_covers_every_gradient_and_overflows_as_torchs(second):
    backend = TorchBackend({"num_gpus": 0, "num_cpus_for_driver": 1}, WorkerContext())
    weights = [torch.zeros(3, requires_grad=True), torch.zeros(2, dtype=second, requires_grad=True)]
    unused = torch.zeros(1, requires_grad=True)  # no gradient: not counted
    for weight in weights:
        weight.grad = torch.ones_like(weight)
    assert backend.global_norm([[*weights, unused]]).item() == pytest.approx(5**0.5)
    weights[0].grad[0] = 1e20  # finite, but not its square: the update is not applied
    assert backend.global_norm([[*weights, unused]]).item() == float("inf")
    weights[0].grad[0] = 1.0
    weights[1].grad[1] = float("nan")
    assert backend.global_norm([[*weights, unused]]).isnan()


def test_step_counts_are_one_tensor_and_stay_right_across_loads_and_missing_gradients():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    twin = copy.deepcopy(net)
    ours = adam(net.parameters(), 1e-2)
    theirs = torch.optim.Adam(twin.parameters(), 1e-2, fused=True)

    def step_both(skip: float = 0.0, frozen: bool = False) -> None:
        for optimizer, model in ((ours, net), (theirs, twin)):
            optimizer.zero_grad()
            model(torch.ones(2, 3)).sum().backward()
            if frozen:  # a weight without a gradient keeps its count
                model[0].bias.grad = None
            optimizer.found_inf = torch.tensor(skip)
            optimizer.step()
            del optimizer.found_inf

    def counts(optimizer: torch.optim.Optimizer, model: torch.nn.Module) -> list[float]:
        return [optimizer.state[p]["step"].item() for p in model.parameters()]

    for kwargs in ({}, {}, {"skip": 1.0}, {"frozen": True}, {}):
        step_both(**kwargs)
        assert counts(ours, net) == counts(theirs, twin)
    assert counts(ours, net) == [4.0, 3.0, 4.0, 4.0]
    steps = [ours.state[p]["step"] for p in net.parameters()]
    assert len({step.untyped_storage().data_ptr() for step in steps}) == 1  # one tensor
    ours.load_state_dict(ours.state_dict())  # new tensors: joined again at the next step
    step_both()
    assert counts(ours, net) == counts(theirs, twin) == [5.0, 4.0, 5.0, 5.0]
    for mine, torchs in zip(net.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(mine, torchs)


def test_tensors_come_back_as_numpy_from_inside_and_outside_autograd():
    backend = TorchBackend({"num_gpus": 0, "num_cpus_for_driver": 1}, WorkerContext())
    weight = torch.ones(3, requires_grad=True)
    with torch.inference_mode():
        acted = torch.arange(3.0)
    for value, expected in ((weight * 2, [2.0, 2.0, 2.0]), (acted, [0.0, 1.0, 2.0])):
        array = backend.numpy(value)
        assert isinstance(array, np.ndarray) and array.tolist() == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is there")
def test_gpus_asked_for_without_a_cuda_device_warn_and_run_on_the_cpu():
    with pytest.warns(UserWarning, match="sees no CUDA device.*Set it to 0"):
        backend = TorchBackend({"num_gpus": 1, "num_cpus_for_driver": 1}, WorkerContext())
    assert backend.device.type == "cpu"
