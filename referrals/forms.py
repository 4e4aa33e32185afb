"""Forms of the referral desk and the case page. They validate; services write."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cram_site.calendar import LONDON
from cram_site.models import Officer, Role

from .models import (
    URN_PATTERN,
    AllegationCategory,
    CaseLogEntry,
    CaseLogKind,
    Channel,
    DisclosureDecision,
    Gender,
    InvestigationOutcome,
    Person,
    PersonRole,
    Referral,
    Route,
    Urgency,
)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _not_future(value: dt.datetime | None, message: str) -> None:
    if value is not None and value > timezone.now():
        raise ValidationError(message)


def _today() -> dt.date:
    return timezone.now().astimezone(LONDON).date()


class ReferralForm(forms.Form):
    received_at = forms.DateTimeField(label="Received", widget=DATETIME_WIDGET)
    channel = forms.ChoiceField(choices=Channel.choices)
    source_agency = forms.CharField(max_length=120, label="Source agency")
    referrer_name = forms.CharField(max_length=120, required=False, label="Referrer")
    referrer_email = forms.EmailField(required=False, label="Referrer's e-mail",
                                      help_text="The partner contact an overdue update is chased with.")
    partner_reference = forms.CharField(max_length=60, required=False, label="Partner reference")
    allegation_category = forms.ChoiceField(choices=AllegationCategory.choices, label="Allegation")
    offence_date = forms.DateField(required=False, widget=DATE_WIDGET, label="Date of alleged offence",
                                   help_text="Leave blank if not known.")
    urgent = forms.BooleanField(required=False, label="Urgent: assess within 2 hours")
    summary_only_offence = forms.BooleanField(
        required=False, label="Summary-only offence (e.g. common assault)",
        help_text="Proceedings must start within six months of the offence; warnings follow.")
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))

    def clean_received_at(self) -> dt.datetime:
        value = self.cleaned_data["received_at"]
        _not_future(value, "The referral cannot be received in the future.")
        return value

    def clean_offence_date(self) -> dt.date | None:
        value = self.cleaned_data.get("offence_date")
        if value and value > _today():
            raise ValidationError("The date of the alleged offence cannot be in the future.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("summary_only_offence") and not data.get("offence_date"):
            self.add_error("offence_date", "Give the date of the offence: the six-month limit runs from it.")
        return data


class PersonRowForm(forms.Form):
    """One person on a new referral: pick an existing record or describe a new one."""

    existing_person = forms.IntegerField(required=False, widget=forms.HiddenInput)
    role = forms.ChoiceField(choices=[("", "Choose a role")] + PersonRole.choices)
    first_name = forms.CharField(max_length=80, required=False, label="First name")
    last_name = forms.CharField(max_length=80, required=False, label="Surname")
    date_of_birth = forms.DateField(required=False, widget=DATE_WIDGET, label="Date of birth")
    date_of_birth_approximate = forms.BooleanField(required=False, label="Approximate")
    gender = forms.ChoiceField(choices=Gender.choices, initial=Gender.UNKNOWN)
    address = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, people: Any = None, **kwargs: Any) -> None:
        # `people`: the Person queryset this user may see; an id outside it is refused.
        self.people = people
        super().__init__(*args, **kwargs)

    def clean_date_of_birth(self) -> dt.date | None:
        value = self.cleaned_data.get("date_of_birth")
        if value and value > _today():
            raise ValidationError("A date of birth cannot be in the future.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.has_changed():
            return data
        person_id = data.get("existing_person")
        if person_id:
            person = self.people.filter(pk=person_id).first() if self.people is not None else None
            if person is None:
                raise ValidationError("That person record could not be found.")
            data["person"] = person
        elif not data.get("last_name"):
            self.add_error("last_name", "Give a surname, or choose an existing person.")
        return data


class BasePersonFormSet(forms.BaseFormSet):
    """Person rows. Rows re-shown after "add another" keep what was typed (as `initial`) but
    stay "extra" rows, so a row left blank is skipped rather than refused."""

    def initial_form_count(self) -> int:
        return 0

    def total_form_count(self) -> int:
        if self.is_bound:
            return super().total_form_count()
        return min(max(len(self.initial or ()), self.min_num) + self.extra, self.max_num)

    def people(self) -> list[dict[str, Any]]:
        """The rows actually filled in, after validation."""
        return [form.cleaned_data for form in self.forms if form.has_changed() and form.cleaned_data]

    def clean(self) -> None:
        if any(self.errors):
            return
        rows = self.people()
        if not rows:
            raise ValidationError("Add the children and adults concerned.")
        if not any(row.get("role") in (PersonRole.VICTIM, PersonRole.SIBLING) for row in rows):
            raise ValidationError("Name at least one child, as victim or sibling.")
        chosen = [row["person"].pk for row in rows if row.get("person")]
        if len(chosen) != len(set(chosen)):
            raise ValidationError("The same existing person is chosen twice.")


PersonFormSet = forms.formset_factory(PersonRowForm, formset=BasePersonFormSet, extra=0, min_num=1,
                                      validate_min=True, max_num=30, validate_max=True)


def team_officers(referral_team_id: int, role: str) -> Any:
    return (Officer.objects.filter(team_id=referral_team_id, is_active=True, groups__name=role)
            .order_by("last_name", "first_name"))


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Officer) -> str:
        return obj.display_name


class AssessmentForm(forms.Form):
    urgency = forms.ChoiceField(choices=Urgency.choices, widget=forms.RadioSelect)
    route = forms.ChoiceField(choices=Route.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                                help_text="Why this route and urgency; it goes into the case log.")
    owner = OfficerChoiceField(queryset=Officer.objects.none(), required=False, label="Investigating officer")
    supervising_officer = OfficerChoiceField(queryset=Officer.objects.none(), required=False,
                                             label="Supervising sergeant")
    crime_report_number = forms.CharField(max_length=30, required=False, label="Crime report number")

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.fields["owner"].queryset = team_officers(referral.team_id, Role.INVESTIGATOR)
        self.fields["supervising_officer"].queryset = team_officers(referral.team_id, Role.SUPERVISOR)
        if referral.urgency:
            self.fields["urgency"].initial = referral.urgency

    def clean_crime_report_number(self) -> str:
        number = self.cleaned_data["crime_report_number"].strip().upper()
        if number and Referral.objects.filter(crime_report_number=number).exclude(pk=self.referral.pk).exists():
            raise ValidationError("That crime report number is already on another referral.")
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("route") in (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION) and not data.get("owner"):
            self.add_error("owner", "An investigation needs an investigating officer.")
        return data


class AllocationForm(forms.Form):
    owner = OfficerChoiceField(queryset=Officer.objects.none(), required=False, label="Investigating officer")
    supervising_officer = OfficerChoiceField(queryset=Officer.objects.none(), required=False,
                                             label="Supervising sergeant")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_officers(referral.team_id, Role.INVESTIGATOR)
        self.fields["supervising_officer"].queryset = team_officers(referral.team_id, Role.SUPERVISOR)
        self.fields["owner"].initial = referral.owner_id
        self.fields["supervising_officer"].initial = referral.supervising_officer_id


# Officers may write any kind but the system's own.
WRITABLE_KINDS = [(k, label) for k, label in CaseLogKind.choices if k not in (CaseLogKind.SYSTEM, CaseLogKind.CORRECTION)]


class CaseLogEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=WRITABLE_KINDS)
    occurred_at = forms.DateTimeField(label="When it happened", widget=DATETIME_WIDGET, required=False,
                                      help_text="Leave blank for now.")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Entry")

    def clean_occurred_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("occurred_at")
        _not_future(value, "When it happened cannot be in the future.")
        return value


class CorrectionForm(forms.Form):
    corrects = forms.ModelChoiceField(queryset=CaseLogEntry.objects.none(), label="Entry corrected")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Correction")

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["corrects"].queryset = CaseLogEntry.objects.filter(referral=referral)
        self.fields["corrects"].label_from_instance = lambda entry: f"#{entry.number}: {entry.text[:60]}"


class ActionForm(forms.Form):
    description = forms.CharField(max_length=300)
    owner = OfficerChoiceField(queryset=Officer.objects.none())
    due_at = forms.DateTimeField(label="Due", widget=DATETIME_WIDGET)

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Officer.objects.filter(team_id=referral.team_id, is_active=True)


class ActionFinishForm(forms.Form):
    status = forms.ChoiceField(choices=[("done", "Done"), ("cancelled", "Cancelled")], widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Note")


class WrittenFollowupForm(forms.Form):
    received_at = forms.DateTimeField(label="Written referral received", widget=DATETIME_WIDGET)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_received_at(self) -> dt.datetime:
        value = self.cleaned_data["received_at"]
        _not_future(value, "The written referral cannot arrive in the future.")
        return value


class SocialServicesUpdateForm(forms.Form):
    received_at = forms.DateTimeField(label="Update received", widget=DATETIME_WIDGET)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What social services reported")

    def clean_received_at(self) -> dt.datetime:
        value = self.cleaned_data["received_at"]
        _not_future(value, "The update cannot arrive in the future.")
        return value


URN_LIKE = re.compile(r"^[A-Za-z]{2,4}[\s-]*\d{2}[\s-]*\d{1,6}$")
URN_EXACT = re.compile(URN_PATTERN)


class SearchForm(forms.Form):
    q = forms.CharField(required=False, label="Name, URN or crime report number", max_length=100)
    date_of_birth = forms.DateField(required=False, widget=DATE_WIDGET, label="Date of birth")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("q") and not data.get("date_of_birth"):
            raise ValidationError("Type a name, URN or crime report number, or a date of birth.")
        return data


def person_matches(people: Any, *, last_name: str, first_name: str, date_of_birth: str) -> list[Person]:
    """Parse the typed date (which may be half-typed) and ask for matches."""
    try:
        dob = dt.date.fromisoformat(date_of_birth) if date_of_birth else None
    except ValueError:
        dob = None
    return people.matching(last_name=last_name, first_name=first_name, date_of_birth=dob)


# --- Investigation records (referrals/investigation_views.py) --------------------------------------

class JointVisitForm(forms.Form):
    visited_at = forms.DateTimeField(label="Joint visit with children's social care", widget=DATETIME_WIDGET,
                                     help_text="When police and social care visited together.")

    def clean_visited_at(self) -> dt.datetime:
        value = self.cleaned_data["visited_at"]
        _not_future(value, "A joint visit cannot be recorded before it happens.")
        return value


class InvestigationOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose the outcome")] + InvestigationOutcome.choices,
                                label="Outcome of the investigation")
    outcome_at = forms.DateTimeField(label="Date of the outcome", widget=DATETIME_WIDGET)

    def clean_outcome_at(self) -> dt.datetime:
        value = self.cleaned_data["outcome_at"]
        _not_future(value, "The outcome cannot be in the future.")
        return value


class DisclosureRequestForm(forms.Form):
    received_at = forms.DateTimeField(label="Request received", widget=DATETIME_WIDGET)
    requested_by = forms.CharField(max_length=200, label="Requested by",
                                   help_text="The court, local authority or party that asked.")
    proceedings_reference = forms.CharField(max_length=60, required=False, label="Proceedings reference")
    decision = forms.ChoiceField(choices=DisclosureDecision.choices, initial=DisclosureDecision.PENDING)
    responded_at = forms.DateTimeField(label="Response sent", widget=DATETIME_WIDGET, required=False,
                                       help_text="Leave blank while the decision is pending.")

    def clean_received_at(self) -> dt.datetime:
        value = self.cleaned_data["received_at"]
        _not_future(value, "A request cannot be received in the future.")
        return value

    def clean_responded_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("responded_at")
        _not_future(value, "The response cannot be in the future.")
        return value


class DisclosureResponseForm(forms.Form):
    decision = forms.ChoiceField(choices=[("", "Choose the decision")] + [
        choice for choice in DisclosureDecision.choices if choice[0] != DisclosureDecision.PENDING])
    responded_at = forms.DateTimeField(label="Response sent", widget=DATETIME_WIDGET)

    def clean_responded_at(self) -> dt.datetime:
        value = self.cleaned_data["responded_at"]
        _not_future(value, "The response cannot be in the future.")
        return value
