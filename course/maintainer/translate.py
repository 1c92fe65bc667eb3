"""Keep the course's translations in step with its English source (see course/i18n.py).

    python -m course.maintainer.translate update [LANGUAGE]  catalogues follow the English text
    python -m course.maintainer.translate build [LANGUAGE]   write the translated edition
    python -m course.maintainer.translate status [LANGUAGE]  what is missing or stale (exit 1 if any)

`update` reads every English text the course shows (the notebooks' Markdown, paragraph by
paragraph; the pages; exercise.toml, quiz.toml and syllabus.toml; the messages in the code)
and brings each catalogue in line with it:
  - an unchanged text keeps its translation;
  - a changed text (same place, new English) keeps its old translation marked fuzzy, with the
    English it translated (`#| msgid`) beside it, so the translator sees what changed;
  - a moved text (same English, new place) keeps its translation as it is;
  - a new text gets an empty entry; a removed one goes.
`build` writes the edition: notebooks/<language>/ (each notebook with its Markdown translated
and its code cells and outputs the English notebook's own), the pages in
chapters/<chapter>/<language>/ and README.<language>.md, links pointed at the translated pages
and their anchors at the translated headings. Untranslated text stays English until it is
done. tests/test_translation.py fails while anything is missing, stale or not built.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from course import REPO, i18n, syllabus

# -- Markdown, block by block ------------------------------------------------------------------

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
LINK = re.compile(r"(!?\[(?:[^\]\\]|\\.)*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
HTML_LINK = re.compile(r"""((?:href|src)=")([^"]+)(")""")
GENERATED_MARK = re.compile(r"^<!--.*-->$", re.S)


@dataclass(frozen=True)
class Block:
    """A run of lines between blank lines: a paragraph, a heading, a list, a table, a fenced
    code block. `text` is dedented; `indent` is what each of its lines had in front; `lines`
    is where it sits in the text (start, end)."""

    text: str
    indent: str
    translatable: bool
    lines: tuple[int, int]


def blocks(markdown: str) -> list[Block]:
    lines = markdown.split("\n")
    spans, start, fenced = [], None, False
    for number, line in enumerate(lines):
        fence = FENCE.match(line) is not None
        if not fenced and not fence and not line.strip():
            if start is not None:
                spans.append((start, number))
                start = None
            continue
        if fence:
            fenced = not fenced
        if start is None:
            start = number
    if start is not None:
        spans.append((start, len(lines)))
    out = []
    for begin, end in spans:
        group = lines[begin:end]
        indent = min((len(line) - len(line.lstrip(" ")) for line in group if line.strip()), default=0)
        text = "\n".join(line[indent:] for line in group)
        translatable = not FENCE.match(text) and not GENERATED_MARK.match(text.strip()) and has_prose(text)
        out.append(Block(text, " " * indent, translatable, (begin, end)))
    return out


def has_prose(text: str) -> bool:
    """Has it words to translate (outside code spans, link targets and HTML tags)?"""
    return re.search(r"[^\W\d_]", re.sub(r"\]\([^)]*\)|<[^>]*>|`[^`]*`", "", text)) is not None


def replace_blocks(markdown: str, parts: list[Block], texts: list[str]) -> str:
    """The text with each block's lines replaced by its new text (indented as it was); the blank
    lines between blocks stay as they were."""
    lines = markdown.split("\n")
    for block, text in reversed(list(zip(parts, texts))):
        begin, end = block.lines
        lines[begin:end] = [block.indent + line if line else line for line in text.split("\n")]
    return "\n".join(lines)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading (before de-duplication)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def heading_anchors(markdown: str) -> list[str]:
    """The anchors of a text's ATX headings, in order, repeated ones suffixed as GitHub does."""
    seen: dict[str, int] = {}
    found, fenced = [], False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.append(slug if count == 0 else f"{slug}-{count}")
    return found


# -- what there is to translate -----------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    context: str
    english: str
    where: str  # a file (and place) for the translator's reference


def notebook_cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def notebook_entries(path: Path) -> list[Entry]:
    entries = []
    for cell in notebook_cells(path):
        if cell["cell_type"] != "markdown":
            continue
        for number, block in enumerate(blocks("".join(cell["source"]))):
            if block.translatable:
                entries.append(Entry(f"{cell['id']}:{number}", block.text, rel(path)))
    return entries


def page_entries(path: Path) -> list[Entry]:
    return [Entry(f"{rel(path)}:{number}", block.text, rel(path))
            for number, block in enumerate(blocks(path.read_text(encoding="utf-8"))) if block.translatable]


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def chapter_pages(chapter: syllabus.Chapter) -> list[Path]:
    """A chapter's own Markdown pages (not QUIZ.md, which is written from the quiz bank, and not
    the translated editions)."""
    folder = REPO / syllabus.CHAPTERS / chapter.id
    pages = []
    for path in sorted(folder.rglob("*.md")):
        parts = path.relative_to(folder).parts
        if parts[0] in i18n.LANGUAGES or parts[0] == "exercises" or path.name == "QUIZ.md":
            continue
        pages.append(path)
    return pages


def chapter_entries(chapter: syllabus.Chapter) -> list[Entry]:
    """The syllabus entries, exercises, quiz and pages of one chapter (a text that is only code,
    such as a quiz option `alembic downgrade -1`, is the same in every language: left out)."""
    return [e for e in _chapter_entries(chapter) if has_prose(e.english)]


def _chapter_entries(chapter: syllabus.Chapter) -> list[Entry]:
    entries = [Entry("chapter title", chapter.title, syllabus.FILE)]
    for notebook in chapter.notebooks:
        entries.append(Entry(f"notebook {notebook.file} title", notebook.title, syllabus.FILE))
        entries.append(Entry(f"notebook {notebook.file} learn", notebook.learn, syllabus.FILE))
    folder = REPO / syllabus.CHAPTERS / chapter.id
    for exercise in chapter.exercises:
        entries.append(Entry(f"exercise {exercise.id} summary", exercise.summary, syllabus.FILE))
        path = folder / "exercises" / exercise.id / "exercise.toml"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries.append(Entry(f"exercise {exercise.id} title", data["title"], rel(path)))
        entries.append(Entry(f"exercise {exercise.id} task", data["task"].strip(), rel(path)))
        for number, hint in enumerate(data["hints"], 1):
            entries.append(Entry(f"exercise {exercise.id} hint {number}", hint, rel(path)))
        for file in data["files"]:  # `course solution` shows the reference solution, comments translated
            name = file.get("name") or Path(file["path"]).name
            solution = REPO / file["solution"] if "solution" in file else path.parent / "solution" / name
            for number, (*_place, text) in enumerate(i18n.comment_blocks(solution.read_text(encoding="utf-8"))):
                entries.append(Entry(f"solution {exercise.id} {name} {number}", text, rel(solution)))
        for wrong in data.get("wrong", []):  # the website lists them: "wrong turns the check catches"
            if wrong.get("why"):
                entries.append(Entry(f"exercise {exercise.id} wrong {wrong['name']} why", wrong["why"], rel(path)))
    if chapter.quiz:
        path = folder / chapter.quiz
        bank = tomllib.loads(path.read_text(encoding="utf-8"))
        entries.append(Entry("quiz title", bank["title"], rel(path)))
        for question in bank["questions"]:
            qid = question["id"]
            entries.append(Entry(f"quiz {qid} question", question["question"].strip(), rel(path)))
            for letter, text in question["options"].items():
                entries.append(Entry(f"quiz {qid} option {letter}", text.strip(), rel(path)))
            entries.append(Entry(f"quiz {qid} explanation", question["explanation"].strip(), rel(path)))
            for letter, text in question.get("why_not", {}).items():
                entries.append(Entry(f"quiz {qid} why_not {letter}", text.strip(), rel(path)))
    for page in chapter_pages(chapter):
        entries.extend(page_entries(page))
    return entries


MESSAGE_SOURCES = ("course", "chapters")


def message_entries() -> list[Entry]:
    """Every _("...") in the course's code and the checks (Babel's Python extractor)."""
    from babel.messages.extract import extract_from_file

    entries, seen = [], set()
    files = sorted((REPO / "course").rglob("*.py")) + sorted((REPO / syllabus.CHAPTERS).glob("*/exercises/*/check.py"))
    for path in files:
        if "_(" not in path.read_text(encoding="utf-8"):
            continue
        # plural(count, "word"): the word is a message of its own (course/learner/checks.py)
        for line, message, _comments, _context in extract_from_file("python", str(path),
                                                                     keywords={"_": None, "N_": None, "plural": (2,)}):
            if isinstance(message, str) and message not in seen:
                seen.add(message)
                # the file, not the line: a line number would change the catalogue at every edit
                entries.append(Entry("", message, rel(path)))
    return entries


def domains(course: syllabus.Syllabus | None = None) -> dict[str, list[Entry]]:
    """{catalogue: its entries in the order a reader meets them}."""
    course = course or syllabus.current()
    result = {}
    for notebook in course.notebooks():
        result[f"notebooks/{Path(notebook.file).stem}"] = notebook_entries(REPO / syllabus.NOTEBOOKS / notebook.file)
    for chapter in course.chapters:
        result[f"chapters/{chapter.id}"] = chapter_entries(chapter)
    result["course"] = page_entries(REPO / "README.md")
    result["messages"] = message_entries()
    return result


# -- catalogues ------------------------------------------------------------------------------------

def _context(entry: Entry) -> str | None:
    return entry.context or None


def read_catalogue(path: Path):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    if not path.exists():
        return Catalog(locale="zh_Hans_CN", fuzzy=False)
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale="zh_Hans_CN")
    for message in catalogue:
        _previous_id_from_comments(message)
    return catalogue


def _previous_id_from_comments(message) -> None:
    """Babel 2.19 writes a stale entry's old English as `#| msgid "..."` but reads those lines
    back as a translator's comment: put them back where they belong."""
    from babel.messages.pofile import unescape

    lines = [comment[1:].strip() for comment in message.user_comments if comment.startswith("|")]
    if lines and lines[0].startswith("msgid "):
        strings = re.findall(r'"(?:[^"\\]|\\.)*"', " ".join(lines))
        message.previous_id = ("".join(unescape(string) for string in strings),)
    message.user_comments = [comment for comment in message.user_comments if not comment.startswith("|")]


def write_catalogue(catalogue, path: Path) -> None:
    from babel.messages.pofile import write_po

    # No translator's comments in these catalogues (what an entry is about is its context and
    # location), and nothing wrapped: Babel wraps comments at 76 columns whatever `width` is
    # unless it is given a width, and a wrapped `#| msgid` (the English a stale entry
    # translated) does not read back as one.
    for message in catalogue:
        message.user_comments = []
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=1_000_000, sort_output=False, include_previous=True, omit_header=False,
             ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _previous_ids_one_string_a_line(buffer.getvalue())
    # Babel stamps the time it wrote the file: leave an unchanged catalogue untouched.
    if not path.exists() or _without_dates(path.read_bytes()) != _without_dates(data):
        path.write_bytes(data)


def _previous_ids_one_string_a_line(data: bytes) -> bytes:
    """Babel 2.19 writes a multi-line previous msgid on one comment line (`#| msgid "" "a\\n" "b"`)
    and then reads it back as a translator's comment, losing it: write one string a line, as
    gettext's msgmerge does, which it reads back."""
    def split(match: re.Match) -> bytes:
        strings = re.findall(rb'"(?:[^"\\]|\\.)*"', match.group(2))
        return b"\n".join([match.group(1) + strings[0]] + [b"#| " + string for string in strings[1:]])

    return re.sub(rb'(?m)^(#\| msgid )((?:"(?:[^"\\]|\\.)*" ?)+)$', split, data)


def _without_dates(data: bytes) -> bytes:
    return re.sub(rb'"(POT-Creation-Date|PO-Revision-Date): [^"]*"', b"", data)


def merged(old, entries: list[Entry], domain: str):
    """A catalogue holding exactly `entries`, with what `old` knew carried over (see the module's
    docstring for the rules)."""
    from babel.messages.catalog import Catalog

    new = Catalog(locale="zh_Hans_CN", project="Migrations in Practice", fuzzy=False,
                  header_comment=f"# {domain}: the Chinese edition's translations (see course/i18n.py).")
    new.mime_headers = old.mime_headers if old.mime_headers else new.mime_headers
    by_text: dict[str, object] = {}
    by_place: dict[str | None, list] = {}
    for message in old:
        if not message.id:
            continue
        if message.string and not message.fuzzy:
            by_text.setdefault(message.id, message)
        by_place.setdefault(message.context, []).append(message)
    wanted = {(_context(e), e.english) for e in entries}
    # an English text still in the course (at any place) is moved, not changed: never the stale
    # counterpart of another paragraph
    still = {e.english for e in entries}
    for entry in entries:
        context = _context(entry)
        previous = old.get(entry.english, context=context)
        string, flags, previous_id = "", set(), ()
        if previous is not None and previous.id:
            string, flags = previous.string, set(previous.flags) - {"python-format", "python-brace-format"}
            previous_id = tuple(previous.previous_id) if previous.fuzzy and previous.previous_id else ()
        elif entry.english in by_text:  # the same English elsewhere: its translation holds
            string = by_text[entry.english].string
        elif context is None:  # a message has no place: its stale counterpart is the most similar vanished one
            vanished = {m.id: m for m in by_place.get(None, []) if m.id not in still and m.string}
            close = difflib.get_close_matches(entry.english, list(vanished), n=1, cutoff=0.75)
            if close:
                string, flags, previous_id = vanished[close[0]].string, {"fuzzy"}, (close[0],)
        else:  # the English at this place changed: keep the old translation, marked stale
            gone = [m for m in by_place.get(context, []) if m.id not in still]
            if not gone and entry.context and ":" in entry.context:
                # paragraphs moved within the cell: the most similar vanished one of the cell
                cell = entry.context.rsplit(":", 1)[0]
                gone = [m for place, ms in by_place.items() if place and place.rsplit(":", 1)[0] == cell
                        for m in ms if m.id not in still]
                gone = sorted(gone, key=lambda m: -difflib.SequenceMatcher(None, m.id, entry.english).ratio())[:1]
                # a new paragraph is missing, not the stale translation of an unrelated one
                gone = [m for m in gone if difflib.SequenceMatcher(None, m.id, entry.english).ratio() >= 0.6]
            if gone and gone[0].string:
                string, flags, previous_id = gone[0].string, {"fuzzy"}, (gone[0].id,)
        new.add(entry.english, string, locations=[(entry.where, None)], flags=flags, context=context,
                previous_id=previous_id)
    return new


def update(language: str, course: syllabus.Syllabus | None = None) -> list[Path]:
    changed = []
    for domain, entries in domains(course).items():
        path = i18n.catalogue_path(language, domain)
        before = path.read_bytes() if path.exists() else None
        write_catalogue(merged(read_catalogue(path), entries, domain), path)
        if path.read_bytes() != before:
            changed.append(path)
    return changed


@dataclass(frozen=True)
class Problem:
    catalogue: str
    kind: str  # "missing" (no translation) or "stale" (fuzzy, or the English changed)
    context: str
    english: str

    def __str__(self) -> str:
        first = self.english.split("\n")[0]
        return f"{self.catalogue}.po: {self.kind}: [{self.context}] {first[:70]}"


def problems(language: str, course: syllabus.Syllabus | None = None) -> list[Problem]:
    """Every English text without a usable translation, in each catalogue's order."""
    found = []
    for domain, entries in domains(course).items():
        catalogue = read_catalogue(i18n.catalogue_path(language, domain))
        for entry in entries:
            message = catalogue.get(entry.english, context=_context(entry))
            if message is not None and message.string and not message.fuzzy:
                continue
            # stale: the translation was of another English text (marked fuzzy by update, or
            # update has not run since the English changed and the old entry sits in its place)
            stale = (message is not None and message.fuzzy) or (
                message is None and bool(entry.context)
                and any(m.id and m.string and m.context == entry.context for m in catalogue))
            found.append(Problem(domain, "stale" if stale else "missing", entry.context, entry.english))
    return found


# -- the translated edition ---------------------------------------------------------------------------

def translated_path(english: Path, language: str) -> Path | None:
    """Where the translated edition of a notebook or page is (None: it has none)."""
    relative = english.relative_to(REPO)
    parts = relative.parts
    if parts[0] == syllabus.NOTEBOOKS and len(parts) == 2 and english.suffix == ".ipynb":
        return REPO / syllabus.NOTEBOOKS / language / parts[1]
    if relative.as_posix() == "README.md":
        return REPO / f"README.{language}.md"
    if parts[0] == syllabus.CHAPTERS and english.suffix == ".md" and len(parts) >= 3 \
            and parts[2] not in i18n.LANGUAGES and parts[2] != "exercises":
        return REPO / syllabus.CHAPTERS / parts[1] / language / Path(*parts[2:])
    return None


def source_of(name: str) -> tuple[str, str] | None:
    """The inverse of translated_path: (language, the English file) for a file of a translated
    edition, as paths from the repository (README.zh.md -> ("zh", "README.md")); None for any
    other file."""
    parts = name.split("/")
    for code in i18n.LANGUAGES:
        if code == i18n.SOURCE:
            continue
        if name == f"README.{code}.md":
            return code, "README.md"
        if parts[0] == syllabus.NOTEBOOKS and len(parts) == 3 and parts[1] == code:
            return code, f"{parts[0]}/{parts[2]}"
        if parts[0] == syllabus.CHAPTERS and len(parts) >= 4 and parts[2] == code:
            return code, "/".join(parts[:2] + parts[3:])
    return None


EDITION, IN_PLACE = "edition", "in place"  # how an edition's links are written (Edition.relink)


class Edition:
    """The translated edition of the course in one language: what each file becomes."""

    def __init__(self, language: str, course: syllabus.Syllabus | None = None):
        self.language = language
        self.course = course or syllabus.current()
        self._anchors: dict[Path, dict[str, str]] = {}

    def text(self, domain: str, context: str, english: str) -> str:
        return i18n.translations(self.language, domain).get((context, english), english)

    def block(self, english: Path, text: str) -> str:
        """The translation of one block (a heading, a paragraph) of an English page."""
        prefix = rel(english)
        domain = "course" if english == REPO / "README.md" else f"chapters/{english.relative_to(REPO).parts[1]}"
        for number, found in enumerate(blocks(english.read_text(encoding="utf-8"))):
            if found.text == text:
                return self.text(domain, f"{prefix}:{number}", text)
        return text

    def markdown(self, domain: str, markdown: str, context_of) -> str:
        parts = blocks(markdown)
        texts = [self.text(domain, context_of(n), b.text) if b.translatable else b.text for n, b in enumerate(parts)]
        return replace_blocks(markdown, parts, texts)

    # anchors: the i-th heading of a translated text is the translation of the i-th of the English
    def anchor_map(self, english: Path) -> dict[str, str]:
        if english not in self._anchors:
            source = self.english_markdown(english)
            translated = self.translated_markdown(english, links=None)
            self._anchors[english] = dict(zip(heading_anchors(source), heading_anchors(translated)))
        return self._anchors[english]

    def english_markdown(self, english: Path) -> str:
        if english.suffix == ".ipynb":
            return "\n\n".join("".join(c["source"]) for c in notebook_cells(english) if c["cell_type"] == "markdown")
        return english.read_text(encoding="utf-8")

    # links: EDITION points them from the translated file's place at the translated pages (the
    # repository's notebooks/zh/ and chapters/<id>/zh/); IN_PLACE keeps every target as the
    # English has it, for a copy laid out as the English files are (the website's Chinese
    # edition), and only moves anchors to the translated headings; None leaves them alone.
    def translated_markdown(self, english: Path, links: str | None = EDITION) -> str:
        if english.suffix == ".ipynb":
            cells = self.notebook(english, links)["cells"]
            return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        return self.page(english, links)

    def relink(self, markdown: str, english: Path, links: str = EDITION) -> str:
        """Links written for the English file's place, for the translated file (see above)."""
        here = translated_path(english, self.language) if links == EDITION else english

        def target(link: str) -> str:
            if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("//"):
                return link  # another site
            path, _, fragment = link.partition("#")
            goal = (english.parent / path).resolve() if path else english
            translated = translated_path(goal, self.language) if goal.is_relative_to(REPO) else None
            if translated is not None and (translated.exists() or self.will_exist(goal)):
                if fragment:
                    fragment = self.anchor_map(goal).get(fragment, fragment)
                if links == EDITION:
                    goal = translated
            new = os.path.relpath(goal, here.parent).replace(os.sep, "/") if path or goal != here else ""
            if path.endswith("/") and not new.endswith("/"):
                new += "/"
            return new + (f"#{fragment}" if fragment else "")

        markdown = LINK.sub(lambda m: m.group(1) + target(m.group(2)) + m.group(3), markdown)
        return HTML_LINK.sub(lambda m: m.group(1) + target(m.group(2)) + m.group(3), markdown)

    def will_exist(self, english: Path) -> bool:
        return english in self.sources()

    def sources(self) -> list[Path]:
        found = [REPO / syllabus.NOTEBOOKS / n.file for n in self.course.notebooks()]
        found.append(REPO / "README.md")
        for chapter in self.course.chapters:
            found.extend(chapter_pages(chapter))
            if chapter.quiz:
                found.append(REPO / syllabus.CHAPTERS / chapter.id / "QUIZ.md")
        return found

    def notebook(self, english: Path, links: str | None = EDITION) -> dict:
        data = json.loads(english.read_text(encoding="utf-8"))
        domain = f"notebooks/{english.stem}"
        for cell in data["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            source = "".join(cell["source"])
            text = self.markdown(domain, source, lambda n, cid=cell["id"]: f"{cid}:{n}")
            if links:
                text = self.relink(text, english, links)
            cell["source"] = text.splitlines(keepends=True)
        # which edition it is; everything else in the metadata is the English notebook's
        data["metadata"].setdefault("course", {})["language"] = self.language
        return data

    def page(self, english: Path, links: str | None = EDITION) -> str:
        if english.name == "QUIZ.md":
            from course.learner import quiz

            chapter = english.parent.name
            text = quiz.markdown_in(chapter, self.language)
        else:
            domain = "course" if english == REPO / "README.md" else f"chapters/{english.relative_to(REPO).parts[1]}"
            prefix = rel(english)
            text = self.markdown(domain, english.read_text(encoding="utf-8"), lambda n: f"{prefix}:{n}")
        return self.relink(text, english, links) if links else text

    def files(self) -> dict[Path, str]:
        """{translated file: its content} for the whole edition."""
        out = {}
        for english in self.sources():
            target = translated_path(english, self.language)
            if english.suffix == ".ipynb":
                out[target] = json.dumps(self.notebook(english), indent=1, ensure_ascii=False) + "\n"
            else:
                out[target] = self.page(english)
        return out


def build(language: str, course: syllabus.Syllabus | None = None) -> list[Path]:
    written = []
    for path, content in Edition(language, course).files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written


def out_of_date(language: str, course: syllabus.Syllabus | None = None) -> list[Path]:
    return [path for path, content in Edition(language, course).files().items()
            if not path.exists() or path.read_text(encoding="utf-8") != content]


# -- a translator's files -------------------------------------------------------------------------
#
# PO files are for tools; a translator working in a text editor gets the entries of one
# catalogue as plain text instead, one entry after the other:
#
#     === cell-00:1
#     The sample app needs an email address ...
#
# `export` writes the English (and the translation, if any, after a line `---`); `import`
# reads the same layout back, each entry's translation under its key, and refuses a
# translation whose structure differs from its English (see structure_problems).

KEY_LINE = re.compile(r"^=== (\S.*)$")


def key(entry: Entry) -> str:
    import hashlib

    return entry.context or "message " + hashlib.sha1(entry.english.encode()).hexdigest()[:10]


def export(domain: str, language: str) -> str:
    entries = domains()[domain]
    done = i18n.translations(language, domain)
    parts = []
    for entry in entries:
        translated = done.get((_context(entry), entry.english))
        parts.append(f"=== {key(entry)}\n{entry.english}" + (f"\n---\n{translated}" if translated else ""))
    return "\n\n".join(parts) + "\n"


def parse(text: str) -> dict[str, str]:
    """{key: text} from a translator's file (text after `---` if an entry has one)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.split("\n"):
        match = KEY_LINE.match(line)
        if match:
            current = match.group(1).strip()
            found[current] = []
        elif current is not None:
            found[current].append(line)
    result = {}
    for name, lines in found.items():
        if "---" in lines:
            lines = lines[lines.index("---") + 1:]
        result[name] = "\n".join(lines).strip("\n")
    return result


# A code span may wrap onto the next line (Markdown shows the line break as a space): spans are
# compared with their whitespace collapsed.
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)  # a run of backticks, closed by as many


def code_spans(text: str) -> set[str]:
    return {" ".join(match.group(0).split()) for match in CODE_SPAN.finditer(text)}


def structure_problems(english: str, translated: str) -> list[str]:
    """How a translation's Markdown differs from its English where it must not: its headings
    (level and number), its code spans, its links' targets, its list items and table rows."""
    problems_found = []

    def headings(text):
        return [len(m.group(1)) for line in text.split("\n") if (m := HEADING.match(line))]

    if headings(english) != headings(translated):
        problems_found.append(f"headings {headings(english)} became {headings(translated)}")
    missing = sorted(code_spans(english) - code_spans(translated))
    if missing:
        problems_found.append(f"code spans missing or changed: {', '.join(missing[:5])}")
    targets = sorted(m.group(2) for m in LINK.finditer(english))
    if targets != sorted(m.group(2) for m in LINK.finditer(translated)):
        problems_found.append(f"link targets differ: {targets} became {sorted(m.group(2) for m in LINK.finditer(translated))}")

    def shape(text):
        return [("|" if line.lstrip().startswith("|") else "-" if re.match(r"^\s*([-*+]|\d+\.)\s", line) else "")
                for line in text.split("\n")]

    if [x for x in shape(english) if x] != [x for x in shape(translated) if x]:
        problems_found.append("list items or table rows differ in number or order")
    invented = sorted(_field_names(translated) - _field_names(english))
    if invented:  # a message's fields ({name}, {count!r}): a translation may leave one out, never add one
        problems_found.append(f"fields the English does not have: {', '.join(invented)}")
    return problems_found


def _field_names(text: str) -> set[str]:
    """{name} {name!r} {name:.2f} all name `name`: a translation may drop the conversion."""
    return {re.split(r"[!:]", field[1:-1])[0] for field in FIELD.findall(text)}


FIELD = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def terms(language: str) -> list[dict]:
    path = i18n.LOCALE / language / "terms.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))["terms"] if path.exists() else []


def prose(markdown: str) -> str:
    """The words a reader reads as text: without code blocks, code spans, link targets and HTML tags."""
    text = re.sub(r"(?ms)^\s*(```|~~~).*?^\s*\1", " ", markdown)
    text = CODE_SPAN.sub(" ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"<[^>]+>", " ", text)


def term_problems(english: str, translated: str, language: str) -> list[str]:
    """The glossary's terms the English prose uses and the translation does not."""
    found = []
    words = prose(english)
    for term in terms(language):
        used = re.search(rf"\b(?:{term['en']})\b", words, re.I)
        if used and term["zh"] not in translated:
            found.append(f"uses {used.group()!r}: write {term['zh']} (locale/{language}/terms.toml)")
    return found


def import_file(domain: str, language: str, text: str) -> tuple[int, list[str]]:
    """Fill the catalogue's translations from a translator's file; (entries filled, problems)."""
    entries = {key(e): e for e in domains()[domain]}
    path = i18n.catalogue_path(language, domain)
    catalogue = read_catalogue(path)
    filled, refused = 0, []
    for name, translated in parse(text).items():
        entry = entries.get(name)
        if entry is None:
            refused.append(f"{name}: no such entry in {domain} (run update?)")
            continue
        if not translated or translated == entry.english:
            continue
        wrong = structure_problems(entry.english, translated) + term_problems(entry.english, translated, language)
        if wrong:
            refused.append(f"{name}: " + "; ".join(wrong))
            continue
        message = catalogue.get(entry.english, context=_context(entry))
        if message is None:
            refused.append(f"{name}: not in the catalogue (run update first)")
            continue
        message.string = translated
        message.flags.discard("fuzzy")
        message.previous_id = ()
        filled += 1
    write_catalogue(catalogue, path)
    return filled, refused


def main(argv: list[str]) -> int:
    usage = ("usage: python -m course.maintainer.translate update|build|status [LANGUAGE]\n"
             "       python -m course.maintainer.translate export|import DOMAIN [FILE] [--language LANGUAGE]")
    if argv and argv[0] in {"export", "import"}:
        language = "zh"
        if "--language" in argv:
            at = argv.index("--language")
            language, argv = argv[at + 1], argv[:at] + argv[at + 2:]
        if len(argv) < 2 or argv[1] not in domains():
            print(usage + "\ncatalogues: " + ", ".join(domains()), file=sys.stderr)
            return 2
        if argv[0] == "export":
            sys.stdout.write(export(argv[1], language))
            return 0
        if len(argv) != 3:
            print(usage, file=sys.stderr)
            return 2
        filled, refused = import_file(argv[1], language, Path(argv[2]).read_text(encoding="utf-8"))
        for line in refused:
            print(f"refused {line}", file=sys.stderr)
        print(f"{filled} translations taken, {len(refused)} refused")
        return 1 if refused else 0
    if not argv or argv[0] not in {"update", "build", "status"} or len(argv) > 2:
        print(usage, file=sys.stderr)
        return 2
    language = argv[1] if len(argv) == 2 else "zh"
    if language not in i18n.LANGUAGES or language == i18n.SOURCE:
        print(f"{language!r} is not a translation of this course; choose from "
              f"{', '.join(c for c in i18n.LANGUAGES if c != i18n.SOURCE)}", file=sys.stderr)
        return 2
    if argv[0] == "update":
        for path in update(language):
            print(f"updated {rel(path)}")
        return 0
    if argv[0] == "build":
        for path in build(language):
            print(f"wrote {rel(path)}")
        return 0
    found = problems(language)
    for problem in found:
        print(problem)
    counts = {kind: sum(p.kind == kind for p in found) for kind in ("missing", "stale")}
    print(f"{counts['missing']} missing, {counts['stale']} stale")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
