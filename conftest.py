"""Repository-wide pytest set-up."""

import os
import secrets
import shutil

import pytest

from sqlalchemy.engine import make_url

from course import settings, syllabus
from course.runtime import engines, reaper, warm_python

# The editions in other languages (notebooks/zh/) are not run again: their code cells and
# outputs are the English notebooks' own, which tests/test_translation.py proves.
collect_ignore_glob = ["notebooks/*/*.ipynb"]


def _fork_kernels_from_the_warm_interpreter() -> None:
    """The notebooks' kernels of this process (nbval's, tests/test_notebooks_on_servers.py's)
    are forked from the run's warm interpreter (course/runtime/warm_kernel.py), which has their
    imports done. In every process of the run: each xdist worker starts kernels of its own."""
    current = settings.current()
    if hasattr(os, "fork") and not current.cold_python:
        from jupyter_client.provisioning.factory import KernelProvisionerFactory

        from course.runtime import warm_kernel

        KernelProvisionerFactory.instance().default_provisioner_name = warm_kernel.NAME


def pytest_configure(config):
    # Stored outputs are the SQLite reading of each notebook. On MariaDB or PostgreSQL the
    # text legitimately differs (dialect names, error wording), so there the notebooks are
    # judged by their assertion cells, which check each lesson's facts on every engine.
    try:
        settings.suite()
        engine = engines.engine_name()
    except (settings.SettingsError, engines.EngineSetupError) as exc:
        raise pytest.UsageError(str(exc)) from None
    _fork_kernels_from_the_warm_interpreter()
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
            socket_path = os.path.join(workdir, "warm.sock")
            config._warm_python = warm_python.start_server(socket_path, kernels=True)
            os.environ[warm_python.SOCKET_SETTING] = socket_path
        # A learner's check gives each step of their code 20 s; a test run on a loaded machine
        # must never fail a correct solution for being slow, so it allows far more.
        run_defaults = {
            "check_timeout": "120",
            # Exercise checks run from notebooks see untouched starters, never the reader's work.
            "learner_dir": os.path.join(workdir, "learner"),
            "progress_file": os.path.join(workdir, "progress.json"),
        }
        # The notebooks about one server engine use the run's servers (COURSE_TEST_*_URL),
        # unless the caller named others for them.
        suite = settings.suite()
        for engine, field in engines.ENGINE_SERVER_FIELDS.items():
            run_defaults[field] = suite.server_url(engine)
        for field, value in run_defaults.items():
            if field not in given.model_fields_set:
                os.environ[settings.variable(settings.CourseSettings, field)] = value
        # The stored outputs are the English edition's (the Chinese notebooks show the same
        # ones): every kernel, check and command of the run speaks English, whatever the
        # machine's locale; a test that wants Chinese asks for it (tests/test_translation.py).
        os.environ[settings.variable(settings.CourseSettings, "language")] = "en"


# -- notebooks about one server engine (metadata "course": {"engines": [...]}) ----------------
# Their stored outputs come from those servers, so they run once, under strict nbval (even in a
# run whose COURSE_DATABASE_URL makes the other notebooks lax), on the servers the run uses;
# tests/test_notebooks_on_servers.py leaves them out. A server that does not answer skips the
# notebook with one line (a failure under CI or COURSE_REQUIRE_SERVERS=1); an engine left out
# of COURSE_TEST_ENGINES deselects it.
_declared: dict[str, tuple[str, ...]] = {}
_answers: dict[str, str | None] = {}  # engine -> why its server does not answer (None: it does)


def notebook_engines(item) -> tuple[str, ...]:
    path = item.nodeid.partition("::")[0]
    if not path.endswith(".ipynb"):
        return ()
    if path not in _declared:
        _declared[path] = syllabus.notebook_engines(item.path)
    return _declared[path]


def _server_problem(engine: str) -> str | None:
    if engine not in _answers:
        try:
            _answers[engine] = engines.unreachable(engines.server_for(engine))
        except engines.EngineSetupError as exc:
            _answers[engine] = str(exc)
    problem = _answers[engine]
    if problem is None:
        return None
    variable = engines.setting_for(engine)
    if variable != engines.SETTING and os.environ.get(variable) == settings.suite().server_url(engine):
        # the run set it from the suite's setting (pytest_configure): name that one
        variable = settings.variable(settings.SuiteSettings, f"test_{engine}_url")
    return f"{problem}: start it, or set {variable} to a {engines.ENGINE_TITLES[engine]} server"


@pytest.hookimpl(tryfirst=True)  # before nbval starts the notebook's kernel
def pytest_runtest_setup(item):
    declared = notebook_engines(item)
    for engine in declared:
        problem = _server_problem(engine)
        if problem is not None:
            titles = " and ".join(engines.ENGINE_TITLES[e] for e in declared)
            message = f"{item.path.name} is about {titles}; {problem}"
            if settings.suite().servers_required:
                pytest.fail(f"{message} (servers are required: CI or COURSE_REQUIRE_SERVERS is set)", pytrace=False)
            pytest.skip(message)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    wanted = set(settings.suite().test_engines)
    deselected = [item for item in items if set(notebook_engines(item)) - wanted]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        gone = {id(item) for item in deselected}
        items[:] = [item for item in items if id(item) not in gone]
    for item in items:
        if notebook_engines(item) and hasattr(item, "options"):
            item.options["check"] = True  # strict: its stored outputs are those servers'
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
        warm_python.stop(config._warm_python)
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
