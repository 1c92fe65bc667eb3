"""The course's table of contents, syllabus.toml: chapters in order, each with its notebooks,
exercises and quiz. Every list and number the course shows comes from here; a notebook is
called by the number its file name starts with (08a_... is notebook 8a), as the file browser shows it.

    from course import syllabus
    syllabus.chapters()            # the chapters, in order; chapter.number is the position (1, 2, ...)
    syllabus.chapter("2")          # by number, by id ("02_production") or by the id's name part ("production")
    syllabus.notebooks()           # every notebook, in reading order (.number: the position, .label: "8a")
    syllabus.current().notebook_paths()

`load(root)` reads and validates the syllabus of a course at `root` (cached); the functions
above use `ROOT`, the repository, which a test may point at a throwaway course. A syllabus
that disagrees with the files raises SyllabusError, one line naming the file and the entry.

`python -m course.syllabus --write` regenerates the tables made from it (the chapter tables in
README.md, each chapter README's exercise table); `--check` says which files are out of date.

Only tomllib is imported, and the entries are NamedTuples (a frozen dataclass takes several
times as long to define): every `course` command loads this first, and start-up time matters.
"""

from __future__ import annotations

import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import NamedTuple

from course import REPO

FILE = "syllabus.toml"
NOTEBOOKS = "notebooks"  # the folder of the notebooks, under the root
CHAPTERS = "chapters"
ROOT = REPO  # the course that chapters(), notebooks() etc. read; tests point it at a throwaway copy

CHAPTER_KEYS = {"id": True, "title": True, "quiz": False, "notebooks": True, "exercises": False}
NOTEBOOK_KEYS = {"file": True, "title": True, "learn": True, "minutes": True}
EXERCISE_KEYS = {"id": True, "summary": True}
LANGUAGE_KEYS = {"code": True, "name": True, "sphinx": True}


class SyllabusError(Exception):
    """syllabus.toml is malformed or disagrees with the files (a course bug); the message is one
    line naming the file and the entry."""


class UnknownChapter(LookupError):
    """No chapter by that number or name; the message lists the valid ones."""


class Notebook(NamedTuple):
    file: str      # its name in notebooks/
    title: str
    learn: str     # "What you learn", Markdown; links relative to the repository's root
    minutes: int
    number: int    # its position in the whole course, from 1
    chapter: str   # the id of its chapter

    @property
    def label(self) -> str:
        """What readers call it: the number its file name starts with ("8a" for 08a_....ipynb),
        as in JupyterLab's file browser and the notebook's own heading; else its position."""
        prefix = self.file.partition("_")[0]
        return prefix.lstrip("0") or prefix if prefix[:1].isdigit() else str(self.number)


class ExerciseEntry(NamedTuple):
    id: str
    summary: str
    number: int    # its position within its chapter, from 1
    chapter: str

    def label(self, chapter_number: int) -> str:
        return f"{chapter_number}.{self.number}"


class Chapter(NamedTuple):
    id: str
    number: int    # its position in the syllabus, from 1
    title: str
    notebooks: tuple[Notebook, ...]
    exercises: tuple[ExerciseEntry, ...]
    quiz: str | None  # the bank's file name in the chapter's folder
    folder: Path

    @property
    def heading(self) -> str:
        return f"Chapter {self.number}: {self.title}"

    @property
    def quiz_path(self) -> Path | None:
        return self.folder / self.quiz if self.quiz else None

    @property
    def short_name(self) -> str:
        """The id without its ordering prefix ("production" for "02_production"): a name a
        learner may type. Only a name: the chapter's number is its position, never the prefix."""
        prefix, _, rest = self.id.partition("_")
        return rest if prefix.isdigit() and rest else self.id


class Syllabus(NamedTuple):
    root: Path
    chapters: tuple[Chapter, ...]

    def chapter(self, name: object) -> Chapter:
        """A chapter by its number ("1", "01", 1), its id or its short name."""
        text = str(name).strip()
        for chapter in self.chapters:
            if text in (chapter.id, chapter.short_name) or (text.isdigit() and int(text) == chapter.number):
                return chapter
        from course.i18n import _  # the learner reads it (`course quiz 9`)

        raise UnknownChapter(_("no chapter {name!r}; chapters: {chapters}").format(name=text, chapters=self.listing()))

    def listing(self, chapters: tuple[Chapter, ...] | list[Chapter] | None = None) -> str:
        chosen = self.chapters if chapters is None else chapters
        return ", ".join(f"{c.number} ({c.id})" for c in chosen) or "none"

    def notebooks(self) -> list[Notebook]:
        return [n for c in self.chapters for n in c.notebooks]

    def notebook_paths(self) -> list[Path]:
        return [self.root / NOTEBOOKS / n.file for n in self.notebooks()]

    def exercise(self, exercise_id: str) -> ExerciseEntry | None:
        return next((e for c in self.chapters for e in c.exercises if e.id == exercise_id), None)


# -- loading and validating ---------------------------------------------------------------------

def read_toml(path: Path, what: str, error: type[Exception]) -> dict:
    """A TOML file of the course (the syllabus, a quiz bank) as a dict; `error` with one line
    naming the file if it cannot be read or is not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None


@cache
def load(root: Path = REPO) -> Syllabus:
    """Read and validate root/syllabus.toml against the files beside it."""
    root = Path(root)
    path = root / FILE
    data = read_toml(path, "the syllabus", SyllabusError)

    def fail(message: str) -> SyllabusError:
        return SyllabusError(f"{path}: {message}")

    unknown = sorted(set(data) - {"chapters", "languages"})
    if unknown:
        raise fail(f"unknown top-level key {unknown[0]!r} (expected [[chapters]] and [[languages]] tables)")
    languages = data.get("languages", [{"code": "en", "name": "English", "sphinx": "en"}])
    if not isinstance(languages, list):
        raise fail("languages must be a list of tables ([[languages]])")
    for number, entry in enumerate(languages, 1):
        _check_table(entry, LANGUAGE_KEYS, f"language {number}", fail)
    if not languages or languages[0]["code"] != "en":
        raise fail("the first [[languages]] entry must be English (code = \"en\"), the source of the others")
    entries = data.get("chapters")
    if not isinstance(entries, list) or not entries:
        raise fail("has no chapters (add [[chapters]] tables)")

    chapters: list[Chapter] = []
    chapter_ids: dict[str, str] = {}
    notebook_files: dict[str, str] = {}
    exercise_ids: dict[str, str] = {}
    notebook_number = 0
    for number, entry in enumerate(entries, 1):
        where = _where(f"chapter {number}", entry)
        _check_table(entry, CHAPTER_KEYS, where, fail)
        chapter_id = entry["id"]
        if chapter_id in chapter_ids:
            raise fail(f"{where}: id {chapter_id!r} is already {chapter_ids[chapter_id]}")
        chapter_ids[chapter_id] = f"chapter {number}"
        folder = root / CHAPTERS / chapter_id
        if "/" in chapter_id or "\\" in chapter_id or not folder.is_dir():
            raise fail(f"{where}: no folder {CHAPTERS}/{chapter_id}/")
        quiz = entry.get("quiz")
        if quiz is not None and (not isinstance(quiz, str) or not (folder / quiz).is_file()):
            raise fail(f"{where}: quiz {quiz!r} is not a file in {CHAPTERS}/{chapter_id}/")

        notebooks = []
        for position, item in enumerate(_list(entry["notebooks"], "notebooks", where, fail), 1):
            inner = f"{where}, " + _where(f"notebook {position}", item, key="file")
            _check_table(item, NOTEBOOK_KEYS, inner, fail)
            file = item["file"]
            if file in notebook_files:
                raise fail(f"{inner}: {file!r} is already listed as {notebook_files[file]}")
            notebook_files[file] = inner
            if "/" in file or "\\" in file or not (root / NOTEBOOKS / file).is_file():
                raise fail(f"{inner}: {file!r} is not a file in {NOTEBOOKS}/")
            minutes = item["minutes"]
            if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
                raise fail(f"{inner}: minutes must be a whole number of minutes, e.g. minutes = 10")
            notebook_number += 1
            notebooks.append(Notebook(file, item["title"], item["learn"], minutes, notebook_number, chapter_id))

        exercises = []
        for position, item in enumerate(_list(entry.get("exercises", []), "exercises", where, fail), 1):
            inner = f"{where}, " + _where(f"exercise {position}", item)
            _check_table(item, EXERCISE_KEYS, inner, fail)
            exercise_id = item["id"]
            if exercise_id in exercise_ids:
                raise fail(f"{inner}: id {exercise_id!r} is already {exercise_ids[exercise_id]}")
            exercise_ids[exercise_id] = inner
            if "/" in exercise_id or "\\" in exercise_id or not (folder / "exercises" / exercise_id).is_dir():
                raise fail(f"{inner}: no folder {CHAPTERS}/{chapter_id}/exercises/{exercise_id}/")
            exercises.append(ExerciseEntry(exercise_id, item["summary"], position, chapter_id))
        listed = {e.id for e in exercises}
        for unlisted in _folders(folder / "exercises"):
            if unlisted not in listed:
                raise fail(f"{where}: the exercise folder {CHAPTERS}/{chapter_id}/exercises/{unlisted}/ "
                           "is not listed in its exercises")
        chapters.append(Chapter(chapter_id, number, entry["title"], tuple(notebooks), tuple(exercises), quiz, folder))

    labels: dict[str, str] = {}
    for notebook in (n for chapter in chapters for n in chapter.notebooks):
        if notebook.label in labels:
            raise fail(f"notebooks {labels[notebook.label]} and {notebook.file} both read as notebook "
                       f"{notebook.label}: give one of them another number in its file name")
        labels[notebook.label] = notebook.file
    for unlisted in _folders(root / CHAPTERS):
        if unlisted not in chapter_ids:
            raise fail(f"the chapter folder {CHAPTERS}/{unlisted}/ is not listed (add a [[chapters]] entry)")
    # Not recursive: notebooks/<language>/ would hold another edition's copies of these.
    # (iterdir, not glob: glob compiles a regular expression, a few ms of every start-up.)
    folder = root / NOTEBOOKS
    for notebook in sorted(p.name for p in folder.iterdir() if p.suffix == ".ipynb") if folder.is_dir() else ():
        if notebook not in notebook_files:
            raise fail(f"the notebook {NOTEBOOKS}/{notebook} is not listed in any chapter's notebooks")
    return Syllabus(root, tuple(chapters))


def _where(label: str, entry: object, key: str = "id") -> str:
    name = entry.get(key) if isinstance(entry, dict) else None
    return f"{label} ({name!r})" if isinstance(name, str) else label


def _list(value: object, name: str, where: str, fail) -> list:
    if not isinstance(value, list):
        raise fail(f"{where}: {name} must be a list of tables ([[chapters.{name}]])")
    return value


def _check_table(entry: object, keys: dict[str, bool], where: str, fail) -> None:
    """A table with the keys required (True) or allowed (False), each string a non-empty one."""
    if not isinstance(entry, dict):
        raise fail(f"{where}: is not a table")
    unknown = sorted(set(entry) - set(keys))
    if unknown:
        raise fail(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(keys)})")
    missing = [key for key, required in keys.items() if required and key not in entry]
    if missing:
        raise fail(f"{where}: missing {missing[0]!r}")
    for key, value in entry.items():
        if key in ("notebooks", "exercises", "minutes"):
            continue
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where}: {key} must be a non-empty string")


def _folders(parent: Path) -> list[str]:
    if not parent.is_dir():
        return []
    return sorted(p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


# -- notebooks about one server engine --------------------------------------------------------------

SERVER_ENGINES = ("mariadb", "postgresql")  # as course.settings.ENGINES[1:], without importing pydantic


def notebook_engines(path: Path) -> tuple[str, ...]:
    """The servers a notebook is about, as its metadata declares them:
    `"course": {"engines": ["postgresql", "mariadb"]}`. Such a notebook makes its workspaces on
    those servers itself (`workspace.fresh(name, server="postgresql")`), its stored outputs are
    theirs, and the tests run it once, under strict nbval, wherever those servers answer
    (conftest.py). () for every other notebook: its stored outputs are SQLite's, and the tests
    run it on each engine. Read when asked (a JSON file each), not when the syllabus loads."""
    import json

    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError) as exc:
        raise SyllabusError(f"{path}: cannot read the notebook ({exc})") from None
    declared = metadata.get("course", {}).get("engines", [])
    if not isinstance(declared, list) or not declared or any(e not in SERVER_ENGINES for e in declared):
        if "engines" not in metadata.get("course", {}):  # (an edition says only its language there)
            return ()
        raise SyllabusError(f"{path}: metadata course.engines must be a non-empty list of "
                            f"{' and '.join(SERVER_ENGINES)}, not {declared!r}")
    return tuple(declared)


# -- the course being read ------------------------------------------------------------------------

def current() -> Syllabus:
    return load(ROOT)


def chapters() -> tuple[Chapter, ...]:
    return current().chapters


def chapter(name: object) -> Chapter:
    return current().chapter(name)


def notebook_to_read(name: str) -> str:
    """A lesson's path from the course's root, in the edition of the language the course speaks
    (notebooks/zh/...) when it has one."""
    from course import i18n

    language = i18n.language()
    if language != i18n.SOURCE and (ROOT / NOTEBOOKS / language / name).is_file():
        return f"{NOTEBOOKS}/{language}/{name}"
    return f"{NOTEBOOKS}/{name}"


def notebooks() -> list[Notebook]:
    return current().notebooks()


# -- the tables made from it ------------------------------------------------------------------------

COMMAND = "python -m course.syllabus --write"
README_BEGIN = f"<!-- chapters: generated from {FILE} by `{COMMAND}`; edit the syllabus, then regenerate -->"
README_END = "<!-- end of the generated chapters -->"
EXERCISES_BEGIN = f"<!-- exercises: generated from {FILE} by `{COMMAND}`; edit the syllabus, then regenerate -->"
EXERCISES_END = "<!-- end of the generated exercises -->"


def readme_chapters(course: Syllabus) -> str:
    """README.md's chapter sections: a heading, the notebooks' table and a link to the chapter page."""
    parts = []
    for chapter in course.chapters:
        lines = [f"## {chapter.heading}", "", "| # | Notebook | What you learn | Time |", "|---|---|---|---|"]
        lines += [f"| {n.label} | [{n.title}]({NOTEBOOKS}/{n.file}) | {n.learn} | {n.minutes} min |"
                  for n in chapter.notebooks]
        what = {(True, True): "Exercises and the quiz", (True, False): "Exercises",
                (False, True): "The quiz", (False, False): "More"}[bool(chapter.exercises), bool(chapter.quiz)]
        page = f"{CHAPTERS}/{chapter.id}"
        lines += ["", f"{what} for the chapter: [{page}]({page}/README.md)."]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def chapter_exercises(chapter: Chapter) -> str:
    """A chapter README's exercise table."""
    if not chapter.exercises:
        return "This chapter has no exercises."
    lines = ["| # | Exercise | The task, in one line |", "|---|---|---|"]
    lines += [f"| {e.number} | `{e.id}` | {e.summary} |" for e in chapter.exercises]
    return "\n".join(lines)


def _replace_between(text: str, begin: str, end: str, body: str, where: Path) -> str:
    head, found, rest = text.partition(begin + "\n")
    middle, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise SyllabusError(f"{where}: no generated block: put the lines\n{begin}\n{end}\nwhere it goes")
    return f"{head}{begin}\n\n{body}\n\n{end}{tail}"


def generated(course: Syllabus) -> dict[Path, str]:
    """Every file with a part made from the syllabus, as it should read."""
    readme = course.root / "README.md"
    files = {readme: _replace_between(readme.read_text(encoding="utf-8"), README_BEGIN, README_END,
                                      readme_chapters(course), readme)}
    for chapter in course.chapters:
        page = chapter.folder / "README.md"
        heading = f"# {chapter.heading}"
        if page.exists():
            text = page.read_text(encoding="utf-8")
            first, newline, rest = text.partition("\n")
            # The page's title follows the syllabus, so a chapter that moves is renumbered.
            text = (heading if first.startswith("# ") else f"{heading}\n\n{first}") + newline + rest
        else:  # a new chapter: its page starts as its title and its exercises
            text = f"{heading}\n\n{EXERCISES_BEGIN}\n{EXERCISES_END}\n"
        files[page] = _replace_between(text, EXERCISES_BEGIN, EXERCISES_END, chapter_exercises(chapter), page)
    return files


def out_of_date(course: Syllabus) -> list[Path]:
    """The files whose generated parts differ from the syllabus."""
    return [path for path, text in generated(course).items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def write(course: Syllabus) -> list[Path]:
    """Regenerate the files that are out of date; returns them."""
    changed = out_of_date(course)
    texts = generated(course)
    for path in changed:
        path.write_text(texts[path], encoding="utf-8")
    return changed


def main(argv: list[str], root: Path | None = None) -> int:
    if argv not in (["--write"], ["--check"]):
        print(f"usage: python -m course.syllabus --write    (regenerate the tables made from {FILE})\n"
              f"       python -m course.syllabus --check    (say which are out of date)", file=sys.stderr)
        return 2
    try:
        course = load(root or ROOT)
        if argv == ["--write"]:
            for path in write(course):
                print(f"wrote {path.relative_to(course.root)}")
            return 0
        stale = out_of_date(course)
    except SyllabusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in stale:
        print(f"out of date: {path.relative_to(course.root)} (run `{COMMAND}`)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
