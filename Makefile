# paperzoo: `make run` reproduces every paper (quick preset); `make test` runs the test suite.
# Both bootstrap .venv on a fresh machine; a second call reinstalls only when pyproject.toml changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: run test bench lint system-deps clean

# requirements-nodeps.txt: packages whose declared dependencies would break this stack (an old torch,
# obsolete back-ports); their real dependencies are pinned in pyproject.toml.
$(STAMP): pyproject.toml requirements-nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

run: $(STAMP) system-deps
	$(BIN)/paperzoo reproduce --all --preset quick
	@echo "report: $(abspath reports/index.html)"

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --timeout 600 tests

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: $(STAMP)
	$(BIN)/python -m ruff check src tests benchmarks

clean:
	rm -rf $(VENV) reports .pytest_cache
