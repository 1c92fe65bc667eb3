"""The course as a website: `make site` runs `python -m course.maintainer.site build site`.

Sphinx (configured in docs/conf.py) reads a source folder that this module lays out afresh
from the repository, in the repository's own layout, so that every relative link that works on
GitHub and in JupyterLab works on the site too:

    <out>/src/index.md                      README.md, then the table of contents (syllabus.toml)
    <out>/src/notebooks/*.ipynb             the notebooks, as committed: their stored outputs are
                                            what readers see (myst-nb executes nothing)
    <out>/src/chapters/<id>/README.md       the chapter's page; its section for readers of the
                                            source article, if it has one, becomes article.md
    <out>/src/chapters/<id>/QUIZ.md         the quiz, made from its bank with the answers folded
    <out>/src/chapters/<id>/exercises/...   a page per exercise, made from its exercise.toml:
                                            the task, hints and solution folded
    <out>/src/chapters/<id>/**/*.md         every other page of the chapter (the engines table,
                                            the glossary, the benchmark's results and its plots)
    <out>/src/<any other linked file>       a file a page links to (a test, syllabus.toml, an
                                            exercise.toml), which the site serves as a download

Nothing in <out> is committed (git ignores site/). Every list comes from syllabus.toml and the
chapter folders: a new chapter needs no change here. A link to a file that does not exist, or
to a folder, stops the build with one line naming the page and the link. After Sphinx, which
treats any warning as an error, every page is checked to load nothing from another host.

    python -m course.maintainer.site build site      # site/html is the website
    python -m course.maintainer.site sources DIR     # only lay out the sources (no Sphinx needed)
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from course import REPO, i18n, syllabus
from course.i18n import _

# Pygments token classes whose spans the site leaves out (course/maintainer/site_sphinx.py):
# names and punctuation, which furo colours as the code block's own text.
PLAIN_TOKEN_CLASSES = ("n", "p")

CONF_DIR = REPO / "docs"
# The section of a chapter README for readers of the article the course grew out of
# (tests/test_article_map.py checks it): on the site it is a page of its own.
ARTICLE_GUIDE = "## If you read the article first"
ARTICLE_PAGE = "article.md"
IMAGES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")
PAGE_SUFFIXES = (".md", ".ipynb")

LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~|:::)")
SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


class SiteError(Exception):
    """The course cannot be laid out as a website; one line naming the file and the problem."""


# -- Markdown helpers ---------------------------------------------------------------------------

def _headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, text) of each ATX heading outside fenced blocks."""
    found, fence = [], None
    for index, line in enumerate(text.splitlines()):
        opened = FENCE.match(line)
        if opened:
            fence = None if fence == opened.group(1) else (fence or opened.group(1))
            continue
        match = HEADING.match(line) if fence is None else None
        if match:
            found.append((index, len(match.group(1)), match.group(2)))
    return found


def _with_title(text: str, title: str) -> str:
    """A page whose first heading is not a level-1 title (a generated table that another page
    embeds) gets `title`, and its headings move up so that the highest is level 2."""
    heads = _headings(text)
    if heads and heads[0][1] == 1:
        return text
    shift = min(level for _, level, _ in heads) - 2 if heads else 0
    lines = text.splitlines()
    for index, level, _ in heads:
        lines[index] = lines[index][shift:] if shift > 0 else lines[index]
    return f"# {title}\n\n" + "\n".join(lines) + "\n"


def _title_from_path(relative: Path) -> str:
    """The file's path in its chapter, as the chapter's pages and notebooks name it."""
    return f"`{relative.as_posix()}`"


def _fence(code: str, language: str) -> str:
    """A fenced code block that no backtick run inside `code` can close."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{code.rstrip()}\n{ticks}"


def dropdown(summary: str, body: list[str]) -> list[str]:
    """A folded block on the site: a <details> element, no script (course/maintainer/site_sphinx.py)."""
    return [f":::{{dropdown}} {summary}", *body, ":::"]


def _text(text: str) -> str:
    """Plain text of a TOML definition (a task, a hint) as Markdown: `<` outside code spans is
    literal ("user-<id>@example.invalid"), not the start of an HTML tag."""
    parts = re.split(r"(`+[^`]*`+)", text)
    return "".join(part if part.startswith("`") else part.replace("<", "\\<") for part in parts)


def _markdown_links(text: str) -> list[str]:
    return [target for _, _, target in LINK.findall(text)]


# -- the pages ------------------------------------------------------------------------------------

def _split_article_guide(text: str, heading: str = ARTICLE_GUIDE) -> tuple[str, str | None]:
    """(the chapter page, the article guide as a page of its own, or None). `heading`: the
    guide's heading as the page has it (translated, in another edition)."""
    lines = text.splitlines()
    heads = _headings(text)
    start = next((i for i, level, title in heads if f"{'#' * level} {title}" == heading), None)
    if start is None:
        return text, None
    end = next((i for i, level, _ in heads if i > start and level <= 2), len(lines))
    section = "\n".join(lines[start + 1:end]).strip("\n")
    guide = _with_title(section, heading.lstrip("# "))
    pointer = [heading, "",
               _("Where each section of the article is covered, and what the course corrects: [{title}]({page}).").format(
                   title=heading.lstrip("# "), page=ARTICLE_PAGE), ""]
    return "\n".join(lines[:start] + pointer + lines[end:]) + "\n", guide


def _quiz_page(chapter: syllabus.Chapter, language: str = i18n.SOURCE) -> str:
    from course.learner import quiz

    bank = quiz.in_language(quiz.load(chapter.quiz_path, chapter=chapter.id), language)
    return quiz.markdown(bank, fold=dropdown, generated=False)


def _exercise_page(exercise, label: str, notebooks: dict[str, syllabus.Notebook], depth: str) -> str:
    from course.learner import exercises as exercise_module

    notebook = notebooks.get(exercise.notebook)
    after = (_("After notebook [{label}: {title}]({link}). ").format(
        label=notebook.label, title=_notebook_title(notebook), link=f"{depth}notebooks/{notebook.file}")
        if notebook else "")
    lines = [_("# Exercise {label}: {title}").format(label=label, title=exercise.title), "",
             after + _("Its id: `{id}`.").format(id=exercise.id), "", _("## The task"), "", _text(exercise.task), "",
             _("## Your file"), ""]
    for file in exercise.files:
        lines.append(_("- `{learner}`: `{path}` in the project").format(learner=f"work/{exercise.id}/{file.name}",
                                                                       path=file.path))
    lines += ["", _("In the course's environment (JupyterLab's terminal, or after `make lab`), from the repository:"),
              "", _fence(f"course show {exercise.id}     # " + _("the task, and where your file is") + "\n"
                         f"course check {exercise.id}    # " + _("what is still wrong (exit 0 once it passes)") + "\n"
                         f"course hint {exercise.id}     # " + _("one hint more each time you ask"), "bash"), ""]
    for file in exercise.files:
        lines += dropdown(_("The file you start from: `{name}`").format(name=file.name),
                          [_fence(file.starter.read_text(encoding="utf-8"), _language(file.starter))])
        lines.append("")
    lines += [_("## Hints"), "", _("Open one at a time."), ""]
    for number, text in enumerate(exercise.hints, 1):
        lines += dropdown(_("Hint {number} of {total}").format(number=number, total=len(exercise.hints)), [_text(text)])
        lines.append("")
    lines += [_("## The solution"), ""]
    for file in exercise.files:
        lines += dropdown(_("The reference solution: `{path}`").format(path=file.path),
                          [_fence(exercise_module.solution_text(exercise, file), _language(file.solution))])
        lines.append("")
    if exercise.wrong:
        # What the check says on any engine (attempt.expects["expect"]), as its English source
        # has it (the check's own words); engines named when the attempt fails only on some.
        turns = [_("- {why}: the check says “{expect}”").format(why=_text(exercise.why_wrong(attempt)),
                                                                expect=_text(attempt.expects["expect"]))
                 + (_(" (on {engines})").format(engines=", ".join(attempt.only)) if attempt.only else "")
                 for attempt in exercise.wrong]
        lines += dropdown(_("Wrong turns the check catches"), turns)
    return "\n".join(lines) + "\n"


def _notebook_title(notebook: syllabus.Notebook) -> str:
    chapter = next(c for c in syllabus.chapters() if notebook in c.notebooks)
    return i18n.translate(f"chapters/{chapter.id}", f"notebook {notebook.file} title", notebook.title)


def _chapter_heading(chapter: syllabus.Chapter) -> str:
    title = i18n.translate(f"chapters/{chapter.id}", "chapter title", chapter.title)
    return _("Chapter {number}: {title}").format(number=chapter.number, title=title)


def _language(path: Path) -> str:
    return {".py": "python", ".ini": "ini", ".toml": "toml", ".sql": "sql", ".md": "markdown"}.get(path.suffix, "text")


def _exercises_index(chapter: syllabus.Chapter, loaded: dict) -> str:
    lines = [_("# Exercises of chapter {number}").format(number=chapter.number), "",
             _("Each exercise is one file you edit; `course check <id>` runs it against throwaway databases and says "
               "the first thing that is still wrong. Hints and the solution are folded on each page."), "",
             _("| # | Exercise | The task, in one line |"), "|---|---|---|"]
    for entry in chapter.exercises:
        summary = i18n.translate(f"chapters/{chapter.id}", f"exercise {entry.id} summary", entry.summary)
        lines.append(f"| {entry.label(chapter.number)} | [{loaded[entry.id].title}]({entry.id}/index.md) | {summary} |")
    lines += ["", "```{toctree}", ":hidden:", "", *[f"{entry.id}/index" for entry in chapter.exercises], "```", ""]
    return "\n".join(lines)


def _toctree(caption: str, entries: list[str]) -> str:
    return "\n".join(["```{toctree}", f":caption: {caption}", ":hidden:", "", *entries, "```", ""])


def pages(root: Path = REPO, language: str = i18n.SOURCE) -> tuple[dict[str, str], dict[str, Path]]:
    """The site's sources: ({path in src: text of a page}, {path in src: file to copy}).

    In another language (the Chinese edition, which only this repository has), every page is
    its translation (course/maintainer/translate.py), laid out where the English page is, so
    that the two editions have the same pages at the same paths and links."""
    with i18n.speaking(language):
        return _pages(root, language)


def _pages(root: Path, language: str) -> tuple[dict[str, str], dict[str, Path]]:
    from course.learner import exercises as exercise_module
    from course.maintainer import translate

    course = syllabus.load(root)
    edition = translate.Edition(language, course) if language != i18n.SOURCE else None

    def read(path: Path) -> str:
        return edition.page(path, translate.IN_PLACE) if edition else path.read_text(encoding="utf-8")

    catalogue, broken = exercise_module.catalogue(course)
    if broken:
        name, why = next(iter(broken.items()))
        raise SiteError(f"exercise {name!r} cannot be loaded: {why}")
    loaded = {e.id: e for e in catalogue}
    notebooks = {n.file: n for n in course.notebooks()}
    texts: dict[str, str] = {}
    copies: dict[str, Path] = {}
    toctrees = []
    for chapter in course.chapters:
        base = f"{syllabus.CHAPTERS}/{chapter.id}"
        entries = [f"About this chapter <{base}/README>"]
        entries += [f"{syllabus.NOTEBOOKS}/{Path(n.file).stem}" for n in chapter.notebooks]
        for notebook in chapter.notebooks:
            _add_notebook(root, notebook, texts, copies, edition)
        readme = chapter.folder / "README.md"
        text = read(readme) if readme.is_file() else f"# {_chapter_heading(chapter)}\n"
        text, guide = _split_article_guide(text, edition.block(readme, ARTICLE_GUIDE) if edition else ARTICLE_GUIDE)
        texts[f"{base}/README.md"] = text
        if chapter.exercises:
            texts[f"{base}/exercises/index.md"] = _exercises_index(chapter, loaded)
            for entry in chapter.exercises:
                texts[f"{base}/exercises/{entry.id}/index.md"] = _exercise_page(
                    loaded[entry.id], entry.label(chapter.number), notebooks, "../../../../")
            entries.append(f"{base}/exercises/index")
        if chapter.quiz:
            from course.learner import quiz

            texts[f"{base}/{quiz.MARKDOWN_FILE}"] = _quiz_page(chapter, language)
            entries.append(f"{base}/{Path(quiz.MARKDOWN_FILE).stem}")
        if guide is not None:
            texts[f"{base}/{ARTICLE_PAGE}"] = guide
            entries.append(f"{base}/{Path(ARTICLE_PAGE).stem}")
        for page in sorted(chapter.folder.rglob("*.md")):
            relative = page.relative_to(chapter.folder)
            if relative.parts[0] in ("exercises", *i18n.LANGUAGES) or f"{base}/{relative}" in texts \
                    or relative.name.startswith("."):
                continue
            text = _with_title(read(page), _title_from_path(relative))
            shown = {Path(t.split("#")[0]).name for t in _markdown_links(text)}
            plots = sorted(p for p in page.parent.iterdir() if p.suffix in IMAGES and p.name not in shown)
            if plots:  # the plots a generated table goes with (the benchmark's results.png)
                text += "\n## Plots\n\n" + "\n\n".join(f"![{p.stem}]({p.name})" for p in plots) + "\n"
            texts[f"{base}/{relative}"] = text
            entries.append(f"{base}/{relative.with_suffix('')}")
        toctrees.append(_toctree(_chapter_heading(chapter), entries))
    index = read(root / "README.md")
    texts["index.md"] = index.rstrip("\n") + "\n\n" + "\n".join(toctrees)
    _link_other_editions(texts, copies, language)
    _add_linked_files(root, texts, copies)
    return texts, copies


def _add_notebook(root: Path, notebook: syllabus.Notebook, texts: dict[str, str], copies: dict[str, Path],
                  edition=None) -> None:
    """The notebook as it is (or its translation, from `edition`); one without a title (no
    level-1 heading, which Sphinx needs for the page's title) gets the syllabus's, as
    "19. <title>", in a first cell of the site's copy."""
    from course.maintainer import translate

    relative, source = f"{syllabus.NOTEBOOKS}/{notebook.file}", root / syllabus.NOTEBOOKS / notebook.file
    data = edition.notebook(source, translate.IN_PLACE) if edition else json.loads(source.read_text(encoding="utf-8"))
    markdown = "\n\n".join("".join(c["source"]) for c in data["cells"] if c["cell_type"] == "markdown")
    if any(level == 1 for _, level, _ in _headings(markdown)):
        if edition:
            texts[relative] = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        else:
            copies[relative] = source
        return
    data["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": [f"# {notebook.label}. {_notebook_title(notebook)}"]})
    if data.get("nbformat_minor", 0) >= 5:  # cells carry ids from nbformat 4.5
        data["cells"][0]["id"] = "site-title"
    texts[relative] = json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _page_links(relative: str, text: str | None, source: Path) -> list[str]:
    if relative.endswith(".ipynb"):
        cells = json.loads(text if text is not None else source.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return _markdown_links(text or "")


def _add_linked_files(root: Path, texts: dict[str, str], copies: dict[str, Path]) -> None:
    """Every relative link of every page must reach a page of the site, a file or a folder of
    the repository. A file is copied beside the pages, where Sphinx serves it (a download). A
    folder (a link GitHub shows as a listing) gets a page listing its files, or its README if
    that is a page of the site; the link is pointed at that page."""
    pages_in_site = set(texts) | {p for p in copies if p.endswith(PAGE_SUFFIXES)}
    for relative in sorted(set(texts) | set(copies)):
        if not relative.endswith(PAGE_SUFFIXES):
            continue
        moved: dict[str, str] = {}
        for target in _page_links(relative, texts.get(relative), copies.get(relative, Path())):
            if SCHEME.match(target) or target.startswith("#"):
                continue
            path = target.split("#")[0]
            inside = (Path(relative).parent / path)
            resolved = (root / inside).resolve()
            try:
                name = resolved.relative_to(root.resolve()).as_posix()
            except ValueError:
                raise SiteError(f"{relative}: the link {target!r} leaves the repository") from None
            if name in pages_in_site or name in copies:
                continue
            if resolved.is_dir():
                page = _folder_page(root, name, pages_in_site, texts, copies)
                pages_in_site.add(page)
                moved[target] = f"{path.rstrip('/')}/{Path(page).name}"
                continue
            if not resolved.is_file():
                raise SiteError(f"{relative}: the link {target!r} reaches no file")
            if name.endswith(PAGE_SUFFIXES):
                raise SiteError(f"{relative}: the link {target!r} is a page that is not part of the site "
                                f"(not in syllabus.toml nor in a chapter folder)")
            copies[name] = resolved
        if moved:
            _relink(relative, moved, texts, copies)


# What a folder's listing leaves out: what git ignores in this repository (.gitignore).
UNLISTED = re.compile(r"(^|/)(\.[^/]*|__pycache__|[^/]*\.egg-info)(/|$)|\.(pyc|db|db-journal)$")


def _folder_page(root: Path, folder: str, pages_in_site: set[str], texts: dict[str, str],
                 copies: dict[str, Path]) -> str:
    """The page a link to `folder` lands on: its README.md if that is a page of the site, else
    a generated listing of its files (pages linked, other files served as downloads)."""
    readme = f"{folder}/README.md" if folder else "README.md"
    if readme in pages_in_site:
        return readme
    page = f"{folder}/index.md"
    if page in texts:
        return page
    lines = ["---", "orphan: true", "---", "", f"# `{folder}/`", "",
             "The files in this folder of the repository:", ""]
    for path in sorted(p for p in (root / folder).rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        shown = path.relative_to(root / folder).as_posix()
        if UNLISTED.search(shown):
            continue
        if name in pages_in_site:
            lines.append(f"- [{shown}]({shown})")
        elif name.endswith(PAGE_SUFFIXES):
            lines.append(f"- `{shown}` (not a page of the site)")
        else:
            copies.setdefault(name, path)
            lines.append(f"- [{shown}]({shown})")
    texts[page] = "\n".join(lines) + "\n"
    return page


def _link_other_editions(texts: dict[str, str], copies: dict[str, Path], language: str) -> None:
    from course.maintainer import translate

    """A link to a page of a translated edition (README.zh.md) leads to that page of the site's
    edition in that language: in the same edition, to the page itself; in another, to
    <root>/zh/<page>.html (or from there back to <root>/<page>.html), as an HTML link, since
    Sphinx knows only the pages of the edition it builds."""
    pages = set(texts) | set(copies)
    for relative in sorted(pages):
        if not relative.endswith(PAGE_SUFFIXES):
            continue
        text = texts.get(relative)
        if text is None:
            continue  # a notebook copied as it is links to no other edition
        depth = "../" * relative.count("/")

        def swap(match, relative=relative, depth=depth):
            bang, label, target = match.groups()
            path, _, fragment = target.partition("#")
            if SCHEME.match(target) or not path:
                return match.group(0)
            found = translate.source_of(posixpath.normpath((Path(relative).parent / path).as_posix()))
            if found is None:
                return match.group(0)
            code, english = found
            page = "index" if english == "README.md" else str(Path(english).with_suffix(""))
            if code == language:
                local = os.path.relpath(("index.md" if english == "README.md" else english), Path(relative).parent or ".")
                return f"{bang}[{label}]({local}{'#' + fragment if fragment else ''})"
            up = depth + ("../" if language != i18n.SOURCE else "")
            prefix = "" if code == i18n.SOURCE else f"{code}/"
            href = f"{up}{prefix}{page}.html" + (f"#{fragment}" if fragment else "")
            return f'<a href="{href}" hreflang="{code}">{label}</a>'

        if relative.endswith(".ipynb"):
            data, changed = json.loads(text), False
            for cell in data["cells"]:
                if cell["cell_type"] == "markdown":
                    source = "".join(cell["source"])
                    swapped = LINK.sub(swap, source)
                    if swapped != source:
                        cell["source"], changed = swapped.splitlines(keepends=True), True
            if changed:
                texts[relative] = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        else:
            texts[relative] = LINK.sub(swap, text)


def _relink(relative: str, moved: dict[str, str], texts: dict[str, str], copies: dict[str, Path]) -> None:
    """Point the page's links `old` at `new` ({old: new}); a notebook becomes a text source."""
    def relinked(text: str) -> str:
        return LINK.sub(lambda m: f"{m.group(1)}[{m.group(2)}]({moved.get(m.group(3), m.group(3))})", text)

    if relative.endswith(".ipynb"):
        notebook = json.loads(copies.pop(relative).read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = relinked("".join(cell["source"])).splitlines(keepends=True)
        texts[relative] = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    else:
        texts[relative] = relinked(texts[relative])


def write_sources(src: Path, root: Path = REPO, language: str = i18n.SOURCE) -> list[str]:
    """Lay out the sources in `src`: a file is rewritten only when it changed (Sphinx then
    rebuilds only what changed), and what is no longer a source is removed. Returns the pages."""
    texts, copies = pages(root, language)
    src.mkdir(parents=True, exist_ok=True)
    wanted = set(texts) | set(copies)
    for relative, text in texts.items():
        target = src / relative
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    for relative, source in copies.items():
        target = src / relative
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for stale in sorted(src.rglob("*"), reverse=True):
        relative = stale.relative_to(src).as_posix()
        if stale.is_file() and relative not in wanted:
            stale.unlink()
        elif stale.is_dir() and not any(stale.iterdir()):
            stale.rmdir()
    return sorted(p for p in wanted if p.endswith(PAGE_SUFFIXES))


# -- nothing from another host -----------------------------------------------------------------------

class _Loads(HTMLParser):
    """What a page makes the browser fetch: scripts, styles, images, frames, media."""

    SOURCES = ("script", "img", "iframe", "source", "video", "audio", "embed", "track")  # src=
    TAGS = (*SOURCES, "link", "object")

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in self.SOURCES and values.get("src"):
            self.urls.append(values["src"])
        if tag == "link" and values.get("href") and values.get("rel") not in ("canonical", "alternate"):
            self.urls.append(values["href"])
        if tag == "object" and values.get("data"):
            self.urls.append(values["data"])
        style = values.get("style") or ""
        self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", style)


# A start tag, its quoted values skipped whole (a '>' inside one does not end the tag).
_START_TAG = re.compile(r"""<([a-zA-Z][\w-]*)(?:[^>"']|"[^"]*"|'[^']*')*>""")
# What html.parser reads as no tag at all: comments (conditional ones too), CDATA sections,
# and the text of a <script> or <style> element (its start tag, which may load, is kept).
_NOT_MARKUP = re.compile(r"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|(<(script|style)\b(?:[^>"']|"[^"]*"|'[^']*')*>).*?</\2\s*>""",
                         re.S | re.I)


def _loading_tags(page: str) -> Iterator[str]:
    """The start tags of `page` that _Loads looks at: html.parser then reads these alone, not
    the whole page (the site's 120 pages, mostly the notebooks' outputs: 2.1 s -> 0.3 s)."""
    page = _NOT_MARKUP.sub(lambda found: found.group(1) or "", page)
    for tag in _START_TAG.finditer(page):
        if tag.group(1).lower() in _Loads.TAGS or "style" in tag.group(0).lower():
            yield tag.group(0)


def remote_loads(html_dir: Path) -> list[str]:
    """Each place where a page or a style sheet of the built site loads something from another
    host, as "file: url" (the browser test then watches what is really requested)."""
    found = []
    remote = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//")
    for page in sorted(html_dir.rglob("*.html")):
        parser = _Loads()
        for tag in _loading_tags(page.read_text(encoding="utf-8")):
            parser.feed(tag)
            parser.reset()  # a <script> tag alone would leave it reading script text
        found += [f"{page.relative_to(html_dir)}: {url}" for url in parser.urls
                  if remote.match(url) and not url.startswith("data:")]
    for sheet in sorted(html_dir.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        for url in re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])([^'\")\s]+)", text):
            if remote.match(url):
                found.append(f"{sheet.relative_to(html_dir)}: {url}")
    return found


# -- building -----------------------------------------------------------------------------------------

def _sphinx_language(code: str) -> str:
    """Sphinx's name for a language (syllabus.toml): its labels and its search's word splitting."""
    return i18n.EDITIONS[code].get("sphinx", code)


def _edition_dir(folder: Path, language: str) -> Path:
    """Sources and doctrees of another edition beside the English ones (src-zh/); its pages in
    html/zh/, a folder no page of the course is named, so that /zh/<page> mirrors /<page>."""
    if language == i18n.SOURCE:
        return folder
    return folder / language if folder.name == "html" else folder.with_name(f"{folder.name}-{language}")


def build(out: Path, root: Path = REPO, jobs: str = "auto") -> int:
    """Lay out the sources in out/src and build out/html; 0 when the site is complete."""
    from sphinx.cmd.build import build_main

    out = Path(out)
    # The English edition at the root of html/, each other one (only this repository has one)
    # in html/<language>/, laid out as the English one.
    editions = [i18n.SOURCE] + ([code for code in i18n.LANGUAGES if code != i18n.SOURCE] if root == REPO else [])
    try:
        for language in editions:
            write_sources(_edition_dir(out / "src", language), root, language)
    except (SiteError, syllabus.SyllabusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Always a whole build: Sphinx re-reads only changed sources, so after a failed build a
    # second one would pass without repeating the warnings, and removed pages would stay.
    # (myst-nb writes the notebooks' images to jupyter_execute/ beside them.)
    for folder in (out / "html", out / "jupyter_execute", *(_edition_dir(out / "doctrees", e) for e in editions)):
        shutil.rmtree(folder, ignore_errors=True)
    for language in editions:
        # -W --keep-going: every warning is reported, and any fails the build; -n: nitpicky.
        status = build_main(["-b", "html", "-W", "--keep-going", "-n", "-q", "-j", jobs, "-c", str(CONF_DIR),
                             "-D", f"language={_sphinx_language(language)}", "-D", f"course_language={language}",
                             "-d", str(_edition_dir(out / "doctrees", language)),
                             str(_edition_dir(out / "src", language)), str(_edition_dir(out / "html", language))])
        if status:
            print(f"error: Sphinx reported the problems above; the site ({language}) is not complete", file=sys.stderr)
            return status
    remote = remote_loads(out / "html")
    if remote:
        print(f"error: a page loads from another host: {remote[0]}" + (f" (and {len(remote) - 1} more)" if len(remote) > 1 else ""),
              file=sys.stderr)
        return 1
    print(f"the site is in {out / 'html'}: open {out / 'html' / 'index.html'}, or serve it: "
          f"python -m http.server --directory {out / 'html'}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "build":
        return build(Path(argv[1]))
    if len(argv) == 2 and argv[0] == "sources":
        try:
            for page in write_sources(Path(argv[1])):
                print(page)
        except (SiteError, syllabus.SyllabusError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    print("usage: python -m course.maintainer.site build DIR     (the website in DIR/html)\n"
          "       python -m course.maintainer.site sources DIR   (only its sources, in DIR)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
