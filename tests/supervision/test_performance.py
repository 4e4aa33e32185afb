"""The performance measures of SPEC §7, checked against a small world counted by hand.

The world is written through the services, each step at its own moment, in February to April
2026. British Summer Time began on Sunday 29 March 2026, so 23:30 on 31 March in London is 22:30
UTC (March) and 00:30 on 1 April in London is 23:30 UTC on 31 March (April in London, March in
UTC): several records sit on that edge on purpose. Good Friday (3 April) and Easter Monday
(6 April) are bank holidays, which the working-day clocks skip.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.http import QueryDict
from django.urls import reverse

from conferences import services as conference_services
from conferences.models import AttendanceStatus, MeetingKind
from cram_site.exports import lookup
from cram_site.models import AuditEvent, Officer, Rank, Team
from referrals import services
from referrals.models import InvestigationOutcome, Referral
from risk import services as risk_services
from risk.models import Assessment, AssessmentKind, SignOffDecision
from supervision.charts import bar_chart, data_table
from supervision.closure import referral_close
from supervision.performance import (
    MEASURES_BY_SLUG,
    Figure,
    Scope,
    months_between,
    performance_report,
)

from ..factories import OfficerFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
FEB, MAR, APR = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)
HY_REASON = "HY-REASON: no officer was free when the hospital set the time"
EN_REASON = "ENFIELD-ONLY REASON typed by an Enfield officer"


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class World:
    urns: dict[str, str]
    force_wide: Officer
    performance_manager: Officer
    supervisor: Officer
    enfield: Team


def _log(desk: Officer, received_at: dt.datetime, people: list[services.PersonDetails] | None = None) -> Referral:
    people = people or [
        services.PersonDetails(role="victim", first_name="Amara", last_name="Okafor", date_of_birth=dt.date(2019, 3, 14)),
        services.PersonDetails(role="sibling", first_name="Tobi", last_name="Okafor", date_of_birth=dt.date(2021, 6, 2)),
        services.PersonDetails(role="suspect", first_name="Mark", last_name="Dorsey", date_of_birth=dt.date(1990, 1, 9)),
    ]
    return services.referral_log(
        team=desk.team, actor=desk, now=received_at + dt.timedelta(minutes=1), received_at=received_at,
        channel="email", source_agency="Children's social care", allegation_category="physical",
        summary="Bruising noticed at school.", people=people)


def _assess(referral: Referral, desk: Officer, owner: Officer | None, route: str, when: dt.datetime) -> Referral:
    services.referral_assess(referral=referral, actor=desk, now=when, urgency="routine", route=route,
                             rationale="Desk decision.", owner=owner, supervising_officer=None)
    referral.refresh_from_db()
    return referral


def _cram(referral: Referral, actor: Officer, kind: str, when: dt.datetime, **values: str) -> Assessment:
    assessment = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=when)
    answers = {answer.code: risk_services.AnswerInput("no") for answer in assessment.answers.all()}
    answers |= {code: risk_services.AnswerInput(value) for code, value in values.items()}
    risk_services.assessment_save(
        assessment=assessment, actor=actor, now=when, complete=True,
        data=risk_services.AssessmentInput(revision=assessment.revision, answers=answers, rating="high",
                                           rating_rationale="Set high for the test."))
    assessment.refresh_from_db()
    return assessment


def _sign(assessment: Assessment, supervisor: Officer, when: dt.datetime, *answers: str) -> None:
    rating, gaps, measures, actions = answers
    risk_services.assessment_sign_off(assessment=assessment, actor=supervisor, now=when, data=risk_services.SignOffInput(
        decision=SignOffDecision.AGREED, rating_justified=rating, gaps_addressed=gaps, measures_adequate=measures,
        actions_timely=actions, comments="Seen."))


def _meeting(referral: Referral, actor: Officer, kind: str, starts_at: dt.datetime, agency: str,
             police: str | None = AttendanceStatus.ATTENDED):
    meeting = conference_services.meeting_create(
        referral=referral, actor=actor, now=starts_at + dt.timedelta(minutes=5), kind=kind, starts_at=starts_at,
        place="Civic Centre", chair_name="Jo Adeyemi", chair_agency=agency, held=True)
    later = starts_at + dt.timedelta(minutes=5)
    if police:
        conference_services.attendance_add(meeting=meeting, actor=actor, now=later, name="Ian Vance", agency="Police",
                                           is_police=True, rank=Rank.DC, status=police)
    conference_services.attendance_add(meeting=meeting, actor=actor, now=later, name="Tom Pearce",
                                       agency="Children's social care", status=AttendanceStatus.ATTENDED)
    return meeting


def _check(referral: Referral, actor: Officer, system: str, when: dt.datetime, new: bool = False) -> None:
    risk_services.systems_check_record(referral=referral, actor=actor, now=when, system=system, result="Checked.",
                                       checked_at=when, anything_new=new)


def _protect(referral: Referral, actor: Officer, child, start: dt.datetime, end: dt.datetime) -> None:
    protection = conference_services.protection_start(
        referral=referral, actor=actor, now=start, child=child, started_at=start, designated_officer=actor,
        reason="Child found alone at night.")
    conference_services.protection_end(protection=protection, actor=actor, now=end, ended_at=end)


def _children(referral: Referral) -> list:
    return [link.person for link in referral.referral_people.select_related("person").order_by("pk")
            if link.role in ("victim", "sibling")]


@pytest.fixture
def world(desk_sergeant: Officer, investigator: Officer, supervisor: Officer, performance_manager: Officer,
          other_team_sergeant: Officer, enfield: Team) -> World:
    """Haringey's referrals R0..R6 and one Enfield referral E1 (every count below is by hand)."""
    desk, owner = desk_sergeant, investigator
    flagged = {"rso": {"registered_sex_offender": True}, "pdp": {"potentially_dangerous": True}}

    def victim(name: str) -> services.PersonDetails:
        return services.PersonDetails(role="victim", first_name=name, last_name="Child", date_of_birth=dt.date(2016, 1, 1))

    # --- Referrals and desk assessments (measures 1, 2) ---
    r0 = _assess(_log(desk, at(1, 20)), desk, owner, "police_investigation", at(1, 20, 11))         # January
    r5 = _assess(_log(desk, at(2, 27)), desk, owner, "joint_investigation", at(3, 1, 9))              # Feb; s47 in March
    r1 = _assess(_log(desk, at(3, 2)), desk, owner, "police_investigation", at(3, 2, 12))             # March
    r6 = _log(desk, at(3, 15), [victim("Rhea"), services.PersonDetails(role="parent_carer", last_name="Carer")])
    # 23:30 BST on 31 March: March in London.
    r2 = _log(desk, at(3, 31, 22, 30), [victim("Zara"), services.PersonDetails(
        role="suspect", first_name="Sid", last_name="Offender", flags=flagged["rso"])])
    r2 = _assess(r2, desk, owner, "joint_investigation", at(3, 31, 22, 45))                         # 23:45 BST: March
    # 00:30 BST on 1 April: April in London (still 31 March in UTC).
    r3 = _log(desk, at(3, 31, 23, 30), [victim("Ola"), services.PersonDetails(
        role="suspect", first_name="Pat", last_name="Danger", flags=flagged["pdp"])])
    r3 = _assess(r3, desk, None, "social_services_only", at(4, 1, 9))
    r4 = _log(desk, at(4, 15))                                                                       # not assessed

    # --- Joint visits, outcomes, disclosure requests (measures 3, 9, 10) ---
    services.joint_visit_record(referral=r1, actor=owner, now=at(3, 3, 11), visited_at=at(3, 3))
    services.joint_visit_record(referral=r5, actor=owner, now=at(3, 2, 11), visited_at=at(3, 2))
    services.investigation_outcome_record(referral=r1, actor=owner, now=at(4, 10, 11),
                                          outcome=InvestigationOutcome.CHARGED, outcome_at=at(4, 10))
    # 00:15 BST on 1 April: an April detection.
    services.investigation_outcome_record(referral=r5, actor=owner, now=at(3, 31, 23, 20),
                                          outcome=InvestigationOutcome.CAUTIONED, outcome_at=at(3, 31, 23, 15))
    services.investigation_outcome_record(referral=r2, actor=owner, now=at(4, 20, 11),
                                          outcome=InvestigationOutcome.NO_FURTHER_ACTION, outcome_at=at(4, 20))
    services.disclosure_request_record(referral=r1, actor=owner, now=at(3, 15, 11), received_at=at(3, 15),
                                       requested_by="Family court, Barnet")
    services.disclosure_request_record(referral=r2, actor=owner, now=at(3, 31, 23, 11), received_at=at(3, 31, 23, 10),
                                       requested_by="Haringey legal services")                       # 00:10 BST: April

    # --- CRAMs, reviews and sign-offs (measures 11, 12, 15, 16) ---
    a0 = _cram(r0, desk, AssessmentKind.INITIAL, at(1, 20, 12))         # review due 3 March 12:00
    a0r = _cram(r0, desk, AssessmentKind.REVIEW, at(3, 3, 11))          # reviews a0 an hour early; sign-off due 6 March
    _sign(a0r, supervisor, at(3, 5), "yes", "partly", "yes", "yes")     # on time
    referral_close(referral=r0, actor=supervisor, now=at(4, 1), rationale="Concluded.", prosecution_concluded=True)
    a1 = _cram(r5, desk, AssessmentKind.INITIAL, at(2, 27, 12))         # sign-off due 4 March; review due 10 April
    _sign(a1, supervisor, at(3, 6), "no", "no", "partly", "yes")        # late
    a2 = _cram(r5, desk, AssessmentKind.REVIEW, at(4, 5))               # reviews a1 in time; sign-off due 9 April
    _sign(a2, supervisor, at(4, 8), "yes", "yes", "yes", "yes")         # on time
    a3 = _cram(r1, desk, AssessmentKind.INITIAL, at(3, 2, 14))          # sign-off due 5 March (never); review due 13 April
    a4 = _cram(r1, desk, AssessmentKind.REVIEW, at(4, 20))              # reviews a3 late; sign-off due 23 April 10:00 UTC
    _sign(a4, supervisor, at(4, 23, 9, 59), "partly", "yes", "no", "no")  # a minute early
    _cram(r2, desk, AssessmentKind.INITIAL, at(5, 1), siblings_at_risk="not_known")
    _cram(r6, desk, AssessmentKind.INITIAL, at(5, 1, 11), siblings_at_risk="yes", suspect_rso_mappa="yes")
    assert (a0.next_review_due_at, a0r.next_review_due_at) == (at(3, 3, 12), at(4, 14, 10))
    assert (a1.signoff_due_at, a1.next_review_due_at, a2.signoff_due_at) == (at(3, 4, 12), at(4, 10, 11), at(4, 9, 10))
    assert (a0r.signoff_due_at, a3.signoff_due_at, a3.next_review_due_at) == (at(3, 6, 11), at(3, 5, 14), at(4, 13, 13))
    assert a4.signoff_due_at == at(4, 23, 10)

    # --- Conferences and minutes (measures 4, 5, 14) ---
    sqa = "Safeguarding and Quality Assurance"
    m1 = _meeting(r1, desk, MeetingKind.INITIAL_CONFERENCE, at(3, 20), sqa)                             # police: yes
    _meeting(r2, desk, MeetingKind.INITIAL_CONFERENCE, at(3, 31, 22, 50), sqa, AttendanceStatus.APOLOGIES)  # no
    _meeting(r5, desk, MeetingKind.INITIAL_CONFERENCE, at(3, 31, 23, 30), sqa)                          # April: yes
    cancelled = conference_services.meeting_create(
        referral=r1, actor=desk, now=at(3, 10), kind=MeetingKind.INITIAL_CONFERENCE, starts_at=at(3, 25),
        place="Civic Centre", chair_name="Jo Adeyemi", chair_agency=sqa)
    conference_services.meeting_cancel(meeting=cancelled, actor=desk, now=at(3, 24), reason="Family unwell.")
    _meeting(r1, desk, MeetingKind.REVIEW_CONFERENCE, at(4, 20), sqa, police=None)                     # April: no police
    csc = "Children's social care"
    s1 = _meeting(r0, desk, MeetingKind.STRATEGY_MEETING, at(2, 2), csc)       # minutes due 2 March
    s2 = _meeting(r0, desk, MeetingKind.STRATEGY_MEETING, at(2, 9), csc)       # minutes due 9 March
    s3 = _meeting(r0, desk, MeetingKind.STRATEGY_MEETING, at(2, 16), "Health")  # minutes due 16 March, never come
    conference_services.minutes_record(meeting=s1, actor=desk, now=at(3, 1), received_at=at(3, 1))        # on time
    conference_services.minutes_record(meeting=s2, actor=desk, now=at(3, 10), received_at=at(3, 10))      # late
    conference_services.minutes_record(meeting=m1, actor=desk, now=at(4, 21, 8), received_at=at(4, 21, 8))  # on time
    assert (s1.minutes_due_at, s2.minutes_due_at, s3.minutes_due_at) == (at(3, 2), at(3, 9), at(3, 16))
    # m1 is due on 21 April 10:00 BST; the April conference of r2 on 30 April; r5's on 1 May 00:30 BST (not April).
    mappa = conference_services.meeting_create(
        referral=r2, actor=desk, now=at(4, 5, 11), kind=MeetingKind.MAPPA, starts_at=at(4, 5), place="Probation office",
        chair_name="Sam Keane", chair_agency="Probation", held=True)
    assert mappa.minutes_due_at > at(5, 1)
    not_held = conference_services.meeting_create(
        referral=r3, actor=desk, now=at(4, 2), kind=MeetingKind.MAPPA, starts_at=at(4, 20), place="Probation office",
        chair_name="Sam Keane", chair_agency="Probation")
    conference_services.meeting_cancel(meeting=not_held, actor=desk, now=at(4, 3), reason="Not needed.")

    # --- Systems checks (measures 6, 7) ---
    _check(r1, owner, "pnc", at(3, 2, 13), new=True)
    for system in ("cris", "merlin", "social_care", "health", "education"):
        _check(r1, owner, system, at(3, 5))                                # r1: the full set in March
    for system in ("pnc", "cris", "social_care", "health"):
        _check(r5, owner, system, at(3, 2))
    _check(r5, owner, "merlin", at(3, 31, 22, 30))                          # 23:30 BST: March
    _check(r5, owner, "education", at(4, 2), new=True)                      # r5 complete only in April

    # --- Medical examinations and police protection (measures 13, 8) ---
    amara, tobi = _children(r1)
    conference_services.medical_record(referral=r1, actor=owner, now=at(3, 3, 12), child=amara, examined_at=at(3, 3),
                                       kind="physical", examiner_name="Dr Rao", examiner_role="Paediatrician",
                                       police_attended=True)
    conference_services.medical_record(referral=r1, actor=owner, now=at(3, 31, 22, 40), child=amara,
                                       examined_at=at(3, 31, 22, 30), kind="physical", examiner_name="Dr Rao",
                                       examiner_role="Paediatrician", police_attended=False,
                                       non_attendance_reason=HY_REASON, deciding_officer=supervisor)
    conference_services.medical_record(referral=r5, actor=owner, now=at(4, 2, 12), child=_children(r5)[0],
                                       examined_at=at(4, 2), kind="physical", examiner_name="Dr Rao",
                                       examiner_role="Paediatrician", police_attended=True)
    _protect(r1, supervisor, amara, at(3, 3), at(3, 4))
    _protect(r1, supervisor, amara, at(3, 20), at(3, 21))                   # the same child again in March
    _protect(r1, supervisor, amara, at(3, 31, 23, 30), at(4, 1, 20))        # 00:30 BST: April
    _protect(r1, supervisor, tobi, at(4, 10), at(4, 11))

    # --- Enfield: never counted for Haringey ---
    en_owner = OfficerFactory(username="investigator-en", team=enfield, roles=["investigator"])
    en_desk = other_team_sergeant
    e1 = _assess(_log(en_desk, at(3, 10)), en_desk, en_owner, "police_investigation", at(3, 10, 11))
    services.joint_visit_record(referral=e1, actor=en_owner, now=at(3, 11, 11), visited_at=at(3, 11))
    services.investigation_outcome_record(referral=e1, actor=en_owner, now=at(4, 5, 11),
                                          outcome=InvestigationOutcome.CHARGED, outcome_at=at(4, 5))
    services.disclosure_request_record(referral=e1, actor=en_owner, now=at(3, 12, 11), received_at=at(3, 12),
                                       requested_by="Family court, Enfield")
    _meeting(e1, en_desk, MeetingKind.INITIAL_CONFERENCE, at(3, 20), "Enfield Safeguarding")
    _check(e1, en_owner, "pnc", at(3, 11))
    conference_services.medical_record(referral=e1, actor=en_owner, now=at(3, 12, 12), child=_children(e1)[0],
                                       examined_at=at(3, 12), kind="physical", examiner_name="Dr Lee",
                                       examiner_role="Paediatrician", police_attended=False,
                                       non_attendance_reason=EN_REASON, deciding_officer=en_desk)
    _protect(e1, en_desk, _children(e1)[0], at(3, 12), at(3, 13))

    force_wide = OfficerFactory(username="performance-force", team=desk.team, roles=["performance"], force_wide=True)
    urns = {name: referral.urn for name, referral in
            (("r0", r0), ("r1", r1), ("r2", r2), ("r3", r3), ("r4", r4), ("r5", r5), ("r6", r6), ("e1", e1))}
    return World(urns, force_wide, performance_manager, supervisor, enfield)


def _figures(user: Officer, first: dt.date = FEB, last: dt.date = APR, team: Team | None = None) -> dict:
    report = performance_report(Scope.for_user(user, team), first, last, now=NOW)
    return {row.key: ([figure for _, figure in row.cells(report.months)], row.total) for row in report.rows}


def counts(figures: list[Figure]) -> list[int]:
    return [figure.count for figure in figures]


def ofs(figures: list[Figure]) -> list[int | None]:
    return [figure.of for figure in figures]


# --- Every measure, by hand ----------------------------------------------------------------------

def test_every_measure_matches_the_hand_count(world: World) -> None:
    """February, March and April 2026 for Haringey, as counted in the comments of `world`."""
    figures = _figures(world.performance_manager)

    def row(key: str) -> tuple[list[int], list[int | None], Figure]:
        months, total = figures[key]
        return counts(months), ofs(months), total

    # 1. Received: Feb r5; March r1, r6, r2 (23:30 BST on 31 March); April r3 (00:30 BST on 1 April), r4.
    assert row("referrals-received")[0] == [1, 3, 2]
    assert row("referrals-received")[2] == Figure(6)
    assert row("referrals-received:police_investigation")[:2] == ([0, 1, 0], [1, 3, 2])
    assert row("referrals-received:joint_investigation")[:2] == ([1, 1, 0], [1, 3, 2])
    assert row("referrals-received:social_services_only")[0] == [0, 0, 1]
    assert row("referrals-received:not-assessed")[0] == [0, 1, 1]
    assert figures["referrals-received:police_investigation"][0][1].percent == 33.3
    assert figures["referrals-received:not-assessed"][1] == Figure(2, 6)
    # 2. s47: assessed in March r5, r1, r2 (23:45 BST); r0 was January, r3 is social services only.
    assert row("s47-investigations")[0] == [0, 3, 0]
    # 3. Joint visits: r1 and r5 of the three.
    assert row("joint-visits")[:2] == ([0, 2, 0], [0, 3, 0])
    assert figures["joint-visits"][0][1].percent == 66.7 and figures["joint-visits"][0][1].whole_percent == 67
    # 4. Initial conferences held: March r1 (police attended), r2 (police sent apologies); April r5 (00:30 BST).
    #    The cancelled one is not counted.
    assert row("initial-conferences-attended")[:2] == ([0, 1, 1], [0, 2, 1])
    assert row("initial-conferences-attended")[2] == Figure(2, 3)
    # 5. Review conferences: April r1, no police.
    assert row("review-conferences-attended")[:2] == ([0, 0, 0], [0, 0, 1])
    # 6. Checks: March r1 ×6 and r5 ×5 (MERLIN at 23:30 BST); April r5's education check. New: one each.
    assert row("systems-checks")[0] == [0, 11, 1]
    assert row("intelligence-items")[0] == [0, 1, 1]
    # 7. Full set by the end of March: r1 only (r5's education check came in April; r2 has none).
    assert row("full-checks")[:2] == ([0, 1, 0], [0, 3, 0])
    # 8. Police protection: Amara twice in March (one child); Amara at 00:30 BST on 1 April and Tobi in April.
    #    Over the three months: two children, not three.
    assert row("police-protection")[0] == [0, 1, 2]
    assert row("police-protection")[2] == Figure(2)
    # 9. Detections: r1 charged in April, r5 cautioned at 00:15 BST on 1 April; r2's no further action is not one.
    assert row("detections")[0] == [0, 0, 2]
    # 10. Disclosure requests: r1's in March, r2's at 00:10 BST on 1 April.
    assert row("disclosure-requests")[0] == [0, 1, 1]
    # 11. Reviews due: March r0's initial (reviewed an hour early); April r0's review (the referral closed on
    #     1 April, before it), r5's initial (reviewed 5 April), r1's initial (reviewed 20 April, a week late).
    assert row("cram-reviews-on-time")[:2] == ([0, 1, 2], [0, 1, 3])
    # 12. Sign-offs due: March r0's review (on time), r5's initial (late), r1's initial (never);
    #     April r5's review (a day early, over Easter), r1's review (a minute early).
    assert row("signoffs-on-time")[:2] == ([0, 1, 2], [0, 3, 2])
    assert figures["signoffs-on-time"][0][1].percent == 33.3
    # 13. Medicals: March r1 attended, r1 at 23:30 BST not attended; April r5 attended.
    assert row("medicals-attended")[:2] == ([0, 1, 1], [0, 2, 1])
    assert row("medicals-not-attended")[:2] == ([0, 1, 0], [0, 2, 1])
    # 14. Minutes due: March social care ×2 (one on time), Health ×1 (never came); April the safeguarding chair's
    #     two conferences (r1's on time, r2's never came). r5's conference is due 00:30 BST on 1 May: not April.
    assert row("minutes-on-time")[:2] == ([0, 1, 1], [0, 3, 2])
    assert row("minutes-on-time:Children's social care")[:2] == ([0, 1, 0], [0, 2, 0])
    assert row("minutes-on-time:Health")[:2] == ([0, 0, 0], [0, 1, 0])
    assert row("minutes-on-time:Safeguarding and Quality Assurance")[:2] == ([0, 0, 1], [0, 0, 2])
    # 15. Siblings: Feb r5 (a sibling named); March r1 (named), r6 (CRAM says yes), r2 (not known, none named).
    assert row("siblings-considered")[:2] == ([1, 2, 0], [1, 3, 0])
    # 16. MAPPA: March r2 (suspect a registered sex offender; a MAPPA meeting) and r6 (CRAM says so; none);
    #     April r3 (potentially dangerous person; its MAPPA meeting was cancelled).
    assert row("mappa-considered")[:2] == ([0, 1, 0], [0, 2, 1])
    # 12. Quality, by month of sign-off: March r0's review and r5's initial; April r5's review and r1's review.
    assert row("signoff-quality-rating_justified:yes")[:2] == ([0, 1, 1], [0, 2, 2])
    assert row("signoff-quality-rating_justified:no")[0] == [0, 1, 0]
    assert row("signoff-quality-rating_justified:partly")[0] == [0, 0, 1]
    assert row("signoff-quality-gaps_addressed:partly")[0] == [0, 1, 0]
    assert row("signoff-quality-gaps_addressed:yes")[0] == [0, 0, 2]
    assert row("signoff-quality-measures_adequate:no")[0] == [0, 0, 1]
    assert row("signoff-quality-actions_timely:yes")[0] == [0, 2, 1]
    assert row("signoff-quality-actions_timely:no")[:2] == ([0, 0, 1], [0, 2, 2])


def test_drill_down_records_are_the_figures_records(world: World) -> None:
    """Each measure's numerator and denominator querysets hold the records counted, URN by URN."""
    scope = Scope.for_user(world.performance_manager)
    march, april = months_between(MAR, APR, now=NOW)
    urns = world.urns

    def referrals_of(slug: str, month, *, denominator: bool = False, group: str = "") -> list[str]:
        measure = MEASURES_BY_SLUG[slug]
        records = (measure.denominator if denominator else measure.queryset)(scope, month.starts, month.ends, group)
        kind = measure.record_kind
        return sorted(record.urn if kind == "referral" else record.referral.urn for record in records)

    assert referrals_of("referrals-received", march) == sorted([urns["r1"], urns["r2"], urns["r6"]])
    assert referrals_of("referrals-received", april) == sorted([urns["r3"], urns["r4"]])
    assert referrals_of("referrals-received", april, group="not-assessed") == [urns["r4"]]
    assert referrals_of("joint-visits", march) == sorted([urns["r1"], urns["r5"]])
    assert referrals_of("joint-visits", march, denominator=True) == sorted([urns["r1"], urns["r2"], urns["r5"]])
    assert referrals_of("full-checks", march) == [urns["r1"]]
    assert referrals_of("detections", april) == sorted([urns["r1"], urns["r5"]])
    assert referrals_of("initial-conferences-attended", march, denominator=True) == sorted([urns["r1"], urns["r2"]])
    assert referrals_of("initial-conferences-attended", april) == [urns["r5"]]
    assert referrals_of("mappa-considered", march) == [urns["r2"]]
    # The drill-down of a percentage lists the denominator, each with its yes or no.
    rows = MEASURES_BY_SLUG["initial-conferences-attended"].drill(scope, march.starts, march.ends)
    assert sorted((row.referral.urn, row.counted) for row in rows) == sorted([(urns["r1"], True), (urns["r2"], False)])
    only_no = MEASURES_BY_SLUG["initial-conferences-attended"].drill(scope, march.starts, march.ends, show="no")
    assert [row.referral.urn for row in only_no] == [urns["r2"]]


# --- Scope: a team, or force-wide ------------------------------------------------------------------

def test_enfield_is_never_counted_for_a_haringey_officer(world: World, client) -> None:
    """Asking for Enfield, or for every team, still gives a Haringey officer Haringey's figures."""
    assert _figures(world.performance_manager, team=world.enfield) == _figures(world.performance_manager)
    client.force_login(world.performance_manager)

    page = client.get(reverse("supervision:performance"), {"from_month": "2026-03", "to_month": "2026-03", "team": "EN"})
    drill = client.get(reverse("supervision:performance_drill", args=["referrals-received", "2026-03"]), {"team": "EN"})

    html = page.content.decode()
    assert "Haringey (HY)" in html and "Enfield" not in html
    assert 'name="team"' not in html
    assert world.urns["e1"] not in drill.content.decode()
    assert world.urns["r1"] in drill.content.decode()


def test_force_wide_officer_sees_a_team_or_every_team(world: World) -> None:
    """Enfield alone, and every team together, for an officer with a force-wide role."""
    enfield = _figures(world.force_wide, MAR, MAR, team=world.enfield)
    everyone = _figures(world.force_wide, MAR, MAR)

    assert counts(enfield["referrals-received"][0]) == [1]
    assert counts(enfield["initial-conferences-attended"][0]) == [1]
    assert counts(enfield["medicals-not-attended"][0]) == [1]
    assert counts(everyone["referrals-received"][0]) == [4]
    assert [everyone["joint-visits"][0][0]] == [Figure(3, 4)]
    assert everyone["initial-conferences-attended"][0][0] == Figure(2, 3)
    assert counts(everyone["police-protection"][0]) == [2]
    assert counts(everyone["disclosure-requests"][0]) == [2]


# --- The pages -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field", "message"), [
    ({"from_month": "2026-04", "to_month": "2026-02"}, "to_month", "is before the first"),
    ({"from_month": "2026-04", "to_month": "2026-06"}, "to_month", "June 2026 is in the future"),
    ({"from_month": "2026-07", "to_month": "2026-05"}, "from_month", "July 2026 is in the future"),
    ({"from_month": "2022-01", "to_month": "2026-04"}, "from_month", "show at most 36 months"),
    ({"from_month": "April", "to_month": "2026-04"}, "from_month", "Enter a month as YYYY-MM"),
])
def test_a_bad_range_is_explained_next_to_its_field(client, performance_manager: Officer, query: dict, field: str,
                                                     message: str) -> None:
    """A backwards, future, too long or unreadable range: a message by the field and no figures."""
    client.force_login(performance_manager)

    response = client.get(reverse("supervision:performance"), query)

    assert response.status_code == 200
    html = response.content.decode()
    error = html.split(f'data-testid="{field}-error"')[1].split("</div>")[0]
    assert message in error
    assert 'data-testid="performance-table"' not in html
    assert "<svg" not in html


def test_the_dashboard_shows_the_last_quarter_by_default(world: World, client) -> None:
    """No range given: February to April 2026, each figure linking to its drill-down."""
    client.force_login(world.performance_manager)

    html = client.get(reverse("supervision:performance")).content.decode()

    assert 'value="2026-02"' in html and 'value="2026-04"' in html
    drill = reverse("supervision:performance_drill", args=["initial-conferences-attended", "2026-03"])
    assert f'href="{drill}?team=HY"' in html
    assert "Initial conferences attended, Mar 2026: 1 of 2, 50%" in html
    # The total drills into the whole range: four protections of two children.
    total = reverse("supervision:performance_drill", args=["police-protection", "2026-02"])
    assert f'href="{total}?team=HY&amp;to=2026-04"' in html
    drill = client.get(total, {"team": "HY", "to": "2026-04"}).content.decode()
    summary = drill.split('data-testid="drill-summary"')[1].split("</p>")[0]
    assert "Feb 2026 to Apr 2026</strong> · Haringey (HY)" in summary and " 2 children." in summary
    assert "4 records: Children taken into police protection, Feb 2026 to Apr 2026" in drill


def test_charts_are_svg_with_a_title_a_description_and_a_data_table(world: World, client) -> None:
    client.force_login(world.performance_manager)

    html = client.get(reverse("supervision:performance"), {"from_month": "2026-03", "to_month": "2026-04"}).content.decode()

    chart = html.split('data-testid="chart-detections"')[1].split("</figure>")[0]
    assert 'role="img"' in chart and 'aria-labelledby="chart-detections-title chart-detections-desc"' in chart
    assert '<title id="chart-detections-title">Detections: count by month, May 2025 to Apr 2026</title>' in chart
    assert "Apr 2026: 2" in chart.split("<desc")[1].split("</desc>")[0]
    assert '<th scope="row">Apr 2026</th><td>2</td>' in chart
    assert chart.count("<rect") == 1  # only April has a detection


def test_chart_functions_escape_text_and_describe_every_value() -> None:
    svg = bar_chart([("Jan 2026", 3), ("Feb 2026", None), ("Mar <2026>", 12.5)], chart_id="x<y", title="A & B",
                    description="Things counted.", unit="%", maximum=100)
    table = data_table([("Jan 2026", 3), ("<b>", None)], caption="A & B", headings=["Month", "Count"])

    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in svg
    assert 'aria-labelledby="xy-title xy-desc"' in svg
    assert "<title id=\"xy-title\">A &amp; B</title>" in svg
    assert "Things counted. Jan 2026: 3%; Feb 2026: no figure; Mar &lt;2026&gt;: 12.5%." in svg
    assert "<2026>" not in svg and svg.count("<rect") == 2
    assert "<caption>A &amp; B</caption>" in table and "&lt;b&gt;" in table


def test_performance_manager_sees_no_free_text_in_a_drill_down(world: World, client) -> None:
    """The reason typed on a medical examination: not for the performance manager; for a supervisor."""
    url = reverse("supervision:performance_drill", args=["medicals-not-attended", "2026-03"])

    client.force_login(world.performance_manager)
    as_manager = client.get(url).content.decode()
    client.force_login(world.supervisor)
    as_supervisor = client.get(url).content.decode()

    assert world.urns["r1"] in as_manager and "1 of 2 (50%) police did not attend" in as_manager
    assert HY_REASON not in as_manager and "Reason police did not attend" not in as_manager
    assert HY_REASON in as_supervisor
    assert EN_REASON not in as_supervisor


def test_drill_down_of_a_future_month_is_explained(client, performance_manager: Officer) -> None:
    client.force_login(performance_manager)

    response = client.get(reverse("supervision:performance_drill", args=["detections", "2026-06"]))

    assert response.status_code == 200
    assert "June 2026 is in the future" in response.content.decode()
    assert client.get(reverse("supervision:performance_drill", args=["no-such-measure", "2026-03"])).status_code == 404
    assert client.get(reverse("supervision:performance_drill", args=["detections", "March"])).status_code == 404


def test_only_performance_managers_and_supervisors_see_the_measures(client, investigator: Officer,
                                                                    supervisor: Officer) -> None:
    client.force_login(investigator)
    assert client.get(reverse("supervision:performance")).status_code == 403
    assert client.get(reverse("supervision:performance_drill", args=["detections", "2026-03"])).status_code == 403
    client.force_login(supervisor)
    assert client.get(reverse("supervision:performance")).status_code == 200


def test_a_drill_down_is_audited_with_the_urns_it_showed(world: World, client) -> None:
    client.force_login(world.performance_manager)

    client.get(reverse("supervision:performance_drill", args=["joint-visits", "2026-03"]), {"show": "yes"})

    event = AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS, actor=world.performance_manager,
                                      content_type=ContentType.objects.get_for_model(Referral)).latest("timestamp")
    assert event.additional_data["performance_drill"] == "joint-visits"
    assert sorted(event.additional_data["urns"]) == sorted([world.urns["r1"], world.urns["r5"]])
    assert "Joint visits, joint visit: yes, Mar 2026, Haringey (HY)" in event.object_repr


def test_pages_make_a_fixed_number_of_queries(world: World, client, django_assert_max_num_queries) -> None:
    """Twelve months of the dashboard and a drill-down page, however many records there are."""
    client.force_login(world.supervisor)
    client.get(reverse("supervision:performance"))  # content types and sessions warmed

    with django_assert_max_num_queries(28):
        response = client.get(reverse("supervision:performance"), {"from_month": "2025-05", "to_month": "2026-04"})
    assert "Apr 2026" in response.content.decode()
    with django_assert_max_num_queries(10):
        response = client.get(reverse("supervision:performance_drill", args=["medicals-not-attended", "2026-03"]))
    assert HY_REASON in response.content.decode()
    with django_assert_max_num_queries(10):
        client.get(reverse("supervision:performance_drill", args=["signoffs-on-time", "2026-03"]))


# --- Exports --------------------------------------------------------------------------------------

def test_the_table_exports_counts_and_percentages_as_numbers(world: World, client) -> None:
    import openpyxl

    client.force_login(world.performance_manager)

    response = client.get(reverse("exports:download", args=["performance", "xlsx"]),
                          {"from_month": "2026-03", "to_month": "2026-04"})

    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)
                                              if response.streaming else response.content)).active
    rows = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True)}
    assert rows["Measure"] == ("Mar 2026", "Mar 2026 %", "Apr 2026", "Apr 2026 %", "Total", "Total %")
    assert rows["Initial conferences attended"] == (1, 50, 1, 100, 2, 66.7)
    assert rows["Referrals received"] == (3, None, 2, None, 5, None)
    assert rows["Minutes received on time: Health"] == (0, 0, 0, None, 0, 0)


def test_the_drill_down_exports_without_free_text_for_the_performance_manager(world: World) -> None:
    query = QueryDict(mutable=True)
    query.update({"measure": "medicals-not-attended", "month": "2026-03", "team": "EN"})

    table = lookup("performance_drill").builder(world.performance_manager, query)
    rows = list(table.rows)

    assert "Reason police did not attend" not in table.headers
    assert table.total_rows == 2 and [row[0] for row in rows] == [world.urns["r1"]] * 2
    assert sorted(row[-1] for row in rows) == [False, True]
    with_text = lookup("performance_drill").builder(world.supervisor, query)
    assert any(HY_REASON in row for row in with_text.rows)
