"""Fixtures shared by the tests: figures are drawn off-screen and collected, never shown; tiny
torch models run on one thread."""

import os

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in the tests

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    """The figures passed to ``plt.show`` during a test (closed afterwards)."""
    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    yield figures
    plt.close("all")


@pytest.fixture
def one_thread():
    """Tiny models on one thread, as the lessons and bench/run.py run them: more threads are
    slower and erratic for tiny tensors (and crawl on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Tests that need a system tool (bubblewrap, Chromium) skip without it, with one line saying how to
# enable them. CI installs the tools and sets COURSE_REQUIRE_SYSTEM_TOOLS=1: there such a skip fails
# the run, so a missing install step cannot pass unnoticed.
_SYSTEM_TOOLS = ("bubblewrap", "bwrap", "chromium")
_skipped_for_tools: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and os.environ.get("COURSE_REQUIRE_SYSTEM_TOOLS") == "1":
        reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        if any(tool in reason.lower() for tool in _SYSTEM_TOOLS):
            _skipped_for_tools.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter):
    if _skipped_for_tools:
        terminalreporter.write_line(
            f"COURSE_REQUIRE_SYSTEM_TOOLS=1 but {len(_skipped_for_tools)} test(s) skipped for a "
            f"missing system tool (this fails the run), e.g. {_skipped_for_tools[0]}", red=True)


def pytest_sessionfinish(session, exitstatus):
    if _skipped_for_tools:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
