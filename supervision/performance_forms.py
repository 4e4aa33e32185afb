"""The performance dashboard's range and team. It parses and explains; it counts nothing."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from cram_site.models import Officer, Team

from .performance import MAX_MONTHS, Scope, last_quarter, months_apart, parse_month, sees_every_team, this_month

ALL_TEAMS = ""


class MonthField(forms.CharField):
    """A London calendar month typed as YYYY-MM (`<input type="month">`; MM/YYYY in old browsers)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}|\d{2}/\d{4}"})

    def to_python(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        month = parse_month(text)
        if month is None:
            raise ValidationError("Enter a month as YYYY-MM, for example 2026-03.")
        return month

    def prepare_value(self, value: Any) -> Any:
        return f"{value:%Y-%m}" if isinstance(value, dt.date) else value


class PerformanceRangeForm(forms.Form):
    """From and to month, and for force-wide officers the team (or all teams).

    An officer of one team is held to that team whatever the address says: the field is not
    offered, and anything sent for it is ignored.
    """

    from_month = MonthField(label="From month")
    to_month = MonthField(label="To month")
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, data: QueryDict | dict[str, str] | None, *, user: Officer, now: dt.datetime) -> None:
        self.user = user
        self.now = now
        first, last = last_quarter(now)
        defaults = {"from_month": f"{first:%Y-%m}", "to_month": f"{last:%Y-%m}"}
        given = {name: value for name, value in (data or {}).items() if name in ("from_month", "to_month", "team")}
        # A bare address shows the last quarter; a part-filled one keeps the default for the rest.
        merged = defaults | {name: value for name, value in given.items() if value or name == "team"}
        super().__init__(merged)
        if sees_every_team(user):
            self.fields["team"].choices = [(ALL_TEAMS, "All teams (force-wide)")] + [
                (team.code, str(team)) for team in Team.objects.order_by("code")]
        else:
            del self.fields["team"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("from_month"), data.get("to_month")
        current = this_month(self.now)
        for name, month in (("from_month", first), ("to_month", last)):
            if month is not None and month > current:
                self.add_error(name, f"{month:%B %Y} is in the future: choose {current:%B %Y} or earlier.")
        if first is not None and last is not None and not self.errors:
            if last < first:
                self.add_error("to_month", f"The last month ({last:%B %Y}) is before the first "
                                           f"({first:%B %Y}): choose a later month.")
            elif months_apart(first, last) > MAX_MONTHS:
                self.add_error("from_month", f"That is {months_apart(first, last)} months: show at most "
                                             f"{MAX_MONTHS} months at a time.")
        return data

    @property
    def team_locked(self) -> bool:
        return "team" not in self.fields

    def scope(self) -> Scope:
        """The records counted: the chosen team, or every team, within what the officer may see."""
        team = None
        if not self.team_locked and self.cleaned_data.get("team"):
            team = Team.objects.filter(code=self.cleaned_data["team"]).first()
        return Scope.for_user(self.user, team)

    def months(self) -> tuple[dt.date, dt.date]:
        return self.cleaned_data["from_month"], self.cleaned_data["to_month"]

    def query(self, **changes: str) -> str:
        """This form's values as a query string, changed as given (quick links, drill-downs)."""
        values = QueryDict(mutable=True)
        for name in ("from_month", "to_month", "team"):
            value = changes.get(name, self.data.get(name, "") if name in self.fields else "")
            if value:
                values[name] = value
        return values.urlencode()


def validation_messages(form: forms.Form) -> list[str]:
    """Every error of the form, named by its field, for an export refused with a ValidationError."""
    return [f"{form.fields[name].label if name in form.fields else 'Range'}: {error}"
            for name, errors in form.errors.items() for error in errors]
