# `make demo` and `make test` each set up .venv from scratch on a fresh machine.
# torch is pinned to the CPU build that lies on this machine's disk; pyproject keeps a normal range for users.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0
SHARED ?= ../shared/data

.PHONY: install demo test benchmarks clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test,ray]"
	touch $@

install: $(VENV)/.installed

demo: install
	rm -rf runs/demo
	$(VENV)/bin/nasrank search --space nb201 --searcher evolution --ranker tabular --benchmark embedded \
	    --budget-queries 300 --seed 0 --output runs/demo --plot
	@echo "demo run written to runs/demo (history.jsonl, summary.json, trajectory.png)"

test: install
	$(PY) -m pytest -q -x --durations=15

clean:
	rm -rf $(VENV) runs
