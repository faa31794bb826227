"""The root of every error prepkit raises on purpose, and the exit codes the command line maps them to.

A `PrepkitError` is a user-facing problem (a policy, an input, a key, a store): its message names the file,
line and field and never quotes input content, so the CLI prints it as one line and exits with `exit_code`,
without a traceback. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


class PrepkitError(Exception):
    """Base of prepkit's own exceptions. Subclasses keep their builtin bases (ValueError, ...) where callers
    catch those."""

    exit_code: int = EXIT_ERROR
