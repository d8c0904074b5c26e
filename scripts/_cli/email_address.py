"""One rule for an email address typed on the command line, shared by the tools that take one:
forget's --email (the customer to forget) and deploy's --notify (who gets the alerts)."""

from __future__ import annotations

import re

# A plausible email: something@something.something, without spaces, quotes or backslashes.
EMAIL = re.compile(r"[^\s@\"\\]+@[^\s@\"\\]+\.[^\s@\"\\]+")


class InvalidEmailError(ValueError):
    """The text given as an email cannot be one."""


def checked_email(text: str) -> str:
    """``text`` as an email, exactly as given but for surrounding whitespace."""
    email = text.strip()
    if not EMAIL.fullmatch(email):
        raise InvalidEmailError(f"not an email address: {text!r}")
    return email
