"""Sampling: rollout workers stepping envs with a policy (RolloutWorker), the set of them on
Ray actors (WorkerSet), episodes and their metrics."""
