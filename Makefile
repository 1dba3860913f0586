# ConneSkills Platform: `make run` starts everything, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Locks with hashes (make lock): requirements.lock is what the platform runs on (the Dockerfile),
# requirements-dev.lock the same versions plus the dev tools (make run, make test, CI). No
# pre-release unless a package has nothing else (OpenTelemetry's 0.x instrumentations).
LOCK_FLAGS := --universal --python-version 3.11 --prerelease if-necessary-or-explicit \
	--generate-hashes --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)

.PHONY: install run admin-key test harness harness-steps fuzz bench lint format clean lock

# pip installs only uv, from the lock's own pin and hashes; uv installs the rest (the same hashes
# checked, in a fraction of pip's time and CPU: ~9 s of CPU instead of ~50). Should uv fail where
# pip would not (a proxy, an odd index), pip installs the same lock. --compile-bytecode writes the
# packages' .pyc files as pip does by default: where PYTHONDONTWRITEBYTECODE is set (as on the
# shared machines) every Python process would otherwise compile its imports again.
UV_PIN := $(VENV)/uv-pin.txt
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/{p=1} p{print; if ($$0 !~ /\\$$/) exit}' requirements-dev.lock > $(UV_PIN)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(UV_PIN)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode --require-hashes \
		--no-deps -r requirements-dev.lock || \
		$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e . || \
		$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolves the locks after a change to pyproject.toml, keeping every pin it can;
# `make lock UPGRADE=1` moves everything to the newest releases the floors allow.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev -c requirements.lock $(LOCK_FLAGS) \
		-o requirements-dev.lock

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m temporal.launcher

# Mints a new admin API key into the platform database, prints it once, saves it to .data/admin_api_key.
admin-key: $(STAMP)
	$(BIN)/python -m store.admin_key

# Several test processes, each with its own dev server, local cloud and data dir: the tests mostly
# wait on jobs, timers and emulated operations, so more processes than cores pay (docs/testing.md).
TEST_PROCESSES ?= 6

# Bytecode is written and reused even where the environment says not to (PYTHONDONTWRITEBYTECODE,
# set on the CI machines): the suite starts a hundred Python processes (test processes, workers,
# local clouds, CLIs, APIs), and each compiled every module of ours from source.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q -j 0 $$(git ls-files '*.py')
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m tests.helpers.rewrite_cache
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n $(TEST_PROCESSES) --durations=15 \
		$(PYTEST_ARGS)

# The fault harness (tests/harness, docs/testing.md): make test runs each step of each job type under
# one fault chosen by rotation from a printed seed (HARNESS_SEED=… replays it); make harness runs the
# whole matrix (every fault at every step) and the teeth check; make harness-steps rewrites the
# catalogue of steps from real runs.
harness: $(STAMP)
	HARNESS_FULL=1 $(BIN)/python -m pytest -q -n $(TEST_PROCESSES) --durations=15 tests/harness $(PYTEST_ARGS)

harness-steps: $(STAMP)
	$(BIN)/python -m tests.harness.record_steps $(JOB_TYPES)

# The OpenAPI fuzz test as a soak: FUZZ_MAX_EXAMPLES cases per operation from a random seed it
# prints (FUZZ_SEED=… replays one); make test runs a fixed, derandomised budget.
FUZZ_MAX_EXAMPLES ?= 200
fuzz: $(STAMP)
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) $(BIN)/python -m pytest -q -s tests/test_openapi_fuzz.py

bench: $(STAMP)
	$(BIN)/python bench/job_start.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/onboarding.py
	$(BIN)/python bench/scale_out.py
	$(BIN)/python bench/hosting.py
	$(BIN)/python bench/assistant.py
	$(BIN)/python -m bench.job_wait

# The documentation site (mkdocs-material) on http://127.0.0.1:8001; the API has 8000.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/mkdocs serve -a 127.0.0.1:8001

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf .data .pytest_cache
