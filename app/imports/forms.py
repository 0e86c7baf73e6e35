"""Forms of the import page: the upload, and the confirmation of a previewed import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import HiddenField, RadioField, SubmitField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired

from app.forms import Form
from app.imports.services import MAX_UPLOAD_BYTES

KIND_CHOICES = [
    SelectChoice("facilities", _l("Facilities")),
    SelectChoice("prisoners", _l("Prisoners")),
]


class ImportForm(Form):
    """Which list the file holds, and the file."""

    kind = RadioField(
        _l("The file holds"),
        choices=KIND_CHOICES,
        default="facilities",
        validators=[InputRequired(message=_l("Choose what the file holds."))],
    )
    file = FileField(
        _l("CSV or JSON file"),
        validators=[
            FileRequired(message=_l("Choose a file to upload.")),
            FileSize(
                max_size=MAX_UPLOAD_BYTES,
                message=_l("The file is larger than 5 MB. Split it into smaller files."),
            ),
        ],
        description=_l(
            "Up to 5 MB. CSV in UTF-8 or Windows-1251, separated by commas or semicolons, "
            "with a header row; or JSON. Nothing is changed until you confirm."
        ),
    )
    submit = SubmitField(_l("Check the file"))


class ConfirmForm(Form):
    """Import the previewed file kept under ``token``."""

    token = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Import"))
