# Two commands for a new machine (Python 3.11+, Java 17, Maven): `make demo`, `make test`.
# Both set themselves up: a virtualenv in .venv and the Delta Lake jars in .cache/jars.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JARS   := .cache/jars
DURATION ?=
PYTEST_ARGS ?=

.PHONY: demo test setup jars lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[edge,hub,dev]'
	@touch $@

# Spark never resolves packages online: Maven fetches Delta Lake's jars once.
jars: $(JARS)/.fetched

$(JARS)/.fetched: deploy/cloud/spark-jars/pom.xml
	@command -v mvn >/dev/null || { echo "Maven (mvn) is required to fetch the Delta Lake jars"; exit 1; }
	mvn --batch-mode --quiet -f deploy/cloud/spark-jars/pom.xml dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(JARS)
	@touch $@

demo: setup jars
	$(VENV)/bin/altaviz demo $(if $(DURATION),--duration $(DURATION))

test: setup jars lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf var .pytest_cache test-artifacts
