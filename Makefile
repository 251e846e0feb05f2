# The two commands of the README: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo-output

.PHONY: install demo test lint typecheck unit bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/baresoil demo --out $(DEMO)

lint: $(STAMP)
	$(BIN)/ruff check src tools tests benchmarks
	$(BIN)/ruff format --check src tools tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Plain `pytest` leaves out the tests marked slow (pyproject.toml's addopts); the gate runs every test,
# the property tests on the same examples each time (tests/conftest.py).
unit: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow" --hypothesis-profile=gate

# pytest exits 5 when it collects nothing; make then fails, as it should.
test: lint typecheck unit

# Each benchmark's JSON lines are appended to benchmarks/results/<bench>.jsonl (date, commit added);
# `make docs` turns the latest into docs/quality/<family>.md.
BENCHES := bench_cube bench_soilsuite bench_seasons bench_soil bench_parcels bench_parcel_analytics

bench: $(STAMP)
	for b in $(BENCHES); do $(BIN)/python benchmarks/record.py benchmarks/$$b.py || exit 1; done

# The documentation in docs/: generated tables and quality reports (a test fails when they are stale).
# The generator is repository tooling (tools/docs), run from the repository root.
docs: $(STAMP)
	$(BIN)/python -m tools.docs

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache .hypothesis
