# trm-eval: `make demo` and `make test` are all a fresh machine needs (both install first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build by default (a local wheel on our machines). GPU users: make install TORCH="torch --index-url ..."
TORCH ?= torch==2.13.0
# Optional checkout of the reference code (SamsungSAILMontreal/TinyRecursiveModels) for `make bench`.
REF ?=

.PHONY: install test demo bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

test: install
	$(BIN)/python -m pytest -n 2

demo: install
	$(BIN)/trm-eval demo --tasks arc-agi-1/evaluation --out runs/demo

bench: install
	$(BIN)/python bench/bench_voting.py $(if $(REF),--reference $(REF))
	$(BIN)/python bench/bench_model.py $(if $(REF),--reference $(REF))
	$(BIN)/python bench/bench_layout.py $(if $(REF),--reference $(REF))

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
