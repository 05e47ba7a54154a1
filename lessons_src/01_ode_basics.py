# %% [markdown]
# # Lesson 01 — test

# %%
import numpy as np
from utils.exercises import lesson01 as ex

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex01_euler_step-answer"}
def euler_step(f, t, y, h):
    """One Euler step of dy/dt = f(t, y) from (t, y) with step h."""
    ### BEGIN SOLUTION
    return y + h * f(t, y)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01_euler_step", "points": 2}
euler_step = ex.euler_step.check(euler_step)

# %%
import matplotlib.pyplot as plt
plt.plot([1,2,3])
plt.show()
print(round(np.pi, 4))
