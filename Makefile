# The course's verbs. `make help` lists them; each installs the pinned environment first when needed.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-installed
PORT ?= 5000
BUDGET ?= full
NOTEBOOKS ?=
REPEATS ?= 1
# extra pytest arguments, e.g. PYTEST_ARGS=--randomly-seed=1234 to replay the order of an earlier run
PYTEST_ARGS ?=
# the workshop server (docs/workshop.md): BACKEND=postgres|sqlite on HOST:PORT; SERVER_URI as attendees reach it
BACKEND ?= postgres
HOST ?= 127.0.0.1
ROSTER ?= attendees.csv
SERVER_URI ?=

.PHONY: help install course test test-fast lab ui render student check timings screenshots export bench lock clean server roster progress

help: ## list the verbs
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -m course_tools.install_check
	@$(PYTHON) -m venv $(VENV) || { echo "'$(PYTHON) -m venv' failed. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	$(PY) -m course_tools kernel
	@touch $@

install: $(STAMP) ## create .venv with the pinned versions and register the course kernel

course: $(STAMP) ## run every notebook headlessly on the local store (BUDGET=small|full), then summarise
	$(PY) -m course_tools run --budget $(BUDGET) $(NOTEBOOKS)

test: $(STAMP) ## check for PostgreSQL and Chromium, ruff, then every test in a random order (seed printed): unit, notebooks and nbval, workshop, browser
	@$(PY) -m course_tools prerequisites
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the edit loop (under a minute): ruff and tests/unit
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lab: $(STAMP) ## JupyterLab on the notebooks, with the course kernel
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root)

ui: $(STAMP) ## the MLflow UI on the course store at http://127.0.0.1:5000 (PORT=... to move it)
	$(PY) -m course_tools ui --port $(PORT)

server: $(STAMP) ## the workshop tracking server: basic auth, PostgreSQL (BACKEND=sqlite), HOST=127.0.0.1, PORT
	$(PY) -m course_tools.workshop.server --backend $(BACKEND) --host $(HOST) --port $(PORT)

progress: $(STAMP) ## the room at a glance, as the admin (HOST, PORT, SERVER_URI; WATCH=1 refreshes every 30 s); the page: workshop_data/progress.html
	$(PY) -m course_tools.workshop.progress --host $(HOST) --port $(PORT) $(if $(SERVER_URI),--uri $(SERVER_URI)) $(if $(WATCH),--watch)

roster: $(STAMP) ## a user per row of ROSTER=attendees.csv (HOST, PORT; RESET=name: a new password); passwords to workshop_data/
	$(PY) -m course_tools.workshop.roster $(ROSTER) --host $(HOST) --port $(PORT) $(if $(SERVER_URI),--uri $(SERVER_URI)) $(if $(RESET),--reset "$(RESET)")

render: $(STAMP) ## re-execute the notebooks in place (full budget, fresh store, clean metadata)
	$(PY) -m course_tools render $(NOTEBOOKS)

student: $(STAMP) ## student copies of the notebooks, solutions swapped for empty answer cells, in build/student/
	$(PY) -m course_tools student

check: $(STAMP) ## your progress: each lesson run or not, each exercise done, not yet or not right (MLFLOW_TRACKING_URI: the server's)
	$(PY) -m course_tools check

timings: $(STAMP) ## time every notebook at both budgets from a cold kernel; writes docs/timings.md (REPEATS=N: medians)
	$(PY) -m course_tools timings --repeats $(REPEATS)

screenshots: $(STAMP) ## the pictures of the MLflow UI in docs/images: notebooks 02, 04 and 05, each on a throwaway server, in Chromium
	$(PY) -m course_tools screenshots

export: $(STAMP) ## every run of the store in force (MLFLOW_TRACKING_URI, else local) to CSV files in build/export/
	$(PY) -m course_tools export

bench: $(STAMP) ## the benchmarks, on a quiet machine (hours; overhead-server alone 36 min): JSON in benchmarks/results, docs/benchmarks.md
	$(PY) -m course_tools timings --repeats $(REPEATS)
	$(PY) -m benchmarks all --postgres
	$(PY) -m benchmarks overhead-server
	$(PY) -m benchmarks room
	$(PY) -m benchmarks progress
	$(PY) -m benchmarks report

lock: $(STAMP) ## rewrite constraints.txt from the current .venv (after changing a version on purpose)
	@{ sed -n '1,2p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^-e'; } > constraints.new
	@mv constraints.new constraints.txt && echo "constraints.txt rewritten; update environment.yml to match"

clean: ## remove build output and caches (keeps .venv and your runs in mlflow_store/)
	rm -rf build .pytest_cache .ruff_cache catboost_info
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
