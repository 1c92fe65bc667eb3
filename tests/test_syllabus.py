"""syllabus.toml, the course's one table of contents: how it numbers, what it refuses (each
message), the tables generated from it, and a throwaway third chapter that appears everywhere
once it has its entry and its files."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from course import REPO, syllabus
from course.learner import cli, exercises, quiz
from helpers import copy_course


@pytest.fixture(autouse=True)
def learner_area(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COURSE_LEARNER_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.json"))
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path / "work"


# -- the course's own syllabus --------------------------------------------------------------------

def test_numbers_are_positions_in_the_syllabus():
    course = syllabus.current()
    assert [c.number for c in course.chapters] == list(range(1, len(course.chapters) + 1))
    notebooks = course.notebooks()
    assert [n.number for n in notebooks] == list(range(1, len(notebooks) + 1))
    for chapter in course.chapters:
        assert [e.number for e in chapter.exercises] == list(range(1, len(chapter.exercises) + 1))
        assert all(n.chapter == chapter.id for n in chapter.notebooks)


def test_a_chapter_is_found_by_number_id_or_short_name():
    first = syllabus.chapters()[0]
    for name in ("1", "01", 1, first.id, first.short_name):
        assert syllabus.chapter(name) is first
    with pytest.raises(syllabus.UnknownChapter, match=r"^no chapter '99'; chapters: 1 \(01_alembic_basics\), 2 "):
        syllabus.chapter("99")


def test_it_lists_every_notebook_and_exercise_folder_of_the_course():
    listed = {p.name for p in syllabus.current().notebook_paths()}
    assert listed == {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    for chapter in syllabus.chapters():
        on_disk = {p.name for p in (chapter.folder / "exercises").iterdir() if p.is_dir()}
        assert {e.id for e in chapter.exercises} == on_disk


def test_loading_is_cached_per_root():
    assert syllabus.load(REPO) is syllabus.load(REPO) is syllabus.current()


def test_generated_tables_are_up_to_date():
    stale = syllabus.out_of_date(syllabus.current())
    assert not stale, (f"{', '.join(str(p.relative_to(REPO)) for p in stale)} out of date with "
                       f"{syllabus.FILE}: run `{syllabus.COMMAND}`")


def test_the_readme_shows_every_notebook_with_its_time_and_every_chapter_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for chapter in syllabus.chapters():
        assert f"\n## {chapter.heading}\n" in readme
        assert f"(chapters/{chapter.id}/README.md)." in readme
        for n in chapter.notebooks:
            assert f"| {n.label} | [{n.title}](notebooks/{n.file}) | {n.learn} | {n.minutes} min |\n" in readme


def test_lab_opens_the_first_notebook_of_the_syllabus():
    from course.learner import lab

    assert lab.FIRST_LESSON == f"notebooks/{syllabus.notebooks()[0].file}"


# -- what it refuses ----------------------------------------------------------------------------------

TINY = '''\
[[chapters]]
id = "first"
title = "First"
quiz = "quiz.toml"

[[chapters.notebooks]]
file = "a.ipynb"
title = "A"
learn = "what a teaches"
minutes = 5

[[chapters.exercises]]
id = "ex-one"
summary = "do one"

[[chapters]]
id = "second"
title = "Second"

[[chapters.notebooks]]
file = "b.ipynb"
title = "B"
learn = "what b teaches"
minutes = 10

[[chapters.exercises]]
id = "ex-two"
summary = "do two"
'''


def tiny_course(root: Path, text: str = TINY) -> Path:
    """Two chapters, a notebook and an exercise folder each, a quiz in the first."""
    for folder in ("notebooks", "chapters/first/exercises/ex-one", "chapters/second/exercises/ex-two"):
        (root / folder).mkdir(parents=True)
    for name in ("a.ipynb", "b.ipynb"):
        (root / "notebooks" / name).write_text("{}")
    (root / "chapters" / "first" / "quiz.toml").write_text("")
    (root / "syllabus.toml").write_text(text)
    return root


def test_the_tiny_course_loads(tmp_path):
    course = syllabus.load(tiny_course(tmp_path))
    assert [(c.id, c.number) for c in course.chapters] == [("first", 1), ("second", 2)]
    assert [(n.file, n.number) for n in course.notebooks()] == [("a.ipynb", 1), ("b.ipynb", 2)]
    assert course.chapter("2").exercises[0].id == "ex-two"
    assert course.chapter("first").quiz_path == tmp_path / "chapters" / "first" / "quiz.toml"


def _replace(old: str, new: str):
    def edit(root: Path) -> None:
        path = root / "syllabus.toml"
        text = path.read_text()
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new))
    return edit


def _prepend(text: str):
    def edit(root: Path) -> None:
        path = root / "syllabus.toml"
        path.write_text(text + path.read_text())
    return edit


def _make(relative: str):
    def edit(root: Path) -> None:
        target = root / relative
        if target.suffix:
            target.write_text("{}")
        else:
            target.mkdir(parents=True)
    return edit


REFUSED = {
    "unknown notebook file": (_replace('file = "b.ipynb"', 'file = "c.ipynb"'),
                              "chapter 2 ('second'), notebook 1 ('c.ipynb'): 'c.ipynb' is not a file in notebooks/"),
    "notebook not listed": (_make("notebooks/extra.ipynb"),
                            "the notebook notebooks/extra.ipynb is not listed in any chapter's notebooks"),
    "exercise folder missing": (_replace('id = "ex-two"', 'id = "ex-three"'),
                                "chapter 2 ('second'), exercise 1 ('ex-three'): no folder chapters/second/exercises/ex-three/"),
    "exercise folder not listed": (_make("chapters/second/exercises/ex-four"),
                                   "chapter 2 ('second'): the exercise folder chapters/second/exercises/ex-four/ "
                                   "is not listed in its exercises"),
    "duplicate chapter id": (_replace('id = "second"', 'id = "first"'),
                             "chapter 2 ('first'): id 'first' is already chapter 1"),
    "duplicate exercise id": (_replace('id = "ex-two"', 'id = "ex-one"'),
                              "chapter 2 ('second'), exercise 1 ('ex-one'): id 'ex-one' is already "
                              "chapter 1 ('first'), exercise 1 ('ex-one')"),
    "duplicate notebook": (_replace('file = "b.ipynb"', 'file = "a.ipynb"'),
                           "chapter 2 ('second'), notebook 1 ('a.ipynb'): 'a.ipynb' is already listed as "
                           "chapter 1 ('first'), notebook 1 ('a.ipynb')"),
    "chapter folder missing": (_replace('id = "second"', 'id = "third"'), "chapter 2 ('third'): no folder chapters/third/"),
    "chapter folder not listed": (_make("chapters/extra"),
                                  "the chapter folder chapters/extra/ is not listed (add a [[chapters]] entry)"),
    "quiz file missing": (_replace('quiz = "quiz.toml"', 'quiz = "bank.toml"'),
                          "chapter 1 ('first'): quiz 'bank.toml' is not a file in chapters/first/"),
    "missing key": (_replace('learn = "what b teaches"\n', ""), "chapter 2 ('second'), notebook 1 ('b.ipynb'): missing 'learn'"),
    "languages without English first": (_prepend('[[languages]]\ncode = "zh"\nname = "中文版"\nsphinx = "zh_CN"\n\n'),
                                        "the first [[languages]] entry must be English (code = \"en\"), the source of the others"),
    "a language without its Sphinx name": (_prepend('[[languages]]\ncode = "en"\nname = "English"\n\n'),
                                           "language 1: missing 'sphinx'"),
    "unknown key": (_replace("minutes = 10", "minutes = 10\nminute = 1"),
                    "chapter 2 ('second'), notebook 1 ('b.ipynb'): unknown key 'minute' (keys: file, title, learn, minutes)"),
    "minutes not a number": (_replace("minutes = 10", 'minutes = "10"'),
                             "chapter 2 ('second'), notebook 1 ('b.ipynb'): minutes must be a whole number of minutes, "
                             "e.g. minutes = 10"),
    "empty title": (_replace('title = "Second"', 'title = ""'), "chapter 2 ('second'): title must be a non-empty string"),
    "no chapters": (lambda root: (root / "syllabus.toml").write_text("# nothing yet\n"),
                    "has no chapters (add [[chapters]] tables)"),
    "not TOML": (_replace('[[chapters]]\nid = "second"', '[[chapters]\nid = "second"'), "not valid TOML ("),
    "no syllabus": (lambda root: (root / "syllabus.toml").unlink(), "cannot read the syllabus ("),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_syllabus_that_disagrees_with_the_files_is_refused_in_one_line(tmp_path, case):
    root = tiny_course(tmp_path)
    edit, message = REFUSED[case]
    edit(root)
    with pytest.raises(syllabus.SyllabusError) as refused:
        syllabus.load(root)
    text = str(refused.value)
    assert text.startswith(f"{root / 'syllabus.toml'}: {message}")
    assert "\n" not in text
    if not message.endswith("("):  # the parser's own words follow those two
        assert text == f"{root / 'syllabus.toml'}: {message}"


@pytest.mark.parametrize("argv", [["list"], ["show", "add-email"], ["check"], ["quiz", "1"]])
def test_the_command_says_the_syllabus_is_broken_and_exits_4(tmp_path, monkeypatch, capsys, argv):
    root = copy_course(tmp_path / "course")
    (root / "notebooks" / "99_draft.ipynb").write_text("{}")
    monkeypatch.setattr(syllabus, "ROOT", root)
    assert cli.main(argv) == cli.BROKEN == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"the course's syllabus is broken (a course bug, please report it): {root / 'syllabus.toml'}: "
                            "the notebook notebooks/99_draft.ipynb is not listed in any chapter's notebooks\n")


def test_a_broken_syllabus_ends_the_process_with_4_and_no_traceback(tmp_path):
    root = copy_course(tmp_path / "course")
    (root / "chapters" / "01_alembic_basics" / "exercises" / "new-one").mkdir()
    code = ("import sys; from course import cli, syllabus; "
            f"syllabus.ROOT = __import__('pathlib').Path({str(root)!r}); sys.exit(cli.main(['list']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "COURSE_PROGRESS_FILE": str(tmp_path / "p.json")})
    assert done.returncode == 4
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "exercise folder chapters/01_alembic_basics/exercises/new-one/ is not listed" in done.stderr


# -- a new chapter: one entry plus its files ------------------------------------------------------------

NEW_CHAPTER = '''
[[chapters]]
id = "zz_added"
title = "A chapter added by a test"
quiz = "quiz.toml"

[[chapters.notebooks]]
file = "99_added.ipynb"
title = "The added lesson"
learn = "that one entry is enough"
minutes = 5

[[chapters.exercises]]
id = "added-exercise"
summary = "prove that an exercise needs no number of its own"
'''

EXERCISE = '''\
id = "added-exercise"
title = "An exercise added by a test"
notebook = "99_added.ipynb"
stage = "0001"
files = [{ path = "alembic/env.py" }]
task = "Nothing to do."
hints = ["one", "two"]
[starter]
expect = "never checked"
'''

BANK = '''\
title = "Quiz: added by a test"
[[questions]]
id = "added-question"
lesson = "99_added.ipynb"
question = "Does the chapter need a number in its folder name?"
answer = "a"
explanation = "Its number is its position in the syllabus."
[questions.options]
a = "no"
b = "yes"
[questions.why_not]
b = "The folder is named zz_added."
'''


def _add_chapter(root: Path) -> None:
    """The new chapter's files (a notebook, an exercise, a quiz) and its syllabus entry, no more."""
    (root / "notebooks" / "99_added.ipynb").write_bytes((REPO / "notebooks" / "01_how_alembic_works.ipynb").read_bytes())
    chapter = root / "chapters" / "zz_added"
    exercise = chapter / "exercises" / "added-exercise"
    for folder in ("starter", "solution"):
        (exercise / folder).mkdir(parents=True)
        (exercise / folder / "env.py").write_text(f"# the {folder}\n")
    (exercise / "exercise.toml").write_text(EXERCISE)
    (chapter / "quiz.toml").write_text(BANK)
    with (root / syllabus.FILE).open("a", encoding="utf-8") as manifest:
        manifest.write(NEW_CHAPTER)


def _load_module(path: Path, name: str):
    """A fresh import of a test module, so its module-level lists are computed now."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_new_chapter_needs_one_entry_plus_its_files(tmp_path, monkeypatch, capsys):
    root = copy_course(tmp_path / "course")
    _add_chapter(root)
    monkeypatch.setattr(syllabus, "ROOT", root)

    # `course list`: last by position, whatever its folder is called
    n = len(syllabus.load(REPO).chapters) + 1
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert f"\nChapter {n}: A chapter added by a test  (zz_added)\n" in out
    assert f"  [    ] {n}.1  added-exercise  An exercise added by a test\n" in out
    assert f"  quiz: not taken yet  (course quiz {n})\n" in out
    assert cli.main(["show", f"{n}.1"]) == 0 and "[added-exercise, not done yet]" in capsys.readouterr().out
    assert exercises.find_chapter(str(n)) == quiz.resolve(str(n)) == "zz_added"
    assert [q.id for q in quiz.load_chapter(str(n)).questions] == ["added-question"]

    # the generated tables: out of date until regenerated, then the new chapter is in them
    assert syllabus.out_of_date(syllabus.current()) == [root / "README.md", root / "chapters" / "zz_added" / "README.md"]
    assert syllabus.main(["--check"]) == 1
    assert "out of date: README.md (run `python -m course.syllabus --write`)" in capsys.readouterr().out
    assert syllabus.main(["--write"]) == 0
    assert syllabus.main(["--check"]) == 0
    readme = (root / "README.md").read_text(encoding="utf-8")
    number = 99  # the number its file name starts with, as readers see it in the file browser
    assert (f"## Chapter {n}: A chapter added by a test\n\n| # | Notebook | What you learn | Time |\n|---|---|---|---|\n"
            f"| {number} | [The added lesson](notebooks/99_added.ipynb) | that one entry is enough | 5 min |\n\n"
            "Exercises and the quiz for the chapter: [chapters/zz_added](chapters/zz_added/README.md).\n") in readme
    page = (root / "chapters" / "zz_added" / "README.md").read_text(encoding="utf-8")
    assert page.startswith(f"# Chapter {n}: A chapter added by a test\n")
    assert "| 1 | `added-exercise` | prove that an exercise needs no number of its own |\n" in page

    # the notebook tests: the new lesson is run on the servers and checked for its stored outputs
    for module in ("test_notebooks_on_servers", "test_notebooks_meta"):
        listed = _load_module(REPO / "tests" / f"{module}.py", f"throwaway_{module}").NOTEBOOKS
        assert listed[-1] == root / "notebooks" / "99_added.ipynb"
        before = [path for path in syllabus.load(REPO).notebook_paths()
                  if module == "test_notebooks_meta" or not syllabus.notebook_engines(path)]  # servers' own run once
        assert listed == [root / "notebooks" / path.name for path in before] + [listed[-1]]

    # `make record` (no notebooks named) records it too, after the others
    from course.maintainer import record

    recorded = []

    class Pool:  # records nothing: the list it is given is the point
        def __init__(self, max_workers): pass
        def __enter__(self): return self
        def __exit__(self, *exc): return False
        def map(self, function, paths, *more): recorded.extend(paths); return [p.name for p in paths]

    monkeypatch.setattr(record, "ProcessPoolExecutor", Pool)
    assert record.main([]) == 0
    assert recorded == syllabus.current().notebook_paths() and recorded[-1].name == "99_added.ipynb"


def test_a_chapter_that_moves_is_renumbered_everywhere(tmp_path, monkeypatch, capsys):
    """Swap the first two chapters in the syllabus: chapter numbers, quiz numbers, the notebooks'
    order and the generated pages follow; no folder or file is renamed."""
    root = copy_course(tmp_path / "course")
    text = (root / syllabus.FILE).read_text(encoding="utf-8")
    head, first, second, *rest = text.split("[[chapters]]\n")
    (root / syllabus.FILE).write_text("[[chapters]]\n".join(
        [head, second.rstrip("\n") + "\n\n", first.rstrip("\n") + "\n\n", *rest]).rstrip("\n") + "\n")
    monkeypatch.setattr(syllabus, "ROOT", root)
    assert syllabus.chapter("1").id == "02_production" and quiz.resolve("2") == "01_alembic_basics"
    assert syllabus.notebooks()[0].file == "10_two_heads.ipynb" and syllabus.notebooks()[0].number == 1
    assert cli.main(["show", "1.1"]) == 0 and "[merge-heads, " in capsys.readouterr().out
    assert syllabus.main(["--write"]) == 0
    capsys.readouterr()
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert readme.index("## Chapter 1: Migrations in production") < readme.index("## Chapter 2: Alembic in a FastAPI project")
    # A notebook keeps the number its file name gives it (what the file browser shows); its place moves.
    assert "| 10 | [Two developers, two heads](notebooks/10_two_heads.ipynb) |" in readme
    assert (root / "chapters" / "02_production" / "README.md").read_text(encoding="utf-8").startswith(
        "# Chapter 1: Migrations in production\n")


def test_two_notebooks_may_not_read_as_the_same_number(tmp_path, monkeypatch):
    root = copy_course(tmp_path / "course")
    (root / "notebooks" / "09_engines_side_by_side.ipynb").rename(root / "notebooks" / "8a_engines.ipynb")
    path = root / "syllabus.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("09_engines_side_by_side.ipynb", "8a_engines.ipynb"),
                    encoding="utf-8")
    with pytest.raises(syllabus.SyllabusError, match="notebooks 08a_no_changes_detected.ipynb and 8a_engines.ipynb "
                                                     "both read as notebook 8a"):
        syllabus.load(root)


def test_reading_times_are_honest():
    """No notebook promises less time than its prose and visible code take (course.maintainer.reading)."""
    from course.maintainer import reading

    measured = reading.now()
    short = [f"{n.file}: {n.minutes} min, reads in {measured[n.file]['minutes']}"
             for n in syllabus.notebooks() if n.minutes < measured[n.file]["minutes"]]
    assert short == []
