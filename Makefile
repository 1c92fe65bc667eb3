# Two commands set everything up: `make lab` to read, `make test` to check.
PYTHON ?= python3
VENV := .venv
LAB_VENV := .venv-lab
BENCH_VENV := .venv-bench
SITE_VENV := .venv-site
# Where `make site` builds (git ignores it): site/html is the website, site/src its generated sources.
SITE_DIR ?= site
SITE_PORT ?= 8001
# Four workers on two cores: notebook kernels, lock demonstrations (a lock_wait_timeout runs
# out), servers and browsers keep a worker waiting part of the time. Measured on two cores:
# the whole suite 423 s with -n 3, 400 s with -n 4.
PYTEST_ARGS ?= -n 4

.PHONY: lab lab-zh test record serve bench ddl-locks site site-serve clean

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt -e .
	touch $@

$(LAB_VENV)/.installed: requirements.txt requirements-lab.txt pyproject.toml
	test -x $(LAB_VENV)/bin/python || $(PYTHON) -m venv $(LAB_VENV)
	$(LAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LAB_VENV)/bin/python -m pip install --quiet -r requirements-lab.txt -e .
	touch $@

$(BENCH_VENV)/.installed: requirements.txt requirements-bench.txt pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements-bench.txt -e .
	touch $@

$(SITE_VENV)/.installed: requirements-site.txt pyproject.toml
	test -x $(SITE_VENV)/bin/python || $(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SITE_VENV)/bin/python -m pip install --quiet -r requirements-site.txt -e .
	touch $@

## open the course in JupyterLab, lesson 1 in front: the file browser reaches the whole course
## (README, chapters/, your files in work/), notebook links open inside Lab, and its terminal
## runs `course` without activating anything (see course/learner/lab.py). LAB_ARGS go to `jupyter lab`.
lab: $(LAB_VENV)/.installed
	$(LAB_VENV)/bin/python -m course.learner.lab $(LAB_ARGS)

## 中文版: the Chinese edition in JupyterLab, on lesson 1 (notebooks/zh/); `course` in its terminal
## speaks Chinese. A Chinese locale (LANG=zh_CN.UTF-8) opens it with `make lab` too.
lab-zh: $(LAB_VENV)/.installed
	$(LAB_VENV)/bin/python -m course.learner.lab --lang zh $(LAB_ARGS)

## run every test and re-execute every notebook, comparing stored outputs
test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

## re-execute the notebooks and store their new outputs (review the diff before committing)
record: $(VENV)/.installed
	$(VENV)/bin/python -m course.maintainer.record $(NOTEBOOKS)

## serve the sample project's API on http://127.0.0.1:8000 (docs at /docs)
# The reading environment has everything the app needs: no second environment to build.
serve: $(LAB_VENV)/.installed
	cd sample_project && ../$(LAB_VENV)/bin/python -m alembic upgrade head \
		&& ../$(LAB_VENV)/bin/python -m uvicorn app.main:app --reload

## re-measure chapter 2's backfill benchmark (500,000 rows; SQLite in both journal modes, MariaDB,
## PostgreSQL; repetitions and batch sizes are course.lessons.bench's defaults; under ten minutes on two cores)
bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m course.lessons.bench --rows 500000 --out chapters/02_production/bench/
	@echo "Now re-record notebook 13, which shows these numbers: make record NOTEBOOKS=notebooks/13_backfill_at_scale.ipynb"

## build the course as a static website in site/html, offline, from the notebooks' stored outputs
## (nothing is executed); any Sphinx warning fails the build (see course/maintainer/site.py)
site: $(SITE_VENV)/.installed
	$(SITE_VENV)/bin/python -m course.maintainer.site build $(SITE_DIR)

## build the website, then serve it on http://127.0.0.1:8001 (SITE_PORT=... to choose)
site-serve: site
	$(SITE_VENV)/bin/python -m http.server --bind 127.0.0.1 --directory $(SITE_DIR)/html $(SITE_PORT)

## re-measure chapter 3's table of schema changes (ten ALTERs on a 1,000,000-row table while another
## session writes; MariaDB and PostgreSQL; course.lessons.ddl_locks; three to five minutes on two busy cores)
ddl-locks: $(VENV)/.installed
	$(VENV)/bin/python -m course.lessons.ddl_locks --rows 1000000 --out chapters/03_zero_downtime/ddl/
	@echo "Now re-record notebook 19, which shows this table: make record NOTEBOOKS=notebooks/19_what_locks.ipynb"

clean:
	rm -rf $(VENV) $(LAB_VENV) $(BENCH_VENV) $(SITE_VENV) $(SITE_DIR)
