"""What every feature's services share: the error a form field can show."""

from __future__ import annotations


class FieldError(ValueError):
    """Input a service refuses; ``field`` names the form field (or API field) it belongs to.

    The message may be a lazy translation: it is rendered once, in the language of the
    request that caused it, and kept as plain (escaped-on-output) text.
    """

    def __init__(self, field: str, message: object) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = str(message)
