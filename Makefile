# make run   - create .venv, install, start the app on http://localhost:8501
# make test  - install the test tools too, then run every test (unit, pages, browser)
# make bench - the benchmarks in bench/ (they print ratios, not pass/fail)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test bench train clean

run: $(VENV)/.installed
	$(PY) -m streamlit run app.py

test: $(VENV)/.installed-dev
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) bench/latency.py
	$(PY) bench/drawn_accuracy.py

train: $(VENV)/.installed
	$(PY) train.py

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache
