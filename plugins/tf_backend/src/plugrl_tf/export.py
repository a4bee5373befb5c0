"""Export a TF policy's model as a SavedModel (``saved_model/``, signature ``serving_default``:
input ``obs``, outputs ``dist_inputs`` and ``value``). What is exported is described in
:mod:`plugrl.export`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plugrl.export import OUTPUTS, ExportError
from plugrl.sample_batch import SampleBatch
from plugrl_tf._tf import tf


class ForwardPass(tf.Module):
    """``obs [B, n]`` -> ``{"dist_inputs"}``, with ``"value"`` when ``with_value``; holds the
    model's variables, so that they are saved with it."""

    def __init__(self, model: Any, obs_shape: tuple[int, ...], with_value: bool):
        super().__init__(name="forward_pass")
        self.model_variables = list(model.variables())
        self._model = model
        self._with_value = with_value
        spec = tf.TensorSpec([None, *obs_shape], tf.float32, name="obs")
        self.forward = tf.function(self._forward, input_signature=[spec])

    def _forward(self, obs: tf.Tensor) -> dict[str, tf.Tensor]:
        dist_inputs, _ = self._model({SampleBatch.OBS: obs, "is_training": False}, [], None)
        out = {"dist_inputs": dist_inputs}
        if self._with_value:
            out["value"] = self._model.value_function()
        return out


def export_model(policy: Any, export_dir: str, onnx: int | None) -> dict[str, Any]:
    """Write ``policy.model``'s forward pass into ``export_dir/saved_model``."""
    if onnx is not None:
        raise ExportError(
            f"onnx={onnx}: the tf backend exports a SavedModel only. Leave onnx out, then "
            "convert it with tf2onnx (python -m tf2onnx.convert --saved-model DIR/saved_model)."
        )
    shape = tuple(policy.observation_space.shape)
    with_value = _has_value_function(policy.model, shape)
    module = ForwardPass(policy.model, shape, with_value)
    tf.saved_model.save(module, str(Path(export_dir) / "saved_model"), signatures=module.forward)
    outputs = list(OUTPUTS[: 2 if with_value else 1])
    return {"format": "saved_model", "file": "saved_model", "outputs": outputs}


def _has_value_function(model: Any, shape: tuple[int, ...]) -> bool:
    model({SampleBatch.OBS: tf.zeros([1, *shape]), "is_training": False}, [], None)
    try:
        model.value_function()
    except NotImplementedError:  # e.g. a Q-network
        return False
    return True
