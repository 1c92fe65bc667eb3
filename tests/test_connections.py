"""The course's connections to MariaDB: PyMySQL's TLS context is built once per process."""

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
