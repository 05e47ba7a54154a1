"""Reference solutions of Lesson 05's exercises (learning dynamics from data)."""

import numpy as np

from utils.solvers import odeint


def training_step(func, optimizer, y0, t, y_true):
    """One gradient step: solve forward, compare with the data, backpropagate, update."""
    optimizer.zero_grad()  # gradients add up in .grad: clear the previous step's
    y_pred = odeint(func, y0, t, method="rk4")  # (len(t), batch, dim)
    loss = (y_pred - y_true).pow(2).mean()
    loss.backward()  # d loss / d parameters, through every solver operation
    optimizer.step()
    return loss.item()


def rollout_errors(y_pred, y_true):
    """(MSE, max error, final error) of a rollout; the error is the distance in state space."""
    error = np.linalg.norm(y_pred - y_true, axis=-1)  # (n_times,)
    return float(np.mean(error**2)), float(np.max(error)), float(error[-1])
