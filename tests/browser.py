"""What the browser tests share (tests/test_lab.py drives JupyterLab, tests/test_site.py the
website): Debian's Chromium, driven by Playwright's Python package through its executable path,
so no browser is ever downloaded. Without Chromium, Playwright or the environment a test needs,
the test skips with one line; under CI it fails instead."""

import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from course.settings import suite as suite_settings

WAIT_MS = 180_000  # the bound of every wait in the browser; a loaded two-core machine is slow


def ci() -> bool:
    return suite_settings().ci


def chromium() -> str | None:
    named = suite_settings().chromium
    if named:
        return shutil.which(named)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing(python: Path | None = None, how: str = "") -> str | None:
    """Why a browser test cannot run here, in one line, or None. `python`: the interpreter of
    the environment the test starts (.venv-lab, .venv-site); `how`: how to make it."""
    if chromium() is None:
        return "Chromium not found: install it (Debian: apt-get install chromium) or name it in COURSE_CHROMIUM"
    if python is not None and not python.exists():
        return f"{python.parent.parent.name} not found: {how}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright not installed in this environment: pip install -r requirements.txt"
    return None


def require(reason: str | None) -> None:
    """Skip for `reason` (fail under CI, where everything must run)."""
    if reason:
        if ci():
            pytest.fail(f"{reason} (required under CI)", pytrace=False)
        pytest.skip(reason)


def launch(playwright, *, proxy: str | None = None):
    """Headless Chromium: the system's, never a downloaded one. `proxy`: where requests to any
    host but 127.0.0.1 go."""
    return playwright.chromium.launch(executable_path=chromium(), headless=True,
                                      **({"proxy": {"server": proxy, "bypass": "127.0.0.1"}} if proxy else {}))


@contextmanager
def nowhere():
    """A local address that refuses every connection (bound, never listening): as the proxy of
    launch(), it makes a request to any other host fail at once, without leaving the machine,
    and without a round trip through Python for every request as a Playwright route takes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float = WAIT_MS / 1000):
    """Poll for an event; fail only after a generous bound (nothing is timed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what}: not seen within {timeout:.0f} s")


@contextmanager
def screenshot_on_failure(page, path: Path):
    """What the page showed when a step failed, saved for whoever reads the failure."""
    try:
        yield
    except Exception:
        page.screenshot(path=path)
        print(f"screenshot of the page at the failure: {path}")
        raise
