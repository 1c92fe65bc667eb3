"""The chapter 1 README's guide for readers of the source article: every link in it reaches a
notebook and a heading that exist, every section of the article (1.1 to 1.6) is mapped, and
every glossary term is really used by the notebook the glossary names.

Anchors are computed the way GitHub computes them for a Markdown heading: lower-cased, every
character that is not a letter, digit, '_', '-' or space removed, spaces turned into '-', and
a repeated heading suffixed -1, -2, ... A renamed heading therefore breaks the test, not only
the reader's link.
"""

import json
import re
from pathlib import Path

import pytest

from course import REPO

CHAPTER = REPO / "chapters" / "01_alembic_basics"
README = CHAPTER / "README.md"
GLOSSARY = CHAPTER / "GLOSSARY.md"

# The README's section for the article's readers, and its two tables' headings.
GUIDE_HEADING = "## If you read the article first"
MAP_HEADING = "### Where each section of the article is covered"
CORRECTIONS_HEADING = "### What the course corrects"

# The article's sections, number and heading as the article prints them.
ARTICLE_SECTIONS = {
    "1.1": "Alembic工具链工作原理剖析",
    "1.2": "FastAPI集成Alembic全流程",
    "1.3": "迁移脚本生成机制深度解析",
    "1.4": "完整示例：用户管理系统",
    "1.5": "课后Quiz",
    "1.6": "常见报错解决方案",
}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


# -- reading --------------------------------------------------------------------------------------

def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading (before de-duplication)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def markdown_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def headings(markdown: str) -> list[str]:
    """The ATX headings of a Markdown text, in order, outside fenced code blocks."""
    found, fenced = [], False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found.append(match.group(2))
    return found


def anchors(file: Path) -> set[str]:
    """Every anchor of the headings of a notebook (its Markdown cells) or a Markdown file,
    repeated ones suffixed as GitHub does."""
    markdown = "\n".join(markdown_cells(file)) if file.suffix == ".ipynb" else file.read_text(encoding="utf-8")
    seen: dict[str, int] = {}
    result = set()
    for heading in headings(markdown):
        slug = github_slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def notebook_text(notebook: Path) -> str:
    """What a reader reads in the notebook: its Markdown, whitespace collapsed, lower-cased."""
    return " ".join(" ".join(markdown_cells(notebook)).split()).lower()


def section(markdown: str, heading: str) -> str:
    """The text under `heading`, up to the next heading of the same or a higher level."""
    lines = markdown.splitlines()
    if heading not in lines:
        raise AssertionError(f"no heading {heading!r}")
    level = len(heading) - len(heading.lstrip("#"))
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines))
                if (m := HEADING.match(lines[i])) and len(m.group(1)) <= level), len(lines))
    return "\n".join(lines[start:end])


def table_rows(markdown: str) -> list[list[str]]:
    """The body rows of the Markdown tables in `markdown`, as lists of cells ('|' inside
    backticks does not split a cell)."""
    rows = []
    for line in markdown.splitlines():
        if not line.startswith("|"):
            continue
        cells, cell, in_code = [], "", False
        for char in line.strip()[1:-1]:
            if char == "`":
                in_code = not in_code
            if char == "|" and not in_code:
                cells.append(cell.strip())
                cell = ""
            else:
                cell += char
        cells.append(cell.strip())
        if all(re.fullmatch(r":?-+:?", c) for c in cells):  # the delimiter row
            rows.pop()  # and the header row above it
            continue
        rows.append(cells)
    return rows


# -- checking (each returns the problems it finds, one line each) ---------------------------------

def link_problems(markdown: str, folder: Path) -> list[str]:
    """Relative links that reach no file, notebook links that carry no anchor, anchors that
    match no heading of their notebook or Markdown file."""
    problems = []
    for target in LINK.findall(markdown):
        if re.match(r"[a-z]+:", target):  # an absolute URL: not ours to check
            continue
        path, _, anchor = target.partition("#")
        file = (folder / path).resolve()
        if not file.is_file():
            problems.append(f"{target}: no such file")
        elif file.suffix == ".ipynb" and not anchor:
            problems.append(f"{target}: a notebook link without a section anchor")
        elif anchor and file.suffix in (".ipynb", ".md") and anchor not in anchors(file):
            problems.append(f"{target}: no heading of {file.name} has the anchor #{anchor}")
    return problems


def rows_without_notebook_link(markdown: str) -> list[str]:
    return [row[0] for row in table_rows(markdown) if not any(".ipynb#" in c for c in row[1:])]


def missing_article_sections(map_markdown: str) -> list[str]:
    labels = [row[0] for row in table_rows(map_markdown)]
    return [f"{number} {title}" for number, title in ARTICLE_SECTIONS.items()
            if not any(label.startswith(f"{number} {title}") for label in labels)]


def glossary_problems(markdown: str, folder: Path) -> list[str]:
    """Glossary rows (Chinese | English | introduced in | note) whose English terms do not all
    occur, as words, in the text of the one notebook the row names."""
    problems = []
    rows = table_rows(markdown)
    if not rows:
        return ["the glossary has no table rows"]
    for row in rows:
        chinese, english, introduced = row[0], row[1], row[2]
        notebooks = [t.partition("#")[0] for t in LINK.findall(introduced) if ".ipynb" in t]
        if len(notebooks) != 1:
            problems.append(f"{chinese}: names {len(notebooks)} notebooks, not one")
            continue
        notebook = (folder / notebooks[0]).resolve()
        if not notebook.is_file():
            problems.append(f"{chinese}: {notebooks[0]} does not exist")
            continue
        text = notebook_text(notebook)
        for term in (t.strip().strip("`").lower() for t in english.split(" / ")):
            if not term or not re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text):
                problems.append(f"{chinese}: {notebook.name} never says {term!r}")
    return problems


# -- the course's own files -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def guide() -> str:
    return section(README.read_text(encoding="utf-8"), GUIDE_HEADING)


def test_every_link_of_the_guide_and_the_glossary_reaches_a_heading(guide):
    assert link_problems(guide, CHAPTER) == []
    assert link_problems(GLOSSARY.read_text(encoding="utf-8"), CHAPTER) == []


def test_the_guide_links_the_glossary(guide):
    assert "(GLOSSARY.md)" in guide


def test_every_section_of_the_article_is_mapped_to_a_notebook_section(guide):
    mapping = section(guide, MAP_HEADING)
    assert missing_article_sections(mapping) == []
    assert rows_without_notebook_link(mapping) == []


def test_every_correction_names_an_article_section_and_the_notebook_that_runs_it(guide):
    rows = table_rows(section(guide, CORRECTIONS_HEADING))
    assert rows, "the corrections table has no rows"
    assert [r[0] for r in rows if not re.match(r"1\.[1-6]\b", r[0])] == []
    assert rows_without_notebook_link(section(guide, CORRECTIONS_HEADING)) == []


def test_every_glossary_term_is_used_by_the_notebook_it_names():
    assert glossary_problems(GLOSSARY.read_text(encoding="utf-8"), CHAPTER) == []


# -- the checks find what they look for -----------------------------------------------------------

NOTEBOOK_1 = "../../notebooks/01_how_alembic_works.ipynb"


def test_anchors_are_computed_as_github_does():
    assert github_slug('Error 3: "sa.Column type doesn\'t match existing type"') == \
        "error-3-sacolumn-type-doesnt-match-existing-type"
    assert github_slug("(A) `target_metadata` missing") == "a-target_metadata-missing"
    assert github_slug("1. How Alembic works") == "1-how-alembic-works"
    assert headings("# One\n```\n# not a heading\n```\n## Two ##") == ["One", "Two"]


def test_a_repeated_heading_gets_a_numbered_anchor(tmp_path):
    notebook = tmp_path / "n.ipynb"
    cells = [{"cell_type": "markdown", "source": ["## Practise\n"]}, {"cell_type": "code", "source": ["# Practise"]},
             {"cell_type": "markdown", "source": ["## Practise"]}]
    notebook.write_text(json.dumps({"cells": cells}))
    assert anchors(notebook) == {"practise", "practise-1"}


def test_a_broken_anchor_a_missing_notebook_and_a_bare_notebook_link_are_reported():
    broken = (f"[a]({NOTEBOOK_1}#the-version-tables) [b](../../notebooks/99_none.ipynb#x) "
              f"[c]({NOTEBOOK_1}) [d]({NOTEBOOK_1}#the-version-table) [e](https://example.com/x) "
              "[f](README.md#what-to-read) [g](README.md#what-to-write)")
    assert link_problems(broken, CHAPTER) == [
        f"{NOTEBOOK_1}#the-version-tables: no heading of 01_how_alembic_works.ipynb has the anchor #the-version-tables",
        "../../notebooks/99_none.ipynb#x: no such file",
        f"{NOTEBOOK_1}: a notebook link without a section anchor",
        "README.md#what-to-write: no heading of README.md has the anchor #what-to-write",
    ]


def test_a_missing_article_section_and_a_row_without_a_link_are_reported():
    mapping = (f"| Article | Course |\n|---|---|\n| 1.1 {ARTICLE_SECTIONS['1.1']} | [x]({NOTEBOOK_1}#downgrade) |\n"
               "| 1.2 somewhere else | nothing |\n")
    assert missing_article_sections(mapping) == [f"{n} {t}" for n, t in ARTICLE_SECTIONS.items() if n != "1.1"]
    assert rows_without_notebook_link(mapping) == ["1.2 somewhere else"]


def test_a_glossary_term_the_notebook_never_uses_is_reported():
    glossary = ("| 中文 | English | Introduced in | Note |\n|---|---|---|---|\n"
                f"| 版本表 | version table | [1]({NOTEBOOK_1}#the-version-table) | |\n"
                f"| 头 | `head` / heads-up | [1]({NOTEBOOK_1}#upgrade-to-the-head) | |\n"
                f"| 回填 | backfill | [1]({NOTEBOOK_1}#downgrade) | |\n"
                "| 基线 | base | none | |\n")
    assert glossary_problems(glossary, CHAPTER) == [
        "头: 01_how_alembic_works.ipynb never says 'heads-up'",
        "回填: 01_how_alembic_works.ipynb never says 'backfill'",
        "基线: names 0 notebooks, not one",
    ]


def test_a_pipe_inside_backticks_does_not_split_a_cell():
    assert table_rows("| a | b |\n|---|---|\n| `x | y` | z |") == [["`x | y`", "z"]]
