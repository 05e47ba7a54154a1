"""The course's conventions are defined once, in ``utils/course.py`` (issue 26).

The kernel's name, the lesson files' pattern, the exercise-id pattern, the answer cells' suffix
and the graded-release variable each have one definition; every other module imports it. This
test reads the string literals of every ``.py`` file of the repository (the lesson sources in
``lessons_src/``, the notebooks, ``tests/`` and the environment excepted: they are data and
tests, not definitions; docstrings are prose and skipped too) and fails naming ``file:line`` of
any literal that spells a convention again. The Makefile cannot import Python, so its
``KERNEL :=`` is compared with :data:`utils.course.KERNEL`.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from utils import course

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "utils" / "course.py"
SKIPPED = ("tests", "lessons_src", "notebooks", ".venv", "build", "_build", "site")

# {what: a pattern no string literal outside utils/course.py may match}
SPELLED_AGAIN = {
    "the course's name / kernel": re.compile(re.escape(course.NAME)),
    "the graded-release variable": re.compile(re.escape(course.WITHHOLD_ENV)),
    "the lesson files' pattern": re.compile(re.escape("[0-9][0-9]_")),
    "the answer cells' suffix": re.compile(re.escape(course.ANSWER_SUFFIX) + r"$"),
    "the exercise-id pattern": re.compile(r"ex(\(\\d\\d\)|\\d\\d|\\d\{2\}|\[0-9\]\[0-9\])"),
}


def _python_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py")
                  if not set(p.relative_to(ROOT).parts[:-1]) & set(SKIPPED)
                  and not any(part.startswith(".") for part in p.relative_to(ROOT).parts))


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in ``path`` but its docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip]


def second_definitions(files: list[Path], root: Path = ROOT) -> list[str]:
    """``file:line: what`` for every literal of ``files`` that spells a convention again."""
    found = []
    for path in files:
        if path == HOME:
            continue
        for line, text in literals(path):
            for what, pattern in SPELLED_AGAIN.items():
                if pattern.search(text):
                    found.append(f"{path.relative_to(root)}:{line}: {what} spelled again "
                                 f"({text[:60]!r}); import it from utils.course")
    return found


def test_no_convention_is_defined_twice():
    files = _python_files()
    assert HOME in files and len(files) > 30  # the walk found the project
    found = second_definitions(files)
    assert not found, "\n".join(found)


def test_the_check_finds_a_second_definition(tmp_path):
    """The grep is not vacuous: each convention spelled in a file of its own is caught."""
    spelled = tmp_path / "again.py"
    spelled.write_text(
        'KERNEL = "neural-ode-course"\n'
        'ENV = "NEURAL_ODE_COURSE_GRADED"\n'
        'GLOB = "[0-9][0-9]_*.py"\n'
        'answer = f"{ex_id}-answer"\n'
        'ANSWER_ID = r"^(ex(\\d\\d)_\\w+)-answer$"\n'
        'def f():\n'
        '    """A docstring may say neural-ode-course."""\n', encoding="utf-8")
    found = second_definitions([spelled], root=tmp_path)
    assert sorted(int(f.split(":")[1]) for f in found) == [1, 2, 3, 4, 5], found


def test_the_makefile_registers_the_course_kernel():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (value,) = re.findall(r"^KERNEL\s*:=\s*(\S+)\s*$", makefile, re.MULTILINE)
    assert value == course.KERNEL, f"Makefile: KERNEL := {value}, utils.course: {course.KERNEL}"
    assert f'--display-name "{course.KERNELSPEC["display_name"]}"' in makefile


def test_the_conventions_module_imports_nothing_heavy():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, utils.course; "
         "print(sorted(m for m in ('torch', 'numpy', 'nbformat', 'matplotlib') "
         "if m in sys.modules))"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_exercise_ids_and_answer_ids():
    assert course.answer_id("ex01_euler_step") == "ex01_euler_step-answer"
    assert course.exercise_of_answer("ex01_euler_step-answer") == "ex01_euler_step"
    assert course.exercise_of_answer("ex01_euler_step") is None
    assert course.lesson_of_grade_id("ex07_ode_block-answer") == "07"
    assert course.lesson_of_grade_id("ex10_leapfrog_step") == "10"
    assert course.lesson_of_grade_id("setup") is None
    assert course.lesson_of_grade_id("exam_answer") is None
    ids = course.exercises()
    assert ids and all(course.EXERCISE_ID.fullmatch(i) for i in ids)


def test_lessons_are_found_in_order():
    sources = course.lesson_sources()
    notebooks = course.lesson_notebooks()
    assert [p.stem for p in sources] == [p.stem for p in notebooks]
    assert [p.name[:2] for p in sources] == [f"{i:02d}" for i in range(1, len(sources) + 1)]


def _grader_imports() -> dict[str, set[str]]:
    """{grader module: the grader modules it imports (at any depth of its code)}."""
    graph = {}
    for path in sorted((ROOT / "grader").glob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update([node.module.split(".")[0]] if node.module
                             else [alias.name for alias in node.names])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader."):
                found.add(node.module.split(".")[1])
        graph[path.stem] = found
    return graph


def test_the_grader_imports_only_downwards_as_its_package_docstring_says():
    import grader

    graph = _grader_imports()
    graph.pop("__init__")
    assert set(graph) == set(grader.LAYERS), (
        "grader/__init__.py's LAYERS must list every module: "
        f"missing {sorted(set(graph) - set(grader.LAYERS))}, "
        f"gone {sorted(set(grader.LAYERS) - set(graph))}")
    upwards = [f"grader/{module}.py (layer {grader.LAYERS[module]}) imports grader.{dep} "
               f"(layer {grader.LAYERS[dep]})"
               for module, deps in graph.items() for dep in sorted(deps)
               if grader.LAYERS[dep] >= grader.LAYERS[module]]
    assert not upwards, "\n".join(upwards)
