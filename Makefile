# Parley: `make run` serves the demo assistant, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= build/demo
PORT ?= 5005

.PHONY: audit image run test lint compile install install-test bench bench-nlu bench-server bench-failover bench-stores bench-actions bench-dialogue bench-start bench-rollout bench-studio bench-tracker-memory compat clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# An editable install leaves parley's own modules uncompiled (a wheel install compiles them), and
# PYTHONDONTWRITEBYTECODE may keep Python from caching them: compiled, a start is 0.4 s shorter.
compile: install
	$(BIN)/python -m compileall -q parley

run: install compile
	@test -d $(DEMO) || $(BIN)/parley init $(DEMO)
	cd $(DEMO) && ../../$(BIN)/parley train
	cd $(DEMO) && ../../$(BIN)/parley run --port $(PORT)

lint: install-test
	$(BIN)/ruff check parley tests bench tools
	$(BIN)/ruff format --check parley tests bench tools
	$(BIN)/mypy parley

# The server and action-server images (deploy/Dockerfile); CONTAINER=podman works as well.
CONTAINER ?= docker
IMAGE ?= parley
image:
	$(CONTAINER) build -f deploy/Dockerfile --target server -t $(IMAGE):latest .
	$(CONTAINER) build -f deploy/Dockerfile --target actions -t $(IMAGE)-actions:latest .

# Known vulnerabilities in the installed dependencies (skipped, saying so, when pip-audit's
# advisory database is out of reach).
audit: install-test
	$(BIN)/python tools/audit_dependencies.py

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: bench-nlu bench-server bench-failover bench-stores bench-actions bench-dialogue bench-start bench-rollout bench-studio bench-tracker-memory

bench-nlu: install-test
	$(BIN)/python bench/nlu_bench.py
	$(BIN)/python bench/parse_length_bench.py
	$(BIN)/python bench/nlu_oos_bench.py

bench-server: install-test compile
	$(BIN)/python bench/server_bench.py

# One of two workers killed under load on PostgreSQL + Redis: nothing lost, nobody stalled.
bench-failover: install-test compile
	$(BIN)/python bench/failover_bench.py

bench-stores: install-test
	$(BIN)/python bench/stores_bench.py

bench-actions: install-test
	$(BIN)/python bench/actions_bench.py

bench-dialogue: install-test
	$(BIN)/python bench/dialogue_bench.py

bench-studio: install-test
	$(BIN)/python bench/studio_bench.py

bench-tracker-memory: install-test compile
	$(BIN)/python bench/tracker_memory_bench.py --out bench/results/tracker_memory.json

bench-start: install compile
	$(BIN)/python bench/start_bench.py --install-size

bench-rollout: install-test compile
	$(BIN)/python bench/rollout_switch.py

# Rasa fidelity: every shared example trains unchanged and passes its test stories, training
# stories and rules as often as Rasa 3.6.21 (bench/results/compat.json)
compat: install-test
	$(BIN)/python bench/compat.py

clean:
	rm -rf $(VENV) build .mypy_cache .ruff_cache
