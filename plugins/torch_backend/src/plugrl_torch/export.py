"""Export a torch policy's model: TorchScript (``model.pt``), or ONNX (``model.onnx``) with
``onnx=<opset>`` through torch's exporter (``torch.onnx.export(dynamo=True)``, which needs the
``onnx`` and ``onnxscript`` packages). What is exported is described in :mod:`plugrl.export`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from plugrl.export import OUTPUTS, ExportError
from plugrl.sample_batch import SampleBatch

MIN_ONNX_OPSET = 18
"""The oldest opset torch's ONNX exporter writes (it cannot reliably convert to older ones)."""


class ForwardPass(nn.Module):
    """``obs [B, n]`` -> ``(dist_inputs,)``, or ``(dist_inputs, value)`` with ``with_value``."""

    def __init__(self, model: nn.Module, with_value: bool):
        super().__init__()
        self.model = model
        self.with_value = with_value

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        dist_inputs, _ = self.model({SampleBatch.OBS: obs, "is_training": False}, [], None)
        if self.with_value:
            return dist_inputs, self.model.value_function()
        return (dist_inputs,)


def export_model(policy: Any, export_dir: str, onnx: int | None) -> dict[str, Any]:
    """Write ``policy.model``'s forward pass (on the CPU, in eval mode) into ``export_dir``."""
    if onnx is not None and int(onnx) < MIN_ONNX_OPSET:
        raise ExportError(
            f"onnx={onnx}: torch's ONNX exporter writes opset {MIN_ONNX_OPSET} or later; "
            f"pass onnx={MIN_ONNX_OPSET} (or leave onnx out for TorchScript)."
        )
    with torch.random.fork_rng(devices=[]):  # building the copy draws no training randomness
        model = policy.make_model()
    model.load_state_dict(policy.model.state_dict())
    model = model.to("cpu").eval().requires_grad_(False)
    example = torch.zeros(2, *policy.observation_space.shape)  # 2: the batch size stays free
    module = ForwardPass(model, _has_value_function(model, example)).eval()
    outputs = list(OUTPUTS[: 2 if module.with_value else 1])
    if onnx is None:
        torch.jit.save(torch.jit.trace(module, example), str(Path(export_dir) / "model.pt"))
        return {"format": "torchscript", "file": "model.pt", "outputs": outputs}
    try:
        with warnings.catch_warnings():
            # models keep their last inputs for value_function(): harmless in the export
            warnings.filterwarnings("ignore", "The tensor attributes .* were assigned")
            torch.onnx.export(
                module,
                (example,),
                str(Path(export_dir) / "model.onnx"),
                input_names=["obs"],
                output_names=outputs,
                dynamic_shapes={"obs": {0: torch.export.Dim("batch")}},
                opset_version=int(onnx),
                dynamo=True,
                verbose=False,
            )
    except ImportError as exc:
        raise ExportError(
            f"ONNX export needs the onnx and onnxscript packages ({exc}): "
            "pip install 'plugrl[onnx]'"
        ) from None
    return {"format": "onnx", "file": "model.onnx", "outputs": outputs, "opset": int(onnx)}


def _has_value_function(model: nn.Module, example: torch.Tensor) -> bool:
    model({SampleBatch.OBS: example, "is_training": False}, [], None)
    try:
        model.value_function()
    except NotImplementedError:  # e.g. a Q-network
        return False
    return True
