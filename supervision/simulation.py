"""Years of casework in minutes, to prove the reminder engine: every due item prompted, none twice.

A generated team ("SIM") logs referrals day by day through the services of every app: desk
assessments, phone referrals and their written follow-ups, summary-only offences, social-services
updates, CRAMs with sign-offs and 42-day reviews, actions, supervisory reviews, strategy
discussions, conferences with police reports, police protection, leavers. Each thing is done on a
random schedule, sometimes late. The sweep runs a few times a day, with outages of a few days and,
now and then, twice at the same moment; after every sweep the engine is audited against what the
database says is due.

Everything happens in one transaction that is rolled back at the end (unless `keep`), so the
current database is left as it was; meanwhile it holds the database's write lock, so do not run it
on a database the application is using. On SQLite, `workers` > 1 cuts the days into consecutive
spans simulated at once, each in its own process on a throw-away copy of the database.

What the figures mean: an item "came due" when a sweep found its notify time passed while it was
still outstanding; it is "missed" if, after that sweep, it had no unresolved reminder that had
prompted its owner, or was past its due time and not escalated. Duplicates are reminders sharing (kind, subject, due date) and notifications
sharing (reminder, recipient, event), anywhere in the database.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import math
import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from auditlog.context import disable_auditlog
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.db import connections, transaction
from django.db.models import Count, Q
from django.test.utils import override_settings

from conferences import services as conference_services
from conferences.models import Meeting, MeetingKind, MeetingStatus, PoliceProtection
from cram_site.calendar import LONDON, add_working_days_at, is_working_day
from cram_site.models import Officer, Rank, Role, Team
from cram_site.timescales import team_timescales_create
from referrals import services as referral_services
from referrals.models import Action, ActionStatus, CaseLogKind, Referral, ReferralStatus, Route
from risk import services as risk_services
from risk.models import Assessment, AssessmentStatus

from . import sweep as sweep_module
from .closure import referral_close
from .due import DueItem, Sources
from .models import DigestDelivery, Notification, PartnerEmail, Reminder, ReminderState
from .review_services import investigation_review_record
from .sweep import digest_send, sweep

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

SWEEP_TIMES = {1: [(7, 0)], 2: [(7, 0), (15, 0)], 3: [(7, 0), (13, 0), (19, 0)],
               4: [(7, 0), (11, 0), (15, 0), (19, 0)]}


class CountingEmailBackend(BaseEmailBackend):
    """Mail of the simulation goes nowhere; what would have been sent is counted by kind."""

    sent: ClassVar[Counter[str]] = Counter()

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        for message in email_messages:
            kind = "partner" if message.subject.startswith("Overdue:") else "digest"
            self.sent[kind] += 1
        return len(email_messages)


@dataclass
class SimulationReport:
    days: int = 0
    start: dt.date | None = None
    spans: int = 1
    referrals: int = 0
    closed: int = 0
    sweeps: int = 0
    double_sweeps: int = 0
    double_sweep_changes: int = 0
    outage_days: int = 0
    came_due: int = 0
    reminders: int = 0
    notifications: int = 0
    overdue_notifications: int = 0
    escalations: int = 0
    resolved: int = 0
    partner_emails: int = 0
    partner_emails_sent: int = 0
    digests: int = 0
    duplicate_reminders: int = 0
    duplicate_notifications: int = 0
    missed: int = 0
    refused: int = 0
    wall_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    missed_examples: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        end = self.start + dt.timedelta(days=self.days - 1) if self.start else None
        spans = f", as {self.spans} spans in parallel" if self.spans > 1 else ""
        rows = [
            ("days simulated", f"{self.days} ({self.start:%d/%m/%Y} to {end:%d/%m/%Y}{spans})" if end else self.days),
            ("referrals logged", self.referrals), ("referrals closed", self.closed),
            ("sweeps", f"{self.sweeps} ({self.double_sweeps} twice at the same moment, "
                       f"{self.outage_days} days of outage)"),
            ("second sweeps that did anything", self.double_sweep_changes),
            ("items that came due", self.came_due), ("reminders created", self.reminders),
            ("notifications sent", f"{self.notifications} ({self.notifications - self.overdue_notifications} due, "
                                   f"{self.overdue_notifications} overdue)"),
            ("escalations", self.escalations),
            ("reminders resolved", self.resolved),
            ("partner e-mails", f"{self.partner_emails} created, {self.partner_emails_sent} sent"),
            ("digests sent", self.digests),
            ("duplicate reminders", self.duplicate_reminders),
            ("duplicate notifications", self.duplicate_notifications),
            ("missed", self.missed),
            ("steps the services refused", self.refused),
            ("wall time", f"{self.wall_seconds:.1f} s"), ("peak memory", f"{self.peak_memory_mb:.0f} MB"),
        ]
        width = max(len(label) for label, _ in rows)
        return [f"{label:<{width}}  {value}" for label, value in rows] + [
            f"  missed: {example}" for example in self.missed_examples]


@dataclass(frozen=True)
class Chances:
    """How busy the simulated world is: referrals a day, and how often the scheduler misbehaves."""

    referrals_per_day: float
    outage: float
    double_sweep: float


class _RecordingSources(Sources):
    """The sweep's own reading of what is due, kept so the audit after it needs no second reading."""

    last: ClassVar[list[DueItem]] = []

    def all(self) -> Iterator[DueItem]:
        items = list(super().all())
        _RecordingSources.last = items
        return iter(items)


@contextlib.contextmanager
def _recording_sources() -> Iterator[None]:
    real = sweep_module.Sources
    sweep_module.Sources = _RecordingSources
    try:
        yield
    finally:
        sweep_module.Sources = real


class _Rollback(Exception):
    """Raised to leave the simulation's transaction without keeping anything."""


def simulate(*, days: int, referrals_per_day: float = 0.5, seed: int = 1, sweeps_per_day: int = 2,
             start: dt.date = dt.date(2026, 1, 5), keep: bool = False, workers: int = 1,
             outage_chance: float = 1 / 75, double_sweep_chance: float = 1 / 25,
             progress: Callable[[str], None] | None = None) -> SimulationReport:
    """Run the simulation on the current database; rolled back at the end unless `keep`.

    Each day an outage of 2 to 5 days begins with `outage_chance`; each sweep is run a second time at
    the same moment with `double_sweep_chance`.

    With `workers` > 1 on SQLite the days are cut into that many consecutive spans, each simulated in
    its own process on its own copy of the database (the copies are thrown away), and the figures
    added up: each span starts from the team as the database holds it, with no cases of its own yet.
    """
    if days < 1:
        raise ValueError("Simulate at least one day.")
    if sweeps_per_day not in SWEEP_TIMES:
        raise ValueError(f"Sweep {', '.join(map(str, SWEEP_TIMES))} times a day.")
    started = time.perf_counter()
    workers = max(1, min(workers, days // 30 or 1))
    chances = Chances(referrals_per_day=referrals_per_day, outage=outage_chance, double_sweep=double_sweep_chance)
    if workers > 1 and not keep and _copyable_database():
        spans = _spans(start, days, workers)
        report = _merged(_in_parallel(spans, chances=chances, seed=seed, sweeps_per_day=sweeps_per_day,
                                      progress=progress is not None))
    else:
        report = _simulate_span(start=start, days=days, chances=chances, seed=seed, sweeps_per_day=sweeps_per_day,
                                keep=keep, progress=progress)
    report.days, report.start = days, start
    report.wall_seconds = time.perf_counter() - started
    report.peak_memory_mb = max(_peak_mb(resource.RUSAGE_SELF), _peak_mb(resource.RUSAGE_CHILDREN))
    return report


def _peak_mb(who: int) -> float:
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _simulate_span(*, start: dt.date, days: int, chances: Chances, seed: int, sweeps_per_day: int,
                   keep: bool, progress: Callable[[str], None] | None) -> SimulationReport:
    CountingEmailBackend.sent = Counter()
    report = SimulationReport(days=days, start=start, spans=1)
    # The audit trail of every simulated save is not what is being proved, and would double the time.
    with (override_settings(EMAIL_BACKEND=f"{__name__}.CountingEmailBackend"), disable_auditlog(),
          _recording_sources()):
        try:
            with transaction.atomic():
                simulation = Simulation(start=start, days=days, chances=chances, seed=seed,
                                        sweeps_per_day=sweeps_per_day, report=report, progress=progress)
                simulation.run()
                simulation.tally()
                if not keep:
                    raise _Rollback
        except _Rollback:
            pass
    return report


# --- Spans in parallel (SQLite) --------------------------------------------------------------------------


def _copyable_database() -> bool:
    database = connections["default"]
    return (database.vendor == "sqlite" and not database.in_atomic_block
            and str(database.settings_dict["NAME"]) not in ("", ":memory:")
            and "mode=memory" not in str(database.settings_dict["NAME"]))


def _spans(start: dt.date, days: int, workers: int) -> list[tuple[dt.date, int]]:
    spans, offset = [], 0
    for index in range(workers):
        length = days // workers + (1 if index < days % workers else 0)
        spans.append((start + dt.timedelta(days=offset), length))
        offset += length
    return spans


def _in_parallel(spans: list[tuple[dt.date, int]], *, chances: Chances, seed: int, sweeps_per_day: int,
                 progress: bool) -> list[SimulationReport]:
    source = str(connections["default"].settings_dict["NAME"])
    connections.close_all()
    with tempfile.TemporaryDirectory(prefix="cram-simulation-") as folder:
        jobs = []
        for index, (span_start, span_days) in enumerate(spans):
            copy = str(Path(folder) / f"span-{index + 1}.sqlite3")
            with contextlib.closing(sqlite3.connect(source)) as original, \
                    contextlib.closing(sqlite3.connect(copy)) as duplicate:
                original.backup(duplicate)
            jobs.append((copy, span_start, span_days, chances, seed * 1000 + index, sweeps_per_day,
                         f"span {index + 1}/{len(spans)}" if progress else ""))
        with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
            return pool.starmap(_span_in_child, jobs)


def _span_in_child(copy: str, start: dt.date, days: int, chances: Chances, seed: int,
                   sweeps_per_day: int, label: str) -> SimulationReport:
    database = connections["default"]
    database.close()
    database.settings_dict["NAME"] = copy

    def say(line: str) -> None:
        sys.stderr.write(f"  … {label}: {line}\n")

    report = _simulate_span(start=start, days=days, chances=chances, seed=seed, sweeps_per_day=sweeps_per_day,
                            keep=False, progress=say if label else None)
    database.close()
    return report


def _merged(reports: list[SimulationReport]) -> SimulationReport:
    total = SimulationReport(spans=len(reports))
    for report in reports:
        for name, value in vars(report).items():
            if name in ("days", "start", "spans", "wall_seconds", "peak_memory_mb"):
                continue
            if isinstance(value, list):
                getattr(total, name).extend(value)
            else:
                setattr(total, name, getattr(total, name) + value)
    return total


class Simulation:
    def __init__(self, *, start: dt.date, days: int, chances: Chances, seed: int, sweeps_per_day: int,
                 report: SimulationReport, progress: Callable[[str], None] | None) -> None:
        self.random = random.Random(seed)
        self.start, self.days, self.chances = start, days, chances
        self.sweep_times = SWEEP_TIMES[sweeps_per_day]
        self.report = report
        self.progress = progress
        self.events: list[tuple[dt.datetime, int, Callable[[dt.datetime], None]]] = []
        self.sequence = itertools.count()
        self.came_due: set[tuple] = set()
        self.missed: set[tuple] = set()
        self.referral_ids: set[int] = set()
        self.outage_until: dt.date | None = None
        self.last_sweep: dt.datetime | None = None
        self.cast()

    # --- The team ---------------------------------------------------------------------------------

    def cast(self) -> None:
        team, _ = Team.objects.get_or_create(code="SIM", defaults={"name": "Simulation team"})
        team_timescales_create(team=team)
        self.team = team
        self.officer_ids: set[int] = set(Officer.objects.filter(team=team).values_list("pk", flat=True))
        # Numbered on from any officers a kept run left in the team, so usernames stay unique.
        self.hired = itertools.count(len(self.officer_ids) + 1)
        self.inspector = self.officer("DI", "Hall", Rank.DI, [Role.SUPERVISOR])
        self.supervisors = [self.officer("DS", name, Rank.DS, [Role.SUPERVISOR], line_manager=self.inspector)
                            for name in ("Perkins", "Osei")]
        self.desk = self.officer("DS", "Price", Rank.DS, [Role.DESK_SERGEANT])
        self.pclo = self.officer("PC", "Shah", Rank.PC, [Role.PCLO])
        self.investigators = [self.officer("DC", name, Rank.DC, [Role.INVESTIGATOR])
                              for name in ("Vance", "Khan", "Ward", "Lee")]

    def officer(self, first: str, last: str, rank: str, roles: list[str],
                line_manager: Officer | None = None) -> Officer:
        number = next(self.hired)
        officer = Officer(username=f"sim-{last.lower()}-{number}-{self.team.pk}", first_name=first,
                          last_name=last, rank=rank, staff_number=f"SIM{number:03d}", team=self.team,
                          line_manager=line_manager)
        officer.set_unusable_password()
        officer.save()
        officer.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in roles))
        self.officer_ids.add(officer.pk)
        return officer

    # --- The event loop ----------------------------------------------------------------------------

    def at(self, moment: dt.datetime, step: Callable[[dt.datetime], None]) -> None:
        heapq.heappush(self.events, (moment, next(self.sequence), step))

    def run(self) -> None:
        for offset in range(self.days):
            day = self.start + dt.timedelta(days=offset)
            self.plan_day(day)
            end_of_day = dt.datetime.combine(day + DAY, dt.time(0, 0), tzinfo=LONDON)
            while self.events and self.events[0][0] < end_of_day:
                moment, _, step = heapq.heappop(self.events)
                step(moment)
            if self.progress and (offset + 1) % 365 == 0:
                self.progress(f"{offset + 1} days, {self.report.referrals} referrals, {self.report.sweeps} sweeps, "
                              f"{len(self.came_due)} items due so far")
        # The run ends with a sweep at midnight after the last day (after everything that happened that
        # day), so "missed" covers everything that fell due before it.
        self.sweep_now(dt.datetime.combine(self.start + dt.timedelta(days=self.days), dt.time(0, 0), tzinfo=LONDON))
        # And a last audit that reads the database afresh rather than trusting the sweep's reading.
        self.audit(self.last_sweep)

    def plan_day(self, day: dt.date) -> None:
        # Fewer referrals at weekends; a Poisson number on each day.
        rate = self.chances.referrals_per_day * (1.15 if day.weekday() < 5 else 0.6)
        for _ in range(self.poisson(rate)):
            received = dt.datetime.combine(day, dt.time(self.random.randint(7, 21), self.random.randint(0, 59)),
                                           tzinfo=LONDON)
            self.at(received + dt.timedelta(minutes=self.random.randint(0, 30)), self.new_referral)
        if self.outage_until is None or day > self.outage_until:
            self.outage_until = None
            if self.random.random() < self.chances.outage:
                self.outage_until = day + dt.timedelta(days=self.random.randint(2, 5) - 1)
        if self.outage_until is not None:
            self.report.outage_days += 1
        else:
            for hour, minute in self.sweep_times:
                self.at(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON), self.sweep_now)
        if self.random.random() < 1 / 150:
            self.at(dt.datetime.combine(day, dt.time(9, 0), tzinfo=LONDON), self.leaver)

    def poisson(self, rate: float) -> int:
        threshold, count, product = math.exp(-rate), 0, self.random.random()
        while product > threshold:
            count += 1
            product *= self.random.random()
        return count

    def later(self, moment: dt.datetime, low: float, high: float, unit: dt.timedelta = DAY) -> dt.datetime:
        return moment + unit * self.random.uniform(low, high)

    def attempt(self, step: Callable[[], object]) -> object | None:
        """Run one piece of casework; a service's refusal is counted, as a user would be told."""
        try:
            return step()
        except (ValidationError, PermissionDenied):
            self.report.refused += 1
            return None

    # --- Sweeping and auditing ----------------------------------------------------------------

    def sweep_now(self, moment: dt.datetime) -> None:
        sweep(now=moment)
        self.last_sweep = moment
        self.report.sweeps += 1
        if self.random.random() < self.chances.double_sweep:
            # A second scheduler (or a retry) sweeping at the same moment must find nothing to do.
            again = sweep(now=moment)
            self.report.sweeps += 1
            self.report.double_sweeps += 1
            self.report.double_sweep_changes += any(vars(again).values())
        items = _RecordingSources.last
        if moment.astimezone(LONDON).hour == 7 and is_working_day(moment.astimezone(LONDON).date()):
            digest_send(now=moment)
        self.audit(moment, items)

    def audit(self, moment: dt.datetime, items: list[DueItem] | None = None) -> None:
        """Everything due by now (as the sweep read it, or read afresh) has an unresolved reminder that
        has prompted its owner, and everything overdue has been escalated."""
        if items is None:
            items = list(Sources(moment).all())
        reminders = {row[2:]: row[:2] for row in Reminder.objects.unresolved().values_list(
            "notified_at", "escalated_at", "kind", "subject_type", "subject_id", "due_at")}
        for item in items:
            if item.notify_at > moment or not self.ours(item.referral_id, item.owner_id):
                continue
            self.came_due.add(item.key)
            notified_at, escalated_at = reminders.get(item.key, (None, None))
            if notified_at is None:
                self.miss(item, moment, "never prompted")
            elif item.due_at < moment and escalated_at is None:
                self.miss(item, moment, "overdue, not escalated")

    def miss(self, item: DueItem, moment: dt.datetime, why: str) -> None:
        if item.key in self.missed:
            return
        self.missed.add(item.key)
        if len(self.report.missed_examples) < 10:
            self.report.missed_examples.append(f"{item.title}: {why} (due {item.due_at:%Y-%m-%d %H:%M}, "
                                               f"swept {moment:%Y-%m-%d %H:%M})")

    def ours(self, referral_id: int | None, owner_id: int) -> bool:
        return referral_id in self.referral_ids if referral_id else owner_id in self.officer_ids

    def tally(self) -> None:
        report = self.report
        ours = Reminder.objects.filter(Q(referral__team=self.team) | Q(referral__isnull=True, owner__team=self.team))
        report.came_due, report.missed = len(self.came_due), len(self.missed)
        report.reminders = ours.count()
        report.notifications = Notification.objects.filter(reminder__in=ours).count()
        report.overdue_notifications = Notification.objects.filter(reminder__in=ours,
                                                                   event=Notification.Event.OVERDUE).count()
        report.escalations = ours.filter(escalated_at__isnull=False).count()
        report.resolved = ours.filter(state=ReminderState.RESOLVED).count()
        report.partner_emails = PartnerEmail.objects.filter(reminder__in=ours).count()
        report.partner_emails_sent = CountingEmailBackend.sent["partner"]
        report.digests = DigestDelivery.objects.filter(recipient__team=self.team, sent_at__isnull=False).count()
        report.closed = Referral.objects.filter(team=self.team, status=ReferralStatus.CLOSED).count()
        # Duplicates anywhere in the database, not only the simulation's.
        report.duplicate_reminders = (Reminder.objects.values("kind", "subject_type", "subject_id", "due_at")
                                      .annotate(copies=Count("pk")).filter(copies__gt=1).count())
        report.duplicate_notifications = (Notification.objects.values("reminder", "recipient", "event")
                                          .annotate(copies=Count("pk")).filter(copies__gt=1).count())

    # --- Referrals ----------------------------------------------------------------------------

    def new_referral(self, moment: dt.datetime) -> None:
        number = self.report.referrals + 1
        phone = self.random.random() < 0.25
        urgent = self.random.random() < 0.2
        summary_only = self.random.random() < 0.15
        offence_date = (moment - DAY * self.random.randint(0, 60)).astimezone(LONDON).date() if summary_only else None
        people = [
            referral_services.PersonDetails(role="victim", first_name="Child", last_name=f"Sim{number}",
                                            date_of_birth=dt.date(2015, 1, 1) + DAY * (number % 3000)),
            referral_services.PersonDetails(role="parent_carer", first_name="Parent", last_name=f"Sim{number}"),
        ]
        received = moment - dt.timedelta(minutes=self.random.randint(0, 30))
        referral = referral_services.referral_log(
            team=self.team, actor=self.desk, now=moment, received_at=received,
            channel="phone" if phone else "email", source_agency="Children's social care",
            referrer_name="Duty social worker",
            referrer_email=f"duty{number % 40}@partner.example" if self.random.random() < 0.7 else "",
            allegation_category=self.random.choice(["physical", "sexual", "neglect", "emotional"]),
            summary="Simulated referral.", people=people, urgent=urgent, summary_only_offence=summary_only,
            offence_date=offence_date)
        self.report.referrals += 1
        self.referral_ids.add(referral.pk)
        pk = referral.pk
        # Desk assessment: usually in time, sometimes late.
        delay = self.random.uniform(0.2, 2.6) if urgent else self.random.uniform(1, 40)
        self.at(received + HOUR * delay, lambda now: self.assess(pk, now))
        if phone:
            self.at(self.later(received, 0.1, 3), lambda now: self.written_followup(pk, now))

    def referral(self, pk: int) -> Referral:
        return Referral.objects.select_related("team").get(pk=pk)

    def written_followup(self, pk: int, now: dt.datetime) -> None:
        referral = self.referral(pk)
        if referral.awaiting_written_followup and referral.is_open:
            self.attempt(lambda: referral_services.written_followup_record(
                referral=referral, actor=self.desk, now=now, received_at=now))

    def assess(self, pk: int, now: dt.datetime) -> None:
        referral = self.referral(pk)
        route = self.random.choices([Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION,
                                     Route.SOCIAL_SERVICES_ONLY, Route.NO_FURTHER_ACTION], [40, 20, 25, 15])[0]
        investigation = route in (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION)
        owner = self.random.choice(self.investigators) if investigation else None
        supervisor = self.random.choice(self.supervisors)
        done = self.attempt(lambda: referral_services.referral_assess(
            referral=referral, actor=self.desk, now=now, urgency="urgent" if referral.urgency else "routine",
            route=route, rationale="Simulated decision.", owner=owner, supervising_officer=supervisor))
        if done is None:
            return
        if route == Route.SOCIAL_SERVICES_ONLY:
            update = self.later(now, 4, 20)
            self.at(update, lambda moment: self.social_services_update(pk, moment))
            self.at(self.later(update, 1, 6), lambda moment: self.close(pk, moment))
        elif route == Route.NO_FURTHER_ACTION:
            self.at(self.later(now, 0.5, 8), lambda moment: self.close(pk, moment))
        else:
            self.investigate(pk, now)

    def social_services_update(self, pk: int, now: dt.datetime) -> None:
        referral = self.referral(pk)
        if referral.awaiting_social_services_update and referral.is_open:
            self.attempt(lambda: referral_services.social_services_update_record(
                referral=referral, actor=self.desk, now=now, received_at=now, note="Assessment complete."))

    # --- Investigations --------------------------------------------------------------------------

    def investigate(self, pk: int, now: dt.datetime) -> None:
        self.at(self.later(now, 0.05, 3), lambda moment: self.cram(pk, moment, "initial"))
        for _ in range(self.random.randint(1, 3)):
            self.at(self.later(now, 0, 10), lambda moment: self.set_action(pk, moment))
        self.at(self.later(now, 2, 16), lambda moment: self.activity(pk, moment))
        self.at(self.later(now, 14, 32), lambda moment: self.review(pk, moment))
        if self.random.random() < 0.6:
            self.at(self.later(now, 0.1, 2), lambda moment: self.strategy_discussion(pk, moment))
        if self.random.random() < 0.06:
            self.at(now + HOUR, lambda moment: self.protect(pk, moment))
        self.at(self.later(now, 20, 75), lambda moment: self.close(pk, moment))

    def open_referral(self, pk: int) -> Referral | None:
        referral = self.referral(pk)
        return referral if referral.status == ReferralStatus.OPEN else None

    def cram(self, pk: int, now: dt.datetime, kind: str) -> None:
        referral = self.open_referral(pk)
        if referral is None:
            return
        if kind == "initial" and referral.assessments.exists():
            kind = "review"
        assessment = self.attempt(lambda: self.complete_cram(referral, referral.owner or self.pclo, now, kind))
        if assessment is None:
            return
        self.at(self.later(now, 0.1, 6), lambda moment: self.sign_off(assessment.pk, moment))
        if kind != "pre_conference":
            self.at(self.later(now, 30, 48), lambda moment: self.cram(pk, moment, "review"))

    def complete_cram(self, referral: Referral, actor: Officer, now: dt.datetime, kind: str) -> Assessment:
        with transaction.atomic():
            assessment = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=now)
            answers = {answer.code: risk_services.AnswerInput("no") for answer in assessment.answers.all()}
            data = risk_services.AssessmentInput(revision=assessment.revision, answers=answers, rating="standard")
            return risk_services.assessment_save(assessment=assessment, data=data, actor=actor, now=now,
                                                 complete=True)

    def sign_off(self, assessment_pk: int, now: dt.datetime) -> None:
        assessment = Assessment.objects.select_related("referral").get(pk=assessment_pk)
        if hasattr(assessment, "signoff") or assessment.status != AssessmentStatus.COMPLETED:
            return
        supervisor = assessment.referral.supervising_officer or self.supervisors[0]
        self.attempt(lambda: risk_services.assessment_sign_off(
            assessment=assessment, actor=supervisor, now=now, data=risk_services.SignOffInput(
                decision="agreed", rating_justified="yes", gaps_addressed="yes", measures_adequate="yes",
                actions_timely="yes", comments="Agreed.")))

    def set_action(self, pk: int, now: dt.datetime) -> None:
        referral = self.open_referral(pk)
        if referral is None:
            return
        owner = referral.owner if referral.owner and referral.owner.is_active else self.random.choice(
            self.investigators)
        due = self.later(now, 1, 20)
        action = self.attempt(lambda: referral_services.action_create(
            referral=referral, actor=referral.supervising_officer or self.supervisors[0], now=now,
            description="Simulated action", owner=owner, due_at=due))
        if action is not None:
            finished = max(self.later(due, -12, 3), now + HOUR)
            self.at(finished, lambda moment: self.finish_action(action.pk, moment, ActionStatus.DONE))

    def finish_action(self, action_pk: int, now: dt.datetime, status: str) -> None:
        action = Action.objects.select_related("referral").get(pk=action_pk)
        if action.is_open:
            self.attempt(lambda: referral_services.action_finish(action=action, actor=action.owner, now=now,
                                                                 status=status, note="Simulated."))

    def activity(self, pk: int, now: dt.datetime) -> None:
        referral = self.open_referral(pk)
        if referral is None:
            return
        actor = referral.owner or self.random.choice(self.investigators)
        referral_services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, actor=actor, now=now,
                                          text="Enquiries continue.")
        self.at(self.later(now, 2, 17), lambda moment: self.activity(pk, moment))

    def review(self, pk: int, now: dt.datetime) -> None:
        referral = self.open_referral(pk)
        if referral is None:
            return
        supervisor = referral.supervising_officer or self.supervisors[0]
        self.attempt(lambda: investigation_review_record(
            referral=referral, actor=supervisor, now=now, direction="Carry on.", investigation_progressing="yes",
            risk_managed="yes", records_complete="yes", actions_timely="partly"))
        self.at(self.later(now, 20, 32), lambda moment: self.review(pk, moment))

    def protect(self, pk: int, now: dt.datetime) -> None:
        referral = self.open_referral(pk)
        if referral is None:
            return
        child = referral.referral_people.get(role="victim").person
        protection = self.attempt(lambda: conference_services.protection_start(
            referral=referral, actor=referral.owner, now=now, child=child, started_at=now,
            designated_officer=referral.owner, reason="Simulated emergency."))
        if protection is not None:
            self.at(self.later(now, 6, 80, HOUR), lambda moment: self.end_protection(protection.pk, moment))

    def end_protection(self, protection_pk: int, now: dt.datetime) -> None:
        protection = PoliceProtection.objects.select_related("referral", "child").get(pk=protection_pk)
        if protection.is_running:
            self.attempt(lambda: conference_services.protection_end(
                protection=protection, actor=protection.designated_officer, now=now,
                ended_at=min(now, protection.ends_by), note="Simulated."))

    # --- Meetings -----------------------------------------------------------------------------------

    def strategy_discussion(self, pk: int, now: dt.datetime) -> None:
        referral = self.open_referral(pk)
        if referral is None:
            return
        meeting = self.attempt(lambda: conference_services.meeting_create(
            referral=referral, actor=referral.owner, now=now, kind=MeetingKind.STRATEGY_DISCUSSION,
            starts_at=now - HOUR, place="Police station", chair_name="Team manager",
            chair_agency="Children's social care", held=True))
        if meeting is None:
            return
        self.at(self.later(now, 2, 34), lambda moment: self.minutes(meeting.pk, moment))
        if self.random.random() < 0.4:
            conference = add_working_days_at(now, self.random.randint(8, 15)).replace(hour=10, minute=0)
            self.at(now + HOUR, lambda moment: self.book_conference(pk, moment, conference,
                                                                    MeetingKind.INITIAL_CONFERENCE))

    def book_conference(self, pk: int, now: dt.datetime, starts_at: dt.datetime, kind: str) -> None:
        referral = self.open_referral(pk)
        if referral is None:
            return
        meeting = self.attempt(lambda: conference_services.meeting_create(
            referral=referral, actor=self.pclo, now=now, kind=kind, starts_at=starts_at, place="Civic Centre",
            chair_name="Independent chair", chair_agency="Safeguarding and Quality Assurance"))
        if meeting is None:
            return
        # The report is usually in before its due date, sometimes after it, sometimes never.
        if self.random.random() < 0.9:
            submit = max(self.later(starts_at, -7, -0.5), now + HOUR)
            self.at(submit, lambda moment: self.submit_report(meeting.pk, moment))
        self.at(starts_at + HOUR, lambda moment: self.hold(meeting.pk, moment))

    def submit_report(self, meeting_pk: int, now: dt.datetime) -> None:
        meeting = Meeting.objects.select_related("referral").get(pk=meeting_pk)
        if meeting.status != MeetingStatus.SCHEDULED or now >= meeting.starts_at:
            return
        referral = meeting.referral
        if self.attempt(lambda: self.complete_cram(referral, self.pclo, now, "pre_conference")) is None:
            return

        def write() -> None:
            report = conference_services.police_report_open(meeting=meeting, actor=self.pclo, now=now)
            conference_services.police_report_save(report=report, actor=self.pclo, now=now,
                                                   summary_of_concerns="Concerns.", police_involvement="Ongoing.",
                                                   analysis="Standard risk.", recommendations="A plan.")
            conference_services.police_report_submit(report=report, actor=self.pclo, now=now,
                                                     submitted_to="The chair", contents={})
        self.attempt(write)

    def hold(self, meeting_pk: int, now: dt.datetime) -> None:
        meeting = Meeting.objects.select_related("referral").get(pk=meeting_pk)
        if meeting.status != MeetingStatus.SCHEDULED:
            return
        if self.attempt(lambda: conference_services.meeting_hold(meeting=meeting, actor=self.pclo, now=now)) is None:
            return
        self.at(self.later(now, 2, 34), lambda moment: self.minutes(meeting.pk, moment))
        if meeting.kind == MeetingKind.INITIAL_CONFERENCE and self.random.random() < 0.5:
            review = add_working_days_at(now + 80 * DAY, 1).replace(hour=10, minute=0)
            self.at(self.later(now, 10, 40), lambda moment: self.book_conference(
                meeting.referral_id, moment, review, MeetingKind.REVIEW_CONFERENCE))

    def minutes(self, meeting_pk: int, now: dt.datetime) -> None:
        meeting = Meeting.objects.select_related("referral").get(pk=meeting_pk)
        if meeting.status == MeetingStatus.HELD and meeting.minutes_received_at is None:
            self.attempt(lambda: conference_services.minutes_record(meeting=meeting, actor=self.pclo, now=now,
                                                                    received_at=now))

    # --- Closing a case -----------------------------------------------------------------------------

    def close(self, pk: int, now: dt.datetime) -> None:
        """Wind the case up through the services, then a supervisor approves its closure."""
        referral = self.open_referral(pk)
        if referral is None:
            return
        for action in Action.objects.filter(referral=referral, status=ActionStatus.OPEN):
            self.finish_action(action.pk, now, ActionStatus.CANCELLED)
        for meeting in Meeting.objects.filter(referral=referral, status=MeetingStatus.SCHEDULED):
            self.attempt(lambda: conference_services.meeting_cancel(meeting=meeting, actor=self.pclo, now=now,
                                                                    reason="Case closing."))
        for meeting in Meeting.objects.filter(referral=referral, status=MeetingStatus.HELD,
                                              minutes_received_at__isnull=True):
            self.minutes(meeting.pk, now)
        for protection in PoliceProtection.objects.filter(referral=referral, ended_at__isnull=True):
            self.end_protection(protection.pk, now)
        self.written_followup(pk, now)
        self.social_services_update(pk, now)
        for assessment in referral.assessments.completed().filter(signoff__isnull=True):
            self.sign_off(assessment.pk, now)
        referral = self.referral(pk)
        supervisor = referral.supervising_officer or self.supervisors[0]
        closed = self.attempt(lambda: referral_close(referral=referral, actor=supervisor, now=now,
                                                     rationale="Simulated case concluded.",
                                                     unmanaged_risk_override="Simulated override.",
                                                     prosecution_concluded=True))
        if closed is None:
            self.at(now + 7 * DAY, lambda moment: self.close(pk, moment))

    # --- Leavers ---------------------------------------------------------------------------------

    def leaver(self, now: dt.datetime) -> None:
        staying = [officer for officer in self.investigators if officer.leaving_date is None]
        if len(staying) < 3:
            return
        officer = self.random.choice(staying)
        officer.leaving_date = (now + DAY * self.random.randint(20, 40)).astimezone(LONDON).date()
        officer.save(update_fields=["leaving_date"])
        leaving = dt.datetime.combine(officer.leaving_date, dt.time(9, 0), tzinfo=LONDON)
        # Mostly reallocated in the fortnight's warning; sometimes only after the date has passed.
        self.at(self.later(leaving, -16, 3), lambda moment: self.reallocate(officer, moment))
        self.at(leaving + 5 * DAY, lambda moment: self.replace(officer, moment))

    def reallocate(self, leaver: Officer, now: dt.datetime) -> None:
        others = [officer for officer in self.investigators if officer.pk != leaver.pk and officer.leaving_date is None]
        for referral in Referral.objects.filter(owner=leaver, status=ReferralStatus.OPEN):
            self.attempt(lambda: referral_services.referral_allocate(
                referral=referral, actor=referral.supervising_officer or self.supervisors[0], now=now,
                owner=self.random.choice(others), supervising_officer=referral.supervising_officer,
                reason=f"{leaver.display_name} is leaving."))
        for action in Action.objects.filter(owner=leaver, status=ActionStatus.OPEN).select_related("referral"):
            self.finish_action(action.pk, now, ActionStatus.CANCELLED)
            referral = action.referral
            if referral.is_open:
                self.attempt(lambda: referral_services.action_create(
                    referral=referral, actor=self.supervisors[0], now=now, description=action.description,
                    owner=self.random.choice(others), due_at=max(action.due_at, now + DAY)))

    def replace(self, leaver: Officer, now: dt.datetime) -> None:
        self.reallocate(leaver, now)
        leaver.is_active = False
        leaver.save(update_fields=["is_active"])
        self.investigators.remove(leaver)
        self.investigators.append(self.officer("DC", f"Recruit{self.report.referrals}", Rank.DC, [Role.INVESTIGATOR]))
