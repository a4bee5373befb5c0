"""What the remote path costs per sample batch, measured, and a throughput projection for many
Ray workers built from those costs.

A rollout worker on a Ray actor samples as a local one does; what the remote path adds is
the batch's trip to the learner (pickled with its numpy columns as out-of-band buffers, put
into the object store, fetched and unpickled by the driver), the concatenation of the
workers' batches, and the weight broadcast after each update (one ``ray.put`` of the weights,
one ``set_weights`` call per worker). For PPO's synchronous optimizer, with ``N`` workers
each on its own core sampling ``F`` steps per iteration, one iteration takes

    T(N) = F / r  +  N * (c_batch + F * (c_step + c_learn))  +  c_put + N * c_set

where ``r`` is one worker's sampling rate, ``c_batch`` the fixed cost of fetching one batch,
``c_step`` the per-step cost of moving and concatenating it, ``c_learn`` the learner's cost
per trained step, ``c_put`` the cost of putting the weights and ``c_set`` the driver's cost
per worker of the broadcast. Throughput is ``N * F / T(N)``; sampling alone (no learning,
``c_learn = 0``) bounds what any number of workers can feed one learner.
"""

from __future__ import annotations

import functools
import pickle
import statistics
import tempfile
import time
from dataclasses import dataclass

import ray
import side_common

from plugrl import RolloutWorker, SampleBatch
from plugrl.env.creator import make_env_creator
from plugrl.registry import get_trainer_class
from plugrl_ppo import DEFAULT_CONFIG, PPOTorchPolicy

NUM_ENVS, FRAGMENT = 8, 200  # each worker: 8 envs x 200 steps = 1,600 steps per batch
MODEL = {"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"}
REPEATS = 7


median_time = functools.partial(side_common.median_time, repeats=REPEATS)


@dataclass
class Costs:
    """The measured inputs of the projection (seconds)."""

    steps: int  # F: steps per batch
    sample: float  # F / r: one worker sampling one batch, locally
    pickle_bytes: int
    pickle_s: float  # pickle.dumps + loads of a batch, numpy columns out of band
    fetch_s: float  # driver: ray.get of a batch a remote worker sampled, beyond its sampling
    concat_per_step: float  # SampleBatch.concat_samples per step
    learn_per_step: float  # PPO's SGD epochs per trained step
    put_weights_s: float
    set_weights_per_worker: float
    measured: dict[int, float]  # PPO training steps/s measured with 1 and 2 workers

    def iteration(self, workers: int, learn: bool = True) -> float:
        per_step = self.concat_per_step + (self.learn_per_step if learn else 0.0)
        moved = workers * (self.fetch_s + self.steps * per_step)
        return self.sample + moved + self.put_weights_s + workers * self.set_weights_per_worker

    def throughput(self, workers: int, learn: bool = True) -> float:
        return workers * self.steps / self.iteration(workers, learn)


def config() -> dict:
    return dict(
        DEFAULT_CONFIG,
        num_envs_per_worker=NUM_ENVS,
        rollout_fragment_length=FRAGMENT,
        model=MODEL,
        seed=0,
    )


def measure() -> Costs:
    """Every cost on this machine (a 2-CPU Ray session: one remote worker at a time)."""
    worker = RolloutWorker(make_env_creator("CartPole-v1"), PPOTorchPolicy, config())
    batch = worker.sample()
    sample = median_time(worker.sample)
    buffers: list = []
    data = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
    size = len(data) + sum(b.raw().nbytes for b in buffers)

    def round_trip() -> None:
        out: list = []
        pickle.loads(pickle.dumps(batch, protocol=5, buffer_callback=out.append), buffers=out)

    pickle_s = median_time(round_trip)
    concat = median_time(lambda: SampleBatch.concat_samples([batch] * 8)) / (8 * batch.count)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        fetch, learn, put, set_one = remote_costs()
        measured = {n: measured_training(n) for n in (1, 2)}
    finally:
        ray.shutdown()
    return Costs(
        steps=batch.count,
        sample=sample,
        pickle_bytes=size,
        pickle_s=pickle_s,
        fetch_s=fetch,
        concat_per_step=concat,
        learn_per_step=learn,
        put_weights_s=put,
        set_weights_per_worker=set_one,
        measured=measured,
    )


def ppo_trainer(workers: int, logdir: str) -> object:
    """PPO on CartPole with ``workers`` Ray workers, each sampling one batch per iteration."""
    settings = {
        **config(),
        "env": "CartPole-v1",
        "num_workers": workers,
        "train_batch_size": workers * NUM_ENVS * FRAGMENT,
        "sgd_minibatch_size": 256,
        "num_sgd_iter": 10,
    }
    return get_trainer_class("PPO")(config=settings, logdir=logdir)


def measured_training(workers: int) -> float:
    """PPO's training steps/s with ``workers`` Ray workers: the median of 5 iterations."""
    with tempfile.TemporaryDirectory() as logdir:
        trainer = ppo_trainer(workers, logdir)
        try:
            trainer.train()
            rates = []
            for _ in range(5):
                result = trainer.train()
                rates.append(result["timesteps_this_iter"] / result["time_this_iter_s"])
        finally:
            trainer.stop()
    return statistics.median(rates)


def remote_costs() -> tuple[float, float, float, float]:
    """From a PPO trainer with one Ray worker: the driver's fetch cost per batch beyond the
    worker's own sampling time, the learner's cost per step, and the broadcast's costs."""
    with tempfile.TemporaryDirectory() as logdir:
        trainer = ppo_trainer(1, logdir)
        try:
            workers = trainer.workers
            (remote,) = workers.remote_workers()

            def timed_sample(worker: RolloutWorker) -> tuple[SampleBatch, float]:
                start = time.perf_counter()  # nested: Ray pickles it by value
                batch = worker.sample()
                return batch, time.perf_counter() - start

            def sampled_remotely() -> float:
                start = time.perf_counter()
                _, inside = ray.get(remote.apply.remote(timed_sample))
                return time.perf_counter() - start - inside

            sampled_remotely()
            fetch = statistics.median(sampled_remotely() for _ in range(REPEATS))
            batch, _ = ray.get(remote.apply.remote(timed_sample))
            learn = median_time(lambda: trainer.optimizer.learn(batch)) / batch.count
            weights = workers.local_worker().get_weights()
            put = median_time(lambda: ray.put(weights))
            ref = ray.put(weights)
            set_one = median_time(lambda: ray.get(remote.set_weights.remote(ref, {})))
        finally:
            trainer.stop()
    return fetch, learn, put, set_one


def report(costs: Costs) -> None:
    print(
        f"remote path, per batch of {costs.steps:,} steps ({costs.pickle_bytes / 1024:,.0f} KiB "
        f"pickled): local sampling {costs.sample * 1e3:.1f} ms; pickle round trip "
        f"{costs.pickle_s * 1e3:.2f} ms; driver fetch beyond sampling {costs.fetch_s * 1e3:.2f} "
        f"ms; concat {costs.concat_per_step * 1e6:.2f} us/step; PPO learning "
        f"{costs.learn_per_step * 1e6:.1f} us/step; weights put {costs.put_weights_s * 1e3:.2f}"
        f" ms, set per worker {costs.set_weights_per_worker * 1e3:.2f} ms"
    )
    for workers in (1, 2, 16, 64):
        measured = costs.measured.get(workers)
        seen = f" (measured: {measured:,.0f})" if measured else ""
        print(
            f"projected, {workers} Ray workers (one core each): sampling alone "
            f"{costs.throughput(workers, learn=False):,.0f} steps/s, PPO training "
            f"{costs.throughput(workers):,.0f} steps/s{seen}"
        )
    print(
        "(measured with 2 workers: 3 processes on this machine's 2 cores; the projection "
        "gives each worker a core of its own)"
    )


if __name__ == "__main__":
    report(measure())
