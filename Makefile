# The two commands of the README. Both create .venv when it is missing (or when
# pyproject.toml changed) and install convviz with everything the notebooks need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.convviz-installed
PORT   ?= 8888
LAB_ARGS ?=

.PHONY: lab test install clean-notebooks benchmarks

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean-notebooks: $(STAMP)
	$(BIN)/python -m convviz.notebooks clean notebooks/*.ipynb

benchmarks: $(STAMP)
	$(BIN)/python -m benchmarks
