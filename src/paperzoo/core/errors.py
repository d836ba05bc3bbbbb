"""Errors that reach the user as one readable line (exit code 2), never as a traceback."""


class UserError(Exception):
    """Bad input from the user: an unknown id, a bad preset, a malformed file or directory."""
