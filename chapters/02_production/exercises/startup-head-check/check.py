"""startup-head-check: the app refuses to start unless the database is at head, and only looks."""

import contextlib
import importlib
import io
import sys
import warnings

from course.checks import Fail

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com", "display_name": "Alice"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com", "display_name": "Bob"},
]


def _start(run) -> tuple[bool, str, int | None]:
    """Start the app as uvicorn would (its lifespan runs); (started, why not, GET /users status)."""
    for module in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[module]
    buffer = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        try:
            main = importlib.import_module("app.main")
        except (Exception, SystemExit) as exc:
            raise Fail(run.explain(exc, "importing app.main")) from None
        client = TestClient(main.app)
        try:
            try:
                client.__enter__()  # start-up: the lifespan runs up to its yield
            except (Exception, SystemExit) as exc:
                return False, " ".join(str(exc).split()) or type(exc).__name__, None
            try:
                status = client.get("/users").status_code
            except Exception:  # the request failed inside the app (a missing column, say)
                status = 500
            client.__exit__(None, None, None)
            return True, "", status
        finally:
            db = sys.modules.get("app.db")
            if db is not None:  # the app's pooled connections must not outlive the check
                db.get_engine().dispose()
                db.get_engine.cache_clear()


def check(run):
    run.upgrade("0002")
    run.insert("user", [{k: v for k, v in u.items() if k != "display_name"} for u in USERS])

    started, why, _ = _start(run)
    if started:
        if run.current() != "0002":
            raise Fail(
                f"the app upgraded the database itself at start-up (0002 -> {run.current()}): with several "
                "workers or replicas, each one races to run the same migrations. Migrate once, in the deploy, "
                "before any worker starts; the app only checks"
            )
        raise Fail("the app started with the database at 0002 while the head is 0003: it serves requests "
                   "against a schema without user.display_name, and GET /users fails one request at a time")
    if "0002" not in why or "0003" not in why:
        raise Fail(f"the app refused to start, but its message ({why!r}) does not say the database's revision "
                   "(0002) and the head (0003): the operator needs both to know what to run")

    run.downgrade("base", doing="downgrading to base")
    started, why, _ = _start(run)
    if started:
        raise Fail("the app started on an empty database (no revision at all) while the head is 0003")
    if "0003" not in why:
        raise Fail(f"on an empty database the app refused to start, but its message ({why!r}) does not name "
                   "the head (0003)")

    run.upgrade("head", doing="upgrading to head")
    run.insert("user", USERS)
    started, why, status = _start(run)
    if not started:
        raise Fail(f"the app refused to start with the database at head (0003): {why}")
    if status != 200:
        raise Fail(f"at head the app started, but GET /users answered {status}")
    if run.current() != "0003":
        raise Fail(f"starting the app moved the database from 0003 to {run.current()}")
    return "The app serves only at head, and says which revision it found and which it needs."
