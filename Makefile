# The two commands of the README: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo-output

.PHONY: install demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/baresoil demo --out $(DEMO)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

# pytest exits 5 when it collects nothing; make then fails, as it should.
test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cube.py
	$(BIN)/python benchmarks/bench_soilsuite.py
	$(BIN)/python benchmarks/bench_seasons.py
	$(BIN)/python benchmarks/bench_soil.py
	$(BIN)/python benchmarks/bench_parcels.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
