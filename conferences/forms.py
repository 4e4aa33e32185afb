"""Forms of the meetings and medicals tabs. They parse and show; the rules live in conferences.services."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank
from referrals.forms import DATETIME_WIDGET, OfficerChoiceField
from referrals.models import Person, Referral

from . import services
from .models import (
    AttendanceStatus,
    ConferenceOutcome,
    ExaminationKind,
    KeyRole,
    MeetingKind,
    PlanCategory,
)

OfficerChoices = list[tuple[Any, str]]


def officer_choices(team_id: int) -> OfficerChoices:
    """The team's active officers as select options, read once and shared by every officer field
    and every row of a page (otherwise each select makes its own query)."""
    officers = Officer.objects.filter(team_id=team_id, is_active=True).order_by("last_name", "first_name")
    return [("", "---------")] + [(officer.pk, officer.display_name) for officer in officers]


def _team_officer_field(form: forms.Form, name: str, team_id: int, choices: OfficerChoices | None) -> None:
    field = form.fields[name]
    field.queryset = Officer.objects.filter(team_id=team_id, is_active=True)
    field.choices = choices if choices is not None else officer_choices(team_id)


class ChildChoiceField(forms.TypedChoiceField):
    """One of the referral's children, offered from the people already read for the case header."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, coerce=int, empty_value=None, **kwargs)


def _children_of(referral: Referral) -> dict[int, Person]:
    return {child.pk: child for child in referral.children()}


class _ReferralForm(forms.Form):
    """A form about one referral: its children and its team's officers are the choices."""

    def __init__(self, *args: Any, referral: Referral, officers: OfficerChoices | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.referral = referral
        self.children = _children_of(referral)
        for name, field in self.fields.items():
            if isinstance(field, OfficerChoiceField):
                _team_officer_field(self, name, referral.team_id, officers)
            elif isinstance(field, ChildChoiceField):
                field.choices = [("", "Choose a child")] + [(pk, child.full_name)
                                                            for pk, child in self.children.items()]
            elif isinstance(field, forms.TypedMultipleChoiceField):
                field.choices = [(pk, child.full_name) for pk, child in self.children.items()]

    def child(self, name: str = "child") -> Person:
        return self.children[self.cleaned_data[name]]


# --- Meetings ----------------------------------------------------------------------------------

class MeetingForm(_ReferralForm):
    kind = forms.ChoiceField(choices=[("", "Choose a kind of meeting")] + MeetingKind.choices, label="Kind of meeting")
    starts_at = forms.DateTimeField(label="Date and time", widget=DATETIME_WIDGET)
    place = forms.CharField(max_length=200)
    chair_name = forms.CharField(max_length=120, label="Chair")
    chair_agency = forms.CharField(max_length=120, label="Chair's agency")
    children = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
                                              label="Children discussed")
    police_attendee = OfficerChoiceField(queryset=Officer.objects.none(), required=False,
                                         label="Police attendee", help_text="The officer who will attend, if known.")
    held = forms.BooleanField(required=False, label="Already held",
                              help_text="Tick to record a meeting that has taken place; leave it to schedule one.")

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"kind": data["kind"], "starts_at": data["starts_at"], "place": data["place"],
                "chair_name": data["chair_name"], "chair_agency": data["chair_agency"],
                "children": [self.children[pk] for pk in data["children"]],
                "police_attendee": data["police_attendee"], "held": data["held"]}


class AttendanceForm(forms.Form):
    name = forms.CharField(max_length=120, error_messages={"required": "Give the person's name."})
    agency = forms.CharField(max_length=120, error_messages={"required": "Give the person's agency."})
    designation = forms.CharField(max_length=120, required=False, label="Role or designation")
    is_police = forms.BooleanField(required=False, label="Police officer or staff")
    rank = forms.ChoiceField(choices=[("", "Not police")] + Rank.choices, required=False,
                             help_text="Required for police.")
    key_role = forms.ChoiceField(choices=KeyRole.choices, required=False, label="Key professional")
    status = forms.ChoiceField(choices=AttendanceStatus.choices, initial=AttendanceStatus.ATTENDED)


class HoldForm(forms.Form):
    """Record the meeting as held; a conference also records its outcome."""

    outcome = forms.ChoiceField(choices=[("", "Not recorded")] + ConferenceOutcome.choices, required=False)
    plan_category = forms.ChoiceField(choices=[("", "None")] + PlanCategory.choices, required=False,
                                      label="Category of plan",
                                      help_text="Required when a plan is made or continued.")

    def __init__(self, *args: Any, conference: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not conference:
            del self.fields["outcome"]
            del self.fields["plan_category"]


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}), label="Why it was cancelled",
                             error_messages={"required": "Say why the meeting was cancelled."})


class MinutesForm(forms.Form):
    received_at = forms.DateTimeField(label="Minutes received", widget=DATETIME_WIDGET)


class StrategyRecordForm(forms.Form):
    decisions = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Decisions made",
                                error_messages={"required": "Record the decisions made."})


class AgreedActionForm(forms.Form):
    description = forms.CharField(max_length=300, label="Action agreed")
    owner_agency = forms.CharField(max_length=120, label="Agency")
    owner = OfficerChoiceField(queryset=Officer.objects.none(), label="Police officer who owns it",
                               help_text="Chases it on the case, whichever agency does it.")
    due_at = forms.DateTimeField(widget=DATETIME_WIDGET, label="Due")

    def __init__(self, *args: Any, team_id: int, officers: OfficerChoices | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _team_officer_field(self, "owner", team_id, officers)


class BaseAgreedActionFormSet(forms.BaseFormSet):
    """Agreed action rows. Rows shown from the saved record keep their values (as `initial`) but
    stay "extra" rows, so clearing a row removes the action rather than being refused."""

    def initial_form_count(self) -> int:
        return 0

    def total_form_count(self) -> int:
        if self.is_bound:
            return super().total_form_count()
        return min(len(self.initial or ()) + self.extra, self.max_num)

    def inputs(self) -> list[services.AgreedActionInput]:
        return [services.AgreedActionInput(description=form.cleaned_data["description"],
                                           owner_agency=form.cleaned_data["owner_agency"],
                                           owner=form.cleaned_data["owner"], due_at=form.cleaned_data["due_at"])
                for form in self.forms if form.has_changed() and form.cleaned_data]


AgreedActionFormSet = forms.formset_factory(AgreedActionForm, formset=BaseAgreedActionFormSet, extra=2,
                                            max_num=30, validate_max=True)


class CountersignForm(forms.Form):
    chair_name = forms.CharField(max_length=120, label="Chair's name",
                                 error_messages={"required": "Give the chair's name."},
                                 help_text="Once countersigned, the record cannot be changed and the agreed actions "
                                           "become case actions.")


# --- Medical examinations and police protection ----------------------------------------------------

POLICE_ATTENDED_CHOICES = [("yes", "Yes"), ("no", "No")]


class MedicalForm(_ReferralForm):
    child = ChildChoiceField(label="Child examined")
    examined_at = forms.DateTimeField(label="When", widget=DATETIME_WIDGET)
    kind = forms.ChoiceField(choices=[("", "Choose a kind")] + ExaminationKind.choices, label="Kind of examination")
    examiner_name = forms.CharField(max_length=120, label="Examiner")
    examiner_role = forms.CharField(max_length=120, label="Examiner's role",
                                    help_text="For example: consultant paediatrician, forensic medical examiner.")
    police_attended = forms.TypedChoiceField(choices=POLICE_ATTENDED_CHOICES, widget=forms.RadioSelect,
                                             coerce=lambda value: value == "yes", label="Did police attend?")
    non_attendance_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                            label="Why police did not attend",
                                            help_text="Required when police did not attend.")
    deciding_officer = OfficerChoiceField(queryset=Officer.objects.none(), required=False,
                                          label="Officer who decided police would not attend",
                                          help_text="Required when police did not attend.")
    photographs_taken = forms.BooleanField(required=False, label="Photographs taken")
    first_account_secured = forms.BooleanField(required=False, label="First account secured")

    def clean(self) -> dict[str, Any]:
        # The service refuses these one at a time; checking both here shows every missing answer at once.
        data = super().clean()
        if data.get("police_attended") is False:
            if not (data.get("non_attendance_reason") or "").strip():
                self.add_error("non_attendance_reason", "Say why police did not attend.")
            if data.get("deciding_officer") is None and "deciding_officer" not in self.errors:
                self.add_error("deciding_officer", "Name the officer who decided police would not attend.")
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"child": self.child(), "examined_at": data["examined_at"], "kind": data["kind"],
                "examiner_name": data["examiner_name"], "examiner_role": data["examiner_role"],
                "police_attended": data["police_attended"], "non_attendance_reason": data["non_attendance_reason"],
                "deciding_officer": data["deciding_officer"], "photographs_taken": data["photographs_taken"],
                "first_account_secured": data["first_account_secured"]}


class ProtectionStartForm(_ReferralForm):
    child = ChildChoiceField(label="Child taken into police protection")
    started_at = forms.DateTimeField(label="Start", widget=DATETIME_WIDGET)
    designated_officer = OfficerChoiceField(queryset=Officer.objects.none(), label="Designated officer")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), error_messages={
        "required": "Give the reason for police protection."})

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"child": self.child(), "started_at": data["started_at"],
                "designated_officer": data["designated_officer"], "reason": data["reason"]}


class ProtectionEndForm(forms.Form):
    ended_at = forms.DateTimeField(label="Ended at", widget=DATETIME_WIDGET)
    note = forms.CharField(max_length=300, required=False, label="Note", help_text="What happened to the child next.")



def london_input(moment: dt.datetime) -> dt.datetime:
    """A moment as a form's initial value: to the minute, as the datetime-local input shows it."""
    return moment.astimezone(LONDON).replace(second=0, microsecond=0)
