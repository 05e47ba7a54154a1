"""Fixtures shared by the tests: figures are drawn off-screen and collected, never shown; tiny
torch models run on one thread."""

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
