"""The quiz banks, answer() for notebooks, the terminal quiz and the generated QUIZ.md."""

import inspect
import json
import re
from pathlib import Path

import pytest

from course import syllabus
from course.learner import quiz

CHAPTER = "01_alembic_basics"


@pytest.fixture
def bank() -> quiz.Bank:
    return quiz.load_chapter("1")


@pytest.fixture
def progress_file(tmp_path, monkeypatch) -> Path:
    file = tmp_path / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(file))
    return file


def scripted(*replies: str):
    """An `ask` that gives `replies` in turn, and the prompts it was given."""
    prompts: list[str] = []
    pending = iter(replies)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None  # like Ctrl-D in a terminal

    return ask, prompts


def wrong_letter(question: quiz.Question) -> str:
    return next(letter for letter in question.options if letter != question.answer)


# -- the bank ----------------------------------------------------------------------------------
def test_chapter_1_bank_is_valid(bank):
    assert len(bank.questions) >= 10
    ids = [q.id for q in bank.questions]
    assert ids[:2] == ["no-migration-script", "safest-rollback"]  # the article's two, corrected
    for question in bank.questions:
        assert list(question.options) == ["a", "b", "c", "d"]
        assert set(question.why_not) == set(question.options) - {question.answer}


def test_article_questions_are_corrected(bank):
    q1, q2 = bank.get("no-migration-script"), bank.get("safest-rollback")
    # Q1: "all of them" is not an option any more; the import cause is the answer.
    assert not any("all of" in text.lower() for text in q1.options.values())
    assert "imported" in q1.options[q1.answer]
    # Q2: B stays, but the explanation says the data goes either way.
    assert q2.options[q2.answer] == "`alembic downgrade 0001`"
    assert "same `downgrade()`" in q2.explanation and "Back up" in q2.explanation


@pytest.mark.parametrize("chapter", quiz.chapters())
def test_every_bank_has_ten_questions_each_wrong_option_explained(chapter):
    bank = quiz.load_chapter(chapter)
    assert len(bank.questions) >= 10
    for question in bank.questions:
        assert len(question.options) >= 4
        assert set(question.why_not) == set(question.options) - {question.answer}


def test_chapter_2_quiz_runs_all_right(progress_file):
    bank = quiz.load_chapter("2")
    assert bank.chapter == "02_production"
    lines: list[str] = []
    assert quiz.run("2", ask=scripted(*[q.answer for q in bank.questions])[0], out=lines.append) == 0
    assert f"Score: {len(bank.questions)}/{len(bank.questions)}." in lines


def test_question_ids_are_unique_across_banks():
    ids = [q.id for b in quiz.banks() for q in b.questions]
    assert len(ids) == len(set(ids))


GOOD = '''
title = "A quiz"

[[questions]]
id = "first"
question = "One?"
answer = "a"
explanation = "Because."
[questions.options]
a = "Yes"
b = "No"
[questions.why_not]
b = "Not no."

[[questions]]
id = "second"
question = "Two?"
answer = "b"
explanation = "Because."
[questions.options]
a = "Yes"
b = "No"
c = "Maybe"
[questions.why_not]
a = "Not yes."
c = "Not maybe."
'''

BROKEN = {
    "duplicate id": (GOOD.replace('id = "second"', 'id = "first"'),
                     "question 2: id 'first' is already used by question 1"),
    "answer not an option": (GOOD.replace('answer = "b"', 'answer = "e"'),
                             "question 2 ('second'): answer 'e' is not one of the options a, b, c"),
    "wrong option unexplained": (GOOD.replace('c = "Not maybe."', ''),
                                 "question 2 ('second'): wrong option 'c' has no why_not entry"),
    "right option explained in why_not": (GOOD.replace('a = "Not yes."', 'a = "Not yes."\nb = "?"'),
                                          "why_not explains 'b', which is the right answer"),
    "why_not for a letter that is no option": (GOOD.replace('b = "Not no."', 'b = "Not no."\nd = "?"'),
                                               "question 1 ('first'): why_not explains 'd', which is not an option"),
    "missing field": (GOOD.replace('explanation = "Because."\n[questions.options]\na = "Yes"\nb = "No"\nc',
                                   '[questions.options]\na = "Yes"\nb = "No"\nc'),
                      "question 2 ('second'): missing field 'explanation'"),
    "misspelt field": (GOOD.replace('question = "One?"', 'question = "One?"\nexplaination = "x"'),
                       "question 1 ('first'): unknown field 'explaination'"),
    "letters out of order": (GOOD.replace('c = "Maybe"', 'd = "Maybe"').replace('c = "Not maybe."', 'd = "x"'),
                             "options must be lettered a, b, c in order"),
    "not TOML": (GOOD + "\n[[questions]\n", "not valid TOML"),
    "no questions": ('title = "A quiz"\n', "has no questions"),
}


def test_a_good_bank_loads(tmp_path):
    path = tmp_path / "quiz.toml"
    path.write_text(GOOD)
    loaded = quiz.load(path)
    assert [q.id for q in loaded.questions] == ["first", "second"]
    assert loaded.questions[1].why_not == {"a": "Not yes.", "c": "Not maybe."}


@pytest.mark.parametrize("case", BROKEN)
def test_validation_names_file_and_question(tmp_path, case):
    text, expected = BROKEN[case]
    path = tmp_path / "quiz.toml"
    path.write_text(text)
    with pytest.raises(quiz.BankError) as raised:
        quiz.load(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert expected in str(raised.value)


# -- answer() in a notebook --------------------------------------------------------------------
def test_answer_right_case_insensitive(capsys):
    assert quiz.answer("safest-rollback", " B ") is None  # nothing for a notebook to echo
    out = capsys.readouterr().out
    assert out.startswith("Right: b) `alembic downgrade 0001`\n")
    assert "Back up" in out


def test_answer_wrong_explains_the_choice_and_the_answer(capsys, bank):
    question = bank.get("safest-rollback")
    quiz.answer("safest-rollback", "d")
    out = capsys.readouterr().out
    assert out.startswith("Not quite: d) Delete `0002_add_email_column.py`")
    assert "Can't locate revision identified by '0002'" in out  # why d is wrong
    assert "The answer is b) `alembic downgrade 0001`" in out
    assert out.index("Not quite") < out.index("The answer is")
    assert quiz.check(question, "d").correct is False and quiz.check(question, "b").correct is True


def test_answer_unknown_id_lists_the_questions(capsys, bank):
    quiz.answer("safest-rolback", "b")
    out = capsys.readouterr().out
    assert out.startswith("There is no question 'safest-rolback'. Did you mean 'safest-rollback'?")
    for question in bank.questions:
        assert question.id in out


def test_answer_bad_letter_lists_the_letters(capsys, bank):
    quiz.answer("version-table", "e")
    assert capsys.readouterr().out == "'e' is not an option of version-table: answer with one of a, b, c, d.\n"
    assert quiz.check(bank.get("version-table"), 3).correct is None


def test_question_prints_question_and_options(capsys):
    quiz.question("version-table")
    out = capsys.readouterr().out
    assert out.startswith("version-table: How does Alembic know")
    assert "\n  a) " in out and "\n  d) " in out


def test_answer_output_is_deterministic(capsys):
    quiz.answer("stamp-purpose", "b")
    first = capsys.readouterr().out
    quiz.answer("stamp-purpose", "b")
    assert capsys.readouterr().out == first
    assert max(len(line) for line in first.splitlines()) <= quiz.WIDTH


def test_the_placeholder_asks_for_a_letter_and_gives_nothing_away(capsys):
    for bank in quiz.banks():
        for question in bank.questions:
            quiz.answer(question.id, f" {quiz.PLACEHOLDER} ")
            out = capsys.readouterr().out
            assert out.startswith(f"{question.id}: put ") and f'"{quiz.PLACEHOLDER}"' in out
            assert all(f" {letter}" in out for letter in question.options)
            assert question.options[question.answer] not in out and "Right" not in out and "answer is" not in out


# -- the quiz in a notebook: questions asked, no answer stored -----------------------------------
QUESTION_CELL = re.compile(r'question\("([a-z0-9-]+)"\)')


def _code_cells(path: Path) -> list[tuple[str, str]]:
    """(source, stored output text) of each code cell of a notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        ("".join(c["source"]).strip(), "".join("".join(o.get("text", "")) for o in c["outputs"]))
        for c in cells if c["cell_type"] == "code"
    ]


@pytest.mark.parametrize("path", syllabus.current().notebook_paths(), ids=lambda p: p.name)
def test_a_notebook_stores_no_answer_to_a_question(path):
    """A reader who opens a notebook sees each question and an answer cell to fill in, never
    its answer: every question() cell is followed by answer(id, PLACEHOLDER), and no stored
    output holds a verdict or an explanation from any bank."""
    cells = _code_cells(path)
    known = {q.id: q for bank in quiz.banks() for q in bank.questions}
    stored = " ".join(" ".join(output for _, output in cells).split())
    assert "Right: " not in stored and "The answer is " not in stored
    for question in known.values():
        assert " ".join(question.explanation.split())[:80] not in stored, f"{question.id}'s explanation is stored"
    for index, (source, _) in enumerate(cells):
        asked = QUESTION_CELL.fullmatch(source)
        if asked:
            assert asked.group(1) in known, f"{path.name}: no question {asked.group(1)!r}"
            follows = cells[index + 1][0] if index + 1 < len(cells) else ""
            assert follows == f'answer("{asked.group(1)}", "{quiz.PLACEHOLDER}")', f"{path.name}: after {source}"


def test_the_quiz_notebook_asks_the_whole_chapter_quiz(bank):
    """Notebook 7 says it asks chapter 1's whole quiz: the claim stays true as the bank grows."""
    notebook = next(p for p in syllabus.current().notebook_paths() if p.name == "07_quiz.ipynb")
    asked = [m.group(1) for source, _ in _code_cells(notebook) if (m := QUESTION_CELL.fullmatch(source))]
    assert sorted(asked) == sorted(q.id for q in bank.questions)


# -- run() in a terminal -----------------------------------------------------------------------
def test_run_keeps_the_signature_the_cli_calls():
    assert list(inspect.signature(quiz.run).parameters) == ["chapter", "ask", "out", "restart"]


@pytest.mark.parametrize("chapter", ["1", "01", "01_alembic_basics"])
def test_run_all_right(progress_file, bank, chapter):
    ask, prompts = scripted(*[q.answer.upper() for q in bank.questions])
    lines: list[str] = []
    assert quiz.run(chapter, ask=ask, out=lines.append) == 0
    total = len(bank.questions)
    assert len(prompts) == total
    assert lines[-1] == f"Score: {total}/{total}."
    saved = json.loads(progress_file.read_text())["quizzes"][CHAPTER]
    assert saved == {"score": total, "total": total, "answered": total, "finished": True, "missed": [], "best": total}


def test_run_scores_wrong_answers_and_keeps_the_best(progress_file, bank):
    total = len(bank.questions)
    quiz.run("1", ask=scripted(*[q.answer for q in bank.questions])[0], out=lambda line: None)
    first, second = bank.questions[0], bank.questions[1]
    replies = [wrong_letter(first), wrong_letter(second), *[q.answer for q in bank.questions[2:]]]
    lines: list[str] = []
    assert quiz.run("1", ask=scripted(*replies)[0], out=lines.append) == 0
    assert f"Score: {total - 2}/{total}." in lines
    lessons = list(dict.fromkeys(f"notebooks/{q.lesson}" for q in (first, second)))
    assert f"To read again: {', '.join(lessons)}" in lines
    saved = json.loads(progress_file.read_text())["quizzes"][CHAPTER]
    assert saved["score"] == total - 2 and saved["missed"] == [first.id, second.id]
    assert saved["best"] == total  # the earlier, better attempt is kept


def test_run_asks_again_after_an_invalid_letter(progress_file, bank):
    first = bank.questions[0]
    ask, prompts = scripted("x", "", first.answer, "q")
    lines: list[str] = []
    assert quiz.run("1", ask=ask, out=lines.append) == 1  # stopped early
    assert len(prompts) == 4  # x, empty, the answer, then q at question 2
    assert "'x' is not an option: type one of a, b, c, d, or q to quit." in lines
    assert lines[-1] == (f"Stopped after 1 of {len(bank.questions)} questions: 1 right. "
                         "`course quiz 1` goes on from question 2.")
    saved = json.loads(progress_file.read_text())["quizzes"][CHAPTER]
    assert saved == {"score": 1, "total": len(bank.questions), "answered": 1, "finished": False, "missed": []}


def test_a_stopped_quiz_goes_on_where_it_stopped_with_its_score(progress_file, bank):
    total = len(bank.questions)
    first, second, third = bank.questions[:3]
    assert quiz.run("1", ask=scripted(first.answer, wrong_letter(second), "q")[0], out=lambda line: None) == 1
    ask, prompts = scripted(*[q.answer for q in bank.questions[2:]])
    lines: list[str] = []
    assert quiz.run("1", ask=ask, out=lines.append) == 0
    assert lines[0].startswith(f"{bank.title}: going on from question 3 of {total}, 1 right so far")
    assert f"Question 3/{total}" in lines[2] and len(prompts) == total - 2
    assert f"Score: {total - 1}/{total}." in lines
    saved = json.loads(progress_file.read_text())["quizzes"][CHAPTER]
    assert saved["finished"] is True and saved["best"] == total - 1 and saved["missed"] == [second.id]
    # finished: the next run starts at question 1 again; so does --restart after a stop
    assert quiz.run("1", ask=scripted("q")[0], out=(started := []).append) == 1
    assert started[0].startswith(f"{bank.title} ({total} questions)")
    quiz.run("1", ask=scripted(first.answer, "q")[0], out=lambda line: None)
    assert quiz.run("1", ask=scripted("q")[0], out=(again := []).append, restart=True) == 1
    assert again[0].startswith(f"{bank.title} ({total} questions)")


def test_run_quit_at_once_records_nothing(progress_file):
    assert quiz.run("1", ask=scripted("q")[0], out=lambda line: None) == 1
    assert not progress_file.exists()


def test_run_end_of_input_stops_cleanly(progress_file):
    assert quiz.run("1", ask=scripted()[0], out=lambda line: None) == 1


def test_run_unknown_chapter(progress_file):
    lines: list[str] = []
    assert quiz.run("7", ask=scripted()[0], out=lines.append) == 2
    with_quiz = ", ".join(f"{c.number} ({c.id})" for c in syllabus.chapters() if c.quiz_path)
    assert lines == [f"There is no quiz for chapter '7'. Chapters with a quiz: {with_quiz}."]
    assert with_quiz.startswith("1 (01_alembic_basics), 2 (02_production)")
    assert not progress_file.exists()


def test_run_broken_bank_exits_2(tmp_path, monkeypatch):
    # A course of one chapter whose folder has no number in its name: it is quiz 1 by position.
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "a.ipynb").write_text("{}")
    (tmp_path / "chapters" / "x").mkdir(parents=True)
    (tmp_path / "chapters" / "x" / "bank.toml").write_text(BROKEN["duplicate id"][0])
    (tmp_path / "syllabus.toml").write_text(
        '[[chapters]]\nid = "x"\ntitle = "X"\nquiz = "bank.toml"\n'
        '[[chapters.notebooks]]\nfile = "a.ipynb"\ntitle = "A"\nlearn = "a"\nminutes = 1\n'
    )
    monkeypatch.setattr(syllabus, "ROOT", tmp_path)
    lines: list[str] = []
    assert quiz.run("1", ask=scripted()[0], out=lines.append) == 2
    assert lines[0].startswith("error: ") and "already used" in lines[0]


def test_run_survives_a_corrupt_progress_file(progress_file, bank, capsys):
    progress_file.write_text("{not json")
    answers = [q.answer for q in bank.questions]
    assert quiz.run("1", ask=scripted(*answers)[0], out=lambda line: None) == 0
    [backup] = progress_file.parent.glob("progress.json.*.bad")
    assert backup.read_text() == "{not json"
    assert json.loads(progress_file.read_text())["quizzes"][CHAPTER]["finished"] is True
    assert "starts afresh" in capsys.readouterr().err


@pytest.mark.parametrize("text", [
    '[]', '{"quizzes": []}', '{"quizzes": {"01_alembic_basics": 3}}',
    '{"quizzes": {"01_alembic_basics": {"best": "many", "score": true}}}',
    '{"exercises": {"wire-env": {"done": "yes", "hints_shown": "2"}}, "last_exercise": 7}',
])
def test_a_progress_file_of_the_wrong_shape_is_kept_aside_and_the_rest_kept(progress_file, text, capsys):
    from course.learner import progress

    good = {"add-email": {"done": True, "hints_shown": 2}}
    data = json.loads(text)
    if isinstance(data, dict):
        data.setdefault("exercises", {}).update(good)
    progress_file.write_text(json.dumps(data))
    loaded = progress.load()
    [backup] = progress_file.parent.glob("progress.json.*.bad")
    assert json.loads(backup.read_text()) == data  # the learner's file, untouched
    assert "kept it as" in capsys.readouterr().err
    if isinstance(data, dict):
        assert loaded["exercises"]["add-email"] == good["add-email"]  # what was valid survives
    for entry in [*loaded["exercises"].values(), *loaded["quizzes"].values()]:
        assert all(not isinstance(v, str) or k == "checked_at" for k, v in entry.items())
    answers = [q.answer for q in quiz.load_chapter(CHAPTER).questions]
    assert quiz.run("1", ask=scripted(*answers)[0], out=lambda line: None) == 0
    assert json.loads(progress_file.read_text())["quizzes"][CHAPTER]["best"] == len(answers)


def test_run_when_progress_cannot_be_saved(tmp_path, monkeypatch, bank):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "a-file" / "progress.json"))
    lines: list[str] = []
    assert quiz.run("1", ask=scripted(*[q.answer for q in bank.questions])[0], out=lines.append) == 0
    assert lines[-1].startswith("note: progress not saved")


# -- QUIZ.md on GitHub -------------------------------------------------------------------------
def test_quiz_md_is_up_to_date():
    for bank in quiz.banks():
        target = bank.path.with_name(quiz.MARKDOWN_FILE)
        assert target.exists() and target.read_text(encoding="utf-8") == quiz.markdown(bank), (
            f"{target} is out of date with {bank.path}: run `python -m course.learner.quiz --write-markdown`"
        )


def test_quiz_md_folds_every_answer_away(bank):
    text = quiz.markdown(bank)
    assert text.count("<details>") == text.count("</details>") == len(bank.questions)
    for section in text.split("\n## ")[1:]:
        visible, _, folded = section.partition("<details>")
        assert "Why not the others" not in visible and "Why not the others" in folded


def test_every_question_names_the_lesson_that_teaches_it():
    for bank in quiz.banks():
        for item in bank.questions:
            assert item.lesson in [n.file for n in syllabus.chapter(bank.chapter).notebooks], f"{bank.path}: {item.id}"


def test_a_lesson_that_is_not_a_notebook_is_refused(tmp_path):
    bank = tmp_path / "quiz.toml"
    bank.write_text('''title = "t"
[[questions]]
id = "q"
lesson = "99_nowhere.ipynb"
question = "?"
answer = "a"
explanation = "because"
[questions.options]
a = "yes"
b = "no"
[questions.why_not]
b = "no"
''')
    with pytest.raises(quiz.BankError, match="lesson '99_nowhere.ipynb' is not a notebook in notebooks/"):
        quiz.load(bank)


def test_a_full_width_letter_from_a_chinese_keyboard_is_understood():
    question = quiz.banks()[0].questions[0]
    wide = chr(ord(question.answer) - ord("a") + ord("ａ"))
    assert quiz.check(question, wide).correct is True
