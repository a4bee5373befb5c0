"""Learning from logs on CartPole-v1: a PPO run (the tuned example) writes its experiences
until it reaches a mean return of 450; then BC, MARWIL and DQN train only from those files
and are evaluated greedily in the env every few iterations.

Run with ``make bench-offline`` (``--seed``, ``--iterations``). Prints one line per
evaluation and a summary; not part of the tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from plugrl.registry import get_trainer_class
from plugrl.testing import train_until, tuned_example

PLUGINS = Path(__file__).parents[1] / "plugins"
PPO_EXAMPLE = PLUGINS / "ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo.yaml"
MARWIL_EXAMPLE = PLUGINS / "marwil/src/plugrl_marwil/tuned_examples/cartpole-marwil.yaml"
DQN_EXAMPLE = PLUGINS / "dqn/src/plugrl_dqn/tuned_examples/cartpole-dqn.yaml"
EVALUATION = {
    "evaluation_interval": 5,
    "evaluation_duration": 10,
    "evaluation_config": {"explore": False},
}


def record(folder: Path, seed: int) -> tuple[int, float]:
    """Train PPO with ``output`` into ``folder`` until it reaches 450; (steps, seconds)."""
    trainer_class, config = tuned_example(PPO_EXAMPLE, output=str(folder), seed=seed)
    trainer = trainer_class(config=config, logdir=str(folder.parent / "ppo"))
    start = time.time()
    try:
        result = train_until(trainer, 450, 300_000)
    finally:
        trainer.stop()
    return result["timesteps_total"], time.time() - start


def learn_offline(name: str, run: str, config: dict, iterations: int, logdir: Path) -> float:
    """Train ``run`` from the files; prints each evaluation, returns the best mean return."""
    trainer = get_trainer_class(run)(config={**config, **EVALUATION}, logdir=str(logdir))
    best = float("-inf")
    start = time.time()
    try:
        for _ in range(iterations):
            result = trainer.train()
            evaluation = result.get("evaluation")
            if evaluation:
                best = max(best, evaluation["episode_reward_mean"])
                print(
                    f"{name:>7}: iteration {result['training_iteration']:4d}, "
                    f"{result['info']['num_steps_trained']:8d} rows trained, "
                    f"evaluation {evaluation['episode_reward_mean']:6.1f} "
                    f"({time.time() - start:5.0f} s)",
                    flush=True,
                )
    finally:
        trainer.stop()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "ppo-out"
        steps, seconds = record(data, args.seed)
        size = sum(p.stat().st_size for p in data.iterdir()) / 2**20
        print(f"PPO reached 450 in {steps} steps ({seconds:.0f} s); {size:.1f} MiB of files")
        _, marwil = tuned_example(MARWIL_EXAMPLE, input=str(data), seed=args.seed)
        _, dqn = tuned_example(DQN_EXAMPLE, seed=args.seed)
        runs = {
            "BC": ("BC", {**marwil, "beta": 0.0}),
            "MARWIL": ("MARWIL", marwil),
            "DQN": ("DQN", {**dqn, "input": str(data), "explore": False, "input_evaluation": []}),
        }
        best = {
            name: learn_offline(name, run, config, args.iterations, Path(tmp) / name)
            for name, (run, config) in runs.items()
        }
    print("best greedy evaluation (10 episodes):", {k: round(v, 1) for k, v in best.items()})


if __name__ == "__main__":
    main()
