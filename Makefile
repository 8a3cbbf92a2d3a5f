# The two commands: `make run` and `make test`. Everything else is their helpers.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench system-deps engines clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP) engines
	$(BIN)/wanxiang serve --dev $(ARGS)

# Translation's offline engine (Apertium, en<->es) comes from the system's package manager: installed
# here when we may (root and apt), otherwise one line says how; `wanxiang doctor` shows the result.
engines:
	@if command -v apertium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Apertium (en<->es) for Translation jobs"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apertium apertium-eng-spa >/dev/null) \
	    || echo "warning: could not install Apertium; Translation jobs will fail with UnsupportedLanguagePair"; \
	else echo "note: Translation needs Apertium: run 'sudo make system-deps' (or see README: Engines)"; fi

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# Optional engines from the system package manager (speech synthesis for tests, Apertium MT),
# and Chromium for the console's browser tests.
system-deps:
	apt-get update -qq && apt-get install -y -qq espeak-ng apertium apertium-eng-spa fonts-wqy-microhei
	apt-get install -y -qq --no-install-recommends chromium

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
