# Every action of the course is a target here. The first two are the README's commands.
#   make lab    set up (first time only) and open the course in JupyterLab
#   make test   set up (first time only) and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KERNEL := neural-ode-course
STAMP := $(VENV)/.installed
PORT ?= 8888
# JupyterLab refuses to run as root unless told; containers and CI often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-fast lint notebooks check-notebooks grade bench browser-test clean help

help:
	@echo "make lab | test | notebooks | grade SUBMISSIONS=dir | bench | browser-test | lint | clean"

# The course's own environment: created if absent, reinstalled when the pins change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[course]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Neural ODE course (Python 3)"
	touch $(STAMP)

lab: $(STAMP)
	@echo "Starting JupyterLab on notebooks/ with the '$(KERNEL)' kernel."
	@echo "If no browser opens, copy the http://127.0.0.1:... URL printed below into one."
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) $(ALLOW_ROOT)

lint: $(STAMP)
	$(BIN)/ruff check .

# Unit tests, exercise self-tests, build-sync checks, then every notebook under strict nbval.
test: $(STAMP) lint
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval notebooks --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

# Regenerate the learner notebooks from lessons_src/ and execute them (stores outputs).
# One lesson: make notebooks LESSONS=lessons_src/01_ode_basics.py
notebooks: $(STAMP)
	$(BIN)/python tools/build_notebooks.py $(LESSONS)

check-notebooks: $(STAMP)
	$(BIN)/python tools/build_notebooks.py --check

# Grade every notebook in a folder of submissions (any names, any lessons):
# grading_results/grades.csv, feedback/ and logs/. More options: GRADE_OPTS="--jobs 2".
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder of .ipynb files>" >&2; exit 2; }
	$(BIN)/python -m utils.grading "$(SUBMISSIONS)" --out grading_results $(GRADE_OPTS)

# Every lesson in JupyterLab in headless Chromium: Run All, no errors, sliders render and respond.
# Installs Debian's chromium if missing (scripts/install_browser.sh).
browser-test: $(STAMP)
	scripts/install_browser.sh
	RUN_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/browser -p no:cacheprovider -rA

# utils.odeint vs torchdiffeq, adjoint vs direct backprop, and every lesson's run time:
# writes docs/benchmarks.md and bench/results.json.
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache
