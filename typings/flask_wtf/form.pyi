from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup
from wtforms import Form
from wtforms.meta import DefaultMeta, _MultiDictLike

class FlaskForm(Form):
    class Meta(DefaultMeta): ...

    # formdata defaults to the request's form and files when the form was submitted.
    def __init__(self, formdata: _MultiDictLike | None = ..., **kwargs: Any) -> None: ...
    def is_submitted(self) -> bool: ...
    def validate_on_submit(
        self, extra_validators: Mapping[str, Sequence[Any]] | None = None
    ) -> bool: ...
    def hidden_tag(self, *fields: Any) -> Markup: ...
