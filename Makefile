# The two commands of the README, and a few more for developers.
.PHONY: demo test setup setup-dev lint protos

demo: setup
	.venv/bin/cliplens demo

test: setup-dev
	.venv/bin/python -m pytest -q

setup:
	bash scripts/setup.sh

setup-dev:
	bash scripts/setup.sh --dev

# ruff (complexity, unused noqa, docstrings, ...), mypy on services/core and the explanation
# math (scripts/typecheck.py), buf on the protos. .ci/run runs it and fails on it.
lint:
	.venv/bin/ruff check .
	.venv/bin/python scripts/typecheck.py
	cd protos && ../.cache/buf/node_modules/.bin/buf lint

protos:
	.venv/bin/python scripts/gen_protos.py
