# trm-eval: `make demo` and `make test` are all a fresh machine needs (both install first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build by default (a local wheel on our machines). GPU users: make install TORCH="torch --index-url ..."
TORCH ?= torch==2.13.0
# Optional checkout of the reference code (SamsungSAILMontreal/TinyRecursiveModels) for `make bench`.
REF ?=

# make reproduce-arc1: ConceptARC (Kaggle format, *_solutions.json beside it) from CONCEPT=path,
# else fetched from the reference repository (needs internet). DRY_RUN=1 prints the plan only.
CONCEPT ?=
CONCEPT_URL := https://raw.githubusercontent.com/SamsungSAILMontreal/TinyRecursiveModels/main/kaggle/combined
RUN ?= runs/arc1
NPROC ?= $(shell $(BIN)/python -c "import torch; print(max(torch.cuda.device_count(), 1))" 2>/dev/null || echo 1)

.PHONY: install test test-unit check demo demo-sudoku bench lint clean reproduce-arc1

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
	$(BIN)/trm-eval demo

# A TRM-MLP on generated 6x6 Sudoku, about 10 minutes on 2 CPU cores; exact accuracy against ACT steps.
demo-sudoku: install
	$(BIN)/trm-eval demo sudoku

bench: install
	$(BIN)/python bench/bench_voting.py $(if $(REF),--reference $(REF))
	$(BIN)/python bench/bench_model.py $(if $(REF),--reference $(REF))
	$(BIN)/python bench/bench_layout.py $(if $(REF),--reference $(REF))
	$(BIN)/python bench/bench_loader.py
	if [ -d runs/demo/train/checkpoints ]; then $(BIN)/python bench/bench_engine.py --checkpoint $$(ls -d runs/demo/train/checkpoints/step_* | sort -t_ -k2 -n | tail -1) $(if $(REF),--reference $(REF)); fi

runs/concept/arc-agi_concept_challenges.json:
	mkdir -p runs/concept
	curl -fsSL $(CONCEPT_URL)/arc-agi_concept_challenges.json -o $@.tmp && mv $@.tmp $@
	curl -fsSL $(CONCEPT_URL)/arc-agi_concept_solutions.json -o runs/concept/arc-agi_concept_solutions.json.tmp \
		&& mv runs/concept/arc-agi_concept_solutions.json.tmp runs/concept/arc-agi_concept_solutions.json

CONCEPT_FILE = $(if $(CONCEPT),$(CONCEPT),runs/concept/arc-agi_concept_challenges.json)
ARC1_SUBSETS = --set 'data.subsets=["training=arc-agi-1/training","evaluation=arc-agi-1/evaluation","concept=$(CONCEPT_FILE)"]'

reproduce-arc1: install $(if $(CONCEPT),,runs/concept/arc-agi_concept_challenges.json)
ifeq ($(DRY_RUN),1)
	$(BIN)/trm-eval train arc1 $(ARC1_SUBSETS) --dry-run
else
	if [ -f $(RUN)/config.toml ]; then \
		$(BIN)/torchrun --nproc-per-node $(NPROC) -m harness.cli train --resume $(RUN); \
	else \
		$(BIN)/torchrun --nproc-per-node $(NPROC) -m harness.cli train arc1 $(ARC1_SUBSETS) -o $(RUN); \
	fi
	$(BIN)/torchrun --nproc-per-node $(NPROC) -m harness.cli evaluate $$(ls -d $(RUN)/checkpoints/step_* | sort -t_ -k2 -n | tail -1) \
		--tasks arc-agi-1/evaluation -o $(RUN)/eval
	$(BIN)/trm-eval report $(RUN)/eval --baseline published -o $(RUN)/report
endif

lint: install
	$(BIN)/ruff check .

# What CI runs before the tests: lint, formatting and types.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The fast half of the suite (no CLI runs over files, no training): seconds, for the edit loop.
test-unit: install
	$(BIN)/python -m pytest -n 2 -m "not e2e"

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
