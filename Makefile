# The two commands: `make run` and `make test`. Everything else is their helpers.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench system-deps clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/wanxiang serve --dev $(ARGS)

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# Optional engines from the system package manager (speech synthesis for tests, Apertium MT).
system-deps:
	apt-get update -qq && apt-get install -y -qq espeak-ng apertium apertium-eng-spa fonts-wqy-microhei

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
