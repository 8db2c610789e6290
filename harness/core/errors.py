"""Errors that are the user's to fix: the CLI prints them as one line, without a traceback."""


class DataError(Exception):
    """A file or value supplied by the user is wrong (exit code 1).

    The message names what and where: file, task, example, field.
    """


def where(*parts: object) -> str:
    """Join the non-empty location parts of an error message: `file: task 0a1b: test[0].input`."""
    return ": ".join(str(p) for p in parts if p not in (None, ""))


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (torch's run to dozens), for a one-line DataError."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def shown(value: object, limit: int = 60) -> str:
    """A user's value for an error line: its repr (control characters visible) cut to `limit`
    characters, so that a hostile value (a NUL, a newline, a megabyte) cannot break the one line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
