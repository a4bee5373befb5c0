"""Small envs and policies the examples, tests and benchmarks share."""
