"""Errors of the identity service, mapped to HTTP statuses (admin API) and exit codes (CLI)."""

from __future__ import annotations


class IdentityError(Exception):
    """Base class."""


class NotFoundError(IdentityError):
    """The named organisation, team, project, user or key does not exist."""


class ConflictError(IdentityError):
    """A name is already taken."""


class InvalidValueError(IdentityError):
    """A value is not acceptable (e.g. unknown role, expiry in the past)."""
