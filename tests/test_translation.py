"""The Chinese edition stays in step with the English one (course/i18n.py,
course/maintainer/translate.py).

- Every English text has a translation that is neither missing nor stale, and every translation
  keeps its English's structure (headings, code spans, links, lists, a message's fields) and the
  glossary's terms (locale/zh/terms.toml).
- A changed English paragraph marks exactly its own translation stale, and the check then fails.
- notebooks/zh/ and the translated pages are what `translate build` writes today, and a Chinese
  notebook's code cells, outputs and metadata are the English notebook's own: the notebooks are
  not run a second time (conftest.py does not collect them), this proves them equal instead.
- The `course` command speaks Chinese when asked, or when the locale is Chinese.
"""

import json
import os
import subprocess
import sys

import pytest

from course import REPO, i18n, syllabus
from course.maintainer import translate

LANGUAGE = "zh"
RERUN = "python -m course.maintainer.translate update zh, translate the entries, then build zh"


@pytest.fixture(scope="module")
def catalogues():
    return translate.domains()


def test_every_text_has_a_translation_that_is_not_stale():
    problems = translate.problems(LANGUAGE)
    shown = "\n".join(str(p) for p in problems[:15])
    assert not problems, f"{len(problems)} texts lack a usable translation ({RERUN}):\n{shown}"


def test_every_translation_keeps_its_structure_and_the_glossary(catalogues):
    wrong = []
    for domain, entries in catalogues.items():
        done = i18n.translations(LANGUAGE, domain)
        for entry in entries:
            translated = done.get((entry.context or None, entry.english))
            if translated:
                found = (translate.structure_problems(entry.english, translated)
                         + translate.term_problems(entry.english, translated, LANGUAGE))
                wrong += [f"{domain} [{entry.context or entry.where}]: {p}" for p in found]
    assert not wrong, "\n".join(wrong[:20])


def test_the_glossary_check_finds_a_term_left_out():
    assert translate.term_problems("Run the migration.", "运行它。", LANGUAGE)
    assert not translate.term_problems("Run the migration.", "运行这个迁移。", LANGUAGE)
    # inside a code span the English word is code, not prose
    assert not translate.term_problems("Run `alembic upgrade head`.", "运行 `alembic upgrade head`。", LANGUAGE)


def test_the_structure_check_finds_what_a_translation_must_keep():
    english = "## 2. Two heads\n\nRun `alembic heads`, see [notebook 10](10_two_heads.ipynb).\n- a\n- b"
    assert translate.structure_problems(english, "## 2. 两个 head\n\n运行 `alembic heads`，见[笔记本 10](10_two_heads.ipynb)。\n- 甲\n- 乙") == []
    assert translate.structure_problems(english, "### 2. 两个 head\n\n运行 `alembic heads`，见[笔记本 10](10_two_heads.ipynb)。\n- 甲\n- 乙")
    assert translate.structure_problems(english, "## 2. 两个 head\n\n运行 `alembic head`，见[笔记本 10](10_two_heads.ipynb)。\n- 甲\n- 乙")
    assert translate.structure_problems(english, "## 2. 两个 head\n\n运行 `alembic heads`，见[笔记本 10](11_drift_gate.ipynb)。\n- 甲\n- 乙")
    assert translate.structure_problems(english, "## 2. 两个 head\n\n运行 `alembic heads`，见[笔记本 10](10_two_heads.ipynb)。\n- 甲")
    assert translate.structure_problems("{when}, {count} users", "{when}，{count} 个用户，{extra}")
    assert not translate.structure_problems("{plural} {value} gone", "{plural}不见了")  # a field left out


def test_a_changed_paragraph_marks_exactly_its_own_translation_stale(catalogues, tmp_path):
    domain = "notebooks/06_add_email"
    entries = catalogues[domain]
    old = translate.read_catalogue(i18n.catalogue_path(LANGUAGE, domain))
    done = i18n.translations(LANGUAGE, domain)
    changed = entries[5]
    edited = [translate.Entry(e.context, e.english + " (edited)", e.where) if e == changed else e for e in entries]
    new = translate.merged(old, edited, domain)
    fuzzy = [m for m in new if m.id and m.fuzzy]
    assert [(m.context, m.id) for m in fuzzy] == [(changed.context, changed.english + " (edited)")]
    assert fuzzy[0].string == done[(changed.context, changed.english)]  # the old translation, kept for the translator
    assert tuple(fuzzy[0].previous_id) == (changed.english,)
    unchanged = [m for m in new if m.id and not m.fuzzy]
    assert len(unchanged) == len(entries) - 1 and all(m.string for m in unchanged)
    # and the check that the suite runs reports it, as stale
    found = [p for p in _problems_with(new, edited, domain)]
    assert [(p.kind, p.context) for p in found] == [("stale", changed.context)]
    # and the catalogue reads back as it was written: the old English beside its old translation
    copy = tmp_path / "copy.po"
    translate.write_catalogue(new, copy)
    again = translate.read_catalogue(copy).get(changed.english + " (edited)", context=changed.context)
    assert again.fuzzy and tuple(again.previous_id) == (changed.english,) and not again.user_comments


def test_a_paragraph_that_moved_keeps_its_translation(catalogues):
    domain = "notebooks/06_add_email"
    entries = catalogues[domain]
    old = translate.read_catalogue(i18n.catalogue_path(LANGUAGE, domain))
    moved = [translate.Entry("new-cell:0", entries[3].english, entries[3].where), *entries[:3], *entries[4:]]
    new = translate.merged(old, moved, domain)
    message = new.get(entries[3].english, context="new-cell:0")
    assert message.string and not message.fuzzy


def _problems_with(catalogue, entries, domain):
    for entry in entries:
        message = catalogue.get(entry.english, context=entry.context or None)
        if message is None or not message.string or message.fuzzy:
            yield translate.Problem(domain, "stale" if message is not None and message.fuzzy else "missing",
                                    entry.context, entry.english)


def test_the_edition_is_built_from_todays_catalogues():
    stale = translate.out_of_date(LANGUAGE)
    assert not stale, (f"not what `python -m course.maintainer.translate build zh` writes today: "
                       f"{', '.join(p.relative_to(REPO).as_posix() for p in stale[:10])}")


NOTEBOOKS = [n.file for n in syllabus.notebooks()]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_chinese_notebook_has_the_english_code_outputs_and_metadata(name):
    english = json.loads((REPO / "notebooks" / name).read_text(encoding="utf-8"))
    chinese = json.loads((REPO / "notebooks" / LANGUAGE / name).read_text(encoding="utf-8"))
    assert [c["id"] for c in chinese["cells"]] == [c["id"] for c in english["cells"]]
    for mine, theirs in zip(chinese["cells"], english["cells"]):
        assert mine["cell_type"] == theirs["cell_type"]
        if theirs["cell_type"] == "code":
            assert mine == theirs, f"cell {theirs['id']} differs from the English notebook's"
        else:
            assert mine["metadata"] == theirs["metadata"]
    metadata = dict(chinese["metadata"])
    course = dict(metadata.pop("course"))
    assert course.pop("language") == LANGUAGE
    assert metadata == {k: v for k, v in english["metadata"].items() if k != "course"}
    assert course == english["metadata"].get("course", {})


def test_links_in_the_edition_reach_their_files():
    broken = []
    for path, text in translate.Edition(LANGUAGE).files().items():
        markdown = text
        if path.suffix == ".ipynb":
            markdown = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown")
        for match in translate.LINK.finditer(markdown):
            target = match.group(2).partition("#")[0]
            if target and ":" not in target and not (path.parent / target).exists():
                broken.append(f"{path.relative_to(REPO)}: {match.group(2)}")
    assert not broken, "\n".join(broken[:10])


def test_a_link_to_a_translated_page_lands_on_its_translated_heading():
    edition = translate.Edition(LANGUAGE)
    english = REPO / "notebooks" / "05_autogenerate.ipynb"
    text = edition.relink("See [lesson 6](06_add_email.ipynb#6-adding-a-not-null-column-to-a-table-that-has-rows).", english)
    target, _, anchor = text.split("](")[1].rstrip(").").partition("#")
    assert target == "06_add_email.ipynb"
    chinese = edition.translated_markdown(REPO / "notebooks" / "06_add_email.ipynb")
    assert anchor in translate.heading_anchors(chinese) and anchor.startswith("6-")
    page = edition.relink("[README](../README.md)", english)
    assert page == "[README](../../README.zh.md)"


def course_command(*arguments, language_env=None):
    env = {k: v for k, v in os.environ.items() if k not in {i18n.VARIABLE, "LC_ALL", "LC_MESSAGES", "LANG"}}
    env.update(language_env or {})
    return subprocess.run([sys.executable, "-m", "course", *arguments], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("how", [("--lang", "zh"), ("LANG", "zh_CN.UTF-8"), ("COURSE_LANGUAGE", "zh")])
def test_the_course_command_speaks_chinese_when_asked(how, tmp_path):
    env = {"COURSE_PROGRESS_FILE": str(tmp_path / "progress.json"), "COURSE_LEARNER_DIR": str(tmp_path / "work")}
    arguments = ["show", "add-email"]
    if how[0] == "--lang":
        arguments = ["--lang", "zh", *arguments]
    else:
        env[how[0]] = how[1]
    done = course_command(*arguments, language_env=env)
    assert done.returncode == 0, done.stderr
    exercise_title = i18n.translate("chapters/01_alembic_basics", "exercise add-email title",
                                    "Add a NOT NULL column to a table that has rows", LANGUAGE)
    assert exercise_title != "Add a NOT NULL column to a table that has rows"
    assert exercise_title in done.stdout
    assert "notebooks/zh/06_add_email.ipynb" in done.stdout


def test_an_english_locale_and_an_unknown_language(tmp_path):
    env = {"COURSE_PROGRESS_FILE": str(tmp_path / "progress.json"), "LANG": "en_GB.UTF-8"}
    done = course_command("list", language_env=env)
    assert done.returncode == 0 and "Chapter 1: Alembic in a FastAPI project" in done.stdout
    done = course_command("--lang", "fr", "list", language_env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == "--lang='fr' is not a language of this course; choose from en, zh"
    done = course_command("list", language_env={**env, "COURSE_LANGUAGE": "klingon"})
    assert done.returncode == 3  # a setting the course cannot use
    assert done.stderr.strip() == ("COURSE_LANGUAGE='klingon' is invalid: not a language of this course; "
                                   "choose from en, zh")


def test_a_check_message_keeps_its_english_source_through_the_child_process(monkeypatch):
    """What verify-all matches on (exercise.toml's expect) is the English, in either language."""
    from course.learner import exercises

    monkeypatch.setenv(i18n.VARIABLE, LANGUAGE)
    exercise = exercises.get("add-email")
    result = exercises.run_check(exercise, exercise.starter.files, server="sqlite")
    assert not result.ok
    assert exercise.starter.expected("sqlite") in result.english_message
    assert result.message != result.english_message  # shown in Chinese


def _without_comments(source: str) -> list[str]:
    blocks = i18n.comment_blocks(source)
    lines = source.split("\n")
    whole = {row for first, last, column, _ in blocks for row in range(first, last + 1) if not lines[row][:column].strip()}
    after = {first: column for first, last, column, _ in blocks if lines[first][:column].strip()}
    return [line[:after[n]].rstrip() if n in after else line for n, line in enumerate(lines) if n not in whole]


def test_a_solution_is_shown_with_its_comments_translated_and_its_code_unchanged(monkeypatch):
    from course.learner import exercises

    monkeypatch.setenv(i18n.VARIABLE, LANGUAGE)
    for exercise in exercises.all_exercises():
        for file in exercise.files:
            english = file.solution.read_text(encoding="utf-8")
            shown = exercises.solution_text(exercise, file)
            assert _without_comments(shown) == _without_comments(english), f"{exercise.id}: the code changed"
            if i18n.comment_blocks(english):
                assert shown != english, f"{exercise.id}: {file.name}'s comments are not translated"
