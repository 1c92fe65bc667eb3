"""Chapter quizzes: one bank per chapter (chapters/<chapter>/quiz.toml, named by the chapter's
`quiz` in syllabus.toml, which also numbers the chapters), three ways to take it.

- In a notebook: `question("version-table")` prints a question, `answer("version-table", "b")`
  says whether "b" is right and why (and why the chosen wrong option is wrong). The notebook
  ships each answer cell as `answer("version-table", "?")`, which asks for a letter: no
  stored output gives an answer away.
- In a terminal: `run("1")` asks every question of chapter 1, scores, records progress.
  `course quiz 1` (or `python -m course.learner.quiz 1`) does the same.
- On GitHub: chapters/<chapter>/QUIZ.md, generated from the bank with the answers folded away
  (`python -m course.learner.quiz --write-markdown`; a test fails when it is out of date).

A bank is validated when it is loaded, so a question with no right answer or a wrong option
left unexplained never reaches a reader: BankError names the file and the question.
"""

import difflib
import re
import unicodedata
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from course import i18n, syllabus
from course.i18n import _
from course.learner import progress

BANK_FILE = "quiz.toml"  # its usual name; syllabus.toml says which file each chapter's is
MARKDOWN_FILE = "QUIZ.md"
WIDTH = 88
FIELDS = ("id", "question", "options", "answer", "explanation", "why_not")
OPTIONAL = ("lesson",)  # the notebook that teaches it (notebooks/<lesson>), named when it was missed
LETTERS = "abcdefgh"  # never "q", which quits the terminal quiz
PLACEHOLDER = "?"  # the letter in a notebook's answer cell before the reader picks one
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class BankError(Exception):
    """A quiz bank is malformed; the message names the file and the question."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    options: dict[str, str]
    answer: str
    explanation: str
    why_not: dict[str, str]
    lesson: str = ""


@dataclass(frozen=True)
class Bank:
    chapter: str  # the chapter's directory name, e.g. "01_alembic_basics"
    title: str
    path: Path
    questions: tuple[Question, ...]

    def get(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class Feedback:
    """What answering a question gives back. correct is None when the answer was not understood
    (an unknown question id, or a letter that is not an option)."""

    correct: bool | None
    text: str


# -- loading and validating ---------------------------------------------------------------
def load(path: Path | str, chapter: str | None = None) -> Bank:
    """Read and validate one bank; raise BankError naming the file and the question."""
    path = Path(path)
    data = syllabus.read_toml(path, "the quiz bank", BankError)

    def fail(message: str) -> BankError:
        return BankError(f"{path}: {message}")

    unknown = sorted(set(data) - {"title", "questions"})
    if unknown:
        raise fail(f"unknown top-level key {unknown[0]!r} (expected title and [[questions]])")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("needs a title, e.g. title = \"Chapter 1 quiz: ...\"")
    entries = data.get("questions")
    if not isinstance(entries, list) or not entries:
        raise fail("has no questions (add [[questions]] tables)")

    questions: list[Question] = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(entries, 1):
        question = _question(entry, lambda message, n=number, e=entry: fail(_where(n, e) + message))
        if question.id in first_seen:
            raise fail(f"question {number}: id {question.id!r} is already used by question {first_seen[question.id]}")
        first_seen[question.id] = number
        questions.append(question)
    return Bank(chapter=chapter or path.parent.name, title=title.strip(), path=path, questions=tuple(questions))


def _where(number: int, entry: object) -> str:
    qid = entry.get("id") if isinstance(entry, dict) else None
    return f"question {number} ({qid!r}): " if isinstance(qid, str) else f"question {number}: "


def _question(entry: object, fail: Callable[[str], BankError]) -> Question:
    if not isinstance(entry, dict):
        raise fail("is not a table")
    unknown = sorted(set(entry) - set(FIELDS) - set(OPTIONAL))
    if unknown:
        raise fail(f"unknown field {unknown[0]!r} (fields: {', '.join(FIELDS + OPTIONAL)})")
    lesson = entry.get("lesson", "")
    if lesson and (not isinstance(lesson, str) or not (syllabus.ROOT / syllabus.NOTEBOOKS / lesson).is_file()):
        raise fail(f"lesson {lesson!r} is not a notebook in notebooks/")
    missing = [name for name in FIELDS if name not in entry]
    if missing:
        raise fail(f"missing field {missing[0]!r}")
    for name in ("id", "question", "answer", "explanation"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise fail(f"{name} must be a non-empty string")
    qid = entry["id"].strip()
    if not SLUG.fullmatch(qid):
        raise fail(f"id {qid!r} must be a short slug: lowercase letters, digits and '-'")

    options = _letter_table(entry["options"], "options", fail)
    if len(options) < 2:
        raise fail("needs at least two options")
    if list(options) != list(LETTERS[: len(options)]):
        raise fail(f"options must be lettered {', '.join(LETTERS[: len(options)])} in order (got {', '.join(options)})")
    right = entry["answer"].strip()
    if right not in options:
        raise fail(f"answer {right!r} is not one of the options {', '.join(options)}")

    why_not = _letter_table(entry["why_not"], "why_not", fail)
    if right in why_not:
        raise fail(f"why_not explains {right!r}, which is the right answer (that goes in explanation)")
    strays = [letter for letter in why_not if letter not in options]
    if strays:
        raise fail(f"why_not explains {strays[0]!r}, which is not an option")
    unexplained = [letter for letter in options if letter != right and letter not in why_not]
    if unexplained:
        raise fail(f"wrong option {unexplained[0]!r} has no why_not entry: say why it is wrong")
    return Question(
        id=qid,
        question=entry["question"].strip(),
        options=options,
        answer=right,
        explanation=entry["explanation"].strip(),
        why_not={letter: why_not[letter] for letter in options if letter in why_not},
        lesson=lesson,
    )


def _letter_table(value: object, name: str, fail: Callable[[str], BankError]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise fail(f"{name} must be a table of letter = text")
    table: dict[str, str] = {}
    for letter, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise fail(f"{name}.{letter} must be a non-empty string")
        table[letter] = text.strip()
    return table


# -- finding banks ----------------------------------------------------------------------------
def _with_quiz() -> list[syllabus.Chapter]:
    return [c for c in syllabus.chapters() if c.quiz]


def chapters() -> list[str]:
    """The chapters that have a quiz, by id, in syllabus order."""
    return [c.id for c in _with_quiz()]


def _chapter(chapter: str) -> syllabus.Chapter | None:
    try:
        found = syllabus.chapter(chapter)
    except syllabus.UnknownChapter:
        return None
    return found if found.quiz else None


def resolve(chapter: str) -> str | None:
    """'1', '01' or '01_alembic_basics' -> '01_alembic_basics'; None if there is no such quiz."""
    found = _chapter(chapter)
    return found.id if found else None


def _number(chapter: str) -> str:
    """The chapter's number: its position in the syllabus."""
    return str(syllabus.chapter(chapter).number)


def _valid_chapters() -> str:
    return syllabus.current().listing(_with_quiz())


def _bank(chapter: syllabus.Chapter) -> Bank:
    return in_language(load(chapter.quiz_path, chapter=chapter.id))


def in_language(bank: Bank, language: str | None = None) -> Bank:
    """The bank in the language the course speaks (course/i18n.py); a text without a usable
    translation stays English. The catalogue is the chapter's (locale/<language>/chapters/)."""
    language = language or i18n.language()
    if language == i18n.SOURCE:
        return bank
    domain = f"chapters/{bank.chapter}"

    def text(context: str, english: str) -> str:
        return i18n.translate(domain, context, english.strip(), language)

    def letters(kind: str, question: Question, table: dict[str, str]) -> dict[str, str]:
        return {letter: text(f"quiz {question.id} {kind} {letter}", value) for letter, value in table.items()}

    questions = tuple(
        replace(q, question=text(f"quiz {q.id} question", q.question), options=letters("option", q, q.options),
                explanation=text(f"quiz {q.id} explanation", q.explanation), why_not=letters("why_not", q, q.why_not))
        for q in bank.questions
    )
    return replace(bank, title=text("quiz title", bank.title), questions=questions)


def markdown_in(chapter: str, language: str) -> str:
    """QUIZ.md of a chapter in another language (course/maintainer/translate.py writes it)."""
    with i18n.speaking(language):
        return markdown(load_chapter(chapter))


def load_chapter(chapter: str) -> Bank:
    found = _chapter(chapter)
    if found is None:
        raise BankError(f"no quiz for chapter {chapter!r}; chapters with a quiz: {_valid_chapters()}")
    return _bank(found)


def banks() -> list[Bank]:
    """Every chapter's bank; question ids must be unique across all of them (answer() takes an id)."""
    loaded = [_bank(c) for c in _with_quiz()]
    owner: dict[str, Bank] = {}
    for bank in loaded:
        for question in bank.questions:
            if question.id in owner:
                raise BankError(f"{bank.path}: question id {question.id!r} is also used in {owner[question.id].path}")
            owner[question.id] = bank
    return loaded


# -- text ---------------------------------------------------------------------------------------
def _paragraphs(text: str) -> list[str]:
    """Split on blank lines; join the lines of each paragraph (authors may wrap them freely)."""
    return [" ".join(line.strip() for line in block.splitlines()) for block in re.split(r"\n\s*\n", text.strip())]


CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_KEEP = "\x00"  # stands for a space inside `code` while wrapping, so code is never split


def _wrap(text: str, first: str = "", rest: str = "") -> str:
    """Wrap every paragraph to WIDTH; `first` prefixes the first line, `rest` the others."""
    out = []
    for i, paragraph in enumerate(_paragraphs(text)):
        if CJK.search(paragraph):  # no spaces to break at: the terminal wraps it
            out.append((first if i == 0 else rest) + paragraph)
            continue
        kept = re.sub(r"`[^`]*`", lambda m: m.group().replace(" ", _KEEP), paragraph)
        wrapped = textwrap.fill(
            kept, WIDTH, initial_indent=first if i == 0 else rest, subsequent_indent=rest,
            break_long_words=False, break_on_hyphens=False,
        )
        out.append(wrapped.replace(_KEEP, " "))
    return "\n\n".join(out)


def format_question(question: Question, heading: str | None = None) -> str:
    """The question and its options, as printed in a notebook or a terminal."""
    lines = [_wrap(question.question, first=_("{heading}: ").format(heading=heading or question.id), rest="")]
    for letter, text in question.options.items():
        lines.append(_wrap(text, first=f"  {letter}) ", rest="     "))
    return "\n".join(lines)


def check(question: Question, letter: object) -> Feedback:
    """Judge an answer to `question`. The letter is case-insensitive; anything else is explained."""
    choice = unicodedata.normalize("NFKC", str(letter)).strip().lower()  # ａ from a full-width keyboard is a
    options = question.options
    right = f"{question.answer}) {options[question.answer]}"
    if choice not in options:
        valid = ", ".join(options)
        return Feedback(None, _("{letter} is not an option of {id}: answer with one of {valid}.").format(
            letter=repr(str(letter).strip()), id=question.id, valid=valid))
    if choice == question.answer:
        return Feedback(True, _wrap(_("Right: {answer}").format(answer=right)) + "\n" + _wrap(question.explanation))
    text = "\n".join([
        _wrap(_("Not quite: {answer}").format(answer=f"{choice}) {options[choice]}")),
        _wrap(question.why_not[choice]),
        "",
        _wrap(_("The answer is {answer}").format(answer=right)),
        _wrap(question.explanation),
    ])
    return Feedback(False, text)


# -- in a notebook ------------------------------------------------------------------------------
def _lookup(question_id: object) -> tuple[Question | None, str]:
    """The question with this id in any chapter's bank, or None and a message saying what exists."""
    known = {q.id: q for bank in banks() for q in bank.questions}
    qid = str(question_id).strip()
    if qid in known:
        return known[qid], ""
    close = difflib.get_close_matches(qid, list(known), n=1)
    hint = _(" Did you mean {id}?").format(id=repr(close[0])) if close else ""
    listing = _wrap(", ".join(known), first=_("Questions: "), rest="  ")
    return None, _("There is no question {id}.").format(id=repr(qid)) + f"{hint}\n{listing}"


def question(question_id: str) -> None:
    """Print a question and its options (nothing is returned, so a notebook shows only the text)."""
    found, message = _lookup(question_id)
    print(format_question(found) if found else message)


def answer(question_id: str, letter: str) -> None:
    """Print whether `letter` answers the question, why, and why a wrong choice is wrong.

    The letter PLACEHOLDER ("?") is how a notebook ships an answer cell: run as it is, the
    cell asks for a letter and gives nothing away, so its stored output cannot spoil the
    question for the next reader.

    Mistyped ids and letters are explained, never raised: a notebook cell shows a message
    instead of a traceback. Use check() when you need the verdict as a value.
    """
    found, message = _lookup(question_id)
    if found is None:
        print(message)
    elif str(letter).strip() == PLACEHOLDER:
        print(ask_for_letter(found))
    else:
        print(check(found, letter).text)


def ask_for_letter(question: Question) -> str:
    """What an answer cell that still holds the placeholder says: which letters, and what to do."""
    letters = list(question.options)
    choices = _("{first} or {last}").format(first=", ".join(letters[:-1]), last=letters[-1])
    return _wrap(_('{id}: put {choices} in place of the "{placeholder}" and run this cell.').format(
        id=question.id, choices=choices, placeholder=PLACEHOLDER))


# -- in a terminal ------------------------------------------------------------------------------
def run(chapter: str, ask: Callable[[str], str] = input, out: Callable[[str], None] = print,
        restart: bool = False) -> int:
    """Ask every question of a chapter's quiz, score the answers, record them in the progress file.

    `ask` reads one answer (given the prompt), `out` prints one message: the defaults are the
    terminal, tests pass scripted ones. An invalid letter is asked again; "q" (or end of input)
    stops, and the next run goes on from the question after the last one answered, with the
    score so far (`restart=True` starts again at question 1). Exit status: 0 when every
    question was answered, 1 when stopped early, 2 when the chapter has no quiz (or its bank, or
    the syllabus, is broken).
    """
    try:
        found = _chapter(chapter)
        if found is None:
            out(_("There is no quiz for chapter {chapter}. Chapters with a quiz: {chapters}.").format(
                chapter=repr(str(chapter)), chapters=_valid_chapters()))
            return 2
        bank = _bank(found)
    except (BankError, syllabus.SyllabusError) as exc:
        out(_("error: {problem}").format(problem=exc))
        return 2
    name = found.id

    total = len(bank.questions)
    score, missed, answered = 0, [], 0
    saved = progress.load()["quizzes"].get(name, {})
    if not restart and not saved.get("finished", True) and 0 < saved.get("answered", 0) < total:
        answered, score = saved["answered"], saved.get("score", 0)
        missed = [m for m in saved.get("missed", []) if isinstance(m, str) and bank.get(m)]
        out(_("{title}: going on from question {number} of {total}, {score} right so far (`{command}` starts "
              "again). Answer with a letter; q quits.").format(
            title=bank.title, number=answered + 1, total=total, score=score,
            command=f"course quiz {_number(name)} --restart"))
    else:
        out(_("{title} ({total} questions). Answer each with its letter; q quits.").format(title=bank.title, total=total))
    started_at = answered
    for number, item in enumerate(bank.questions[answered:], answered + 1):
        out("")
        out(format_question(item, heading=_("Question {number}/{total}").format(number=number, total=total)))
        choice = _read_letter(item, ask, out)
        if choice is None:
            break
        feedback = check(item, choice)
        out("")
        out(feedback.text)
        answered += 1
        if feedback.correct:
            score += 1
        else:
            missed.append(item.id)

    finished = answered == total
    out("")
    if finished:
        out(_("Score: {score}/{total}.").format(score=score, total=total))
    else:
        out(_("Stopped after {answered} of {total} questions: {score} right. `{command}` goes on from question "
              "{number}.").format(answered=answered, total=total, score=score,
                                  command=f"course quiz {_number(name)}", number=answered + 1))
    if missed:
        out(_wrap(", ".join(_read_again(bank, missed)), first=_("To read again: "), rest="  "))
    if answered > started_at:
        _record(name, score=score, total=total, answered=answered, finished=finished, missed=missed, out=out)
    return 0 if finished else 1


def _read_again(bank: Bank, missed: list[str]) -> list[str]:
    """The lessons behind the missed questions, each once, in the order of the quiz."""
    lessons: list[str] = []
    for question_id in missed:
        item = bank.get(question_id)
        lesson = syllabus.notebook_to_read(item.lesson) if item.lesson else question_id
        if lesson not in lessons:
            lessons.append(lesson)
    return lessons


def _read_letter(item: Question, ask: Callable[[str], str], out: Callable[[str], None]) -> str | None:
    letters = ", ".join(item.options)
    while True:
        try:
            raw = ask(_("Your answer ({letters}; q to quit): ").format(letters=letters))
        except (EOFError, KeyboardInterrupt):
            out("")
            return None
        # a Chinese keyboard in full-width mode types ａ and ｑ: NFKC makes them a and q
        choice = unicodedata.normalize("NFKC", raw).strip().lower()
        if choice in ("q", "quit"):
            return None
        if choice in item.options:
            return choice
        out(_("{answer} is not an option: type one of {letters}, or q to quit.").format(
            answer=repr(raw.strip()), letters=letters))


def _record(chapter: str, *, score: int, total: int, answered: int, finished: bool, missed: list[str],
            out: Callable[[str], None]) -> None:
    try:
        best = progress.load()["quizzes"].get(chapter, {}).get("best", 0)
        result = {"score": score, "total": total, "answered": answered, "finished": finished, "missed": missed}
        if finished:
            result["best"] = max(score, best if isinstance(best, int) else 0)
        progress.update("quizzes", chapter, result)
    except OSError as exc:  # a read-only checkout must not end the quiz in a traceback
        out(_("note: progress not saved ({problem})").format(problem=exc))


# -- on GitHub ----------------------------------------------------------------------------------
def details(summary: str, body: list[str]) -> list[str]:
    """GitHub's way to fold: a <details> element, whose Markdown inside GitHub renders."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def markdown(bank: Bank, fold: Callable[[str, list[str]], list[str]] = details, generated: bool = True) -> str:
    """The bank as Markdown: questions readable as they are, answers folded away by `fold`
    (summary, body lines) -> lines: <details> for GitHub, a dropdown for the website
    (course/maintainer/site.py). `generated`: say in a comment how the file is regenerated."""
    number = _number(bank.chapter)
    comment = [f"<!-- Generated from {bank.path.name} by `python -m course.learner.quiz --write-markdown`: "
               "edit the bank, then regenerate. -->", ""] if generated else []
    lines = [
        f"# {bank.title}",
        "",
        *comment,
        _("{count} questions. Each answer is folded away: decide first, then open it.").format(count=len(bank.questions)),
        _("To take the quiz in a terminal, with a score: `{command}`.").format(command=f"course quiz {number}"),
    ]
    for index, item in enumerate(bank.questions, 1):
        lines += ["", f"## {index}. `{item.id}`", "", *_md_paragraphs(item.question), ""]
        lines += [f"- **{letter})** {' '.join(_paragraphs(text))}" for letter, text in item.options.items()]
        body = [
            f"**{item.answer})** {' '.join(_paragraphs(item.options[item.answer]))}", "",
            *_md_paragraphs(item.explanation), "",
            *([_("Read again: [{lesson}]({link})").format(lesson=item.lesson, link=f"../../notebooks/{item.lesson}"), ""]
              if item.lesson else []),
            _("Why not the others:"), "",
        ]
        for letter, text in item.why_not.items():
            body.append(f"- **{letter})** " + "\n\n  ".join(_paragraphs(text)))
        lines += ["", *fold(_("Answer"), body)]
    return "\n".join(lines) + "\n"


def _md_paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in _paragraphs(text):
        out += [paragraph, ""]
    return out[:-1]


def write_markdown() -> list[Path]:
    """Regenerate QUIZ.md next to every bank; returns the files written."""
    written = []
    with i18n.speaking(i18n.SOURCE):
        loaded = banks()
    for bank in loaded:
        target = bank.path.with_name(MARKDOWN_FILE)
        target.write_text(markdown(bank), encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    if argv == ["--write-markdown"]:
        for target in write_markdown():
            print(f"wrote {target.relative_to(syllabus.ROOT)}")
        return 0
    if len(argv) == 1 and not argv[0].startswith("-"):
        return run(argv[0])
    print("usage: python -m course.learner.quiz CHAPTER    (take a chapter's quiz, e.g. 1)\n"
          "       python -m course.learner.quiz --write-markdown    (regenerate every QUIZ.md)\n"
          f"chapters with a quiz: {_valid_chapters()}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
