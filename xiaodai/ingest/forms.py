"""Forms of the import pages: the web upload of a small drop, and the per-feed bad-row mode."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from xiaodai.ingest.choices import BadRowMode
from xiaodai.ingest.contract import FEEDS, FORMATS

# A browser upload is held by the web server; larger drops go through `xiaodai ingest FOLDER` on the server.
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MANIFEST = "manifest.json"

ENCODINGS = (("", _("Detect (UTF-8 or GB18030)")), ("utf-8", "UTF-8"), ("gb18030", "GB18030 (GBK)"))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files at once (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


def drop_name(filename: str) -> str | None:
    """The name a file is stored under in the drop (`customers.csv`, `manifest.json`), or None when the
    name is not one a drop may hold."""
    name = filename.strip().lower()
    if name == MANIFEST:
        return name
    for ext in FORMATS:
        if name.endswith(ext) and name[: -len(ext)] in FEEDS:
            return name
    return None


class UploadForm(forms.Form):
    drop = MultipleFileField(
        label=_("Files"),
        help_text=_("One file per feed, named after it (customers.csv, loans.xlsx, ...), and manifest.json."),
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=50,
        required=False,
        validators=[RegexValidator(r"^[A-Za-z0-9_.:\-]+$", _("Letters, digits, and . _ : - only."))],
        help_text=_(
            "Which system sent the drop; one run per source and data date. Empty: the manifest's, or upload."
        ),
    )
    data_date = forms.DateField(
        label=_("Data date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The business day the drop describes. Not needed when manifest.json gives it."),
    )
    encoding = forms.ChoiceField(label=_("Encoding of CSV files"), choices=ENCODINGS, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["drop"].widget.attrs.update(
            {"class": "form-control", "accept": ".csv,.xlsx,.parquet,.json"}
        )
        self.fields["source"].widget.attrs.update({"class": "form-control", "placeholder": "upload"})
        self.fields["data_date"].widget.attrs["class"] = "form-control"
        self.fields["encoding"].widget.attrs["class"] = "form-select"

    def clean_drop(self) -> list[tuple[str, UploadedFile]]:
        files: list[UploadedFile] = self.cleaned_data["drop"]
        named: list[tuple[str, UploadedFile]] = []
        seen: dict[str, str] = {}
        total = 0
        for upload in files:
            original = upload.name or ""
            name = drop_name(original)
            if name is None:
                raise forms.ValidationError(
                    _(
                        "%(name)s is not a file a drop may hold: name each file after its feed with .csv, "
                        ".xlsx or .parquet (e.g. customers.csv), or manifest.json."
                    ),
                    code="bad_name",
                    params={"name": original[:100]},
                )
            feed = name.rsplit(".", 1)[0]
            if feed in seen:
                raise forms.ValidationError(
                    _("%(first)s and %(second)s are the same feed: send one file per feed."),
                    code="duplicate_feed",
                    params={"first": seen[feed], "second": original[:100]},
                )
            seen[feed] = original[:100]
            total += upload.size or 0
            named.append((name, upload))
        if total > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _(
                    "The files add up to more than %(mb)s MB. Put larger drops on the server and load them "
                    "with `xiaodai ingest FOLDER`."
                ),
                code="too_large",
                params={"mb": MAX_UPLOAD_MB},
            )
        if not any(name != MANIFEST for name, _upload in named):
            raise forms.ValidationError(_("Add at least one feed file, not only the manifest."), code="empty")
        return named

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        files = data.get("drop") or []
        manifest = next((upload for name, upload in files if name == MANIFEST), None)
        if files and not data.get("data_date") and not _manifest_states(manifest, "data_date"):
            # Checked here rather than left to the drop: an upload folder's random name must never be read
            # as a date.
            self.add_error("data_date", _("Give the data date, or include a manifest.json that states it."))
        if not data.get("source") and not _manifest_states(manifest, "source"):
            data["source"] = "upload"
        return data


def _manifest_states(upload: UploadedFile | None, key: str) -> bool:
    """Whether an uploaded manifest.json gives `key`. An unreadable manifest counts as giving it: the drop
    check then reports what is wrong with the manifest itself."""
    if upload is None:
        return False
    try:
        upload.seek(0)
        data = json.loads(upload.read(1024 * 1024).decode("utf-8-sig"))
        upload.seek(0)
    except (UnicodeDecodeError, ValueError):
        upload.seek(0)
        return True
    return not isinstance(data, dict) or bool(data.get(key))


class FeedModeForm(forms.Form):
    feed = forms.ChoiceField(choices=[(name, name) for name in FEEDS])
    mode = forms.ChoiceField(choices=BadRowMode.choices)
