"""The learner's progress: which exercises pass and how quizzes went, in one local JSON file.

The file is git-ignored (.course/progress.json, or COURSE_PROGRESS_FILE). It is only ever a
convenience: a corrupt or unreadable file is moved aside as a backup and progress starts
afresh, with a message, never a crash.
"""

import json
import os
import sys
from pathlib import Path

from course import REPO


def path() -> Path:
    return Path(os.environ.get("COURSE_PROGRESS_FILE") or REPO / ".course" / "progress.json")


def load() -> dict:
    """The stored progress: {"exercises": {id: {...}}, "quizzes": {chapter: {...}}}."""
    file = path()
    empty: dict = {"exercises": {}, "quizzes": {}}
    if not file.exists():
        return empty
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        backup = file.with_name(file.name + ".corrupt")
        file.replace(backup)
        print(f"note: {file} was unreadable ({exc}); kept it as {backup.name} and started afresh", file=sys.stderr)
        return empty
    for key in empty:
        if not isinstance(data.get(key), dict):
            data[key] = {}
    return data


def save(data: dict) -> None:
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_name(file.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(file)  # atomic: a crash mid-write never leaves half a file


def update(section: str, key: str, value: dict) -> None:
    """Merge `value` into progress[section][key] and save."""
    data = load()
    data[section].setdefault(key, {}).update(value)
    save(data)
