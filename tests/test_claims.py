"""utils.claims: a claim that holds prints one machine-independent line; one that fails raises."""

import numpy as np
import pytest
import torch

from utils.claims import CHECK_MARK, ClaimError, claim, magnitude


def test_a_true_claim_prints_its_text_only(capsys):
    claim(0.002 < 0.17, "the augmented flow ends with a lower loss", detail="0.002 vs 0.17")
    assert capsys.readouterr().out == f"{CHECK_MARK} the augmented flow ends with a lower loss\n"


def test_a_false_claim_raises_with_the_text_and_the_measurements(capsys):
    with pytest.raises(ClaimError) as error:
        claim(0.17 < 0.002, "the augmented flow ends with a lower loss",
              detail="aug 0.17, plain 0.002")
    message = str(error.value)
    assert "the augmented flow ends with a lower loss" in message
    assert "aug 0.17, plain 0.002" in message
    assert capsys.readouterr().out == ""  # no check mark for a false claim


@pytest.mark.parametrize("condition", [np.array([True, True, False]),
                                       torch.tensor([True, False]),
                                       [1, 0], np.bool_(False), 0.0])
def test_every_element_must_hold(condition):
    with pytest.raises(ClaimError):
        claim(condition, "at every seed")


@pytest.mark.parametrize("condition", [np.array([True, True]), torch.tensor([1.0, 2.0]) > 0,
                                       [True], np.bool_(True)])
def test_all_true_holds(condition, capsys):
    claim(condition, "at every seed")
    assert capsys.readouterr().out.startswith(CHECK_MARK)


def test_a_claim_about_nothing_is_refused():
    with pytest.raises(ValueError, match="empty"):
        claim(np.array([], dtype=bool), "at every seed")


@pytest.mark.parametrize("text", ["", "   ", None, 3])
def test_a_claim_needs_words(text):
    with pytest.raises(TypeError, match="non-empty string"):
        claim(True, text)


def test_claim_error_is_not_swallowed_by_python_O():
    # ClaimError is raised explicitly, not by `assert`, so it survives `python -O`.
    import inspect

    import utils.claims as module

    assert "assert " not in inspect.getsource(module.claim)


@pytest.mark.parametrize(("value", "floor", "text"), [
    (8.4e-09, 1e-6, "< 1e-06"),
    (-1.7e-08, 1e-6, "< 1e-06"),
    (0.0, 1e-6, "< 1e-06"),
    (3.2e-4, 1e-6, "~ 3e-04"),
    (2e-9, 1e-12, "~ 2e-09"),
    (float("nan"), 1e-6, "nan"),
])
def test_magnitude_prints_noise_the_same_everywhere(value, floor, text):
    assert magnitude(value, floor=floor) == text


def test_magnitude_needs_a_positive_floor():
    with pytest.raises(ValueError, match="positive"):
        magnitude(1.0, floor=0.0)
