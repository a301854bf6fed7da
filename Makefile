# Two commands on a fresh machine: `make run` serves the default model, `make test` passes all tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed
# What ruff and mypy (strict, pyproject.toml) check: the service, training, tests, benchmarks.
CODE   := app training tests bench

.PHONY: install run test check docs lint typecheck train evaluate clean browser grpc-code

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[train,dev,spark]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m app --host $(HOST) --port $(PORT)

# Every test, with the coverage of app/ and training/ (the server processes and Spark's workers
# the tests start included; [tool.coverage] in pyproject.toml): under 90% fails.
# `.venv/bin/coverage html` afterwards writes the line-by-line report to htmlcov/.
test: $(STAMP) browser
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy $(CODE)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

# The fast tier, for every edit (under a minute): lint, types, and the tests that need no
# training or evaluation on real data, Spark, browser, container, promtool or server process
# (`make test` runs them all, and measures coverage).
FAST_IGNORE := --ignore=tests/ui --ignore=tests/clients --ignore=tests/deploy \
  --ignore=tests/training/test_train.py --ignore=tests/training/test_evaluate.py \
  --ignore=tests/training/test_rescreen.py --ignore=tests/training/test_rescreen_worker.py \
  --ignore=tests/test_process.py --ignore=tests/test_worker_group.py --ignore=tests/test_soak.py \
  --ignore=tests/grpc_api --ignore=tests/bench --ignore=tests/test_docs_examples.py \
  --ignore=tests/observability/test_multiprocess.py
check: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy $(CODE)
	$(BIN)/pytest -q -m 'not slow' $(FAST_IGNORE)

# The settings reference in docs/operations.md, from the Settings class (a test checks it).
docs: $(STAMP)
	$(BIN)/python -m app.config docs/operations.md

# The page's browser tests (tests/ui/) drive Debian's chromium through chromium-driver:
# installed once (as root, apt-get); where that is impossible they skip and say why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver) \
	  || echo "chromium could not be installed: the browser tests (tests/ui/) will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)

typecheck: $(STAMP)
	$(BIN)/mypy $(CODE)

train: $(STAMP)
	$(BIN)/python -m training train

evaluate: $(STAMP)
	$(BIN)/python -m training evaluate

# The gRPC code from the protocol's .proto, checked in; run after editing the .proto.
grpc-code: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \
	  app/grpc_api/proto/open_inference.proto

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov

# The alert rules' and dashboard's tests (tests/deploy/) run promtool, from Debian's prometheus
# package: installed once (as root, apt-get); where that is impossible they skip and say why.
# (On a host run by systemd the package also enables a Prometheus server, prometheus.service.)
.PHONY: promtool
test: promtool
promtool:
	@command -v promtool >/dev/null \
	  || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus) \
	  || echo "promtool could not be installed: the promtool tests (tests/deploy/) will be skipped"

# Benchmarks (not tests): each prints a table and writes it to bench/results/.
.PHONY: bench bench-inprocess bench-stages bench-versus bench-http bench-grpc bench-spark bench-attacks bench-fuzz
bench-inprocess: $(STAMP)
	$(BIN)/python -m bench.inprocess

# Where a batch's time goes, stage by stage (about 20 s).
bench-stages: $(STAMP)
	$(BIN)/python -m bench.stages

# This tree against the commit the columns issue was filed against, taking turns (about 3 min).
bench-versus: $(STAMP)
	$(BIN)/python -m bench.versus

# bench-http also measures MLServer side by side, from its own venv .bench-venvs/mlserver
# (created on first use, about 30 s; `python -m bench.http --no-mlserver` skips it).
bench-http: $(STAMP)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python -m bench.http

# gRPC beside REST (/v2) at 1 and 32 clients on 2 workers, with MLServer's gRPC in the same run
# (about 5 minutes; `python -m bench.grpc --no-mlserver` skips MLServer).
bench-grpc: $(STAMP)
	$(BIN)/python -m bench.grpc

bench-spark: $(STAMP)
	$(BIN)/python -m bench.spark

# Hostile traffic against 1 and 2 workers (about 17 minutes): /healthz latency, worker RSS, restarts.
# The long fuzz run (about 40 minutes): 2,000 examples per fuzz test, schemathesis' calls counted.
bench-fuzz: $(STAMP)
	AKAR_FUZZ_EXAMPLES=2000 $(BIN)/pytest -q -p bench.fuzzcount --hypothesis-show-statistics \
	  tests/test_schema_fuzz.py tests/routes/test_v2.py tests/protocols/test_binary.py \
	  tests/grpc_api/test_grpc_fuzz.py

bench-attacks: $(STAMP)
	$(BIN)/python -m bench.attacks

bench: bench-inprocess bench-http
