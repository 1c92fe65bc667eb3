"""The learner's progress: which exercises pass and how quizzes went, in one local JSON file.

The file is git-ignored (.course/progress.json, or COURSE_PROGRESS_FILE). It is only ever a
convenience, and people edit it by hand: a file that is not JSON, or JSON of another shape,
is kept aside as a backup (never overwritten), what can be read of it is kept, and a note
says so. Never a crash.
"""

import contextlib
import glob
import json
import os
import secrets
import sys
import time
from pathlib import Path

from course import REPO, settings
from course import i18n
from course.i18n import _

# The shape of each entry: field -> the types it may have. Anything else is dropped.
# "done" is the last check's verdict, on whatever engine it ran; "passed_on" lists the engines
# on which the last check passed (files written before it have "done" only).
EXERCISE_FIELDS = {"done": (bool,), "checked_at": (str,), "hints_shown": (int,), "solution_seen": (bool,),
                   "passed_on": (list,)}
QUIZ_FIELDS = {
    "score": (int,), "total": (int,), "answered": (int,), "finished": (bool,), "best": (int,),
    "missed": (list,), "next": (int,),
}
SECTIONS = {"exercises": EXERCISE_FIELDS, "quizzes": QUIZ_FIELDS}


def path() -> Path:
    return settings.current().progress_file or REPO / ".course" / "progress.json"


def _empty() -> dict:
    return {"exercises": {}, "quizzes": {}, "last_exercise": None}


def _valid(value: object, types: tuple) -> bool:
    # bool is an int in Python: a count of True hints is not a count.
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _clean(data: object) -> tuple[dict, list[str]]:
    """What can be kept of `data`, and what was not (each a short phrase)."""
    if not isinstance(data, dict):
        return _empty(), [_("it holds a JSON {kind}, not an object").format(kind=type(data).__name__)]
    clean, dropped = _empty(), []
    for section, fields in SECTIONS.items():
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            dropped.append(_("{section} is not an object").format(section=repr(section)))
            continue
        for key, entry in entries.items():
            if not isinstance(entry, dict):
                dropped.append(_("{section} is not an object").format(section=f"{section}.{key}"))
                continue
            bad = [f for f, v in entry.items() if f in fields and not _valid(v, fields[f])]
            dropped += [f"{section}.{key}.{f} = {entry[f]!r}" for f in bad]
            clean[section][key] = {f: v for f, v in entry.items() if f in fields and f not in bad}
    last = data.get("last_exercise")
    if isinstance(last, str):
        clean["last_exercise"] = last
    elif last is not None:
        dropped.append(f"last_exercise = {last!r}")
    return clean, dropped


def _keep_aside(file: Path, why: str) -> None:
    backup = file.with_name(f"{file.name}.{time.strftime('%Y%m%d-%H%M%S')}.bad")
    counter = 1
    while backup.exists():
        backup = file.with_name(f"{file.name}.{time.strftime('%Y%m%d-%H%M%S')}-{counter}.bad")
        counter += 1
    if not file.is_file():  # never move a folder (or anything else) aside: settings refuses one already
        return
    file.replace(backup)
    print(_("note: {file} {why}; kept it as {backup}").format(file=file, why=why, backup=backup.name), file=sys.stderr)


def load() -> dict:
    """The stored progress: {"exercises": {id: {...}}, "quizzes": {chapter: {...}},
    "last_exercise": id or None}."""
    file = path()
    if not file.exists():
        return _empty()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _keep_aside(file, _("was unreadable ({error}) and progress starts afresh").format(error=exc))
        return _empty()
    clean, dropped = _clean(data)
    if dropped:
        listed = i18n.join("; ", dropped[:3]) + (_("; and {count} more").format(count=len(dropped) - 3)
                                                   if len(dropped) > 3 else "")
        _keep_aside(file, _("had entries of the wrong kind ({listed}); the rest of your progress is kept").format(listed=listed))
        save(clean)
    return clean


def save(data: dict) -> None:
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file of this call's own: two processes saving at once (two notebooks'
    # checks, a notebook and the terminal) never write into, or rename away, each other's.
    # Made as open() makes a file (0666 less the umask), so the progress file keeps its mode.
    temporary = file.with_name(f"{file.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        os.replace(temporary, file)  # atomic: a crash mid-write never leaves half a file
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _remove_stale_temporaries(file)


# A save writes its temporary file and renames it within milliseconds: one older than this was
# left by a save that was killed. (Its process is dead too; but a checkout shared with a
# container sees other pids, so a pid alone does not tell.)
STALE_AFTER = 600  # seconds


def _remove_stale_temporaries(file: Path) -> None:
    """Remove what saves killed before their rename left beside `file`: temporaries named
    after a process that no longer runs, and not written to for STALE_AFTER seconds. Never
    a reason for a save that succeeded to fail."""
    from course.runtime import reaper

    for stale in file.parent.glob(f"{glob.escape(file.name)}.*-*.tmp"):
        pid = stale.name[len(file.name) + 1:].partition("-")[0]
        if not (pid.isascii() and pid.isdigit()) or int(pid) == os.getpid():
            continue
        try:
            if time.time() - stale.stat().st_mtime < STALE_AFTER or reaper.alive(int(pid)):
                continue
            stale.unlink(missing_ok=True)
        except (OSError, OverflowError):  # gone meanwhile, another user's file, or no pid a process can have
            pass


@contextlib.contextmanager
def _changing():
    """Hold the progress file's lock while its contents are read, changed and written back, so
    that two processes updating it at once both keep their change (where there is no flock,
    on Windows or where the folder cannot be locked, a change made meanwhile by another
    process can be lost)."""
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield
        return
    # The lock is the folder's: the file itself is replaced by every save, and a lock file
    # would be one more file left beside it. Where a folder cannot be locked (NFS emulates
    # flock with locks that need a file open for writing), the update goes on without it.
    try:
        folder = os.open(file.parent, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
        except OSError:
            pass
        yield
    finally:
        os.close(folder)  # releases the lock


def update(section: str, key: str, value: dict) -> None:
    """Merge `value` into progress[section][key] and save."""
    with _changing():
        data = load()
        data[section].setdefault(key, {}).update(value)
        save(data)


def remember_exercise(exercise_id: str) -> None:
    """The exercise the learner is on: `course check` and `course watch` default to it."""
    with _changing():
        data = load()
        data["last_exercise"] = exercise_id
        save(data)
