"""The compliance package's errors: one root, narrow subclasses, exit code 2 for bad input."""

from __future__ import annotations

from hub.errors import HubError


class ComplianceError(HubError):
    """Root of the compliance package's errors."""

    exit_code = 2


class NoRulesError(ComplianceError):
    """No rule version is loaded for the reporting year or event date asked for."""


class InputError(ComplianceError):
    """An inputs file (or a value in it) cannot be used: says which field and why."""


class UnitError(InputError):
    """A quantity has a unit the calculator does not know, or a value out of range."""
