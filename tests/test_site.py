"""The course as a website (`make site`, course/maintainer/site.py), read as a reader would.

Without a browser: the site's table of contents follows syllabus.toml (a throwaway course with
one more chapter gets its pages with no change to the site's code), a link the site cannot
serve stops the build with one line, the quiz, exercise and article pages are made from their
sources.

With the built site (built once per run into a temporary folder with .venv-site, which
`make site` makes): check cells are not on the pages while every other code cell is, and every
link between pages reaches its page and its anchor. Then headless Chromium (Debian's, through
Playwright) opens every page from a local server, failing on a console error, a failed
request or any request to another host; follows the sidebar; searches; unfolds a quiz answer;
switches a lesson to the Chinese edition (html/zh/) and back; searches the Chinese edition in
Chinese; and saves a screenshot of a lesson page, with each page's weight and the lesson's first
render, in <build>/browser/ (the test prints where).
"""

import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from course import REPO, syllabus
from course.learner import quiz
from course.maintainer import site

import browser as browser_helpers
from browser import WAIT_MS
from helpers import copy_course

SITE_PYTHON = REPO / ".venv-site" / "bin" / "python"
# The aim is 300 KB of HTML, CSS and JavaScript for a lesson page; the two longest lessons,
# mostly highlighted code, are a little above it. Past this bound something was added to every
# page (a style sheet, MathJax, a widget manager) or a lesson grew out of proportion.
LESSON_BUDGET = 330 * 1024


# -- without Sphinx ------------------------------------------------------------------------------

def _one_more_chapter(tmp_path, monkeypatch) -> Path:
    """A copy of the course with one more chapter, the last (a notebook, a page without a title, a plot)."""
    root = copy_course(tmp_path / "course")
    shutil.copytree(REPO / "tests", root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    folder = root / syllabus.CHAPTERS / "99_extra"
    (folder / "results").mkdir(parents=True)
    (folder / "README.md").write_text("# Extra\n\nRead [the notebook](../../notebooks/90_extra.ipynb).\n")
    (folder / "results" / "table.md").write_text("### Measured\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    shutil.copyfile(REPO / "chapters" / "02_production" / "bench" / "results.png", folder / "results" / "plot.png")
    shutil.copyfile(REPO / "notebooks" / "01_how_alembic_works.ipynb", root / "notebooks" / "90_extra.ipynb")
    with (root / syllabus.FILE).open("a", encoding="utf-8") as toml:
        toml.write('\n[[chapters]]\nid = "99_extra"\ntitle = "Extra"\n\n[[chapters.notebooks]]\n'
                   'file = "90_extra.ipynb"\ntitle = "Extra"\nlearn = "more"\nminutes = 5\n')
    monkeypatch.setattr(syllabus, "ROOT", root)
    return root


def _toctrees(index: str) -> dict[str, list[str]]:
    """index.md's tables of contents: caption -> entries."""
    found = {}
    for block in re.findall(r"```\{toctree\}\n(.*?)```", index, re.S):
        caption = re.search(r"^:caption: (.+)$", block, re.M).group(1)
        found[caption] = [line for line in block.splitlines() if line and not line.startswith(":")]
    return found


def test_the_table_of_contents_follows_the_syllabus(tmp_path, monkeypatch):
    root = _one_more_chapter(tmp_path, monkeypatch)
    texts, copies = site.pages(root)
    course = syllabus.load(root)
    toctrees = _toctrees(texts["index.md"])
    assert list(toctrees) == [chapter.heading for chapter in course.chapters]
    for chapter in course.chapters:
        entries = toctrees[chapter.heading]
        notebooks = [e for e in entries if e.startswith("notebooks/")]
        assert notebooks == [f"notebooks/{Path(n.file).stem}" for n in chapter.notebooks]
        assert entries[0].endswith(f"<chapters/{chapter.id}/README>")
        assert (f"chapters/{chapter.id}/QUIZ" in entries) == bool(chapter.quiz)
        assert (f"chapters/{chapter.id}/exercises/index" in entries) == bool(chapter.exercises)
    added = toctrees[f"Chapter {len(course.chapters)}: Extra"]
    assert added == ["About this chapter <chapters/99_extra/README>", "notebooks/90_extra",
                     "chapters/99_extra/results/table"]
    # A generated table without a title gets one, its headings move up, and the plot beside it is shown.
    assert texts["chapters/99_extra/results/table.md"] == (
        "# `results/table.md`\n\n## Measured\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Plots\n\n![plot](plot.png)\n")
    assert copies["chapters/99_extra/results/plot.png"] == root / "chapters/99_extra/results/plot.png"
    assert copies["notebooks/90_extra.ipynb"] == root / "notebooks/90_extra.ipynb"
    # Files the pages link to are served as they are (the notebooks link to a test file).
    assert copies["tests/test_migrations.py"] == root / "tests/test_migrations.py"


@pytest.mark.parametrize("link, message", [
    ("../../notebooks/99_missing.ipynb", "reaches no file"),
    ("../../../outside.md", "leaves the repository"),
])
def test_a_link_the_site_cannot_serve_stops_the_build(tmp_path, monkeypatch, link, message):
    root = _one_more_chapter(tmp_path, monkeypatch)
    readme = root / "chapters" / "99_extra" / "README.md"
    readme.write_text(readme.read_text() + f"\nSee [this]({link}).\n")
    with pytest.raises(site.SiteError) as caught:
        site.pages(root)
    assert str(caught.value) == f"chapters/99_extra/README.md: the link {link!r} {message}"


def test_a_link_to_a_folder_lands_on_a_listing_of_its_files(tmp_path, monkeypatch):
    """As GitHub shows a folder: its files, the pages among them linked as pages, the others
    served as they are; a folder whose README is a page of the site lands on that README."""
    root = _one_more_chapter(tmp_path, monkeypatch)
    readme = root / "chapters" / "99_extra" / "README.md"
    readme.write_text(readme.read_text() + "\nThe [results](results/), and [chapter 1](../01_alembic_basics/).\n")
    lesson = root / "notebooks" / "90_extra.ipynb"
    data = json.loads(lesson.read_text(encoding="utf-8"))
    data["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "to-a-folder",
                          "source": ["See [the results](../chapters/99_extra/results/)."]})
    lesson.write_text(json.dumps(data), encoding="utf-8")
    texts, copies = site.pages(root)
    assert "The [results](results/index.md), and [chapter 1](../01_alembic_basics/README.md)." in texts["chapters/99_extra/README.md"]
    listing = texts["chapters/99_extra/results/index.md"]
    assert listing.startswith("---\norphan: true\n---\n\n# `chapters/99_extra/results/`\n")
    assert "- [plot.png](plot.png)\n- [table.md](table.md)\n" in listing
    assert copies["chapters/99_extra/results/plot.png"] == root / "chapters/99_extra/results/plot.png"
    # The notebook's link is pointed at the listing in the site's copy, which stays a notebook.
    copy = json.loads(texts["notebooks/90_extra.ipynb"])
    assert copy["cells"][-1]["source"] == ["See [the results](../chapters/99_extra/results/index.md)."]
    assert [c.get("outputs") for c in copy["cells"]] == [c.get("outputs") for c in data["cells"]]


def test_a_notebook_without_a_title_gets_the_syllabus_one(tmp_path, monkeypatch):
    root = _one_more_chapter(tmp_path, monkeypatch)
    lesson = root / "notebooks" / "90_extra.ipynb"
    data = json.loads(lesson.read_text(encoding="utf-8"))
    for cell in data["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = [re.sub(r"(?m)^# ", "## ", "".join(cell["source"]))]
    lesson.write_text(json.dumps(data), encoding="utf-8")
    texts, copies = site.pages(root)
    assert "notebooks/90_extra.ipynb" not in copies
    copy = json.loads(texts["notebooks/90_extra.ipynb"])
    assert copy["cells"][0]["source"] == ["# 90. Extra"]
    assert copy["cells"][1:] == data["cells"]


def test_quiz_pages_fold_every_answer():
    texts, _ = site.pages(REPO)
    for bank in quiz.banks():
        page = texts[f"chapters/{bank.chapter}/{quiz.MARKDOWN_FILE}"]
        assert "<details>" not in page
        folds = page.split(":::{dropdown} Answer\n")[1:]
        assert len(folds) == len(bank.questions)
        for question, fold in zip(bank.questions, folds):
            assert fold.startswith(f"**{question.answer})**"), question.id


def test_exercise_pages_carry_task_hints_and_solution_folded():
    from course.learner import exercises

    texts, _ = site.pages(REPO)
    for exercise in exercises.all_exercises():
        page = texts[f"chapters/{exercise.chapter}/exercises/{exercise.id}/index.md"]
        assert page.startswith(f"# Exercise {exercise.label}: {exercise.title}\n")
        assert page.count(":::{dropdown} Hint ") == len(exercise.hints)
        for file in exercise.files:
            solution = page.split(f":::{{dropdown}} The reference solution: `{file.path}`\n", 1)[1]
            assert solution.split("\n", 1)[1].startswith(file.solution.read_text(encoding="utf-8").rstrip()), exercise.id
    assert "user-\\<id>@example.invalid" in texts["chapters/01_alembic_basics/exercises/add-email/index.md"]


def test_the_article_guide_is_a_page_and_the_chapter_page_points_to_it():
    texts, _ = site.pages(REPO)
    guides = [chapter for chapter in syllabus.chapters()
              if site.ARTICLE_GUIDE in (chapter.folder / "README.md").read_text(encoding="utf-8")]
    assert guides, "no chapter README has the article guide any more: ARTICLE_GUIDE is stale"
    for chapter in guides:
        guide = texts[f"chapters/{chapter.id}/{site.ARTICLE_PAGE}"]
        assert guide.startswith(f"# {site.ARTICLE_GUIDE.lstrip('# ')}\n\n")
        assert "\n## Where each section of the article is covered\n" in guide
        page = texts[f"chapters/{chapter.id}/README.md"]
        # The heading stays, so that links to its anchor (the glossary has one) still land.
        assert f"{site.ARTICLE_GUIDE}\n\nWhere each section of the article is covered" in page
        assert "### Where each section" not in page


def test_the_site_environment_pins_what_the_course_pins():
    def pins(name):
        lines = (REPO / name).read_text(encoding="utf-8").splitlines()
        return dict(re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", line).groups()
                    for line in lines if re.match(r"[A-Za-z0-9]", line))

    shared = pins("requirements-site.txt").keys() & pins("requirements.txt").keys()
    assert shared, "requirements-site.txt shares no package with requirements.txt any more: drop this test"
    assert {name: pins("requirements-site.txt")[name] for name in shared} == {
        name: pins("requirements.txt")[name] for name in shared}


def test_a_load_from_another_host_is_found_in_tags_and_not_in_text(tmp_path):
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "page.html").write_text(
        '<html><head><link rel="stylesheet" href="https://cdn.example/theme.css">'
        '<link rel="canonical" href="https://course.example/page.html">'  # names the page: no load
        '<script src="_static/local.js"></script><script async src="//cdn.example/a.js"></script></head>'
        '<body><p>&lt;script src="https://cdn.example/in-text.js"&gt;</p>'  # text, not a tag
        '<a href="https://example.org/">a link is followed, never loaded</a>'
        '<img alt="1 > 0" src="http://img.example/i.png">'  # a '>' inside a quoted value
        "<div class='cell' style=\"background: url('https://img.example/b.png')\">x</div>"
        '<object data="https://obj.example/o.svg"></object><img src="data:image/png;base64,AAAA">'
        # Not markup: a comment, and a script's text, whose quotes and '<' must not swallow
        # the image between them.
        '<!-- <script src="https://cdn.example/commented-out.js"></script> -->'
        "<script>if (a<b) { /* don't */ }</script><IMG\nSRC='https://img.example/after-script.png'>"
        "<script>var s = '<img src=\"https://img.example/in-a-string.png\">'; /* it's */</script>"
        '</body></html>', encoding="utf-8")
    (tmp_path / "theme.css").write_text('@import "https://fonts.example/f.css";\nbody{}', encoding="utf-8")
    assert site.remote_loads(tmp_path) == [
        "zh/page.html: https://cdn.example/theme.css",
        "zh/page.html: //cdn.example/a.js",
        "zh/page.html: http://img.example/i.png",
        "zh/page.html: https://img.example/b.png",
        "zh/page.html: https://obj.example/o.svg",
        "zh/page.html: https://img.example/after-script.png",
        "theme.css: https://fonts.example/f.css",
    ]


# -- the built site --------------------------------------------------------------------------------

def _missing() -> str | None:
    return browser_helpers.missing(SITE_PYTHON, "run `make .venv-site/.installed` (or `make site`) first")


# The tests that read the built site run on one test worker (`--dist loadgroup`), so that the
# site is built once per run, not once per worker.
on_the_built_site = pytest.mark.xdist_group("built-site")


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Skip (fail under CI) before anything is built when the browser test cannot run."""
    browser_helpers.require(_missing())


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The site, built as `make site` builds it, into a temporary folder; its html/ is served."""
    if not SITE_PYTHON.exists():
        browser_helpers.require("the site's environment .venv-site not found: run `make .venv-site/.installed` first")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([str(SITE_PYTHON), "-m", "course.maintainer.site", "build", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"make site failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return out


class _Page(HTMLParser):
    """A built page's links, element ids and the text of each <pre>."""

    def __init__(self):
        super().__init__()
        self.links, self.ids, self.pres, self._pre = [], set(), [], None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        if self._pre is not None:
            self._pre.append(data)


def _parse(path: Path) -> _Page:
    parser = _Page()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _pages(html: Path, edition: bool = False) -> list[Path]:
    """Every page of the site (`edition`: of the English edition only, not html/zh/)."""
    return sorted(p for p in html.rglob("*.html")
                  if "_static" not in p.parts and not (edition and p.relative_to(html).parts[0] == "zh"))


@pytest.mark.long
@on_the_built_site
def test_check_cells_are_not_on_the_pages(built):
    for notebook in syllabus.notebooks():
        cells = json.loads((REPO / "notebooks" / notebook.file).read_text(encoding="utf-8"))["cells"]
        # A cell's code is a <pre> of its own (a short check may also be a line of a longer cell).
        pres = {pre.strip() for pre in _parse(built / "html" / "notebooks" / f"{Path(notebook.file).stem}.html").pres}
        for cell in cells:
            source = "".join(cell["source"]).strip()
            if cell["cell_type"] != "code" or not source:
                continue
            shown = source in pres
            hidden = "remove-cell" in cell["metadata"].get("tags", [])
            assert shown != hidden, f"{notebook.file}: a {'check' if hidden else 'code'} cell is " \
                                    f"{'on' if shown else 'missing from'} the page:\n{source[:300]}"


@pytest.mark.long
@on_the_built_site
def test_unwrapped_code_tokens_would_have_had_the_code_blocks_own_colour(built):
    # course/maintainer/site_sphinx.py drops the spans of these token classes: that is only
    # invisible while every theme colours them exactly as the code block's text.
    css = (built / "html" / "_static" / "pygments.css").read_text(encoding="utf-8")
    themes = {}
    for selector, color in re.findall(r"^(.*?)\.highlight \{[^}]*?color: (#[0-9A-Fa-f]+)", css, re.M):
        themes[selector] = color
    assert len(themes) >= 2, "expected a light and a dark style"
    for selector, color in themes.items():
        for token in site.PLAIN_TOKEN_CLASSES:
            rules = re.findall(rf"^{re.escape(selector)}\.highlight \.{token} \{{([^}}]*)\}}", css, re.M)
            assert rules in ([], [f" color: {color} "]), f"{selector or 'light'}: .{token} is styled {rules}, not as plain text"
    lesson = (built / "html" / "notebooks" / "01_how_alembic_works.html").read_text(encoding="utf-8")
    assert '<span class="n">' not in lesson and '<span class="k">' in lesson


@pytest.mark.long
@on_the_built_site
def test_every_link_between_pages_reaches_its_page_and_anchor(built):
    html = built / "html"
    parsed = {page: _parse(page) for page in _pages(html)}
    broken = []
    for page, content in parsed.items():
        for href in content.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.is_file():
                broken.append(f"{page.relative_to(html)} -> {href}")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in parsed[target].ids:
                broken.append(f"{page.relative_to(html)} -> {href} (no such anchor)")
    assert not broken, f"{len(broken)} broken links, e.g.: {broken[:5]}"
    # Among them, links into another page's sections (the article guide's to the lessons).
    into_sections = [h for c in parsed.values() for h in c.links
                     if not urlsplit(h).scheme and urlsplit(h).fragment and urlsplit(h).path.endswith(".html")]
    assert into_sections, "no page links to another page's section: the anchor check checked nothing"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The browser drops a request it no longer needs (a page left while its favicon was
        # still loading): not a failure of the site. Anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def served(built):
    """python -m http.server, as `make site-serve` runs it, in a thread on a free port."""
    server = _Server(("127.0.0.1", browser_helpers.free_port()), partial(_Quiet, directory=str(built / "html")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.long
@on_the_built_site
def test_the_site_in_a_browser(browser_ready, built, served):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    html = built / "html"
    report = built / "browser"
    report.mkdir(exist_ok=True)
    host = urlsplit(served).netloc
    problems: list[str] = []
    with sync_playwright() as playwright, browser_helpers.nowhere() as nowhere:
        # Any request to another host is a failure, and never leaves the machine: it goes to a
        # proxy that refuses it.
        chromium = browser_helpers.launch(playwright, proxy=nowhere)
        try:
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            _watch_other_hosts(context, host, problems)
            _elsewhere_is_refused_and_reported(context, problems)
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: console error: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"{page.url}: script error: {e}"))
            # ERR_ABORTED: cancelled by the next navigation (a favicon still loading).
            page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED" and problems.append(f"{r.url}: failed ({r.failure})"))
            page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.url}: HTTP {r.status}"))
            with browser_helpers.screenshot_on_failure(page, report / "failure.png"):
                weights = _every_page(page, context, served, html)
                assert not problems, "\n".join(problems[:20])
                _follow_the_sidebar(page, served, html)
                _search(page, served)
                _unfold_a_quiz_answer(page, served)
                _switch_language_and_search_in_chinese(page, served)
                first_paint = _lesson_screenshot(page, served, report / "lesson.png")
                assert not problems, "\n".join(problems[:20])
        finally:
            chromium.close()
    lessons = {name: size for name, size in weights.items() if name.startswith("notebooks/")}
    figures = {
        "pages": len(weights),
        "weight_median_kb": round(statistics.median(weights.values()) / 1024, 1),
        "weight_largest": [max(weights, key=weights.get), round(max(weights.values()) / 1024, 1)],
        "lesson_weight_median_kb": round(statistics.median(lessons.values()) / 1024, 1),
        "first_contentful_paint_ms": first_paint,
        "weights_kb": {name: round(size / 1024, 1) for name, size in sorted(weights.items())},
    }
    (report / "figures.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(f"the site's figures: {report / 'figures.json'}; a lesson page: {report / 'lesson.png'}")
    heavy = {name: f"{size / 1024:.0f} KB" for name, size in lessons.items() if size > LESSON_BUDGET}
    assert not heavy, f"lesson pages above {LESSON_BUDGET // 1024} KB of HTML, CSS and JavaScript: {heavy}"


def _watch_other_hosts(context, host: str, problems: list[str]) -> None:
    """Every request and every WebSocket to a host but the served site's is a problem."""
    elsewhere = lambda url: urlsplit(url).netloc != host and not url.startswith("data:")  # noqa: E731
    context.on("request", lambda r: elsewhere(r.url) and problems.append(f"request to another host: {r.url}"))
    context.on("page", lambda page: page.on(
        "websocket", lambda ws: elsewhere(ws.url) and problems.append(f"WebSocket to another host: {ws.url}")))


def _elsewhere_is_refused_and_reported(context, problems: list[str]) -> None:
    """The browser's guard holds: a request and a WebSocket to another host go to the refusing
    proxy, and each is reported (then forgotten: they were this check's own)."""
    page = context.new_page()
    refused = []
    page.on("websocket", lambda ws: ws.on("socketerror", lambda error: refused.append(error)))
    try:
        with page.expect_event("requestfailed") as failed:
            page.evaluate("fetch('http://example.com/').catch(() => null)")
        page.evaluate("new WebSocket('ws://example.com/socket')")
        for _ in range(WAIT_MS // 100):  # Playwright delivers events only while it is called
            if refused:
                break
            page.wait_for_timeout(100)
    finally:
        page.close()
    assert failed.value.failure == "net::ERR_PROXY_CONNECTION_FAILED", failed.value.failure
    assert refused == ["Error in connection establishment: net::ERR_PROXY_CONNECTION_FAILED"], refused
    assert problems == ["request to another host: http://example.com/",
                        "WebSocket to another host: ws://example.com/socket"], problems
    problems.clear()


def _every_page(page, context, served, html) -> dict[str, int]:
    """Open every page with an empty cache; returns each page's weight: the bytes of HTML, CSS
    and JavaScript it loaded (images apart)."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    loaded: list[int] = []

    def counted(response):
        # The size on disk of what http.server sent, without asking the browser for a copy
        # (for a folder, its index.html; a redirect or an error sends no file, and is reported
        # by the test's own listener).
        if response.status == 200 and response.request.resource_type in ("document", "stylesheet", "script"):
            sent = html / unquote(urlsplit(response.url).path).lstrip("/")
            loaded.append((sent / "index.html" if sent.is_dir() else sent).stat().st_size)

    page.on("response", counted)
    weights = {}
    # The English edition's every page; of the Chinese one (the same templates, every link and
    # anchor checked on the files by test_every_link_between_pages_reaches_its_page_and_anchor),
    # its index and each chapter's first page.
    chinese = [html / "zh" / "index.html"] + [html / "zh" / "chapters" / c.id / "README.html" for c in syllabus.chapters()]
    for path in _pages(html, edition=True) + chinese:
        name = path.relative_to(html).as_posix()
        loaded.clear()
        page.goto(f"{served}/{name}", wait_until="load")
        assert page.locator("h1").count() >= 1 or name in ("search.html", "genindex.html"), f"{name} has no title"
        weights[name] = sum(loaded)
    page.remove_listener("response", counted)
    session.send("Network.setCacheDisabled", {"cacheDisabled": False})
    return weights


def _follow_the_sidebar(page, served, html):
    """The sidebar lists every page; clicking each of its first-level links lands on that page,
    marked as the current one."""
    from playwright.sync_api import expect

    page.goto(f"{served}/index.html")
    tree = page.locator(".sidebar-tree")
    listed = {urlsplit(href).path.lstrip("/") for href in tree.locator("a.reference").evaluate_all("as => as.map(a => a.href)")}
    # Orphans: a folder's listing, reached by a link to the folder, not from the sidebar.
    orphans = {p.relative_to(html.parent / "src").with_suffix(".html").as_posix()
               for p in (html.parent / "src").rglob("*.md") if p.read_text(encoding="utf-8").startswith("---\norphan: true\n")}
    pages = {p.relative_to(html).as_posix() for p in _pages(html, edition=True)} - {"index.html", "search.html", "genindex.html"} - orphans
    assert listed == pages, f"in the sidebar but not built: {sorted(listed - pages)}; built but not in it: {sorted(pages - listed)}"
    count = tree.locator("li.toctree-l1 > a").count()
    for position in range(count):
        link = page.locator(".sidebar-tree li.toctree-l1 > a").nth(position)
        text, href = link.inner_text(), link.evaluate("a => a.href")
        link.click()
        expect(page).to_have_url(href)
        expect(page.locator(".sidebar-tree li.current-page > a").first).to_have_text(text)


def _search(page, served):
    """The sidebar's search box finds the first lesson by a word of its title, offline."""
    from playwright.sync_api import expect

    first = syllabus.notebooks()[0]
    word = max(re.findall(r"[A-Za-z]+", first.title), key=len)
    page.goto(f"{served}/index.html")
    page.locator(".sidebar-search").fill(word)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\.html\?q="))
    result = page.locator(f'#search-results a[href*="notebooks/{Path(first.file).stem}.html"]').first
    expect(result).to_be_visible()


def _unfold_a_quiz_answer(page, served):
    from playwright.sync_api import expect

    chapter = next(c for c in syllabus.chapters() if c.quiz)
    question = quiz.load(chapter.quiz_path, chapter=chapter.id).questions[0]
    page.goto(f"{served}/chapters/{chapter.id}/{Path(quiz.MARKDOWN_FILE).stem}.html")
    fold = page.locator("details.dropdown").first
    answer = fold.locator("p", has_text=f"{question.answer})").first
    expect(answer).to_be_hidden()
    fold.locator("summary").click()
    expect(answer).to_be_visible()
    # The page's text has typographic quotes; the bank's has straight ones.
    shown = answer.inner_text().replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    assert shown.startswith(f"{question.answer})"), shown
    assert re.sub(r"[`*]", "", question.options[question.answer])[:40] in shown, shown


def _switch_language_and_search_in_chinese(page, served):
    """A lesson's language switch opens the same lesson in Chinese and back; the Chinese
    edition's search finds a lesson by a Chinese word of its title (jieba splits it)."""
    from playwright.sync_api import expect

    from course import i18n

    lesson = syllabus.notebooks()[5]
    stem = Path(lesson.file).stem
    page.goto(f"{served}/notebooks/{stem}.html")
    page.locator("a.edition-switch[hreflang=zh]").click()
    expect(page).to_have_url(f"{served}/zh/notebooks/{stem}.html")
    chapter = next(c for c in syllabus.chapters() if lesson in c.notebooks)
    title = i18n.translate(f"chapters/{chapter.id}", f"notebook {lesson.file} title", lesson.title, "zh")
    assert title != lesson.title
    expect(page.locator("h1").first).to_contain_text(re.sub(r"^\d+[a-z]?\.\s*", "", title)[:4])
    page.locator("a.edition-switch[hreflang=en]").click()
    expect(page).to_have_url(f"{served}/notebooks/{stem}.html")
    word = "迁移"  # the glossary's word for migration, in the first lesson's title
    page.goto(f"{served}/zh/search.html?q={word}")
    expect(page.locator('#search-results a[href*="notebooks/"]').first).to_be_visible()


def _lesson_screenshot(page, served, path: Path) -> float:
    """A screenshot of a lesson with stored outputs; returns its first contentful paint in ms."""
    lesson = syllabus.notebooks()[min(5, len(syllabus.notebooks()) - 1)]
    page.goto(f"{served}/notebooks/{Path(lesson.file).stem}.html", wait_until="load")
    # The entry may come after the load event: wait for it (a figure for the report, not asserted).
    paint = page.evaluate("""() => new Promise(resolve => new PerformanceObserver(list => {
        const entry = list.getEntriesByName('first-contentful-paint')[0];
        if (entry) resolve(entry.startTime);
    }).observe({type: 'paint', buffered: true}))""")
    page.screenshot(path=path)
    return round(paint, 1)
