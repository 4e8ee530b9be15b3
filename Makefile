# make run   - create .venv, install, start the app on http://localhost:8501
# make test  - install the test tools too, then run every test (unit, pages, browser)
# make bench - the benchmarks in bench/ (they print ratios, not pass/fail)
# make load  - a classroom of browser sessions against one server (SESSIONS=30 SECONDS=60)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test bench load train clean

run: $(VENV)/.installed
	$(PY) -m streamlit run app.py

test: $(VENV)/.installed-dev
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) -m bench.latency
	$(PY) -m bench.drawn_accuracy

load: $(VENV)/.installed-dev
	$(PY) -m bench.load --sessions $(or $(SESSIONS),30) --seconds $(or $(SECONDS),60)

train: $(VENV)/.installed
	$(PY) train.py

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache
