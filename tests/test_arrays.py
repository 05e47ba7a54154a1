"""utils.arrays: the computing helpers that used to live in utils.plots (no drawing imported)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch

from utils import arrays, plots


def test_computing_modules_do_not_import_matplotlib():
    code = ("import sys, utils.arrays, utils.training, utils.solvers, utils.adjoint, utils.models; "
            "print(any(m.startswith('matplotlib') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plots_reexports_the_same_functions():
    assert plots.to_numpy is arrays.to_numpy and plots.field_on_grid is arrays.field_on_grid


def test_to_numpy_detaches_tensors_and_converts_lists():
    x = torch.ones(2, requires_grad=True) * 2
    assert isinstance(arrays.to_numpy(x), np.ndarray) and arrays.to_numpy(x).tolist() == [2, 2]
    assert arrays.to_numpy([1.0, 2.0]).shape == (2,)
