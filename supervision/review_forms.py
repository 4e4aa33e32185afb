"""Forms of the supervision tab: an investigation review and the closure approval.

They parse and show; the rules live in supervision.review_services and supervision.closure.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from referrals.models import Referral
from risk.forms import PlannedActionForm

from .models import Quality

QUALITY_FIELD = {"choices": Quality.choices, "widget": forms.RadioSelect}


class InvestigationReviewForm(forms.Form):
    investigation_progressing = forms.ChoiceField(label="Is the investigation progressing?", **QUALITY_FIELD)
    risk_managed = forms.ChoiceField(label="Is the risk being managed?", **QUALITY_FIELD)
    records_complete = forms.ChoiceField(label="Are the records complete and current?", **QUALITY_FIELD)
    actions_timely = forms.ChoiceField(label="Are the actions timely?", **QUALITY_FIELD)
    direction = forms.CharField(label="Direction given", widget=forms.Textarea(attrs={"rows": 4}),
                                help_text="What the investigating officer is to do next, and why.")


# Rows for the actions a reviewing supervisor sets; rows left blank are ignored.
ReviewActionFormSet = forms.formset_factory(PlannedActionForm, extra=3, max_num=20, validate_max=True)


def review_actions(formset: forms.BaseFormSet) -> list[tuple[str, Any, dt.datetime]]:
    """The (description, owner, due) of every filled-in action row."""
    return [(form.cleaned_data["description"], form.cleaned_data["owner"], form.cleaned_data["due_at"])
            for form in formset.forms if form.has_changed() and form.cleaned_data]


class ClosureForm(forms.Form):
    """The supervisor's approval. The override and the prosecution confirmation are asked only
    when the referral has an unmanaged risk or a crime report number."""

    rationale = forms.CharField(label="Rationale for closing the referral", widget=forms.Textarea(attrs={"rows": 4}))
    unmanaged_risk_override = forms.CharField(
        label="Reason to close despite the unmanaged risk", required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The current CRAM has a present risk with no active control measure. Say why the "
                  "referral may close all the same.")
    prosecution_concluded = forms.BooleanField(label="I confirm any prosecution has concluded", required=False)

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not referral.unmanaged_risk_count:
            del self.fields["unmanaged_risk_override"]
        if not referral.crime_report_number:
            del self.fields["prosecution_concluded"]
        else:
            self.fields["prosecution_concluded"].help_text = (
                f"Crime report {referral.crime_report_number} is recorded on this referral.")

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"rationale": data["rationale"],
                "unmanaged_risk_override": data.get("unmanaged_risk_override") or "",
                "prosecution_concluded": bool(data.get("prosecution_concluded"))}
