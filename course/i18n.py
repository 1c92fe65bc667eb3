"""The course in more than one language: which one to speak, and its translations.

English is the source everywhere: the notebooks, exercise.toml, quiz.toml, the pages, the
messages of the `course` command and of the checks. A translation is a set of gettext
catalogues (PO files, the format translators' tools read) under locale/<language>/, read and
written with Babel:

    locale/zh/notebooks/<notebook>.po   the paragraphs of one notebook's Markdown cells
    locale/zh/chapters/<chapter id>.po  a chapter's syllabus entries, exercises, quiz and pages
    locale/zh/course.po                 the root README
    locale/zh/messages.po               what the `course` command and the checks print

Each entry maps one English text (its msgid) to its translation (its msgstr). Content entries
carry where the text sits as their context (msgctxt: a notebook cell's id and the paragraph's
place in it, or "exercise add-email task"), so that a changed English text finds exactly its
own old translation, which `python -m course.maintainer.translate update` keeps but marks
fuzzy (stale) until a translator has looked at it. A fuzzy or missing translation is never
shown: the English text is, and the tests fail until it is done.

Which language: `--lang` on the `course` command (which sets COURSE_LANGUAGE for the steps it
starts), else COURSE_LANGUAGE, else the locale (LC_ALL, LC_MESSAGES, LANG: zh_CN.UTF-8 is
Chinese), else English.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from pathlib import Path

from course import REPO

SOURCE = "en"


def _editions() -> dict[str, dict[str, str]]:
    """syllabus.toml's [[languages]]: {code: {code, name, sphinx}}, English first. Read here,
    without the syllabus's validation (course/syllabus.py checks them), because settings and
    the `course` command need them before anything else is loaded."""
    import tomllib

    try:
        data = tomllib.loads((REPO / "syllabus.toml").read_text(encoding="utf-8"))
        return {entry["code"]: entry for entry in data.get("languages", [])} or {SOURCE: {"code": SOURCE}}
    except (OSError, ValueError, KeyError, TypeError):  # a broken syllabus is reported where it is loaded
        return {SOURCE: {"code": SOURCE, "name": "English", "sphinx": "en"}}


EDITIONS = _editions()
LANGUAGES = {code: entry.get("name", code) for code, entry in EDITIONS.items()}  # code -> its own name
LOCALE = REPO / "locale"
VARIABLE = "COURSE_LANGUAGE"  # course/settings.py reads it (CourseSettings.language)


class LanguageError(ValueError):
    """A language the course does not have."""


def language_code(value: str) -> str | None:
    """The course's code for a language as people write it: zh, ZH, zh_CN, zh-CN.UTF-8 -> zh;
    None if the course does not have it."""
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def check_language(value: str, where: str) -> str:
    code = language_code(value)
    if code is None:
        raise LanguageError(_("{where}={value} is not a language of this course; choose from {languages}").format(
            where=where, value=repr(value), languages=", ".join(LANGUAGES)))
    return code


def from_locale(value: str) -> str | None:
    """'zh_CN.UTF-8' -> 'zh'; 'C.UTF-8', 'en_GB' or '' -> None (no translation wanted)."""
    code = language_code(value)
    return code if code != SOURCE else None


_speaking: contextvars.ContextVar[str | None] = contextvars.ContextVar("speaking", default=None)


@contextlib.contextmanager
def speaking(code: str):
    """Speak `code` inside the block, whatever the environment says (to write a page in it)."""
    token = _speaking.set(code)
    try:
        yield
    finally:
        _speaking.reset(token)


def language() -> str:
    """The language to speak now (read at each call: `--lang` sets it while the process runs)."""
    if _speaking.get():
        return _speaking.get()
    from course import settings  # SettingsError names the variable when its value is not a language

    try:
        chosen = settings.current().language
    except settings.SettingsError:
        # some setting cannot be used (the command says which, and stops): its message is
        # still said in the locale's language
        chosen = None
    if chosen:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):  # POSIX's order: the first one set decides
        value = os.environ.get(name, "").strip()
        if value:
            return from_locale(value) or SOURCE
    return SOURCE


def catalogue_path(language_code: str, domain: str) -> Path:
    return LOCALE / language_code / f"{domain}.po"


@functools.lru_cache(maxsize=64)
def _translations(path: Path, mtime: float) -> dict[tuple[str | None, str], str]:
    """{(context, English): translation} of one PO file, fuzzy and empty entries left out."""
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalogue = read_po(handle)
    return {
        (message.context, message.id): message.string
        for message in catalogue
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }


def translations(language_code: str, domain: str) -> dict[tuple[str | None, str], str]:
    """The usable translations of a catalogue ({} for English, or when it does not exist)."""
    if language_code == SOURCE:
        return {}
    path = catalogue_path(language_code, domain)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return {}
    return _translations(path, mtime)


def translate(domain: str, context: str | None, english: str, language_code: str | None = None) -> str:
    """One content text in the language (the English when it has no usable translation)."""
    language_code = language_code or language()
    return translations(language_code, domain).get((context, english), english)


class Text(str):
    """A message in the language it is shown in, which remembers its English source.

    The checks' expected messages (exercise.toml's `expect`) are matched on `english`, the
    message as its English msgid renders, so that one wrong attempt is proven in any language.
    """

    english: str

    def __new__(cls, shown: str, english: str):
        text = super().__new__(cls, shown)
        text.english = english
        return text

    def format(self, *args, **kwargs) -> "Text":
        return Text(
            str.format(self, *args, **kwargs),
            self.english.format(*map(english_of, args), **{key: english_of(value) for key, value in kwargs.items()}),
        )


    # What the checks do to a message keeps its English source beside it.
    def replace(self, old: str, new: str, count: int = -1) -> "Text":
        return Text(str.replace(self, old, new, count), self.english.replace(old, new, count))

    def strip(self, chars: str | None = None) -> "Text":
        return Text(str.strip(self, chars), self.english.strip(chars))

    def rstrip(self, chars: str | None = None) -> "Text":
        return Text(str.rstrip(self, chars), self.english.rstrip(chars))

    def __add__(self, other: str) -> "Text":
        return Text(str.__add__(self, other), self.english + english_of(other))

    def __radd__(self, other: str) -> "Text":
        return Text(other + str(self), other + self.english)

    def join(self, items) -> "Text":
        items = list(items)
        return Text(str.join(self, items), self.english.join(str(english_of(i)) for i in items))


def as_text(value: object) -> Text:
    """A Text of any value: itself, the message a Fail was raised with, or str(value) in both languages."""
    if isinstance(value, Text):
        return value
    if isinstance(value, BaseException) and len(value.args) == 1 and isinstance(value.args[0], Text):
        return value.args[0]
    return Text(str(value), str(value))


def english_of(value: object) -> object:
    """A Text's English source (also of an exception raised with one, a check's Fail); any
    other value as it is."""
    return as_text(value).english if isinstance(value, (Text, BaseException)) else value


def to_json(value: object) -> object:
    """`value` with every Text in it as {"text": ..., "english": ...}, for a step that sends its
    value to the check in JSON (course/learner/learner_code.py): a Text is a str, which JSON
    would write as its shown text only."""
    if isinstance(value, Text):
        return {"__text__": str(value), "english": value.english}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def from_json(value: object) -> object:
    """What to_json wrote, with its Texts back."""
    if isinstance(value, dict):
        if "__text__" in value and set(value) == {"__text__", "english"}:
            return Text(value["__text__"], value["english"])
        return {key: from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value


def join(separator: str, items) -> Text:
    """separator.join(items), keeping the English of the Texts among them."""
    return Text(separator, separator).join(items)


# -- comments in code that is shown (a reference solution) ------------------------------------------

def comment_blocks(source: str) -> list[tuple[int, int, int, str]]:
    """The comments of Python source: (first line, last line, column, text without the "# "),
    consecutive whole-line comments at one column as one block, a comment after code alone.
    Lines count from 0."""
    import io
    import tokenize

    found: list[list] = []
    lines = source.split("\n")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        row, column = token.start[0] - 1, token.start[1]
        text = token.string[1:].strip()
        if not text or text.startswith("##"):
            continue
        whole_line = not lines[row][:column].strip()
        if (whole_line and found and found[-1][4] and found[-1][1] == row - 1 and found[-1][2] == column):
            found[-1][1] = row
            found[-1][3] += "\n" + text
        else:
            found.append([row, row, column, text, whole_line])
    return [(first, last, column, text) for first, last, column, text, _whole in found]


def with_comments_translated(source: str, domain: str, context: str, language_code: str | None = None) -> str:
    """Python source with each comment block in the language (translations under
    "<context> <n>"); the code itself unchanged."""
    language_code = language_code or language()
    if language_code == SOURCE:
        return source
    lines = source.split("\n")
    for number, (first, last, column, text) in reversed(list(enumerate(comment_blocks(source)))):
        translated = translate(domain, f"{context} {number}", text, language_code)
        if translated == text:
            continue
        if first == last and lines[first][:column].strip():  # after code: one line
            lines[first] = lines[first][:column] + "# " + " ".join(translated.split("\n"))
        else:
            indent = lines[first][:column]
            lines[first:last + 1] = [indent + "# " + line for line in translated.split("\n")]
    return "\n".join(lines)


def _(message: str) -> Text:
    """A message of the `course` command or of a check, in the language to speak (gettext's
    name, which Babel's extractor looks for)."""
    return Text(translate("messages", None, message), message)
