# plugrl developer commands. `make train` and `make test` set everything up themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
DISTS := core plugins/exploration plugins/torch_backend plugins/tf_backend plugins/ppo plugins/dqn plugins/a3c plugins/pg plugins/marwil
STAMP := $(VENV)/.installed
CORE_VENV := .venv-core
# Stable-Baselines3, only for `make bench`'s side-by-side figures, in an environment of its own.
SB3_VENV := .venv-sb3
SB3_STAMP := $(SB3_VENV)/.installed

.PHONY: setup train test bench bench-gpu bench-tune bench-offline bench-minatar soak lint check-core check-wheels docs clean

setup: $(STAMP)

# Reinstall only when a packaging file changes; editable installs pick up code changes.
$(STAMP): constraints.txt $(foreach d,$(DISTS),$(d)/pyproject.toml) requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -r requirements-dev.txt $(foreach d,$(DISTS),-e $(d)) -e 'core[ray,tune,serve,pettingzoo,atari,minatar]'
	touch $(STAMP)

# Seeded so a run repeats exactly; `make train SEED=3` for another one.
SEED ?= 0

train: setup
	$(VENV)/bin/plugrl train -f plugins/ppo/src/plugrl_ppo/tuned_examples/cartpole-ppo.yaml --seed $(SEED)

test: setup check-core check-wheels docs
	$(PY) -m pytest -q

# plugrl beside Stable-Baselines3 (installed into .venv-sb3 for this alone): start-up, sampling,
# time to 450, memory, as one table with ratios; then plugrl's other paths, the remote path's
# costs and a projection for 16 and 64 Ray workers; then a MinAtar Breakout
# learning curve (PPO, default vision network, 300k steps; `make bench-minatar`: 500k).
bench: setup $(SB3_STAMP)
	$(PY) benchmarks/bench.py --sb3-python $(SB3_VENV)/bin/python
	$(PY) benchmarks/minatar_breakout.py --timesteps 300000 --every 20

$(SB3_STAMP): constraints.txt
	test -x $(SB3_VENV)/bin/python || $(PYTHON) -m venv $(SB3_VENV)
	$(SB3_VENV)/bin/python -m pip --disable-pip-version-check -q install -c constraints.txt torch==2.13.0 stable-baselines3==2.9.2
	touch $(SB3_STAMP)

# PPO's learner with num_gpus: 1 against the CPU (learner cost, time to 450); CPU alone without
# a CUDA device.
bench-gpu: setup
	$(PY) benchmarks/gpu_learner.py

# The PPO CartPole grid (3 lrs x 2 seeds) under Ray Tune, against six plugrl train runs in a row.
bench-tune: setup
	$(PY) benchmarks/tune_grid.py

# Learning from logs: PPO writes CartPole experiences to 450; BC, MARWIL and DQN learn from them.
bench-offline: setup
	$(PY) benchmarks/offline_learning.py

# PPO on MinAtar Breakout (10x10x4 images), 500k steps: the learning curve. About 8 minutes.
bench-minatar: setup
	$(PY) benchmarks/minatar_breakout.py --timesteps 500000 --every 20

# PPO in-process, then with 2 Ray workers, 15 minutes each: RSS growth after warm-up.
soak: setup
	$(PY) benchmarks/soak.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The documentation site, into site/. Strict: a warning (a broken link, a docstring griffe
# cannot parse, a config key without a comment) fails the build.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The kernel alone: importable, lists its built-ins, and names the plugin to install.
check-core:
	test -x $(CORE_VENV)/bin/python || $(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip --disable-pip-version-check -q install -e core
	$(CORE_VENV)/bin/python tests/check_core_only.py

# Every distribution as a wheel, with its package data; a clean venv with only those wheels
# (plugrl[torch,ppo,plot]) trains, rolls out and plots. About 2 minutes.
check-wheels: setup
	$(PY) tests/check_wheels.py

clean:
	rm -rf $(VENV) $(CORE_VENV) $(SB3_VENV)
