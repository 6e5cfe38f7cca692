"""Helper module written by the notebook."""


def double(x):
    return 2 * x
