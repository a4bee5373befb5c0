"""Trainers as Ray Tune trainables: one trainer per trial actor, its resources one placement
group, its checkpoints the trainer's own folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray import tune

from plugrl import plugins
from plugrl.builtins.loggers import NullSink
from plugrl.checkpoint import write_state
from plugrl.errors import ConfigError
from plugrl.registry import (
    add_runtime_registrations,
    get_trainer_class,
    registry,
    runtime_registrations,
)
from plugrl.trainer import Trainer


class TrainerTrainable(tune.Trainable):
    """Runs ``trainer_class`` in a Tune trial; :func:`make_trainable` makes the subclasses.

    The trainer writes no results itself (the driver's results callback does, see
    :mod:`plugrl.tune.results`); its run folder, where ``monitor`` videos go, is the trial's.
    """

    trainer_class: type[Trainer]
    # What the trial's process needs from the driver's: plugins and run-time registrations.
    handover: dict[str, Any] = {}

    @classmethod
    def default_resource_request(cls, config: dict[str, Any]) -> tune.PlacementGroupFactory:
        return placement_for(cls.trainer_class, config)

    def setup(self, config: dict[str, Any]) -> None:
        if self.handover:
            plugins.reset(self.handover["plugins"])
            add_runtime_registrations(self.handover["registrations"])
        folder = _trial_folder(self)
        self.trainer = self.trainer_class(config=config, logger_creator=lambda _: NullSink(folder))

    def step(self) -> dict[str, Any]:
        return self.trainer.train()

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        write_state(checkpoint_dir, self.trainer.__getstate__())

    def load_checkpoint(self, checkpoint: Any) -> None:
        self.trainer.restore(str(checkpoint))

    def cleanup(self) -> None:
        self.trainer.stop()


def make_trainable(trainer: type | str) -> type[TrainerTrainable]:
    """A trainable class for a Trainer subclass or an installed algorithm's name, carrying
    this process's plugins and run-time registrations (``register_env``, custom models) to
    the trial actors."""
    trainer_class = get_trainer_class(trainer) if isinstance(trainer, str) else trainer
    if not (isinstance(trainer_class, type) and issubclass(trainer_class, Trainer)):
        raise ConfigError(
            f"{trainer!r} is not a Trainer subclass or an installed algorithm's name "
            f"(installed: {', '.join(registry('algorithms').names())})."
        )
    handover = {
        "plugins": plugins.get_host().spec(),
        "registrations": runtime_registrations(("envs", "models", "explorations")),
    }
    name = trainer_class.__name__.removesuffix("Trainer") or trainer_class.__name__
    return type(
        name,
        (TrainerTrainable,),
        {"trainer_class": trainer_class, "handover": handover, "__module__": __name__},
    )


def placement_for(trainer_class: type[Trainer], config: dict[str, Any]) -> Any:
    """The placement group of one trial: the driver (``num_cpus_for_driver``, ``num_gpus``)
    and one bundle per rollout and evaluation worker (``num_cpus_per_worker``,
    ``num_gpus_per_worker``), packed onto as few nodes as possible. A value that is no number
    counts as its default here: the trial reports it when its trainer checks the config."""
    defaults = trainer_class._template["default_config"]

    def number(key: str) -> float:
        value = config.get(key, defaults[key])
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        return value if ok else defaults[key] or 0

    workers = number("num_workers")
    if config.get("evaluation_interval", defaults["evaluation_interval"]):
        workers += number("evaluation_num_workers")
    driver = {"CPU": number("num_cpus_for_driver"), "GPU": number("num_gpus")}
    worker = {"CPU": number("num_cpus_per_worker"), "GPU": number("num_gpus_per_worker")}
    return tune.PlacementGroupFactory([driver] + [worker] * int(workers), strategy="PACK")


def _trial_folder(trainable: tune.Trainable) -> str:
    """The trial's folder when the results are on a local (or shared) filesystem, else the
    trial's working folder on this node."""
    storage = trainable._storage
    if storage.storage_filesystem.type_name == "local":
        folder = Path(storage.trial_fs_path)
    else:
        folder = Path(storage.trial_working_directory)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)
