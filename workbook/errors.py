"""The one base class of every error a person can cause and fix: bad input, not a bug.

The CLI prints a `UserError` as one line and exits 2; the magics show it as a usage error. Any other
exception is a bug in the workbook and keeps its traceback, so it is never mistaken for a typo."""

from __future__ import annotations


class UserError(Exception):
    """Something the person running the workbook can fix; the message says how."""
