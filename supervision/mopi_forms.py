"""The information management (MoPI) review form. It parses and shows; supervision.mopi decides."""
from __future__ import annotations

from typing import Any

from django import forms

from .models import RetentionDecision
from .mopi import MAX_NEXT_REVIEW_YEARS


class MopiReviewForm(forms.Form):
    decision = forms.ChoiceField(label="Decision", choices=RetentionDecision.choices, widget=forms.RadioSelect,
                                 error_messages={"required": "Choose to retain or to dispose of the record."})
    next_review_years = forms.IntegerField(
        label="Next review in (years)", required=False, min_value=1, max_value=MAX_NEXT_REVIEW_YEARS,
        help_text="Only when retaining. Leave blank for the category's period.")
    reason = forms.CharField(label="Reason for the decision", widget=forms.Textarea(attrs={"rows": 4}),
                             error_messages={"required": "Give the reason for the decision."},
                             help_text="Why the record is kept, or why it is no longer needed for a policing purpose.")

    def __init__(self, *args: Any, default_years: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_review_years"].help_text = (
            f"Only when retaining. Leave blank for this category's period: {default_years} years.")
        self.fields["decision"].choices = [
            (RetentionDecision.RETAIN, "Retain: keep the record and review it again later"),
            (RetentionDecision.DISPOSE, "Dispose: approve the record for disposal by the records team"),
        ]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        retain = data["decision"] == RetentionDecision.RETAIN
        return {"decision": data["decision"], "reason": data["reason"],
                "next_review_years": data.get("next_review_years") if retain else None}
