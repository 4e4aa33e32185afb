"""Forms of the supervisor's pages. They validate what was typed; the services decide and write."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet

from cram_site.models import Officer
from referrals.forms import DATE_WIDGET, OfficerChoiceField
from referrals.models import Action, Referral

from .queues import RATINGS
from .services import Move


class QueueFilterForm(forms.Form):
    """The officer and rating a queue is narrowed to, and which way it is sorted."""

    officer = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Officer")
    rating = forms.ChoiceField(choices=[("", "Any rating"), *RATINGS], required=False, label="Risk rating")
    order = forms.ChoiceField(choices=[("due", "Soonest due first"), ("-due", "Latest due first")],
                              required=False, label="Sort by due date")

    def __init__(self, *args: Any, officers: Iterable[Officer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = [("", "Any officer")] + [(o.pk, o.display_name) for o in officers]


class AllocateForm(forms.Form):
    """Give a referral a new investigating officer, with the reason (from a queue row or the allocation page)."""

    owner = OfficerChoiceField(queryset=Officer.objects.none(), label="New investigating officer",
                               empty_label="Choose an officer")
    reason = forms.CharField(max_length=500, label="Reason",
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why this officer; it goes into the case log.")
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, candidates: QuerySet[Officer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = candidates


class ReallocateLookupForm(forms.Form):
    """Choose the referral to reallocate, by its URN."""

    urn = forms.CharField(max_length=16, label="URN of the referral to reallocate")

    def clean_urn(self) -> str:
        return self.cleaned_data["urn"].strip().upper()


class LeavingDateForm(forms.Form):
    officer = OfficerChoiceField(queryset=Officer.objects.none(), label="Officer", empty_label="Choose an officer")
    leaving_date = forms.DateField(required=False, widget=DATE_WIDGET, label="Leaving date",
                                   help_text="Leave blank to clear a leaving date.")

    def __init__(self, *args: Any, officers: QuerySet[Officer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers


class LeaverWorkForm(forms.Form):
    """One new owner and one rationale per item of a leaver's open work.

    A row left wholly blank is left with the leaver for now; a row with an owner but no rationale
    (or the other way round) is refused, with the message beside that row.
    """

    def __init__(self, *args: Any, referrals: Iterable[Referral], actions: Iterable[Action],
                 candidates: Iterable[Officer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items: list[tuple[str, Any]] = [("referral", r) for r in referrals] + [("action", a) for a in actions]
        # The candidates are read once, not once per row.
        self.candidates = {officer.pk: officer for officer in candidates}
        choices = [("", "Leave for now")] + [
            (pk, officer.display_name + (f" (leaves {officer.leaving_date:%d/%m/%Y})" if officer.leaving_date else ""))
            for pk, officer in self.candidates.items()]
        for subject, record in self.items:
            key = f"{subject}-{record.pk}"
            self.fields[f"{key}-owner"] = forms.TypedChoiceField(
                choices=choices, coerce=int, required=False, empty_value=None, label="New owner",
                error_messages={"invalid_choice": "Choose an active officer of this team, other than the one leaving."})
            self.fields[f"{key}-rationale"] = forms.CharField(max_length=500, required=False, label="Rationale")

    def rows(self) -> list[dict[str, Any]]:
        """Each item with its two fields, for the template."""
        return [{"subject": subject, "record": record, "key": f"{subject}-{record.pk}",
                 "label": record.urn if subject == "referral" else f"the action on {record.referral.urn}",
                 "owner": self[f"{subject}-{record.pk}-owner"],
                 "rationale": self[f"{subject}-{record.pk}-rationale"]}
                for subject, record in self.items]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = 0
        for subject, record in self.items:
            key = f"{subject}-{record.pk}"
            owner, rationale = data.get(f"{key}-owner"), (data.get(f"{key}-rationale") or "").strip()
            if f"{key}-owner" in self.errors:
                continue
            if owner and not rationale:
                self.add_error(f"{key}-rationale", "Give the rationale for this move.")
            elif rationale and not owner:
                self.add_error(f"{key}-owner", "Choose the new owner.")
            if owner or rationale:
                chosen += 1
        if not chosen and not self.errors:
            raise forms.ValidationError("Choose a new owner and give a rationale for at least one item.")
        return data

    def moves(self) -> list[Move]:
        return [Move(subject, record.pk, self.candidates[self.cleaned_data[f"{subject}-{record.pk}-owner"]],
                     self.cleaned_data[f"{subject}-{record.pk}-rationale"])
                for subject, record in self.items
                if self.cleaned_data.get(f"{subject}-{record.pk}-owner")]

    def add_service_errors(self, problems: dict[str, list[str]]) -> None:
        for key, messages in problems.items():
            field = f"{key}-owner" if f"{key}-owner" in self.fields else None
            for message in messages:
                target = field
                if field and "rationale" in message:
                    target = f"{key}-rationale"
                self.add_error(target, message)
