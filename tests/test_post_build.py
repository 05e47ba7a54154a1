"""postBuild, run as repo2docker runs it, makes an environment that imports the course anywhere.

No Docker here, so repo2docker itself cannot run: the test plays its part. It copies the
repository (``git ls-files``: what a clone holds) into a temporary folder standing for the image's
``$REPO_DIR``, makes a fresh virtual environment standing for the image's conda environment, and
runs ``bash postBuild`` there with that environment first on ``PATH``. As in
tests/test_learner_distribution.py, the fresh environment reaches the pinned dependencies
through a ``.pth`` line to this course environment's site-packages (no download of PyTorch) and
the course package goes in with ``--no-deps``; pip builds it without build isolation here (no
network needed; repo2docker builds with it).

Then: ``utils`` imports from the environment's site-packages in a folder far from the copy;
the course kernel and the learner's lab settings are in the environment; the notebooks and the
first-start hook are in ``<env>/share/neural-ode-course``; and the copy standing for the image's
home holds no lesson sources, no reference solutions, no grader and no tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{cmd}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("post_build")
    repo = tmp / "home" / "jovyan"
    files = _run("git", "ls-files", "-z", cwd=ROOT).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    env_dir = tmp / "srv" / "conda" / "envs" / "notebook"
    # No pip or setuptools of its own: those of the course environment (through the .pth), as
    # recent as the pyproject.toml's build needs.
    _run(sys.executable, "-m", "venv", "--without-pip", str(env_dir))
    python = env_dir / "bin" / "python"
    own = Path(_run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
               .stdout.strip())
    (own / "zz_course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = dict(os.environ, PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
               REPO_DIR=str(repo), PIP_NO_BUILD_ISOLATION="0", PIP_NO_INDEX="1",
               HOME=str(tmp / "builder-home"))
    env.pop("PYTHONPATH", None)
    done = _run("bash", "postBuild", cwd=repo, env=env)
    return tmp, repo, env_dir, python, own, done


def test_utils_imports_from_the_environment_whatever_is_in_home(built):
    tmp, repo, env_dir, python, own, _ = built
    elsewhere = tmp / "a-mounted-home"
    elsewhere.mkdir()
    where = _run(str(python), "-c", "import utils, utils.data; print(utils.__file__)",
                 cwd=elsewhere).stdout.strip()
    assert where.startswith(str(own)), where
    direct_url = list(own.glob("neural_ode_course-*.dist-info/direct_url.json"))
    if direct_url:  # pip records a local install; an editable one says so
        assert not json.loads(direct_url[0].read_text()).get("dir_info", {}).get("editable")


def test_kernel_lab_settings_notebooks_and_hook_are_in_the_environment(built):
    _, _, env_dir, _, _, _ = built
    kernel = json.loads((env_dir / "share" / "jupyter" / "kernels" / "neural-ode-course"
                         / "kernel.json").read_text())
    assert kernel["display_name"] == "Neural ODE course (Python 3)"
    page = json.loads((env_dir / "etc" / "jupyter" / "labconfig" / "page_config.json")
                      .read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    share = env_dir / "share" / "neural-ode-course"
    assert len(list((share / "notebooks").glob("[0-9][0-9]_*.ipynb"))) == 10
    assert os.access(share / "first_start.sh", os.X_OK)


def test_the_images_home_copy_holds_no_solutions(built):
    _, repo, _, _, _, _ = built
    for gone in ("lessons_src", "utils/exercises/solutions", "grader", "tests", "tools"):
        assert not (repo / gone).exists(), gone
    assert (repo / "notebooks" / "01_ode_basics.ipynb").is_file()
