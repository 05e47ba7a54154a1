"""utils.profiling: the peak-memory measurement sees what a call allocates, and only that."""

from __future__ import annotations

import pytest
import torch

from utils.profiling import gradient_workload, peak_memory, time_call


def hold_megabytes(megabytes: int):
    """A setup for peak_memory: the measured call fills and frees a tensor of this size."""

    def run():
        block = torch.ones(megabytes * 250_000, dtype=torch.float32)  # 4 bytes an element
        return float(block[-1])

    return run


def test_peak_memory_sees_a_known_allocation():
    small = peak_memory(hold_megabytes, 1)
    large = peak_memory(hold_megabytes, 64)
    assert large.result == 1.0
    assert 60 <= large.peak_mb <= 70  # 64 MB touched, plus a little
    assert small.peak_mb < 4


def test_gradient_workload_counts_evaluations():
    direct = gradient_workload("direct", 5, batch=4, hidden=8)()
    adjoint = gradient_workload("adjoint", 5, batch=4, hidden=8)()
    assert direct == {"forward_nfe": 20, "backward_nfe": 0}  # rk4: 4 evaluations a step
    assert adjoint == {"forward_nfe": 20, "backward_nfe": 20}


def test_direct_memory_grows_and_adjoint_stays_flat():
    direct = [peak_memory(gradient_workload, "direct", n, batch=64).peak_mb for n in (10, 200)]
    adjoint = [peak_memory(gradient_workload, "adjoint", n, batch=64).peak_mb for n in (10, 200)]
    assert direct[1] > 10 * direct[0]
    assert adjoint[1] < 0.5 * direct[1]


def test_adjoint_memory_is_flat_in_the_number_of_steps():
    """The lesson's claim: the adjoint's peak does not grow with the steps. 16x the steps
    (25 -> 400) may cost at most 20% more peak memory (the direct pass would cost ~16x)."""
    few, many = (peak_memory(gradient_workload, "adjoint", n, batch=4096).peak_mb
                 for n in (25, 400))
    assert few > 2, few  # large enough that 20% is above the measurement's noise
    assert many <= 1.2 * few, (few, many)


def test_bad_inputs():
    with pytest.raises(TypeError, match="top level"):
        peak_memory(lambda: (lambda: None))
    with pytest.raises(ValueError, match="threads"):
        peak_memory(hold_megabytes, 1, threads=0)
    with pytest.raises(ValueError, match="gradient"):
        gradient_workload("backprop", 10)
    with pytest.raises(ValueError, match="repeat"):
        time_call(lambda: None, repeat=0)


def test_time_call_returns_a_duration():
    import time

    calls = []
    # a call that sleeps 20 ms takes at least 20 ms and (on a loaded machine) well under 2 s
    seconds = time_call(lambda: (calls.append(1), time.sleep(0.02)), repeat=3)
    assert len(calls) == 3
    assert 0.02 <= seconds < 2.0, seconds


def test_sampled_fallback_sees_a_short_lived_tensor():
    """Where the kernel's peak counter cannot be reset (macOS), a sampling thread measures the
    peak: a 64 MB tensor held for a few milliseconds must show, and be gone afterwards."""
    from utils.profiling import _sampled_call

    def run():
        block = torch.ones(16 * 2**20)  # 64 MiB of float32, touched
        total = float(block.sum())
        del block
        return total

    baseline, peak, seconds, result = _sampled_call(run)
    assert result == 16 * 2**20
    assert seconds > 0
    assert 0.8 * 64 * 2**20 < peak - baseline < 2 * 64 * 2**20, (peak - baseline) / 2**20
