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
    """(MSE, max distance, final distance) of a rollout.

    MSE is the training loss's measure: the mean over times and components of the squared
    difference. The distances are Euclidean, in state space, at each time.
    """
    mse = np.mean((y_pred - y_true) ** 2)  # same measure as the training loss
    distance = np.linalg.norm(y_pred - y_true, axis=-1)  # (n_times,)
    return float(mse), float(np.max(distance)), float(distance[-1])
