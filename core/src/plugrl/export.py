"""Exported policies: ``policy.json``, which says how to act on an exported model's outputs, and
:func:`import_model`, which runs an export with numpy and the model format's own runtime.

``Trainer.export_policy_model(dir)`` (or ``policy.export_model(dir)``) writes into ``dir``:

- the model's forward pass from a batch of preprocessed, filtered observations ``obs``
  (float32 ``[B, n]``, or ``[B, H, W, C]`` for images) to ``dist_inputs`` (the action
  distribution's inputs) and, when the model has a value function, ``value`` (``[B]``):
  ``model.pt`` (TorchScript), ``model.onnx`` (ONNX) or ``saved_model/`` (a TensorFlow
  SavedModel, signature ``serving_default``);
- ``policy.json``: that file and its format, the raw observation space and its preprocessing
  (a Box is flattened unless it is an image, a Discrete one-hot encoded), the observation
  filter (MeanStdFilter's mean, std and clip), the action distribution (the greedy action:
  each categorical's argmax, a diagonal Gaussian's mean) and the rescaling and clipping of Box
  actions.

``policy.json`` is data only: its ``format`` picks one of the loaders below, and nothing named
in it is ever imported. This module imports nothing from plugrl unless it is imported as
``plugrl.export``, so the file can be shipped beside an export and loaded on its own
(``importlib.util.spec_from_file_location``) where plugrl is not installed.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # imported as plugrl.export: a PlugrlError, which the CLI prints in one line
    from .errors import PlugrlError as _ErrorBase
else:  # loaded on its own from this file, beside a shipped export
    _ErrorBase = Exception

SPEC_FILE = "policy.json"
SPEC_VERSION = 1
OUTPUTS = ("dist_inputs", "value")
"""The names of the exported forward pass's outputs, in order (``value`` only when the model
has a value function)."""


class ExportError(_ErrorBase):
    """A policy that cannot be exported, or an export that cannot be read back."""


# --- writing (TemplatePolicy.export_model, Trainer.export_policy_model) ---------------------


def policy_spec(policy: Any, model: dict[str, Any]) -> dict[str, Any]:
    """The spec of ``policy``'s export, whose model file its backend described in ``model``
    (``format``, ``file``, ``outputs``): observations as the policy takes them (preprocessed
    and filtered already), actions as it outputs them."""
    return {
        "plugrl_export": SPEC_VERSION,
        "policy": type(policy).__name__,
        **model,
        "observation": {
            "space": _observation_space_spec(policy.observation_space),
            "filter": {"type": "NoFilter"},
        },
        "action": {
            **_action_space_spec(policy.action_space),
            "normalize": False,
            "clip": False,
        },
    }


def add_pipeline(
    export_dir: str | Path,
    observation_space: Any,
    observation_filter: Any,
    *,
    normalize_actions: bool,
    clip_actions: bool,
) -> None:
    """Make the export in ``export_dir`` take raw observations of ``observation_space`` through
    plugrl's preprocessing and ``observation_filter``, and give env actions (Box actions
    rescaled from [-1, 1] with ``normalize_actions``, clipped with ``clip_actions``), as a
    rollout worker does."""
    spec = read_spec(export_dir)
    model_shape = spec["observation"]["space"]["shape"]  # the policy's: what the model takes
    space = _observation_space_spec(observation_space)
    if space["type"] == "Box":
        space["model_shape"] = model_shape
    spec["observation"] = {"space": space, "filter": _filter_spec(observation_filter)}
    is_box = spec["action"]["space"]["type"] == "Box"
    spec["action"].update(normalize=normalize_actions and is_box, clip=clip_actions and is_box)
    write_spec(export_dir, spec)


def write_spec(export_dir: str | Path, spec: dict[str, Any]) -> None:
    path = Path(export_dir) / SPEC_FILE
    path.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")


def _observation_space_spec(space: Any) -> dict[str, Any]:
    import gymnasium as gym

    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "shape": list(space.shape)}
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    raise ExportError(
        f"Cannot export a policy for observation space {space}: an export preprocesses Box "
        "and Discrete observations only. Wrap the env to produce one of those."
    )


def _action_space_spec(space: Any) -> dict[str, Any]:
    """The distribution an action space gets from every backend, and the space."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Discrete):
        return {"distribution": "categorical", "space": {"type": "Discrete", "n": int(space.n)}}
    if isinstance(space, gym.spaces.MultiDiscrete):
        nvec = np.asarray(space.nvec).tolist()
        return {
            "distribution": "multi_categorical",
            "space": {"type": "MultiDiscrete", "nvec": nvec},
        }
    if isinstance(space, gym.spaces.Box):
        box = {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": space.low.tolist(),
            "high": space.high.tolist(),
        }
        return {"distribution": "diag_gaussian", "space": box}
    raise ExportError(
        f"Cannot export a policy for action space {space}: an export acts in Discrete, "
        "MultiDiscrete and Box spaces only."
    )


def _filter_spec(observation_filter: Any) -> dict[str, Any]:
    from plugrl.env.filters import MeanStdFilter, NoFilter

    if isinstance(observation_filter, NoFilter):
        return {"type": "NoFilter"}
    if isinstance(observation_filter, MeanStdFilter):
        return {
            "type": "MeanStdFilter",
            "mean": observation_filter.rs.mean.tolist(),
            "std": observation_filter.rs.std.tolist(),
            "clip": float(observation_filter.clip),
        }
    raise ExportError(
        f"Cannot export observation filter {type(observation_filter).__name__}: an export "
        "applies NoFilter and MeanStdFilter only."
    )


# --- reading ----------------------------------------------------------------------------------


def read_spec(export_dir: str | Path) -> dict[str, Any]:
    """The contents of ``export_dir``'s ``policy.json``."""
    path = Path(export_dir) / SPEC_FILE
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(
            f"{str(export_dir)!r} holds no {SPEC_FILE}: export a policy there first with "
            "trainer.export_policy_model(export_dir)."
        ) from None
    except ValueError as exc:
        raise ExportError(f"{str(path)!r} is not valid JSON ({exc}); export again.") from None
    version = spec.get("plugrl_export") if isinstance(spec, dict) else None
    if version != SPEC_VERSION:
        raise ExportError(
            f"{str(path)!r} has export version {version!r}; this reader reads version "
            f"{SPEC_VERSION}. Read it with the plugrl that wrote it, or export again."
        )
    return spec


def import_model(export_dir: str | Path) -> ExportedPolicy:
    """The policy exported to ``export_dir``, run by its format's runtime (``torch`` for
    TorchScript, ``onnxruntime`` for ONNX, ``tensorflow`` for a SavedModel; imported now).

    ``compute_actions(observations)`` gives the greedy actions for a batch of raw observations,
    as ``trainer.compute_single_action(obs, explore=False)`` gives them one by one.
    """
    spec = read_spec(export_dir)
    fmt, file = spec.get("format"), spec.get("file")
    if fmt not in _LOADERS:
        raise ExportError(
            f"{str(export_dir)!r} holds a model in format {fmt!r}; known formats: "
            f"{', '.join(_LOADERS)}."
        )
    if not isinstance(file, str) or Path(file).name != file:
        raise ExportError(f"{SPEC_FILE} in {str(export_dir)!r} names no model file in it.")
    outputs = spec.get("outputs")
    if outputs not in (list(OUTPUTS[:1]), list(OUTPUTS)):
        raise ExportError(f"{SPEC_FILE} in {str(export_dir)!r} has outputs {outputs!r}.")
    return ExportedPolicy(spec, _LOADERS[fmt](Path(export_dir) / file, outputs))


Forward = Callable[[np.ndarray], dict[str, np.ndarray]]
"""An exported forward pass: float32 observations ``[B, n]`` -> its outputs by name."""


class ExportedPolicy:
    """An exported policy read back by :func:`import_model`: acts greedily on raw observations.

    Attributes:
        spec: the contents of ``policy.json``.
    """

    def __init__(self, spec: dict[str, Any], forward: Forward):
        self.spec = spec
        self._forward = forward
        observation, action = spec["observation"], spec["action"]
        space, obs_filter = observation["space"], observation["filter"]
        self._prepare = _known(_PREPROCESSORS, space["type"], "observation space")(space)
        self._filter = _known(_FILTERS, obs_filter["type"], "observation filter")(obs_filter)
        self._greedy = _known(_GREEDY, action["distribution"], "action distribution")

    def forward(self, observations: Any) -> dict[str, np.ndarray]:
        """The model's outputs (``dist_inputs``, and ``value`` when exported) for a batch of
        raw observations."""
        return self._forward(self._filter(self._prepare(observations)))

    def compute_actions(self, observations: Any) -> np.ndarray:
        """The greedy actions for a batch of raw observations, as the env takes them."""
        action = self.spec["action"]
        actions = self._greedy(self.forward(observations)["dist_inputs"], action["space"])
        if action["normalize"] or action["clip"]:
            actions = _to_box(actions, action)
        return actions

    def compute_single_action(self, observation: Any) -> Any:
        """The greedy action for one raw observation (a Python int in a Discrete space)."""
        action = self.compute_actions([observation])[0]
        return action.item() if np.ndim(action) == 0 else action


def _known(table: dict[str, Any], name: str, what: str) -> Any:
    if name not in table:
        raise ExportError(f"Unknown {what} {name!r} in {SPEC_FILE}; known: {', '.join(table)}.")
    return table[name]


def _to_box(actions: np.ndarray, action: dict[str, Any]) -> np.ndarray:
    """Box actions as a rollout worker sends them to the env."""
    space = action["space"]
    low = np.asarray(space["low"], dtype=space["dtype"])
    high = np.asarray(space["high"], dtype=space["dtype"])
    if action["normalize"]:  # policy outputs in [-1, 1] -> the space's bounds
        actions = low + (np.clip(actions, -1.0, 1.0) + 1.0) * (high - low) / 2
    return np.clip(actions, low, high) if action["clip"] else actions


def _prepare_box(space: dict[str, Any]) -> Callable[[Any], np.ndarray]:
    shape = tuple(space["shape"])
    model_shape = tuple(space.get("model_shape", [int(np.prod(shape))]))  # images keep theirs

    def prepare(observations: Any) -> np.ndarray:
        obs = np.asarray(observations, dtype=np.float32)
        if obs.shape[1:] != shape:
            raise ExportError(
                f"Expected a batch of observations of shape {shape}, got an array of shape "
                f"{obs.shape}."
            )
        return np.ascontiguousarray(obs.reshape(len(obs), *model_shape))

    return prepare


def _prepare_discrete(space: dict[str, Any]) -> Callable[[Any], np.ndarray]:
    n, start = int(space["n"]), int(space["start"])

    def prepare(observations: Any) -> np.ndarray:
        index = np.asarray(observations, dtype=np.int64).reshape(-1) - start
        outside = index[(index < 0) | (index >= n)]
        if outside.size:
            raise ExportError(
                f"Observations must be in [{start}, {start + n}); got {outside + start}."
            )
        return np.eye(n, dtype=np.float32)[index]

    return prepare


def _mean_std_filter(spec: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """plugrl's MeanStdFilter, frozen at its exported statistics."""
    mean = np.asarray(spec["mean"], dtype=np.float64)
    std = np.asarray(spec["std"], dtype=np.float64)
    clip = float(spec["clip"])

    def normalise(obs: np.ndarray) -> np.ndarray:
        out = (obs.astype(np.float64) - mean) / (std + 1e-8)
        return np.clip(out, -clip, clip).astype(np.float32)

    return normalise


def _categorical(inputs: np.ndarray, space: dict[str, Any]) -> np.ndarray:
    return inputs.argmax(axis=-1)


def _multi_categorical(inputs: np.ndarray, space: dict[str, Any]) -> np.ndarray:
    nvec = np.asarray(space["nvec"])
    logits = np.split(inputs, np.cumsum(nvec.ravel())[:-1], axis=-1)
    return np.stack([x.argmax(axis=-1) for x in logits], axis=-1).reshape(-1, *nvec.shape)


def _diag_gaussian(inputs: np.ndarray, space: dict[str, Any]) -> np.ndarray:
    mean = inputs[:, : inputs.shape[1] // 2]  # inputs: concat(mean, log_std)
    return mean.reshape(-1, *space["shape"])


_PREPROCESSORS = {"Box": _prepare_box, "Discrete": _prepare_discrete}
_FILTERS: dict[str, Callable[[dict], Callable[[np.ndarray], np.ndarray]]] = {
    "NoFilter": lambda spec: lambda obs: obs,
    "MeanStdFilter": _mean_std_filter,
}
_GREEDY = {
    "categorical": _categorical,
    "multi_categorical": _multi_categorical,
    "diag_gaussian": _diag_gaussian,
}


# --- runtimes ---------------------------------------------------------------------------------


def _runtime(module: str, package: str, fmt: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(f"Running a {fmt} export needs {module}: pip install {package}") from None


def _load_torchscript(path: Path, outputs: list[str]) -> Forward:
    torch = _runtime("torch", "torch", "TorchScript")
    module = torch.jit.load(str(path), map_location="cpu")

    def forward(obs: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            values = module(torch.from_numpy(obs))
        return {name: v.numpy() for name, v in zip(outputs, values, strict=True)}

    return forward


def _load_onnx(path: Path, outputs: list[str]) -> Forward:
    ort = _runtime("onnxruntime", "onnxruntime", "ONNX")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def forward(obs: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(outputs, session.run(outputs, {"obs": obs}), strict=True))

    return forward


def _load_saved_model(path: Path, outputs: list[str]) -> Forward:
    tf = _runtime("tensorflow", "tensorflow-cpu", "SavedModel")
    loaded = tf.saved_model.load(str(path))  # kept by forward: it owns the variables

    def forward(obs: np.ndarray) -> dict[str, np.ndarray]:
        out = loaded.signatures["serving_default"](obs=tf.constant(obs))
        return {name: out[name].numpy() for name in outputs}

    return forward


_LOADERS: dict[str, Callable[[Path, list[str]], Forward]] = {
    "torchscript": _load_torchscript,
    "onnx": _load_onnx,
    "saved_model": _load_saved_model,
}
