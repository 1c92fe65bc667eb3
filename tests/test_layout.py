"""The package layout: one home per audience, and the names the notebooks use stay valid."""

import json
import re
import subprocess
import sys

import course
from course import REPO

HOMES = ("runtime", "learner", "lessons", "maintainer")


def test_every_module_has_one_home_and_every_old_name_points_to_one():
    modules = {f"course.{p.parent.name}.{p.stem}" for home in HOMES for p in (REPO / "course" / home).glob("*.py")
               if p.stem != "__init__"}
    assert set(course.MOVED.values()) <= modules
    assert all(target.endswith("." + old) for old, target in course.MOVED.items())
    top = {p.stem for p in (REPO / "course").glob("*.py")}
    # settings, syllabus and i18n (the language spoken) are read by every home alike
    assert top == {"__init__", "__main__", "settings", "syllabus", "i18n"}, "a module at the top belongs in a home"


def test_an_old_name_is_the_same_module_as_its_home():
    # In a fresh interpreter, as a notebook's kernel imports them: other tests of this process
    # drop and re-import course modules, which would leave an old binding behind.
    probe = """
import importlib, course
for old, new in course.MOVED.items():
    home = importlib.import_module(new)
    assert getattr(course, old) is home, old
    assert importlib.import_module(f"course.{old}") is home, old
    assert home.__spec__.name == new, "the alias must not rename the module it points to"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "ok", done.stderr


def test_the_notebooks_import_only_what_course_keeps_stable():
    stable = set(course.MOVED) | {"REPO", "SAMPLE_PROJECT", "settings", "syllabus"}
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            for names in re.findall(r"^\s*from course import (.+)$", source, re.M):
                for name in (n.split(" as ")[0].strip() for n in names.split(",")):
                    assert name in stable, f"{notebook.name} imports course.{name}, which has no stable name"
            for dotted in re.findall(r"^\s*from course\.(\w+) import", source, re.M):
                assert dotted in stable, f"{notebook.name} imports course.{dotted}, which has no stable name"


def test_python_dash_m_runs_a_module_under_its_old_name():
    old = subprocess.run([sys.executable, "-m", "course.quiz"], capture_output=True, text=True, cwd=REPO)
    new = subprocess.run([sys.executable, "-m", "course.learner.quiz"], capture_output=True, text=True, cwd=REPO)
    assert old.returncode == new.returncode != 0 and (old.stdout, old.stderr) == (new.stdout, new.stderr)
    assert "usage: python -m course.learner.quiz CHAPTER" in old.stdout + old.stderr
