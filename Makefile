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

.PHONY: lab test test-portable test-fast lint notebooks check-notebooks grade release bench browser-test clean help
.PHONY: site site-test instructor-lab check-my-work student-dist nbgrader-course nbgrader-lab
.PHONY: mutation

help:
	@echo "make lab | test | test-portable | notebooks | grade SUBMISSIONS=dir | release | bench | browser-test | lint | clean"
	@echo "make instructor-lab | check-my-work [DIR=dir] | site [LAUNCH_URL=url] | site-test"
	@echo "make student-dist | nbgrader-course [EXCHANGE=path] | nbgrader-lab | grade ... ROSTER=roster.csv"

# The course's own environment: created if absent, reinstalled when the pins change.
# PIP_OPTS passes options to pip, e.g. PyTorch's CPU-only wheel index (README, "What pip downloads").
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIP_OPTS) -c constraints.txt -e ".[course]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Neural ODE course (Python 3)"
	touch $(STAMP)

# The learner's lab: lesson 01 on the course kernel, without nbgrader's instructor tools or the
# news pop-up (settings from lab/learner, installed into .venv, not your home: lab/README.md).
LAB_SETTINGS := $(VENV)/.lab-settings
$(LAB_SETTINGS): $(STAMP) lab/learner/page_config.json lab/learner/overrides.json scripts/install_lab_settings.py
	$(BIN)/python scripts/install_lab_settings.py
	touch $(LAB_SETTINGS)

LAB_ARGS = --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	--LabApp.default_url=/lab/tree/01_ode_basics.ipynb $(ALLOW_ROOT)

lab: $(LAB_SETTINGS)
	@echo "Starting JupyterLab on notebooks/ with the '$(KERNEL)' kernel."
	@echo "If no browser opens, copy the http://127.0.0.1:... URL printed below into one."
	$(BIN)/jupyter lab $(LAB_ARGS)

# The same course with nbgrader's tools on (Formgrader, Course List, Create Assignment).
instructor-lab: $(LAB_SETTINGS)
	@echo "Starting JupyterLab for instructors (nbgrader's tools on) on notebooks/."
	JUPYTER_CONFIG_PATH="$(CURDIR)/lab/instructor$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(BIN)/jupyter lab $(LAB_ARGS)

# ruff, then mypy on utils/ and grader/ ([tool.mypy] in pyproject.toml); `make test` runs it first.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Unit tests, exercise self-tests, build-sync checks, then every notebook under strict nbval.
# Installs no system package: the sandboxed grading tests skip, with one line saying so, when
# bubblewrap is missing (scripts/install_sandbox.sh installs it; .ci/run does, and requires them).
NBVAL := -m pytest --nbval notebooks --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
test: $(STAMP) lint
	$(BIN)/python -m pytest tests
	$(BIN)/python $(NBVAL)

# nbval again on PyTorch's portable CPU kernels (no AVX, MKL in its reproducible mode, oneDNN at
# SSE4.1): a cheap stand-in for another CPU. What nbval compares must not change (utils/claims.py).
PORTABLE_KERNELS := ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE ONEDNN_MAX_CPU_ISA=SSE41
test-portable: $(STAMP)
	$(PORTABLE_KERNELS) $(BIN)/python $(NBVAL)

# Regenerate the learner notebooks from lessons_src/ and execute them (stores outputs).
# One lesson: make notebooks LESSONS=lessons_src/01_ode_basics.py
notebooks: $(STAMP)
	$(BIN)/python tools/build_notebooks.py $(LESSONS)

check-notebooks: $(STAMP)
	$(BIN)/python tools/build_notebooks.py --check

# Grade every notebook in a folder of submissions (any names, any lessons), each in a
# bubblewrap sandbox (installed if missing by scripts/install_sandbox.sh):
# grading_results/grades.csv, feedback/ and logs/; then the gradebook (gradebook.csv, the LMS
# import gradebook_lms.csv, feedback_by_student.zip; ROSTER=roster.csv maps files to student
# ids) and report.html (`neural-ode-grade report`, docs/instructors.md).
# More options: GRADE_OPTS="--jobs 2", "--shard 1/4" (then
# `.venv/bin/neural-ode-grade merge OUT SHARD_OUTS...`); docs/instructors.md.
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder of .ipynb files>" >&2; exit 2; }
	@case " $(GRADE_OPTS) " in *" --no-sandbox "*) ;; *) scripts/install_sandbox.sh ;; esac
	$(BIN)/python -m grader "$(SUBMISSIONS)" --out grading_results $(GRADE_OPTS)
	$(BIN)/python -m grader report grading_results --submissions "$(SUBMISSIONS)" \
		$(if $(ROSTER),--roster "$(ROSTER)",)

# The graded student release in release/: learner notebooks and utils, solution() withheld,
# hints kept. RELEASE_OPTS="--without-references" also leaves the reference solutions out.
release: $(STAMP)
	rm -rf release
	$(BIN)/python -m grader release release $(RELEASE_OPTS)

# The learner distribution in student-dist/: what students may see and nothing else: the
# notebooks, the course package with the reference solutions left out, its data; no lesson
# sources, no utils/exercises/solutions/, no grader or tests. Its check cells judge the visible
# cases against the references' outcomes stored at build time and leave the hidden cases to the
# grader; a failed check has no reference to fall back on (docs/instructors.md, "Hand out").
student-dist: $(STAMP)
	rm -rf student-dist
	$(BIN)/python -m grader release student-dist --without-references

# An nbgrader course for all ten lessons in nbgrader-course/ (source/<lessonNN>/, release/
# after `nbgrader generate_assignment`, nbgrader_config.py) with its exchange at EXCHANGE
# (default nbgrader-course/exchange; on a hub, a folder every user can reach). NBGRADER_OPTS
# passes more options (--course-id). docs/instructors.md, "Or use nbgrader".
EXCHANGE ?= $(CURDIR)/nbgrader-course/exchange
nbgrader-course: $(STAMP)
	$(BIN)/python scripts/nbgrader_course.py nbgrader-course --exchange "$(EXCHANGE)" $(NBGRADER_OPTS)

# The instructor's lab on that nbgrader course (Formgrader lists its ten assignments): started in
# nbgrader-course/, where nbgrader reads nbgrader_config.py (made first if missing).
nbgrader-lab: $(LAB_SETTINGS)
	test -f nbgrader-course/nbgrader_config.py || $(MAKE) nbgrader-course
	cd nbgrader-course && PATH="$(CURDIR)/$(BIN):$$PATH" \
		JUPYTER_CONFIG_PATH="$(CURDIR)/lab/instructor$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		"$(CURDIR)/$(BIN)/jupyter" lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) $(ALLOW_ROOT)

# Every lesson in JupyterLab in headless Chromium: Run All, no errors, sliders render and respond.
# Installs Debian's chromium if missing (scripts/install_browser.sh).
browser-test: $(STAMP)
	scripts/install_browser.sh
	RUN_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/browser -p no:cacheprovider -rA

# Before handing in: run each of your notebooks in a fresh kernel and judge your answers the way
# the grader will (hidden cases named, never shown). Your notebooks are not changed.
# Another folder: make check-my-work DIR=path/to/my/notebooks
DIR ?= notebooks
check-my-work: $(STAMP)
	$(BIN)/python scripts/check_my_work.py "$(DIR)"

# The course website: a static book of the committed, executed notebooks (nothing re-executed),
# built offline into site/_build/html with Sphinx (-W: warnings are errors) and myst-nb; MathJax
# and its font come from npm (site/package-lock.json) and are served by the site itself.
# A launch link on every lesson: make site LAUNCH_URL='https://hub.example.org/hub/user-redirect/lab/tree/{path}'
SITE_STAMP := $(VENV)/.site-installed
$(SITE_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet $(PIP_OPTS) -c constraints.txt -e ".[course,site]"
	touch $(SITE_STAMP)

site/node_modules/.package-lock.json: site/package-lock.json
	cd site && npm ci --no-audit --no-fund

site: $(SITE_STAMP) site/node_modules/.package-lock.json
	$(BIN)/python scripts/build_site.py $(if $(LAUNCH_URL),--launch-url '$(LAUNCH_URL)',)

# Every page of the built site in headless Chromium: offline, math, figures, search, axe-core;
# screenshots in site/_build/screenshots. Then the learner's and the instructor's lab.
site-test: site
	scripts/install_browser.sh
	RUN_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/site/test_site_in_browser.py \
		tests/site/test_figure_legibility.py tests/site/test_class_report_in_browser.py \
		tests/site/test_lab_modes.py -p no:cacheprovider -rA

# utils.odeint vs torchdiffeq, adjoint vs direct backprop, and every lesson's run time:
# writes docs/benchmarks.md and bench/results.json.
bench: $(STAMP)
	$(BIN)/python bench/run.py

# A scripted mutation run over grader/ and utils/exercises/ (tools/mutation.py): each bug applied
# to a copy of the project, its targeted tests run; records the score in docs/benchmarks.md.
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py --record

clean:
	rm -rf $(VENV) .pytest_cache
