"""Errors that services raise and pages, API and CLI translate for users."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the action; the message is for the user (translated)."""


class NotPermitted(DomainError):
    """The actor may not do this to this target."""
