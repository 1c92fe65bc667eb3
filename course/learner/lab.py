"""`make lab`: JupyterLab as the one place a learner works, started with `python -m course.learner.lab`.

Lab is served from the repository root, so its file browser reaches the README, the chapter
pages, the learner's files in work/ and the sample project, and a notebook's relative links
(`../chapters/01_alembic_basics/README.md`) open inside Lab instead of answering 404. It opens
on the first lesson.

Its terminal runs `course` and `python -m alembic` without activating anything: the server's
PATH and VIRTUAL_ENV name this environment, and the terminal's shell is an interactive bash
that reads the user's ~/.bashrc and then puts this environment back in front. Jupyter's
default, a login shell, reads /etc/profile, which resets PATH; and a ~/.bashrc that runs
`pyenv init` puts another `python` first.

What Lab is told beyond its command line lives in this environment, never in the user's own
Jupyter settings: Markdown files open rendered, and Lab does not ask to fetch news from the
internet. Extra arguments go to `jupyter lab` unchanged and come last, so they win
(`--port=8890`, `--no-browser`).

Before Lab starts, a few lines say which notebooks are about a server (chapter 3's, by their
metadata) and whether that server answers now, with the variable to set if it does not
(`server_notes`).

Reading a lesson must not change it. When a kernel starts, Lab copies the kernel's kernelspec
and language_info into the notebook's metadata and, if they differ from the stored ones, marks
the notebook modified, and autosave writes it. The stored notebooks carry what this course's
pinned ipykernel reports on the Python that recorded them; on another Python release
(3.12.1 instead of 3.11.7) language_info differs. `keep_recorded_metadata`, run by Lab before
every save, keeps the stored kernelspec and language_info while the notebook still names the
same kernel, so that a save changes only what the learner changed.
"""

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from course import REPO
from course.runtime import warm_python

FIRST_LESSON = "notebooks/01_how_alembic_works.ipynb"


def first_lesson(language: str) -> str:
    """Lesson 1 in the edition of `language` (notebooks/zh/... for Chinese) if it has one."""
    from course import i18n

    if language != i18n.SOURCE:
        edition = Path(FIRST_LESSON).parent / language / Path(FIRST_LESSON).name
        if (REPO / edition).is_file():
            return edition.as_posix()
    return FIRST_LESSON

# Settings every learner gets; a user's own settings still override them.
SETTINGS = {
    # A chapter page or QUIZ.md is for reading: double-clicking it shows it rendered
    # ("Open With > Editor" still edits it). Links in notebooks open rendered anyway.
    "@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Markdown Preview"}},
    # No first-start question about fetching news, and no request to the internet.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}

BASHRC = """\
# Written by course/learner/lab.py for JupyterLab's terminal: the user's own bash set-up first,
# then the course's environment in front of PATH, as its bin/activate would put it.
if [ -f ~/.bashrc ]; then . ~/.bashrc; fi
export VIRTUAL_ENV={venv}
export PATH="$VIRTUAL_ENV/bin:$PATH"
"""


def keep_recorded_metadata(model: dict, path: str, contents_manager, **_) -> None:
    """Jupyter's pre-save hook (ContentsManager.pre_save_hook): see the module's docstring."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    try:
        with open(contents_manager._get_os_path(path), encoding="utf-8") as stored_file:
            stored = json.load(stored_file).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return  # a new notebook, or not one this hook can read: saved as Lab sends it
    metadata = model["content"].setdefault("metadata", {})
    same_kernel = stored.get("kernelspec", {}).get("name") == metadata.get("kernelspec", {}).get("name")
    if not same_kernel:
        return  # the learner chose another kernel: theirs to save
    for key in ("kernelspec", "language_info"):
        if key in stored:
            metadata[key] = stored[key]


def environment_prefix() -> Path:
    """The environment this runs in (.venv-lab under `make lab`)."""
    return Path(sys.prefix)


def _write_if_changed(path: Path, text: str) -> None:
    # Written at every start, so that an environment made by an older version of this file
    # gets the current settings; left alone when nothing changed.
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def write_settings(prefix: Path) -> Path:
    """Lab reads every overrides.d/*.json of its application directory as default settings."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "migrations-in-practice.json"
    _write_if_changed(path, json.dumps(SETTINGS, indent=2, sort_keys=True) + "\n")
    return path


def terminal_shell(prefix: Path) -> list[str]:
    """The command Lab's terminal runs."""
    bash = shutil.which("bash")
    if bash is None:
        # Not a login shell: that one would reset the PATH set below.
        return [os.environ.get("SHELL") or "sh", "-i"]
    rcfile = prefix / "share" / "migrations-in-practice" / "bashrc"
    _write_if_changed(rcfile, BASHRC.format(venv=shlex.quote(str(prefix))))
    return [bash, "--rcfile", str(rcfile), "-i"]


def lab_arguments(prefix: Path, extra: list[str], language: str = "en") -> list[str]:
    arguments = [
        f"--ServerApp.root_dir={REPO}",
        f"--LabApp.default_url=/lab/tree/{first_lesson(language)}",
        "--ServerApp.terminado_settings=" + json.dumps({"shell_command": terminal_shell(prefix)}),
        "--ContentsManager.pre_save_hook=course.learner.lab.keep_recorded_metadata",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Jupyter refuses to run as root without it (containers, CI machines).
        arguments.append("--allow-root")
    return arguments + extra


def prepare_environment(prefix: Path) -> None:
    """What `source bin/activate` would do, for the server and so for every kernel and
    terminal it starts."""
    os.environ["VIRTUAL_ENV"] = str(prefix)
    os.environ["PATH"] = str(prefix / "bin") + os.pathsep + os.environ.get("PATH", "")
    os.environ.pop("PYTHONHOME", None)


def server_notes() -> list[str]:
    """What a reader must start before the notebooks that are about one server engine: for each
    engine, the notebooks about it, its server, and whether it answers now (a probe of at most
    about two seconds per server). Empty when no notebook is about a server."""
    from course import syllabus
    from course.runtime import engines

    about: dict[str, list[str]] = {}
    for notebook in syllabus.notebooks():
        for engine in syllabus.notebook_engines(syllabus.ROOT / syllabus.NOTEBOOKS / notebook.file):
            about.setdefault(engine, []).append(notebook.label)
    if not about:
        return []
    lines = ["Notebooks about one server make their databases on it (the others: COURSE_DATABASE_URL, SQLite files when unset):"]
    for engine in sorted(about):
        title = engines.ENGINE_TITLES[engine]
        labels = ", ".join(about[engine])
        variable = engines.setting_for(engine)
        try:
            url = engines.server_for(engine)
        except engines.EngineSetupError as exc:
            lines.append(f"  {title} (notebooks {labels}): {exc}")
            continue
        problem = engines.unreachable(url)
        if problem is None:
            state = f"{url.render_as_string(hide_password=True)} answers"
        else:
            state = f"{problem}: start it, or set {variable} to a {title} server URL"
        lines.append(f"  {title} (notebooks {labels}): {state}")
    return lines


def start_warm_python():
    """One warm interpreter for the session (course/runtime/warm_python.py), named in the
    environment that kernels and terminals inherit: notebooks' commands run in it, and
    `course check` at Lab's terminal is answered by it (course/learner/forwarding.py) in a
    fraction of a new process's start-up. It ends with this process: its stdin is a pipe from
    here, which closes however Lab ends."""
    from course import settings
    from course.runtime import reaper

    if not hasattr(os, "fork") or settings.current().cold_python:
        return None  # each kernel runs its commands as it would anyway; `course check` runs at home
    socket_path = os.path.join(reaper.scratch_dir("mip-warm-"), "warm.sock")
    helper = warm_python.start_server(socket_path, wait=False)
    os.environ[warm_python.SOCKET_SETTING] = socket_path
    return helper


def warm_python_ready(helper) -> None:
    """Wait for the session's warm interpreter; if it did not start, Lab starts without it
    (each kernel then starts its own, and `course check` runs in its own process)."""
    if helper is None:
        return
    try:
        warm_python.ready(helper)
    except RuntimeError:
        os.environ.pop(warm_python.SOCKET_SETTING, None)
        print("note: the warm interpreter did not start; notebooks and `course check` run without it",
              file=sys.stderr)


def main(argv: list[str]) -> int:
    try:
        from jupyterlab.labapp import LabApp
    except ImportError:
        print("JupyterLab is not installed in this environment: run `make lab`, which makes .venv-lab.", file=sys.stderr)
        return 2
    from course import i18n, settings

    argv = list(argv)
    try:
        if "--lang" in argv:  # `make lab-zh`: the Chinese edition
            at = argv.index("--lang")
            os.environ[i18n.VARIABLE] = i18n.check_language(argv[at + 1] if at + 1 < len(argv) else "", "--lang")
            del argv[at:at + 2]
        language = i18n.language()  # also COURSE_LANGUAGE, or a Chinese locale (LANG=zh_CN.UTF-8)
    except (i18n.LanguageError, settings.SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 2
    # Kernels and terminals inherit it: `course` and exercises.check() speak the same language.
    os.environ[i18n.VARIABLE] = language
    prefix = environment_prefix()
    prepare_environment(prefix)
    helper = start_warm_python()
    write_settings(prefix)
    for line in server_notes():
        print(line, file=sys.stderr)  # beside Jupyter's own start-up lines
    warm_python_ready(helper)
    LabApp.launch_instance(argv=lab_arguments(prefix, argv, language))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
