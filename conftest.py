"""Repository-wide pytest set-up."""

import os
import secrets
import shutil

import pytest

from sqlalchemy.engine import make_url

from course import settings
from course.runtime import engines, reaper, warm_python


def pytest_configure(config):
    # Stored outputs are the SQLite reading of each notebook. On MariaDB or PostgreSQL the
    # text legitimately differs (dialect names, error wording), so there the notebooks are
    # judged by their assertion cells, which check each lesson's facts on every engine.
    try:
        settings.suite()
        engine = engines.engine_name()
    except (settings.SettingsError, engines.EngineSetupError) as exc:
        raise pytest.UsageError(str(exc)) from None
    if engine != "sqlite" and config.option.nbval:
        config.option.nbval = False
        config.option.nbval_lax = True
    # The run's own settings, set (not set and restored) in the environment before xdist
    # starts its workers and the kernels start, so that all of them inherit them. A value the
    # caller gave is kept.
    if not hasattr(config, "workerinput"):
        given = settings.current()
        if given.run_id is None:
            os.environ[engines.RUN_SETTING] = secrets.token_hex(3)
        # The notebooks' working copies go to a directory of this run's own, so a run never
        # touches those of a notebook open in Jupyter, nor those of another run.
        workdir = given.workdir
        if workdir is None:
            workdir = config._course_workdir = reaper.scratch_dir("mip-run-")
            os.environ["COURSE_WORKDIR"] = workdir
        # One warm interpreter for every notebook kernel and worker of the run (see
        # course/runtime/warm_python.py), instead of one per kernel.
        if hasattr(os, "fork") and given.warm_python_socket is None:
            config._warm_python = warm_python.start_server(os.path.join(workdir, "warm.sock"))
            os.environ[warm_python.SOCKET_SETTING] = config._warm_python.args[-1]
        # A learner's check gives each step of their code 20 s; a test run on a loaded machine
        # must never fail a correct solution for being slow, so it allows far more.
        run_defaults = {
            "check_timeout": "120",
            # Exercise checks run from notebooks see untouched starters, never the reader's work.
            "learner_dir": os.path.join(workdir, "learner"),
            "progress_file": os.path.join(workdir, "progress.json"),
        }
        for field, value in run_defaults.items():
            if field not in given.model_fields_set:
                os.environ[settings.variable(settings.CourseSettings, field)] = value


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(items):
    # The cells of a notebook share one kernel and run in order, so a notebook must stay on one
    # worker: `--dist loadgroup` (pyproject.toml) keeps each xdist_group together and spreads
    # every other test one by one.
    for item in items:
        path = item.nodeid.partition("::")[0]
        if path.endswith(".ipynb"):
            item.add_marker(pytest.mark.xdist_group(path))
    # Long tests first, so that the xdist workers finish at about the same time (xdist then
    # sends the biggest groups, the notebooks, first; the order within a size is kept).
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_xdist_node_collection_finished(node, ids):
    # xdist marks a grouped test by appending "@<group>" to its node id. If a version pair
    # stops doing that, the cells of a notebook would run on different workers and fail in
    # ways that point nowhere near the cause: stop at once and say what is wrong.
    if node.config.getvalue("dist") != "loadgroup":
        return
    ungrouped = [nodeid for nodeid in ids if ".ipynb::" in nodeid and "@" not in nodeid]
    if ungrouped:
        pytest.exit(
            f"pytest-xdist did not group the notebook cells ({ungrouped[0]} has no @group): this pytest and "
            "pytest-xdist do not work together with --dist loadgroup; install the versions in requirements.txt",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_unconfigure(config):
    # Notebook kernels are killed, not shut down, at the end of a run, so their databases
    # outlive them: drop whatever this run made on any server it used.
    if hasattr(config, "workerinput") or settings.current().run_id is None:
        return
    if hasattr(config, "_warm_python"):
        config._warm_python.stdin.close()
        config._warm_python.wait(timeout=10)
    if hasattr(config, "_course_workdir"):
        shutil.rmtree(config._course_workdir, ignore_errors=True)
    servers = set()
    suite = settings.suite()  # read once already, in pytest_configure
    for engine in engines.SERVER_ENGINES:
        try:
            servers.add(make_url(suite.server_url(engine)))
        except ValueError:  # ArgumentError is one; the tests reported the bad URL already
            pass
    try:
        servers.add(engines.server_url())
    except engines.EngineSetupError:
        pass  # reported when the run started
    servers.discard(None)
    for server in servers:
        engines.sweep(server, settings.current().run_id)
