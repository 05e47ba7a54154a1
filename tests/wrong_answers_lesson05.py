"""Plausible wrong answers to lesson 05's exercises; each must be reported wrong."""

import numpy as np

from utils.solvers import odeint


def step_without_zero_grad(func, optimizer, y0, t, y_true):
    y_pred = odeint(func, y0, t, method="rk4")
    loss = (y_pred - y_true).pow(2).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_without_update(func, optimizer, y0, t, y_true):
    optimizer.zero_grad()
    loss = (odeint(func, y0, t, method="rk4") - y_true).pow(2).mean()
    loss.backward()
    return loss.item()


def step_with_summed_loss(func, optimizer, y0, t, y_true):
    optimizer.zero_grad()
    loss = (odeint(func, y0, t, method="rk4") - y_true).pow(2).sum()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_returning_loss_after_update(func, optimizer, y0, t, y_true):
    optimizer.zero_grad()
    loss = (odeint(func, y0, t, method="rk4") - y_true).pow(2).mean()
    loss.backward()
    optimizer.step()
    return (odeint(func, y0, t, method="rk4") - y_true).pow(2).mean().item()


def errors_mean_squared_distance(y_pred, y_true):
    # The edition-1 definition: mean of the squared distance, i.e. summed over components.
    error = np.linalg.norm(y_pred - y_true, axis=-1)
    return float(np.mean(error**2)), float(error.max()), float(error[-1])


def errors_root_mean(y_pred, y_true):
    diff = y_pred - y_true
    error = np.linalg.norm(diff, axis=-1)
    return float(np.sqrt(np.mean(diff**2))), float(error.max()), float(error[-1])


def errors_max_component(y_pred, y_true):
    diff = y_pred - y_true
    error = np.linalg.norm(diff, axis=-1)
    return float(np.mean(diff**2)), float(np.abs(diff).max()), float(error[-1])


def errors_final_is_max(y_pred, y_true):
    diff = y_pred - y_true
    error = np.linalg.norm(diff, axis=-1)
    return float(np.mean(diff**2)), float(error.max()), float(error.max())


WRONG = {
    "ex05_training_step": [
        step_without_zero_grad,
        step_without_update,
        step_with_summed_loss,
        step_returning_loss_after_update,
    ],
    "ex05_rollout_errors": [
        errors_mean_squared_distance,
        errors_root_mean,
        errors_max_component,
        errors_final_is_max,
    ],
}


# -- written as learners wrote them (issue: exercise verdicts) -------------------------------


def errors_in_place(y_pred, y_true):
    y_pred -= y_true  # changes the caller's prediction
    error = np.linalg.norm(y_pred, axis=-1)
    return float(np.mean(y_pred**2)), float(np.max(error)), float(error[-1])


WRONG["ex05_rollout_errors"].append(errors_in_place)


def step_returns_tensor(func, optimizer, y0, t, y_true):
    optimizer.zero_grad()
    loss = (odeint(func, y0, t, method="rk4") - y_true).pow(2).mean()
    loss.backward()
    optimizer.step()
    return loss  # a tensor that requires grad, not a Python float


def step_default_solver(func, optimizer, y0, t, y_true):
    optimizer.zero_grad()
    loss = (odeint(func, y0, t) - y_true).pow(2).mean()  # dopri5, not the lesson's rk4
    loss.backward()
    optimizer.step()
    return loss.item()


WRONG["ex05_training_step"] += [step_returns_tensor, step_default_solver]
