"""Colab's error classes (google/colab/errors.py in colabtools)."""


class Error(Exception):
    """Base class for all Colab errors."""


class AuthorizationError(Error):
    """Authorization-related failures."""
