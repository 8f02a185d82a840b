# The two commands a newcomer needs: `make demo` and `make test`.
# Both do their own set-up first (tools/setup.sh), idempotently: a second run installs nothing.
SHELL := /bin/bash
PY := .venv/bin/python
# two workers: most of the suite waits on real processes and time (CI has 2 cores)
PYTEST_ARGS ?= -n 2

.PHONY: setup test demo clean

setup:
	@bash tools/setup.sh

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	@$(PY) -m tools.demo $(DEMO_ARGS)

clean:
	rm -rf .venv node_modules .make
