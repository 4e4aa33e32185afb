"""The auditor's search form: officer, record (a URN or a person), action and a London-time range.

It validates and resolves what was chosen against what the auditor may see; the reads are in
`cram_site/audit_search.py`.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.http import QueryDict

from .audit_search import AuditCriteria, auditable_officers, sees_every_team
from .calendar import LONDON
from .models import AuditEvent, Officer

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
URN_EXACT = re.compile(r"^[A-Z]{2,4}-\d{2}-\d{5}$")
# The range a search covers when none is given: the last seven days.
DEFAULT_RANGE = dt.timedelta(days=7)
MINUTE = dt.timedelta(minutes=1)


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LONDON).replace(second=0, microsecond=0)


def with_default_range(query: QueryDict, *, now: dt.datetime) -> QueryDict:
    """The query with the default range (the last seven days, to the minute) where it names none."""
    data = query.copy()
    if "date_from" not in data:
        data["date_from"] = _minute(now - DEFAULT_RANGE).strftime("%Y-%m-%dT%H:%M")
    if "date_to" not in data:
        data["date_to"] = _minute(now).strftime("%Y-%m-%dT%H:%M")
    return data


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Officer) -> str:
        team = f" · {obj.team.code}" if obj.team_id else ""
        return f"{obj.display_name}{team}"


class AuditSearchForm(forms.Form):
    officer = OfficerChoiceField(queryset=Officer.objects.none(), required=False, empty_label="Any officer")
    urn = forms.CharField(required=False, max_length=20, label="URN",
                          help_text="The referral and every record on it, e.g. HY-26-00042.")
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(required=False, max_length=100, label="Person's name",
                           help_text="Find a person, then choose them from the list.")
    date_of_birth = forms.DateField(required=False, widget=DATE_WIDGET, label="Date of birth")
    include_referrals = forms.BooleanField(required=False, label="Include the referrals this person is on")
    action = forms.TypedChoiceField(choices=[("", "Any action"), *AuditEvent.Action.choices], coerce=int,
                                    required=False, empty_value=None)
    date_from = forms.DateTimeField(required=False, label="From", widget=DATETIME_WIDGET,
                                    help_text="London time; blank: seven days before “To”.")
    date_to = forms.DateTimeField(required=False, label="To", widget=DATETIME_WIDGET,
                                  help_text="London time, up to the end of that minute; blank: now.")

    def __init__(self, data: QueryDict | None, *, user: Officer, now: dt.datetime) -> None:
        super().__init__(data)
        self.user = user
        self.now = now
        self.fields["officer"].queryset = auditable_officers(user)
        if not sees_every_team(user):
            self.fields["officer"].help_text = "Officers of your team."

    def clean_urn(self) -> str:
        urn = self.cleaned_data["urn"].strip().upper()
        if urn and not URN_EXACT.match(urn):
            raise ValidationError("A URN looks like HY-26-00042.")
        return urn

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self._clean_record(data)
        self._clean_range(data)
        return data

    def _clean_record(self, data: dict[str, Any]) -> None:
        referral_model = apps.get_model("referrals", "Referral")
        person_model = apps.get_model("referrals", "Person")
        data["referral"] = data["person_record"] = None
        if data.get("urn") and data.get("person"):
            self.add_error("urn", "Search by a URN or by a person, not both.")
            return
        if data.get("urn"):
            data["referral"] = referral_model.objects.visible_to(self.user).filter(urn=data["urn"]).first()
            if data["referral"] is None:
                self.add_error("urn", f"No referral you can see has the URN {data['urn']}.")
        elif data.get("person"):
            data["person_record"] = (person_model.objects.visible_to(self.user)
                                     .filter(pk=data["person"]).first())
            if data["person_record"] is None:
                self.add_error("name", "That person is not one you can see. Find them by name.")

    def _clean_range(self, data: dict[str, Any]) -> None:
        if "date_from" not in data or "date_to" not in data:
            return  # a value that is not a date and time already has its message
        end = _minute(data["date_to"] or self.now)
        start = _minute(data["date_from"]) if data["date_from"] else end - DEFAULT_RANGE
        if end < start:
            self.add_error("date_to", "“To” is before “From”: the end of the range must come after its start.")
        data["range"] = (start, end + MINUTE)

    @property
    def looking_for_a_person(self) -> bool:
        """A name or date of birth typed, and no person chosen yet: the page lists the matches."""
        data = self.cleaned_data
        return not data.get("person") and bool(data.get("name", "").strip() or data.get("date_of_birth"))

    def criteria(self) -> AuditCriteria:
        data = self.cleaned_data
        start, end = data["range"]
        person = data["person_record"]
        include = bool(data.get("include_referrals")) and person is not None
        referral_ids: tuple[int, ...] = ()
        if include:
            referral_model = apps.get_model("referrals", "Referral")
            # Only the referrals the auditor may see; one indexed read of the person's links.
            referral_ids = tuple(referral_model.objects.visible_to(self.user)
                                 .filter(referral_people__person=person).values_list("pk", flat=True))
        return AuditCriteria(start=start, end=end, officer=data.get("officer"), referral=data["referral"],
                             person=person, include_referrals=include, action=data.get("action"),
                             person_referral_ids=referral_ids)

    def person_matches(self) -> list[Any]:
        """People the auditor may see who match the typed name and date of birth, tolerant of spelling."""
        person_model = apps.get_model("referrals", "Person")
        data = self.cleaned_data
        last_name, first_name = _split_name(data.get("name", ""))
        people = person_model.objects.visible_to(self.user).select_related("household")
        if not last_name and data.get("date_of_birth"):
            return list(people.filter(date_of_birth=data["date_of_birth"])[:25])
        return people.matching(last_name=last_name, first_name=first_name,
                               date_of_birth=data.get("date_of_birth"), limit=25)

    def searched(self, criteria: AuditCriteria) -> dict[str, str]:
        """What was searched, in words, for the audit event the search itself leaves."""
        words: dict[str, str] = {}
        if criteria.officer is not None:
            words["officer"] = criteria.officer.display_name
        if criteria.referral is not None:
            words["record"] = f"referral {criteria.referral.urn}"
        if criteria.person is not None:
            words["record"] = f"person {criteria.person.full_name} (id {criteria.person.pk})"
            if criteria.include_referrals:
                words["record"] += " and the referrals they are on"
        if criteria.action is not None:
            words["action"] = str(dict(AuditEvent.Action.choices)[criteria.action])
        words["from"] = f"{criteria.start.astimezone(LONDON):%d/%m/%Y %H:%M}"
        words["to"] = f"{(criteria.end - MINUTE).astimezone(LONDON):%d/%m/%Y %H:%M}"
        return words


def _split_name(text: str) -> tuple[str, str]:
    """"Smith", "Jane Smith" or "Smith, Jane" into (surname, first name)."""
    text = text.strip()
    if "," in text:
        last, _, first = text.partition(",")
        return last.strip(), first.strip()
    parts = text.split()
    if len(parts) <= 1:
        return text, ""
    return parts[-1], " ".join(parts[:-1])
