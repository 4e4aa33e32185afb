"""The demo's information management (MoPI) reviews: a few referrals received and closed years ago,
so the review queue has records in it.

Each is written through the services with `now` in the past, as it would have happened: logged,
assessed (no further police action), its initial CRAM completed and signed off, closed by the
supervisor (which sets its review date from the retention table), and, for two of them, reviewed
once already. Nothing is backdated by hand.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from cram_site.calendar import LONDON
from cram_site.models import Officer, Team
from referrals import services as referral_services
from referrals.models import AllegationCategory, Channel, Referral, Route, Urgency
from risk.demo import CramHistory

from .closure import referral_close
from .models import RetentionDecision
from .mopi import mopi_review_record, team_retention_periods_create


@dataclass(frozen=True)
class ClosedLongAgo:
    team: str
    category: str
    # How long before the seed the referral was closed.
    closed_years_ago: int
    closed_days_ago: int
    child: tuple[str, str]
    source_agency: str
    referrer_name: str
    summary: str
    # An earlier review: its decision, and how long after the review date it was made.
    earlier_review: str = ""
    earlier_review_days_late: int = 0


CLOSED_LONG_AGO: tuple[ClosedLongAgo, ...] = (
    ClosedLongAgo("HY", AllegationCategory.PHYSICAL, 10, 45, ("Callum", "Hartley"), "Tottenham Green Primary School",
                  "Ruth Bell, head teacher",
                  "Callum came to school with a bruise to his cheek; he said he fell from his bunk bed."),
    ClosedLongAgo("HY", AllegationCategory.SEXUAL, 20, 80, ("Shannon", "Doyle"), "Haringey Children's Social Care",
                  "Paul Grant, social worker",
                  "Shannon told a friend's mother an older boy touched her; she did not repeat it when seen.",
                  earlier_review=RetentionDecision.RETAIN, earlier_review_days_late=20),
    ClosedLongAgo("EN", AllegationCategory.EMOTIONAL, 6, 20, ("Aiden", "Price"), "Enfield Health Visiting Service",
                  "Carol Webb, health visitor",
                  "Aiden seen withdrawn at clinic; mother says arguments at home have stopped since his father left."),
    ClosedLongAgo("EN", AllegationCategory.NEGLECT, 12, 100, ("Mia", "Lawson"), "Enfield Children's Social Care",
                  "Dev Patel, social worker",
                  "Mia often late to nursery and hungry; early help offered and taken up.",
                  earlier_review=RetentionDecision.DISPOSE, earlier_review_days_late=10),
)

REASONS = {
    RetentionDecision.RETAIN: "The suspect is still of interest to the team; keep the record for another period.",
    RetentionDecision.DISPOSE: "No offence disclosed, no further concerns in the period: no policing purpose remains.",
}


def _at(day: dt.date, hours: int, minutes: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=LONDON)


def _close_long_ago(scenario: ClosedLongAgo, *, teams: dict[str, Team], officers: dict[str, Officer],
                    today: dt.date, rng: random.Random) -> Referral:
    stem = scenario.team.lower()
    desk, supervisor = officers[f"desk-{stem}"], officers[f"supervisor-{stem}"]
    closed_on = today - relativedelta(years=scenario.closed_years_ago, days=scenario.closed_days_ago)
    received_at = _at(closed_on - dt.timedelta(days=30), 9, 30)
    logged_at = received_at + dt.timedelta(minutes=20)
    first_name, last_name = scenario.child
    referral = referral_services.referral_log(
        team=teams[scenario.team], actor=desk, now=logged_at, received_at=received_at, channel=Channel.EMAIL,
        source_agency=scenario.source_agency, referrer_name=scenario.referrer_name,
        referrer_email=f"{scenario.referrer_name.split(',')[0].lower().replace(' ', '.')}@partners.example",
        allegation_category=scenario.category, summary=scenario.summary,
        people=[referral_services.PersonDetails(role="victim", first_name=first_name, last_name=last_name,
                                                date_of_birth=received_at.date() - relativedelta(years=6))],
    )
    assessed_at = logged_at + dt.timedelta(hours=2)
    referral = referral_services.referral_assess(
        referral=referral, actor=desk, now=assessed_at, urgency=Urgency.ROUTINE, route=Route.NO_FURTHER_ACTION,
        rationale="No offence disclosed; children's social care to support the family.", owner=None,
        supervising_officer=None)
    cram = CramHistory(officers=officers, team=stem, category=scenario.category, rng=rng)
    cram.leave_unmanaged = False
    cram.initial(referral, assessed_at + dt.timedelta(hours=1))
    cram.sign_off(assessed_at + dt.timedelta(days=1))
    referral_close(referral=referral, actor=supervisor, now=_at(closed_on, 15), rationale=(
        "No offence disclosed; the family is supported by children's social care. Nothing further for police."))
    if scenario.earlier_review:
        reviewed_on = referral.mopi_review_due_on + dt.timedelta(days=scenario.earlier_review_days_late)
        mopi_review_record(referral=referral, actor=supervisor, now=_at(reviewed_on, 11),
                           decision=scenario.earlier_review, reason=REASONS[scenario.earlier_review])
    return referral


def seed_retention_reviews(*, teams: dict[str, Team], officers: dict[str, Officer], now: dt.datetime) -> int:
    """Give each demo team its retention table and close the referrals of long ago; returns how many."""
    for team in teams.values():
        team_retention_periods_create(team=team)
    # Its own randomness, so the rest of the demo is the same with or without these referrals.
    rng = random.Random(1999)
    today = now.astimezone(LONDON).date()
    for scenario in CLOSED_LONG_AGO:
        _close_long_ago(scenario, teams=teams, officers=officers, today=today, rng=rng)
    return len(CLOSED_LONG_AGO)
