# STEDI lakehouse: `make run` runs the pipeline locally, `make test` runs the tests.
# Both create .venv and install what the project needs; nothing else is installed by hand.

# The Glue version to stand in for locally; each has its own environment with that version's
# Spark and Python (scripts/local_glue/glue_versions.py holds the same table, and a
# test keeps the two in step). 6.0, the default, lives in .venv; docs/glue-versions.md, "Glue versions".
GLUE_VERSION ?= 6.0
GLUE_VERSIONS := 5.0 5.1 6.0 6.1
# Each version's Python first, then the nearest others its pyspark runs on (fallback_pythons),
# for machines without it.
PYTHON_FOR_5.0 := 3.11 3.10
PYTHON_FOR_5.1 := 3.11 3.10
PYTHON_FOR_6.0 := 3.13 3.12 3.14 3.11 3.10
PYTHON_FOR_6.1 := 3.14 3.13 3.12 3.11 3.10
# AWS's awsglue interfaces (AWSGlueDataplanePython) that the signature test reads; AWS has
# published none for 6.1, whose environment reads 6.0's.
AWSGLUE_FOR_5.0 := 5.0.0
AWSGLUE_FOR_5.1 := 5.1.0
AWSGLUE_FOR_6.0 := 6.0.0
AWSGLUE_FOR_6.1 := 6.0.0
ifeq ($(filter $(GLUE_VERSION),$(GLUE_VERSIONS)),)
$(error GLUE_VERSION=$(GLUE_VERSION) is not one of $(GLUE_VERSIONS))
endif
DEFAULT_GLUE_VERSION := 6.0
OTHER_GLUE_VERSIONS := $(filter-out $(DEFAULT_GLUE_VERSION),$(GLUE_VERSIONS))
space := $(subst ,, )
VENV := $(if $(filter $(DEFAULT_GLUE_VERSION),$(GLUE_VERSION)),.venv,.venv-glue-$(GLUE_VERSION))
REQUIREMENTS := $(if $(filter $(DEFAULT_GLUE_VERSION),$(GLUE_VERSION)),requirements.txt,$\
	requirements-glue-$(GLUE_VERSION).txt)
GLUE_PYTHON := $(firstword $(PYTHON_FOR_$(GLUE_VERSION)))
# The first of the version's Pythons found on PATH or in pyenv's versions folder.
find_python = $(firstword $(foreach version,$(1),$(shell for p in python$(version) \
	$$HOME/.pyenv/versions/$(version)*/bin/python$(version); do \
	"$$p" -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)))
PYTHON ?= $(call find_python,$(PYTHON_FOR_$(GLUE_VERSION)))
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Test files run on TEST_WORKERS processes, each with its own Spark session; a file's tests
# stay together, so that its module fixtures (one pipeline run, one bench run) are made once.
# Much of a test's time is single-threaded (Catalyst, the JIT, Python), so two processes
# repay even two cores: bench/NOTES.md. Each process has a 2 GB driver: mind the memory.
TEST_WORKERS ?= 2
PARALLEL_TESTS := -n $(TEST_WORKERS) --dist loadfile
# The class archive that shortens every later Spark start (scripts/local_glue/class_archive.py);
# recorded as tried even where this JVM cannot write one.
ARCHIVED := $(VENV)/.class-archive-tried
LAKE ?= lake
SCALE ?= 1
SEED ?= 42
CONSENT_MODE ?= registered
ML_MATCH ?= device
DATABASE ?= stedi
SCALES ?= 1,10,100
SHAPES ?= default,fleet,small-files
REPEAT ?= 3
BENCH_GLUE_VERSIONS ?= 6.0,5.0
comma := ,

.PHONY: help which-python java setup run data data-udacity test test-glue-versions test-marked lint glue-scripts query check forget ddl deploy destroy \
	moto-server workflow-picture bench clean

help:
	@echo "make run            generate the default data into $(LAKE)/ if missing, run the pipeline"
	@echo "make test           run the test suite"
	@echo "make test-glue-versions  the Glue-version tests on Glue $(OTHER_GLUE_VERSIONS)"
	@echo "make lint           ruff (configured in pyproject.toml)"
	@echo "make glue-scripts   inline glue_jobs/shared/ into the five Glue scripts"
	@echo "make data           (re)generate the default data: SCALE=$(SCALE) SEED=$(SEED)"
	@echo "make data-udacity   download the Udacity starter landing data into $(LAKE)/"
	@echo "make query Q='select count(*) from customer_trusted'   Athena SQL on the local lake"
	@echo "make check          the course's verification queries on the local lake"
	@echo "make forget EMAIL=e forget a customer everywhere in the local lake (FORGET_ARGS=--dry-run)"
	@echo "make ddl BUCKET=b   render athena_ddl/ for bucket b into build/ddl/"
	@echo "make deploy BUCKET=b  deploy to AWS and run the jobs (DEPLOY_ARGS='--create-role ...')"
	@echo "make destroy BUCKET=b remove what deploy made (DESTROY_ARGS='--yes [--delete-data]')"
	@echo "make moto-server    a local moto server on port 5000 to try deploy without AWS"
	@echo "make workflow-picture  redraw img/workflow.png from scripts/lake/pipeline.py"
	@echo "make bench          pipeline vs usual peer vs DuckDB: time, memory per scale (bench/results/)"
	@echo "                    (SCALES=$(SCALES) SHAPES=$(SHAPES) REPEAT=$(REPEAT)"
	@echo "                    BENCH_GLUE_VERSIONS=$(BENCH_GLUE_VERSIONS);"
	@echo "                    data is kept in bench/data/)"
	@echo "options: LAKE=dir CONSENT_MODE=registered|since_consent ML_MATCH=device|timestamp"
	@echo "         GLUE_VERSION=$(subst $(space),|,$(GLUE_VERSIONS)) (default $(DEFAULT_GLUE_VERSION)): \
	the local environment of that Glue version"

$(STAMP): $(REQUIREMENTS) requirements-common.txt
	@test -x $(PY) || test -n "$(PYTHON)" || { echo "error: the Glue $(GLUE_VERSION) environment \
	needs Python $(subst $(space), or ,$(PYTHON_FOR_$(GLUE_VERSION))), none of which this machine \
	has: install one (e.g. pyenv install $(GLUE_PYTHON)) and run make again" >&2; exit 2; }
	@if test -x $(PY) && ! $(PY) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \
		sys.exit(v not in "$(PYTHON_FOR_$(GLUE_VERSION))".split())'; then \
		echo "$(VENV) runs a Python that Glue $(GLUE_VERSION)'s pyspark does not: making it anew"; \
		rm -rf $(VENV); \
	fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Glue $(GLUE_VERSION) environment $(VENV): $$($(PY) --version), \
	$$(sed -n 's/^pyspark==//p' $(REQUIREMENTS) | sed 's/^/pyspark /')"
	@$(PY) -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(GLUE_PYTHON)")' || \
		echo "note: Glue $(GLUE_VERSION) runs Python $(GLUE_PYTHON), which this machine lacks; \
	$(VENV) runs $$($(PY) --version) on the same Spark: the jobs' results are the same, but \
	a Python feature newer than it would only fail on Glue"
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(REQUIREMENTS)
	@# Read as source by the signature test, never imported: the Python it declares (6.0.0:
	@# < 3.14) does not matter, so 6.1's environment on Python 3.14 can have it too.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
		--ignore-requires-python --target $(VENV)/glue-reference \
		AWSGlueDataplanePython==$(AWSGLUE_FOR_$(GLUE_VERSION))
	@touch $@

# The Python that would make the Glue $(GLUE_VERSION) environment (tests/test_java_python.py).
which-python:
	@test -n "$(PYTHON)" || { echo "none of Python $(PYTHON_FOR_$(GLUE_VERSION))"; exit 2; }
	@echo "$(PYTHON)"

# Java: the machine's where it fits the version's Spark, else an OpenJDK unpacked into .jre/
# (scripts/local_glue/java_runtime.py; docs/glue-versions.md, "Java and Python"). Checked before every command that starts
# Spark, so that a Java removed or changed since setup is noticed; silent when nothing changes.
java: $(STAMP)
	@$(PY) -m scripts.local_glue.java_runtime --install --quiet

$(ARCHIVED): $(STAMP) | java
	@$(PY) -m scripts.local_glue.class_archive || echo "no class archive; Spark starts without it"
	@touch $@

setup: $(STAMP) java $(ARCHIVED)

$(LAKE)/customer/landing:
	$(MAKE) data

data: $(STAMP)
	$(PY) -m scripts.generate_data --lake $(LAKE) --scale $(SCALE) --seed $(SEED) --overwrite

run: $(STAMP) java $(ARCHIVED) $(LAKE)/customer/landing
	$(PY) -m scripts.run_local --lake $(LAKE) --consent-mode $(CONSENT_MODE) --ml-match $(ML_MATCH)

data-udacity: $(STAMP)
	$(PY) -m scripts.download_udacity --lake $(LAKE)

test: $(STAMP) java $(ARCHIVED)
	$(PY) -m pytest $(PARALLEL_TESTS)

# The tests marked every_glue_version (jobs, landing reader, dirty data, Udacity acceptance,
# runtime signatures) in each other Glue version's environment, one after the other. These few
# Spark starts would not repay making a class archive.
test-glue-versions:
	@for version in $(OTHER_GLUE_VERSIONS); do \
		$(MAKE) --no-print-directory test-marked GLUE_VERSION=$$version || exit 1; \
	done

test-marked: $(STAMP) java
	$(PY) -m pytest -m every_glue_version $(PARALLEL_TESTS)

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

# EMAIL is read from the environment ("$$EMAIL"), like Q, so that no character of it reaches
# the shell unquoted.
forget: $(STAMP)
	@test -n "$$EMAIL" || { echo "error: give the customer's email as EMAIL=..." >&2; exit 2; }
	$(PY) -m scripts.forget --lake $(LAKE) --database $(DATABASE) --email "$$EMAIL" $(FORGET_ARGS)

# ENDPOINT_URL=http://127.0.0.1:5000 sends every AWS call to a moto server (make moto-server).
ENDPOINT_ARG = $(if $(ENDPOINT_URL),--endpoint-url $(ENDPOINT_URL))

deploy: $(STAMP)
	@test -n "$(BUCKET)" || { echo "error: give the bucket as BUCKET=name" >&2; exit 2; }
	$(PY) -m scripts.deploy --bucket $(BUCKET) --database $(DATABASE) --landing $(LAKE) \
		--glue-version $(GLUE_VERSION) \
		--consent-mode $(CONSENT_MODE) --ml-match $(ML_MATCH) $(ENDPOINT_ARG) $(DEPLOY_ARGS)

destroy: $(STAMP)
	@test -n "$(BUCKET)" || { echo "error: give the bucket as BUCKET=name" >&2; exit 2; }
	$(PY) -m scripts.destroy --bucket $(BUCKET) --database $(DATABASE) $(ENDPOINT_ARG) \
		$(DESTROY_ARGS)

moto-server: $(STAMP)
	$(PY) -m scripts.dev.moto_server --port 5000

ddl: $(STAMP)
	@test -n "$(BUCKET)" || { echo "error: give the bucket as BUCKET=name" >&2; exit 2; }
	$(PY) -m scripts.ddl render --bucket $(BUCKET) --database $(DATABASE) --out build/ddl

workflow-picture: $(STAMP)
	$(PY) -m scripts.dev.draw_workflow --out img/workflow.png

# One Spark engine per Glue version in BENCH_GLUE_VERSIONS, each in its own environment.
bench: $(STAMP) java $(ARCHIVED)
	@for version in $(subst $(comma), ,$(BENCH_GLUE_VERSIONS)); do \
		$(MAKE) --no-print-directory setup GLUE_VERSION=$$version || exit 1; \
	done
	$(PY) -m scripts.dev.bench --scales $(SCALES) --shapes $(SHAPES) --repeat $(REPEAT) \
		--glue-versions $(BENCH_GLUE_VERSIONS)

clean:
	rm -rf $(LAKE) .pytest_cache
