# The two commands a newcomer needs: `make demo` and `make test`.
# Both do their own set-up first (tools/setup.sh), idempotently: a second run installs nothing.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup test demo clean

setup:
	@bash tools/setup.sh

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	@$(PY) -m tools.demo $(DEMO_ARGS)

clean:
	rm -rf .venv node_modules .make
