# Two commands for a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-quick test-slow lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/assessbot run

test: $(STAMP)
	$(BIN)/ruff check bot cards tests benchmarks
	$(BIN)/pytest -q -m "not slow"

# In-process tests only, for a fast loop while developing (make test also starts real processes).
test-quick: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not system"

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check bot cards tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Never var/ as a whole: it holds the default production database (var/assessbot.db). The sandbox's own
# files there (`assessbot sandbox`: its database, Open API state, session and logs) all start with "sandbox".
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f var/sandbox*
