"""The performance measures of SPEC §7, monthly, for one team or force-wide.

Each measure is a small typed object in `MEASURES` (display order). It knows the records it
counts (`records(scope)`), the month a record falls in (`month_field`), and, for a percentage,
what makes a record count towards the numerator (`hit`). From those three come:

- `queryset(scope, month_start, month_end)`: the records behind a figure (the numerator);
- `denominator(scope, month_start, month_end)`: the records a percentage is taken of;
- `rows(scope, months, table)`: the figures of every month in ONE query. Each month is a
  conditional aggregate over its London boundaries (`COUNT(*) FILTER (WHERE starts <= at < ends)`,
  a CASE on SQLite), so the number of queries never grows with months or data, a total over a
  range counts distinct things correctly (a child protected in two months is one child), and a
  condition may depend on the month (the full set of checks "by the end of the month").

Months are London calendar months; the month in progress ends now, so a review or sign-off
that is not due yet is not counted late. The dashboard, its drill-downs, its charts and its
exports all read these functions: there is no second copy of a definition anywhere.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from conferences.models import (
    Attendance,
    AttendanceStatus,
    MedicalExamination,
    Meeting,
    MeetingKind,
    MeetingStatus,
    PoliceProtection,
)
from cram_site.calendar import LONDON
from cram_site.models import Officer, Team
from referrals.models import (
    DETECTION_OUTCOMES,
    DisclosureRequest,
    PersonRole,
    Referral,
    ReferralPerson,
    Route,
)
from risk.models import Answer, AnswerValue, Assessment, AssessmentKind, AssessmentStatus, CheckSystem, Quality, SignOff, SystemsCheck

# An s47 enquiry: a referral whose desk assessment chose one of these routes.
INVESTIGATION_ROUTES = (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION)

# The full set of checks for an s47 enquiry: at least one check of each, by the end of the month
# the enquiry began in (so a month's figure does not change once the month is over).
FULL_CHECKS = (CheckSystem.PNC, CheckSystem.CRIS, CheckSystem.MERLIN, CheckSystem.SOCIAL_CARE,
               CheckSystem.HEALTH, CheckSystem.EDUCATION)

# The catalogue factors two measures read (risk/catalogue.py).
SIBLINGS_FACTOR = "siblings_at_risk"
MAPPA_FACTOR = "suspect_rso_mappa"

# The longest range the dashboard shows; the trend charts always show twelve months.
MAX_MONTHS = 36
CHART_MONTHS = 12


# --- Months ------------------------------------------------------------------------------------

def month_begins(first_day: dt.date) -> dt.datetime:
    """Midnight at the start of a London calendar month, as an aware datetime."""
    return dt.datetime(first_day.year, first_day.month, 1, tzinfo=LONDON)


def next_month(first_day: dt.date) -> dt.date:
    return dt.date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)


def add_months(first_day: dt.date, count: int) -> dt.date:
    index = first_day.year * 12 + first_day.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def months_apart(first: dt.date, last: dt.date) -> int:
    """How many months from `first` to `last` inclusive (1 for the same month)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def parse_month(text: str) -> dt.date | None:
    """"2026-03" (what `<input type="month">` sends) or "03/2026" (typed into an old browser)."""
    text = (text or "").strip()
    for pattern in ("%Y-%m", "%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date().replace(day=1)
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class Month:
    """One London calendar month; the month in progress ends at `now`."""

    first_day: dt.date
    starts: dt.datetime
    ends: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.first_day:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{self.first_day:%b %Y}"

    @property
    def short_label(self) -> str:
        return f"{self.first_day:%b}"


def months_between(first: dt.date, last: dt.date, *, now: dt.datetime) -> list[Month]:
    """Every month from `first` to `last` inclusive, each ending at the next month's start or now."""
    months = []
    day = first.replace(day=1)
    while day <= last:
        following = next_month(day)
        months.append(Month(day, month_begins(day), min(month_begins(following), now)))
        day = following
    return months


def this_month(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date().replace(day=1)


def last_quarter(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The last three complete months."""
    last = add_months(this_month(now), -1)
    return add_months(last, -2), last


def last_twelve_months(now: dt.datetime) -> tuple[dt.date, dt.date]:
    last = add_months(this_month(now), -1)
    return add_months(last, -(CHART_MONTHS - 1)), last


# --- Scope: whose records ------------------------------------------------------------------------

def sees_every_team(user: Officer) -> bool:
    return bool(user.is_authenticated and (user.force_wide or user.is_superuser))


@dataclass(frozen=True)
class Scope:
    """The records a figure is counted over: what `user` may see, narrowed to `team`.

    `team` is None only for force-wide officers (every team). Anyone else is held to their own
    team whatever they asked for, so a Haringey officer never counts an Enfield record.
    """

    user: Officer
    team: Team | None

    @classmethod
    def for_user(cls, user: Officer, team: Team | None = None) -> Scope:
        if sees_every_team(user):
            return cls(user, team)
        return cls(user, user.team)

    @property
    def label(self) -> str:
        return str(self.team) if self.team is not None else "All teams (force-wide)"

    @property
    def team_code(self) -> str:
        return self.team.code if self.team is not None else ""

    def referrals(self) -> QuerySet[Referral]:
        return self.narrow(Referral.objects.visible_to(self.user), "")

    def meetings(self) -> QuerySet[Meeting]:
        return self.narrow(Meeting.objects.visible_to(self.user), "")

    def narrow(self, queryset: QuerySet, referral_path: str) -> QuerySet:
        """Records of the chosen team, reached through `referral_path` ("" for the record itself)."""
        team_field = f"{referral_path}__team_id" if referral_path else "team_id"
        if self.team is not None:
            return queryset.filter(**{team_field: self.team.pk})
        if sees_every_team(self.user):
            return queryset
        return queryset.none()


# --- Figures and rows ---------------------------------------------------------------------------

def _percent(count: int, of: int, places: str) -> float:
    return float((Decimal(100 * count) / Decimal(of)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Figure:
    """A count, and for a percentage the number it is a percentage of."""

    count: int
    of: int | None = None

    @property
    def percent(self) -> float | None:
        """To one decimal place (exports); None when there is nothing to take a percentage of."""
        return _percent(self.count, self.of, "0.1") if self.of else None

    @property
    def whole_percent(self) -> int | None:
        """Rounded half up to a whole number (the page)."""
        return int(_percent(self.count, self.of, "1")) if self.of else None


@dataclass
class Row:
    """One line of the table: a measure, or one group of it (a route, an agency)."""

    measure: Measure
    label: str
    figures: dict[str, Figure]
    total: Figure
    group: str = ""
    level: int = 0
    percentage: bool = False

    def figure(self, month: Month) -> Figure:
        return self.figures.get(month.key, Figure(0, 0 if self.percentage else None))

    def cells(self, months: Iterable[Month]) -> list[tuple[Month, Figure]]:
        return [(month, self.figure(month)) for month in months]

    @property
    def key(self) -> str:
        return f"{self.measure.slug}:{self.group}" if self.group else self.measure.slug


# --- Measures -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    """A count of records falling in each month. Subclasses add a percentage or a breakdown."""

    slug: str
    label: str
    help: str
    # What the drill-down lists: a key of RECORD_KINDS.
    record_kind: str
    month_field: str
    population: Callable[[Scope], QuerySet]
    # For a percentage: the condition for the numerator, and its column heading in the drill-down.
    hit: Callable[[], Q] | None = None
    hit_label: str = ""
    # Count distinct values of this field rather than records (children, not protections).
    distinct: str = ""
    # "main" rows go in the measures table; "quality" rows in the sign-off quality table.
    section: str = "main"
    chart: bool = True

    @property
    def percentage(self) -> bool:
        return self.hit is not None

    # The records -----------------------------------------------------------------------------

    def records(self, scope: Scope) -> QuerySet:
        return self.population(scope)

    def period(self, month_start: dt.datetime, month_end: dt.datetime) -> Q:
        return Q(**{f"{self.month_field}__gte": month_start, f"{self.month_field}__lt": month_end})

    def hit_in(self, month_start: dt.datetime, month_end: dt.datetime) -> Q:
        """Records of the period that count towards the numerator."""
        condition = self.period(month_start, month_end)
        return condition & self.hit() if self.hit is not None else condition

    def queryset(self, scope: Scope, month_start: dt.datetime, month_end: dt.datetime,
                 group: str = "") -> QuerySet:
        """The records behind a figure: the numerator."""
        return self._grouped(self.records(scope), group).filter(self.hit_in(month_start, month_end))

    def denominator(self, scope: Scope, month_start: dt.datetime, month_end: dt.datetime,
                    group: str = "") -> QuerySet | None:
        """What a percentage is taken of; None for a plain count."""
        if not self.percentage:
            return None
        return self._grouped(self.records(scope), group).filter(self.period(month_start, month_end))

    def drill(self, scope: Scope, month_start: dt.datetime, month_end: dt.datetime, group: str = "",
              show: str = "") -> QuerySet:
        """The drill-down's rows: the denominator with a `counted` yes/no for a percentage, else
        the numerator. `show` ("yes"/"no") narrows a percentage's rows to one side."""
        if not self.percentage:
            rows = self.queryset(scope, month_start, month_end, group)
        else:
            rows = self.denominator(scope, month_start, month_end, group).annotate(
                counted=ExpressionWrapper(self.hit_in(month_start, month_end), output_field=BooleanField()))
            if show == "yes":
                rows = rows.filter(counted=True)
            elif show == "no":
                rows = rows.filter(counted=False)
        kind = RECORD_KINDS[self.record_kind]
        return rows.select_related(*kind.related).order_by(self.month_field, "pk")

    def _grouped(self, queryset: QuerySet, group: str) -> QuerySet:
        return queryset

    def groups(self) -> list[tuple[str, str]]:
        """(key, label) of each group a drill-down may be narrowed to; none for a single row."""
        return []

    # Counting -----------------------------------------------------------------------------------

    def _count(self, condition: Q) -> Count:
        if self.distinct:
            return Count(self.distinct, filter=condition, distinct=True)
        return Count("pk", filter=condition)

    def _aggregates(self, months: Sequence[Month], table: Sequence[Month]) -> dict[str, Count]:
        """Per month (m0, m1…) and over the table's range (total): the numerator and denominator."""
        spans = [(f"m{index}", month.starts, month.ends) for index, month in enumerate(months)]
        spans.append(("total", table[0].starts, table[-1].ends))
        aggregates: dict[str, Count] = {}
        for name, starts, ends in spans:
            aggregates[f"{name}_count"] = self._count(self.hit_in(starts, ends))
            if self.percentage:
                aggregates[f"{name}_of"] = self._count(self.period(starts, ends))
        return aggregates

    def _figures(self, values: dict[str, Any], months: Sequence[Month]) -> tuple[dict[str, Figure], Figure]:
        def figure(name: str) -> Figure:
            return Figure(values.get(f"{name}_count") or 0,
                          (values.get(f"{name}_of") or 0) if self.percentage else None)

        return ({month.key: figure(f"m{index}") for index, month in enumerate(months)}, figure("total"))

    def _in_range(self, scope: Scope, months: Sequence[Month]) -> QuerySet:
        return self.records(scope).filter(self.period(months[0].starts, months[-1].ends))

    def rows(self, scope: Scope, months: Sequence[Month], table: Sequence[Month]) -> list[Row]:
        """The measure's figures for every month of `months`, and a total over `table`: one query."""
        values = self._in_range(scope, months).aggregate(**self._aggregates(months, table))
        figures, total = self._figures(values, months)
        return [Row(self, self.label, figures, total, percentage=self.percentage)]


@dataclass(frozen=True)
class FullChecksMeasure(Measure):
    """s47 enquiries with a check of every system of FULL_CHECKS by the end of their month."""

    def records(self, scope: Scope) -> QuerySet:
        first_checks = {
            f"first_{system}": Subquery(SystemsCheck.objects.filter(referral=OuterRef("pk"), system=system)
                                        .order_by("checked_at").values("checked_at")[:1])
            for system in FULL_CHECKS
        }
        return self.population(scope).annotate(**first_checks)

    def hit_in(self, month_start: dt.datetime, month_end: dt.datetime) -> Q:
        # Each calendar month of the period has its own deadline: the end of that month (or now).
        condition = Q(pk__in=[])
        day = month_start.astimezone(LONDON).date().replace(day=1)
        while month_begins(day) < month_end:
            starts = max(month_begins(day), month_start)
            ends = min(month_begins(next_month(day)), month_end)
            complete = Q(**{f"first_{system}__lt": ends for system in FULL_CHECKS})
            condition |= self.period(starts, ends) & complete
            day = next_month(day)
        return condition


@dataclass(frozen=True)
class ShareMeasure(Measure):
    """A count split by the value of one field: a row for the whole, then a row per value with
    its percentage of the whole (referrals by route; answers to a sign-off quality question)."""

    breakdown: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    # A URL-safe key for a value that has none (route "" is "not yet assessed").
    blank_key: str = "none"
    # A label for the whole row ("" to leave it out, as the quality questions do).
    whole_label: str = ""

    def _key(self, value: str) -> str:
        return value or self.blank_key

    def groups(self) -> list[tuple[str, str]]:
        return [(self._key(value), label) for value, label in self.choices]

    def group_label(self, group: str) -> str:
        return dict(self.groups()).get(group, "")

    def _grouped(self, queryset: QuerySet, group: str) -> QuerySet:
        if not group:
            return queryset
        values = {self._key(value): value for value, _ in self.choices}
        if group not in values:
            return queryset.none()
        return queryset.filter(**{self.breakdown: values[group]})

    def rows(self, scope: Scope, months: Sequence[Month], table: Sequence[Month]) -> list[Row]:
        grouped = (self._in_range(scope, months).order_by().values(self.breakdown)
                   .annotate(**self._aggregates(months, table)))
        by_value = {entry[self.breakdown]: self._figures(entry, months) for entry in grouped}
        whole = {month.key: Figure(sum(figures[month.key].count for figures, _ in by_value.values()))
                 for month in months}
        whole_total = Figure(sum(total.count for _, total in by_value.values()))
        rows = []
        if self.whole_label:
            rows.append(Row(self, self.whole_label, whole, whole_total))
        for value, label in self.choices:
            figures, total = by_value.get(value, ({}, Figure(0)))
            rows.append(Row(
                self, label,
                {month.key: Figure(figures[month.key].count if figures else 0, whole[month.key].count)
                 for month in months},
                Figure(total.count, whole_total.count),
                group=self._key(value), level=1 if self.whole_label else 0, percentage=True))
        return rows


@dataclass(frozen=True)
class AgencyRateMeasure(Measure):
    """A percentage for everything, then the same percentage for each value of a field that is
    typed rather than chosen (minutes on time, by the chair's agency)."""

    breakdown: str = ""

    def _grouped(self, queryset: QuerySet, group: str) -> QuerySet:
        return queryset.filter(**{self.breakdown: group}) if group else queryset

    def rows(self, scope: Scope, months: Sequence[Month], table: Sequence[Month]) -> list[Row]:
        grouped = (self._in_range(scope, months).order_by().values(self.breakdown)
                   .annotate(**self._aggregates(months, table)).order_by(self.breakdown))
        groups = [(entry[self.breakdown], *self._figures(entry, months)) for entry in grouped]

        def summed(figures: Iterable[Figure]) -> Figure:
            figures = list(figures)
            return Figure(sum(f.count for f in figures), sum(f.of or 0 for f in figures))

        whole = {month.key: summed(figures[month.key] for _, figures, _ in groups) for month in months}
        rows = [Row(self, self.label, whole, summed(total for _, _, total in groups), percentage=True)]
        for agency, figures, total in groups:
            rows.append(Row(self, agency or "(agency not given)", figures, total, group=agency, level=1,
                            percentage=True))
        return rows


# --- The populations ----------------------------------------------------------------------------

def _investigations(scope: Scope) -> QuerySet:
    return scope.referrals().filter(route__in=INVESTIGATION_ROUTES, assessed_at__isnull=False)


def _conferences(kind: str) -> Callable[[Scope], QuerySet]:
    def population(scope: Scope) -> QuerySet:
        police_attended = Attendance.objects.filter(meeting=OuterRef("pk"), is_police=True,
                                                    status=AttendanceStatus.ATTENDED)
        return (scope.meetings().filter(kind=kind, status=MeetingStatus.HELD)
                .annotate(police_attended=Exists(police_attended)))

    return population


def _checks(scope: Scope) -> QuerySet:
    return scope.narrow(SystemsCheck.objects.all(), "referral")


def _completed_assessments(scope: Scope) -> QuerySet:
    return scope.narrow(Assessment.objects.filter(status=AssessmentStatus.COMPLETED), "referral")


def _reviews_due(scope: Scope) -> QuerySet:
    reviewed = Assessment.objects.filter(referral=OuterRef("referral"), status=AssessmentStatus.COMPLETED,
                                         number__gt=OuterRef("number"),
                                         completed_at__lte=OuterRef("next_review_due_at"))
    next_review = (Assessment.objects.filter(referral=OuterRef("referral"), status=AssessmentStatus.COMPLETED,
                                             number__gt=OuterRef("number"))
                   .order_by("completed_at").values("completed_at")[:1])
    return (_completed_assessments(scope).filter(next_review_due_at__isnull=False)
            .annotate(reviewed_in_time=Exists(reviewed), next_completed_at=Subquery(next_review)))


def _signoffs_due(scope: Scope) -> QuerySet:
    in_time = SignOff.objects.filter(assessment=OuterRef("pk"), signed_at__lte=OuterRef("signoff_due_at"))
    return (_completed_assessments(scope).filter(signoff_due_at__isnull=False)
            .annotate(signed_in_time=Exists(in_time)))


def _signoffs(scope: Scope) -> QuerySet:
    return scope.narrow(SignOff.objects.all(), "assessment__referral")


def _examinations(scope: Scope) -> QuerySet:
    return scope.narrow(MedicalExamination.objects.all(), "referral")


def _minutes_due(scope: Scope) -> QuerySet:
    return scope.meetings().filter(minutes_due_at__isnull=False)


def _with_initial_cram(scope: Scope) -> QuerySet:
    initial = Assessment.objects.filter(referral=OuterRef("pk"), kind=AssessmentKind.INITIAL,
                                        status=AssessmentStatus.COMPLETED)
    siblings_answered = Answer.objects.filter(
        assessment__referral=OuterRef("pk"), assessment__kind=AssessmentKind.INITIAL,
        assessment__status=AssessmentStatus.COMPLETED, code=SIBLINGS_FACTOR,
        value__in=[AnswerValue.YES, AnswerValue.NO])
    siblings_named = ReferralPerson.objects.filter(referral=OuterRef("pk"), role=PersonRole.SIBLING)
    return (scope.referrals().filter(Exists(initial))
            .annotate(siblings_answered=Exists(siblings_answered), siblings_named=Exists(siblings_named)))


def _mappa_eligible(scope: Scope) -> QuerySet:
    flagged_suspect = ReferralPerson.objects.filter(referral=OuterRef("pk"), role=PersonRole.SUSPECT).filter(
        Q(person__registered_sex_offender=True) | Q(person__mappa=True) | Q(person__potentially_dangerous=True))
    cram_says_so = Answer.objects.filter(assessment__referral=OuterRef("pk"),
                                         assessment__status=AssessmentStatus.COMPLETED, code=MAPPA_FACTOR,
                                         value=AnswerValue.YES)
    mappa_meeting = Meeting.objects.filter(referral=OuterRef("pk"), kind=MeetingKind.MAPPA).exclude(
        status=MeetingStatus.CANCELLED)
    return (scope.referrals().filter(Exists(flagged_suspect) | Exists(cram_says_so))
            .annotate(mappa_meeting=Exists(mappa_meeting)))


# --- The registry, in display order -------------------------------------------------------------

ROUTE_GROUPS = (*Route.choices, ("", "Not yet assessed"))
QUALITY_QUESTIONS = (
    ("rating_justified", "Rating justified?"),
    ("gaps_addressed", "Gaps addressed?"),
    ("measures_adequate", "Control measures adequate?"),
    ("actions_timely", "Actions timely?"),
)

MEASURES: tuple[Measure, ...] = (
    ShareMeasure(
        "referrals-received", "Referrals received", "Referrals received in the month, and the route the desk "
        "chose for each (percentage of those received).", "referral", "received_at", Scope.referrals,
        breakdown="route", choices=ROUTE_GROUPS, blank_key="not-assessed", whole_label="Referrals received"),
    Measure(
        "s47-investigations", "s47 investigations", "Referrals whose desk assessment in the month chose a police "
        "or joint investigation (an s47 enquiry).", "referral", "assessed_at", _investigations),
    Measure(
        "joint-visits", "Joint visits", "Of the s47 investigations begun in the month, those with a joint visit "
        "with children's social care recorded.", "referral", "assessed_at", _investigations,
        hit=lambda: Q(joint_visit_at__isnull=False), hit_label="Joint visit"),
    Measure(
        "initial-conferences-attended", "Initial conferences attended", "Initial child protection conferences "
        "held in the month, and those at which at least one police officer attended (percentage of those held).",
        "meeting", "starts_at", _conferences(MeetingKind.INITIAL_CONFERENCE),
        hit=lambda: Q(police_attended=True), hit_label="Police attended"),
    Measure(
        "review-conferences-attended", "Review conferences attended", "Review child protection conferences held "
        "in the month, and those at which at least one police officer attended (percentage of those held).",
        "meeting", "starts_at", _conferences(MeetingKind.REVIEW_CONFERENCE),
        hit=lambda: Q(police_attended=True), hit_label="Police attended"),
    Measure(
        "systems-checks", "Systems checks", "Checks of police systems and partner agencies made in the month.",
        "check", "checked_at", _checks),
    Measure(
        "intelligence-items", "Intelligence items", "Checks made in the month that found something new since the "
        "previous check.", "check", "checked_at", lambda scope: _checks(scope).filter(anything_new=True)),
    FullChecksMeasure(
        "full-checks", "s47 enquiries with the full set of checks", "Of the s47 investigations begun in the "
        "month, those with a check of PNC, CRIS, MERLIN, children's social care, health and education recorded "
        "by the end of that month.", "referral", "assessed_at", _investigations,
        hit=lambda: Q(), hit_label="Full set of checks"),
    Measure(
        "police-protection", "Children taken into police protection", "Children taken into police protection in "
        "the month; a child taken more than once counts once.", "protection", "started_at",
        lambda scope: scope.narrow(PoliceProtection.objects.all(), "referral"), distinct="child"),
    Measure(
        "detections", "Detections", "Investigations whose outcome, recorded in the month, was a charge or "
        "summons, a caution or a community resolution.", "referral", "outcome_at",
        lambda scope: scope.referrals().filter(outcome__in=DETECTION_OUTCOMES, outcome_at__isnull=False)),
    Measure(
        "disclosure-requests", "Requests for disclosure in family proceedings", "Requests for police material "
        "in family proceedings received in the month.", "disclosure", "received_at",
        lambda scope: scope.narrow(DisclosureRequest.objects.all(), "referral")),
    Measure(
        "cram-reviews-on-time", "CRAMs reviewed on time", "Completed CRAMs whose next review fell due in the "
        "month, and those reviewed by a later completed CRAM by that time, or whose referral closed before it.",
        "assessment_review", "next_review_due_at", _reviews_due,
        hit=lambda: Q(reviewed_in_time=True) | Q(referral__closed_at__lte=F("next_review_due_at")),
        hit_label="Reviewed on time"),
    Measure(
        "signoffs-on-time", "Supervisor sign-offs on time", "Completed CRAMs whose supervisor sign-off fell due in "
        "the month, and those signed off by that time.", "assessment_signoff", "signoff_due_at", _signoffs_due,
        hit=lambda: Q(signed_in_time=True), hit_label="Signed off on time"),
    Measure(
        "medicals-attended", "Medical examinations attended by police", "Medical examinations in the month, and "
        "those police attended (percentage of examinations).", "examination", "examined_at", _examinations,
        hit=lambda: Q(police_attended=True), hit_label="Police attended"),
    Measure(
        "medicals-not-attended", "Medical examinations police did not attend", "Medical examinations in the "
        "month that police did not attend; the drill-down gives the reasons to roles that read free text.",
        "examination", "examined_at", _examinations, hit=lambda: Q(police_attended=False),
        hit_label="Police did not attend"),
    AgencyRateMeasure(
        "minutes-on-time", "Minutes received on time", "Meetings whose minutes fell due in the month, and those "
        "whose minutes arrived by the due date, for every agency and by the chair's agency.", "meeting_minutes",
        "minutes_due_at", _minutes_due, hit=lambda: Q(minutes_received_at__lte=F("minutes_due_at")),
        hit_label="Minutes on time", breakdown="chair_agency"),
    Measure(
        "siblings-considered", "Siblings considered", "Referrals received in the month with a completed initial "
        "CRAM, and those whose CRAM answered whether siblings are at risk, or which name a sibling.", "referral",
        "received_at", _with_initial_cram, hit=lambda: Q(siblings_answered=True) | Q(siblings_named=True),
        hit_label="Siblings considered"),
    Measure(
        "mappa-considered", "Referrals to MAPPA considered", "Referrals received in the month with a suspect who "
        "is a registered sex offender, MAPPA nominal or potentially dangerous person, or whose CRAM says so; and "
        "those with a MAPPA meeting.", "referral", "received_at", _mappa_eligible,
        hit=lambda: Q(mappa_meeting=True), hit_label="MAPPA meeting"),
    *(ShareMeasure(
        f"signoff-quality-{question}", f"Sign-off quality: {label}", "Sign-offs made in the month, by the "
        f"supervisor's answer to “{label}”.", "signoff", "signed_at", _signoffs, breakdown=question,
        choices=tuple(Quality.choices), section="quality", chart=False, whole_label="")
      for question, label in QUALITY_QUESTIONS),
)

MEASURES_BY_SLUG: dict[str, Measure] = {measure.slug: measure for measure in MEASURES}


# --- The report: the table and the charts' series -------------------------------------------------

@dataclass
class Report:
    scope: Scope
    months: list[Month]
    chart_months: list[Month]
    rows: list[Row]

    @property
    def period_label(self) -> str:
        return _period_label(self.months)

    @property
    def chart_period_label(self) -> str:
        return _period_label(self.chart_months)

    @property
    def main_rows(self) -> list[Row]:
        return [row for row in self.rows if row.measure.section == "main"]

    @property
    def quality_rows(self) -> list[Row]:
        return [row for row in self.rows if row.measure.section == "quality"]

    def charted(self) -> list[Row]:
        """The first row of every charted measure: its whole, or its single row."""
        seen: set[str] = set()
        rows = []
        for row in self.main_rows:
            if row.measure.chart and row.measure.slug not in seen:
                seen.add(row.measure.slug)
                rows.append(row)
        return rows


def _period_label(months: Sequence[Month]) -> str:
    first, last = months[0].label, months[-1].label
    return first if first == last else f"{first} to {last}"


def performance_report(scope: Scope, first: dt.date, last: dt.date, *, now: dt.datetime) -> Report:
    """Every measure for the months `first`..`last` (the table) and the twelve months ending with
    `last` (the charts), one query per measure however many months or records there are."""
    table = months_between(first, last, now=now)
    chart_first = add_months(last, -(CHART_MONTHS - 1))
    everything = months_between(min(first, chart_first), last, now=now)
    chart = everything[-CHART_MONTHS:]
    rows = [row for measure in MEASURES for row in measure.rows(scope, everything, table)]
    return Report(scope, table, chart, rows)


# --- Drill-down columns by record kind ------------------------------------------------------------

def _when(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(LONDON) if moment else None


def _officer(officer: Officer | None) -> str:
    return officer.display_name if officer else ""


@dataclass(frozen=True)
class Column:
    heading: str
    value: Callable[[Any], object]
    # Typed by an officer: shown only to roles that read free text.
    free_text: bool = False


@dataclass(frozen=True)
class RecordKind:
    name: str
    referral: Callable[[Any], Referral]
    related: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def visible_columns(self, user: Officer) -> list[Column]:
        return [column for column in self.columns if not column.free_text or user.sees_free_text]


def _yes_no(value: object) -> str:
    return "Yes" if value else "No"


RECORD_KINDS: dict[str, RecordKind] = {
    "referral": RecordKind("referrals", lambda referral: referral, ("team", "owner"), (
        Column("Received", lambda r: _when(r.received_at)),
        Column("Route", lambda r: r.get_route_display() or "Not yet assessed"),
        Column("Assessed", lambda r: _when(r.assessed_at)),
        Column("Status", lambda r: r.get_status_display()),
        Column("Investigating officer", lambda r: _officer(r.owner)),
        Column("Joint visit", lambda r: _when(r.joint_visit_at)),
        Column("Outcome", lambda r: r.get_outcome_display()),
        Column("Outcome recorded for", lambda r: _when(r.outcome_at)),
    )),
    "meeting": RecordKind("meetings", lambda meeting: meeting.referral, ("referral__team", "police_attendee"), (
        Column("Kind", lambda m: m.get_kind_display()),
        Column("Date", lambda m: _when(m.starts_at)),
        Column("Status", lambda m: m.get_status_display()),
        Column("Chair's agency", lambda m: m.chair_agency),
        Column("Police attendee", lambda m: _officer(m.police_attendee)),
    )),
    "meeting_minutes": RecordKind("meetings", lambda meeting: meeting.referral, ("referral__team",), (
        Column("Kind", lambda m: m.get_kind_display()),
        Column("Date", lambda m: _when(m.starts_at)),
        Column("Chair's agency", lambda m: m.chair_agency),
        Column("Minutes due", lambda m: _when(m.minutes_due_at)),
        Column("Minutes received", lambda m: _when(m.minutes_received_at)),
    )),
    "check": RecordKind("systems checks", lambda check: check.referral, ("referral__team",), (
        Column("System", lambda c: c.get_system_display()),
        Column("Checked", lambda c: _when(c.checked_at)),
        Column("Checked by", lambda c: c.checked_by_label),
        Column("Anything new", lambda c: _yes_no(c.anything_new)),
    )),
    "protection": RecordKind("police protections", lambda protection: protection.referral,
                             ("referral__team", "child"), (
        Column("Child", lambda p: p.child.full_name),
        Column("Started", lambda p: _when(p.started_at)),
        Column("Ended", lambda p: _when(p.ended_at)),
        Column("Designated officer", lambda p: p.designated_officer_label),
    )),
    "disclosure": RecordKind("disclosure requests", lambda request: request.referral, ("referral__team",), (
        Column("Received", lambda d: _when(d.received_at)),
        Column("Requested by", lambda d: d.requested_by),
        Column("Proceedings reference", lambda d: d.proceedings_reference),
        Column("Decision", lambda d: d.get_decision_display()),
        Column("Responded", lambda d: _when(d.responded_at)),
    )),
    "assessment_review": RecordKind("CRAMs", lambda assessment: assessment.referral, ("referral__team",), (
        Column("CRAM", lambda a: f"{a.number} ({a.get_kind_display()})"),
        Column("Completed", lambda a: _when(a.completed_at)),
        Column("Review due", lambda a: _when(a.next_review_due_at)),
        Column("Next CRAM completed", lambda a: _when(a.next_completed_at)),
        Column("Referral closed", lambda a: _when(a.referral.closed_at)),
    )),
    "assessment_signoff": RecordKind("CRAMs", lambda assessment: assessment.referral,
                                     ("referral__team", "signoff"), (
        Column("CRAM", lambda a: f"{a.number} ({a.get_kind_display()})"),
        Column("Completed", lambda a: _when(a.completed_at)),
        Column("Sign-off due", lambda a: _when(a.signoff_due_at)),
        Column("Signed off", lambda a: _when(_signoff(a).signed_at if _signoff(a) else None)),
        Column("Supervisor", lambda a: _signoff(a).supervisor_label if _signoff(a) else ""),
    )),
    "signoff": RecordKind("sign-offs", lambda signoff: signoff.assessment.referral,
                          ("assessment__referral__team",), (
        Column("CRAM", lambda s: f"{s.assessment.number} ({s.assessment.get_kind_display()})"),
        Column("Signed off", lambda s: _when(s.signed_at)),
        Column("Supervisor", lambda s: s.supervisor_label),
        Column("Decision", lambda s: s.get_decision_display()),
        *(Column(label, lambda s, question=question: getattr(s, f"get_{question}_display")())
          for question, label in QUALITY_QUESTIONS),
    )),
    "examination": RecordKind("medical examinations", lambda examination: examination.referral,
                              ("referral__team", "child"), (
        Column("Child", lambda e: e.child.full_name),
        Column("Examined", lambda e: _when(e.examined_at)),
        Column("Kind", lambda e: e.get_kind_display()),
        Column("Examiner's role", lambda e: e.examiner_role),
        Column("Police attended", lambda e: _yes_no(e.police_attended)),
        Column("Decided by", lambda e: e.deciding_officer_label),
        Column("Reason police did not attend", lambda e: e.non_attendance_reason, free_text=True),
    )),
}


def _signoff(assessment: Assessment) -> SignOff | None:
    try:
        return assessment.signoff
    except SignOff.DoesNotExist:
        return None


@dataclass(frozen=True)
class DrillRow:
    referral: Referral
    values: list[object]
    counted: bool | None


def drill_columns(measure: Measure, user: Officer) -> list[Column]:
    return RECORD_KINDS[measure.record_kind].visible_columns(user)


def drill_headings(measure: Measure, user: Officer) -> list[str]:
    """URN, team, the record kind's structured columns (free text only for roles that read it),
    and the yes/no of a percentage."""
    headings = ["URN", "Team", *(column.heading for column in drill_columns(measure, user))]
    if measure.percentage:
        headings.append(measure.hit_label)
    return headings


def drill_row(measure: Measure, record: Any, columns: Sequence[Column]) -> DrillRow:
    referral = RECORD_KINDS[measure.record_kind].referral(record)
    counted = bool(getattr(record, "counted", False)) if measure.percentage else None
    return DrillRow(referral, [column.value(record) for column in columns], counted)


def drill_rows(measure: Measure, records: Iterable[Any], user: Officer) -> tuple[list[str], list[DrillRow]]:
    """The drill-down's headings and rows (of one page)."""
    columns = drill_columns(measure, user)
    return drill_headings(measure, user), [drill_row(measure, record, columns) for record in records]


def drill_url(measure: Measure, month: Month, *, team_code: str = "", group: str = "", show: str = "",
              to: str = "") -> str:
    from urllib.parse import urlencode

    query = {name: value for name, value in (("team", team_code), ("group", group), ("show", show), ("to", to))
             if value}
    url = reverse("supervision:performance_drill", args=[measure.slug, month.key])
    return f"{url}?{urlencode(query)}" if query else url
