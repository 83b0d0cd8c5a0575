# Doorstep: `make run` starts everything on embedded defaults; `make test` runs the tests.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTEST_ARGS ?=
# `make fuzz`: examples per operation and input mode, seconds per service, databases
FUZZ_EXAMPLES ?= 100
FUZZ_SECONDS ?= 300
FUZZ_BACKENDS ?= $(if $(filter postgres%,$(DATABASE_URL)),sqlite$(,)postgresql,sqlite)
, := ,

.PHONY: help install run test test-unit test-faults test-postgres fuzz lint typecheck bench docs rebuild republish migrate clean

help:
	@echo "make run         start the embedded broker and all four services (Ctrl-C stops)"
	@echo "make test        run every test (SQLite; PostgreSQL too when DATABASE_URL is set)"
	@echo "make test-unit   unit tests only (no broker, no database)"
	@echo "make fuzz        fuzz every service's OpenAPI (schemathesis); 0 server errors expected"
	@echo "make lint        ruff check and format check"
	@echo "make typecheck   mypy"
	@echo "make bench       benchmarks; results in bench/results.json"
	@echo "make docs        regenerate docs/events.md from the event contract"
	@echo "make rebuild SERVICE=registration   rebuild a stopped service's read models"
	@echo "make republish SERVICE=registration [FROM=N]   publish a service's event log to Kafka again"
	@echo "make test-faults  the fault suite alone (broker and worker kills, restarts, two workers)"
	@echo "make migrate SERVICE=registration   apply a service's migrations"

$(UV):
	python3 -m pip install --quiet --target .tools/lib uv==$(UV_VERSION) 2>/dev/null || python3 -m pip install --quiet uv==$(UV_VERSION)
	@mkdir -p .tools/bin
	@if [ -x .tools/lib/bin/uv ]; then ln -sf ../lib/bin/uv .tools/bin/uv; else ln -sf "$$(command -v uv)" .tools/bin/uv; fi

install: $(UV)
	$(UV) sync --frozen

run: install
	$(UV) run --frozen doorstep run

test: install
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install
	$(UV) run --frozen pytest tests/unit $(PYTEST_ARGS)

# the same test `make test` runs (a few examples per operation, ~1 minute), with many more examples
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BACKENDS=$(FUZZ_BACKENDS) \
		$(UV) run --frozen pytest tests/fuzz -p no:logging -s -q $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check shared services tests bench
	$(UV) run --frozen ruff format --check shared services tests bench

typecheck: install
	$(UV) run --frozen mypy shared/src shared/contracts/src services/registration/src services/jobs/src services/grid_reports/src services/volunteering/src

docs: install
	$(UV) run --frozen python -m doorstep_contracts.docs --write docs/events.md

bench: install
	$(UV) run --frozen python -m bench.run

rebuild: install
	$(UV) run --frozen doorstep rebuild $(SERVICE)

republish: install
	$(UV) run --frozen doorstep republish $(SERVICE) --from-position $(or $(FROM),1)

test-faults: install
	$(UV) run --frozen pytest tests/faults -s $(PYTEST_ARGS)

migrate: install
	$(UV) run --frozen doorstep migrate $(SERVICE)

clean:
	rm -rf var .tools .pytest_cache .mypy_cache .ruff_cache
