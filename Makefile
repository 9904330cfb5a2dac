# The two commands of the quick start are `make run` and `make test`; everything else is detail.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
STACK := deploy/local/stack.sh

.PHONY: run up down test asyncapi-tools browser-tools test-env test-stack test-stack-stop test-cluster lint bench bench-tools faults faults-cluster stack stack-stop status venv clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[test]'
	@# The OpenAPI client generator the contract test uses; it pins typer below ours but runs with it.
	$(VENV)/bin/pip install -q --no-deps -c requirements.lock openapi-python-client==0.29.1
	@touch $@

venv: $(VENV)/.installed

## run: set up everything and run Kafka, PostgreSQL, the four services and the console (:8000) in the foreground
run: venv
	$(STACK) run

## up / down: the same in the background, for scripts and demos
up: venv
	$(STACK) up

down:
	$(STACK) down

## lint: ruff (lint and format) and mypy: strict on the pure domain and the contracts, the rest as typed
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict contracts $(wildcard services/*/domain)
	$(VENV)/bin/mypy shared tools services contracts bench faults

## test: set up, lint, then the whole suite against a stack of ITS OWN: data in .data/test, Kafka 127.0.0.1:39092
## (controller 39093), PostgreSQL 127.0.0.1:35432 (TEST_DATA_DIR, TEST_KAFKA_PORT, TEST_KAFKA_CONTROLLER_PORT,
## TEST_PG_PORT move it), stopped afterwards unless it was already running. The stack `make run` runs (.data,
## 9092, 5432) is never touched: not its topics, consumer groups, databases or keys.
TEST_DATA_DIR ?= $(CURDIR)/.data/test
TEST_KAFKA_PORT ?= 39092
TEST_KAFKA_CONTROLLER_PORT ?= 39093
TEST_PG_PORT ?= 35432
TEST_STACK_ENV := TITP_DATA_DIR=$(TEST_DATA_DIR) TITP_KAFKA_PORT=$(TEST_KAFKA_PORT) \
	TITP_KAFKA_CONTROLLER_PORT=$(TEST_KAFKA_CONTROLLER_PORT) TITP_PG_PORT=$(TEST_PG_PORT)

test: venv lint /usr/bin/wrk asyncapi-tools browser-tools
	@export $(TEST_STACK_ENV) TITP_TEST_STACK=1; \
	was_running=$$($(STACK) status | grep -c '^kafka running\|^postgres running' || true); \
	deploy/k8s/kustomize.sh >/dev/null & kustomize=$$!; \
	$(STACK) start || exit 1; \
	wait $$kustomize || { [ "$$was_running" = 2 ] || $(STACK) stop; exit 1; }; \
	eval "$$($(STACK) env)"; \
	$(VENV)/bin/pytest $(PYTEST_ARGS); status=$$?; \
	[ "$$was_running" = 2 ] || $(STACK) stop; \
	exit $$status

## asyncapi-tools: the official AsyncAPI parser (@asyncapi/parser, pinned in tools/asyncapi/package-lock.json) from
## the npm registry into tools/asyncapi/node_modules; tests/unit/test_audit_asyncapi.py checks docs/asyncapi.yaml with it
ASYNCAPI_TOOLS := tools/asyncapi/node_modules/.package-lock.json

asyncapi-tools: $(ASYNCAPI_TOOLS)

$(ASYNCAPI_TOOLS): tools/asyncapi/package.json tools/asyncapi/package-lock.json
	@command -v npm >/dev/null || { echo "node and npm are required (Node 20)"; exit 1; }
	npm ci --prefix tools/asyncapi --no-audit --no-fund --ignore-scripts --loglevel=error >&2
	@touch $@

## browser-tools: what tests/browser drives and checks with: Debian's Chromium (/usr/bin/chromium, driven by the
## Python Playwright of the test extras, which never downloads a browser of its own) with a Japanese font for the
## screenshots, and axe-core (pinned in tools/browser/package-lock.json) from the npm registry into
## tools/browser/node_modules; docs/testing.md
AXE_CORE := tools/browser/node_modules/.package-lock.json
JAPANESE_FONT := /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf

browser-tools: /usr/bin/chromium $(JAPANESE_FONT) $(AXE_CORE)

/usr/bin/chromium $(JAPANESE_FONT):
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-ipafont-gothic >&2 || \
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-ipafont-gothic >&2; }

$(AXE_CORE): tools/browser/package.json tools/browser/package-lock.json
	@command -v npm >/dev/null || { echo "node and npm are required (Node 20)"; exit 1; }
	npm ci --prefix tools/browser --no-audit --no-fund --ignore-scripts --loglevel=error >&2
	@touch $@

## test-env: what `make test` runs the suite with (eval "$$(make -s test-env)" after `make test-stack`)
test-env:
	@export $(TEST_STACK_ENV); $(STACK) env; echo "export $(TEST_STACK_ENV) TITP_TEST_STACK=1"

## test-cluster: the tests marked `cluster` (a private three-broker KRaft cluster, .data/cluster-test, 28092..; 70-90 s
## to start on two cores, so `make test` leaves them out); docs/local-stack.md
test-cluster: venv
	$(VENV)/bin/pytest -m cluster $(PYTEST_ARGS)

test-stack: venv
	@export $(TEST_STACK_ENV); $(STACK) start

test-stack-stop:
	@export $(TEST_STACK_ENV); $(STACK) stop

## bench: every figure beside its baseline against the local stack; stdout is ONE JSON object (BENCH_ARGS="--scale 1")
bench: venv bench-tools
	@$(STACK) start >&2
	@eval "$$($(STACK) env)" && $(VENV)/bin/python -m bench $(BENCH_ARGS)

## bench-tools: what figure 1 drives and compares with (docs/performance.md): wrk from Debian's packages, and the
## peer baseline's own virtualenv (.data/bench-peer-venv) from bench/peer/requirements.txt; quick once done
PEER_VENV := .data/bench-peer-venv

bench-tools: /usr/bin/wrk $(PEER_VENV)/.installed

# wrk: figure 1's load generator; also what tests/unit/test_bench_apply_lua.py runs (so `make test` installs it)
/usr/bin/wrk:
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2 || \
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2; }

$(PEER_VENV)/.installed: bench/peer/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	@[ -x $(PEER_VENV)/bin/python ] || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install -q --upgrade pip >&2
	$(PEER_VENV)/bin/pip install -q -r bench/peer/requirements.txt >&2
	@touch $@

## faults: on a PRIVATE stack (.data/faults, ports 19092/19093/15432; the shared one is untouched), kill the
## broker, each service, a subscriber and restart PostgreSQL under load; stdout is ONE JSON report, non-zero
## exit unless every scenario matches (FAULTS_ARGS="--only broker-sigkill --seconds 60"); see docs/faults.md
faults: venv
	@$(VENV)/bin/python -m faults $(FAULTS_ARGS)

## faults-cluster: the same on a PRIVATE three-broker stack (.data/faults-cluster, Kafka 17092/17192/17292, controllers
## 17093.., PostgreSQL 17432): first broker-sigkill-one-of-three and broker-sigkill-two-of-three, then every scenario
## above; ONE JSON report, non-zero exit unless every scenario is ok (FAULTS_ARGS as for faults)
faults-cluster: venv
	@$(VENV)/bin/python -m faults --brokers 3 --data $(CURDIR)/.data/faults-cluster --kafka-port 17092 \
		--kafka-controller-port 17093 --pg-port 17432 $(FAULTS_ARGS)

stack: venv
	$(STACK) start

stack-stop:
	$(STACK) stop

status:
	@$(STACK) status

clean: down
	rm -rf .data
