"""Fixtures shared by the tests: figures are drawn off-screen and collected, never shown."""

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in the tests

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    """The figures passed to ``plt.show`` during a test (closed afterwards)."""
    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    yield figures
    plt.close("all")
