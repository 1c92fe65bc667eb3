"""The course's connections to the servers: PyMySQL's TLS context is built once per process; a
process creates, renames and drops its databases through one session per server, and a forked
child opens its own."""

import subprocess
import sys

PROBE = """
import pymysql
from course.runtime import engines

def contexts():
    a = pymysql.connections.Connection(host="127.0.0.1", defer_connect=True)
    b = pymysql.connections.Connection(host="127.0.0.1", defer_connect=True)
    return a.ctx, b.ctx

before = contexts()
engines.share_pymysql_tls_context()
after = contexts()
explicit = pymysql.connections.Connection(host="127.0.0.1", defer_connect=True, ssl={"verify_mode": "none"}).ctx
print(before[0] is before[1], after[0] is after[1], explicit is after[0], after[0] is not None)
"""


def test_pymysql_gets_one_tls_context_per_process_and_still_needs_the_course_to_share_it():
    # A fresh interpreter: the test process shares the context already (tests/conftest.py).
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    unpatched_shared, patched_shared, explicit_shared, has_context = out
    # If this turns True, PyMySQL reuses its context itself: remove engines.share_pymysql_tls_context.
    assert unpatched_shared == "False", "PyMySQL now shares its TLS context: the course's workaround can go"
    assert patched_shared == "True" and has_context == "True"
    assert explicit_shared == "False", "explicit TLS options must still get a context of their own"


SESSIONS = """
import os, sys
from sqlalchemy import event, make_url, text
from course.runtime import engines

server = make_url(sys.argv[1])
QUERY = "SELECT pg_backend_pid()" if engines.name_of(server) == "postgresql" else "SELECT CONNECTION_ID()"

def session_id():
    with engines._admin_session(server).connect() as connection:
        return connection.execute(text(QUERY)).scalar()

opened = []  # sessions opened on the server URL's own database (not on the ones made)
create_engine = engines.create_engine

def counted(url, **options):
    engine = create_engine(url, **options)
    if make_url(url) == server:
        event.listen(engine, "connect", lambda *args: opened.append(1))
    return engine

engines.create_engine = counted
for _ in range(3):
    engines.drop_database(engines.create_database("sessions", server), server)
parent = session_id()
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child's own session; and it lets go of its parent's when forked
    import gc, warnings
    try:
        # As the warm interpreter's children do: every inherited descriptor closed, its
        # numbers then reused. Collecting the parent's connections must touch none of them
        # (PyMySQL closes its descriptor number) and say nothing (psycopg warns).
        os.closerange(3, write)
        os.closerange(write + 1, 4096)
        reused = [os.open(os.devnull, os.O_RDONLY) for _ in range(8)]
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            gc.collect()
        untouched = all(os.fstat(fd) for fd in reused)
        os.write(write, f"{session_id()} {untouched} {len(warned)}".encode())
    except OSError as exc:
        os.write(write, f"{type(exc).__name__} False -1".encode())  # one word each
    finally:
        os._exit(0)
os.close(write)
child, untouched, warned = os.read(read, 256).decode().split()
os.waitpid(pid, 0)
print(len(opened), parent, child, session_id(), untouched, warned)
"""


def test_databases_are_made_and_dropped_through_one_session_and_a_forked_child_opens_its_own(server_url):
    shown = server_url.render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-c", SESSIONS, shown], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    opened, parent, child, parent_after, untouched, warned = out.stdout.split()
    assert opened == "1", f"three databases made and dropped opened {opened} sessions"
    assert child != parent, "a forked child used its parent's session"
    assert parent_after == parent, "the parent's session did not outlive its child"
    assert untouched == "True", "collecting the parent's connections closed a descriptor the child reused"
    assert warned == "0", "collecting the parent's connections warned in the child"


def test_no_session_is_kept_on_a_template_database_however_the_url_came():
    """The refusal is where the session would be opened, not only where settings are read: a
    test run's server URL, say, reaches create_database() without engines._parse()."""
    import pytest
    from sqlalchemy.engine import make_url

    from course.runtime import engines

    sessions = dict(engines._admin_engines)  # this process's, opened by earlier tests
    for database in engines.TEMPLATE_DATABASES:
        server = make_url(f"postgresql+psycopg://postgres@127.0.0.1:9/{database}")  # nothing listens
        with pytest.raises(engines.EngineSetupError) as refused:
            engines.create_database("x", server=server, setting="COURSE_TEST_POSTGRESQL_URL")
        assert str(refused.value).startswith(f"COURSE_TEST_POSTGRESQL_URL names {database}, one of PostgreSQL's "
                                             "template databases"), str(refused.value)
        assert engines._admin_engines == sessions  # none opened for it
