"""The upload form of the legacy referral-log import. It validates the file; the import does the rest."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from cram_site.models import Officer, Team

from .legacy_import import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, expected_columns_text


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Legacy referral log",
        help_text=(f"An Excel workbook (.xlsx) or a CSV file (.csv, UTF-8), at most "
                   f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Columns: {expected_columns_text()}."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label="Team the URNs belong to",
                                  empty_label="Choose a team")
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run: check every row, store nothing",
                                 help_text="Read the rejection report first; then import the same file for real.")

    def __init__(self, *args: Any, user: Officer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user.is_superuser or user.force_wide:
            self.fields["team"].queryset = Team.objects.order_by("code")
            if user.team_id:
                self.fields["team"].initial = user.team_id
        else:
            # An administrator of one team imports into that team only.
            self.fields["team"].queryset = Team.objects.filter(pk=user.team_id)
            self.fields["team"].initial = user.team_id
            self.fields["team"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "team" in self.errors and isinstance(self.fields["team"].widget, forms.HiddenInput):
            # The team is not shown to an administrator of one team: say why the upload was refused.
            self.add_error(None, "You may import only into your own team; ask for a team if you have none.")
        return data

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                "Choose an Excel workbook (.xlsx) or a CSV file (.csv). Older .xls workbooks: save them as "
                ".xlsx in Excel first.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; the limit is "
                f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Split the log into several files.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        head = upload.read(4)
        upload.seek(0)
        if suffix == ".xlsx" and head != b"PK\x03\x04":
            raise forms.ValidationError("The file is not an Excel workbook (.xlsx), whatever its name says.")
        return upload
