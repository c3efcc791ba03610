"""The one error type users see.

`AidcError` subclasses `ValueError` so that a catalog lookup or a rule raised inside a pydantic
validator becomes a located validation error (pydantic only wraps ValueError/AssertionError),
and so that the CLI can turn any of them into a one-paragraph message and exit code 2.
"""

from __future__ import annotations


class AidcError(ValueError):
    """A problem with the user's input: printed without a traceback, exit code 2."""


class CatalogLookupError(AidcError):
    """A catalog has no such entry; the message lists what exists."""
