"""The demo's records behind the performance measures that nothing else in the demo makes: joint
visits, outcomes and detections, requests for disclosure, review conferences with and without
police, the full set of checks and new intelligence, minutes that came in time, MAPPA meetings,
and sign-offs of varied quality.

Woven into each Haringey referral's history through referrals.demo's LaterSteps hook, so every
step runs at its own moment in the past, in time order with the case's other events (case-log
numbers and times stay in order). Which referral gets what is decided by its place in the
seeding order, not by the shared random stream, so the rest of the demo is unchanged.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

from conferences import services as conference_services
from conferences.models import AttendanceStatus, KeyRole, Meeting, MeetingKind, MeetingStatus
from cram_site.models import Officer
from referrals import services as referral_services
from referrals.demo import LaterStep, LaterSteps
from referrals.models import DisclosureDecision, InvestigationOutcome, PersonRole, Referral
from risk import services as risk_services
from risk.models import Answer, AnswerValue, Assessment, AssessmentKind, SignOff, SignOffDecision

from .performance import FULL_CHECKS, INVESTIGATION_ROUTES, MAPPA_FACTOR

TEAM = "HY"
# The outcomes investigations end with, in turn (three of the five are detections).
OUTCOMES = (InvestigationOutcome.CHARGED, InvestigationOutcome.NO_FURTHER_ACTION, InvestigationOutcome.CAUTIONED,
            InvestigationOutcome.EVIDENTIAL_DIFFICULTIES, InvestigationOutcome.COMMUNITY_RESOLUTION)
# Sign-offs of the CRAMs the demo's supervisor had left: (rating justified, gaps, measures, actions).
QUALITY = (("partly", "no", "partly", "yes"), ("yes", "yes", "no", "partly"), ("no", "partly", "yes", "no"))


class PerformanceHistory:
    """One referral's extra steps; `index` is its place among the Haringey referrals seeded."""

    def __init__(self, *, officers: dict[str, Officer], index: int, mappa_turn: Callable[[], int],
                 review_turn: Callable[[], int]) -> None:
        self.officers = officers
        self.index = index
        self.mappa_turn = mappa_turn
        self.review_turn = review_turn

    def officer(self, stem: str) -> Officer:
        return self.officers[f"{stem}-{TEAM.lower()}"]

    def steps(self, assessed_at: dt.datetime) -> list[LaterStep]:
        i = self.index
        plan: list[tuple[dt.timedelta, Callable[[Referral, dt.datetime], None]]] = []
        if i % 3 != 2:
            plan.append((dt.timedelta(hours=5), self.joint_visit))
        if i % 4 == 0:
            plan.append((dt.timedelta(hours=8), self.full_checks))
        if i % 4 == 1:
            plan.append((dt.timedelta(hours=26), self.new_intelligence))
        plan.append((dt.timedelta(days=3), self.mappa_meeting))
        if i % 2 == 0:
            plan.append((dt.timedelta(days=5), self.late_sign_off))
        if i % 6 == 3:
            plan.append((dt.timedelta(days=10), self.disclosure_request))
            plan.append((dt.timedelta(days=17), self.disclosure_response))
        if i % 5 in (0, 1, 2):
            plan.append((dt.timedelta(days=21), self.outcome))
        if i % 2 == 1:
            plan.append((dt.timedelta(days=30), self.conference_minutes))
        plan.append((dt.timedelta(days=35), self.review_conference))
        if i % 3 == 0:
            plan.append((dt.timedelta(days=43, hours=2), self.review_sign_off))
        return [LaterStep(assessed_at + delay, lambda referral, step=step, at=assessed_at + delay: step(referral, at))
                for delay, step in plan]

    # --- steps -----------------------------------------------------------------------------------

    @staticmethod
    def _investigation(referral: Referral) -> bool:
        referral.refresh_from_db(fields=["route", "joint_visit_at", "outcome", "received_at"])
        return referral.route in INVESTIGATION_ROUTES

    def joint_visit(self, referral: Referral, at: dt.datetime) -> None:
        if self._investigation(referral) and referral.joint_visit_at is None:
            referral_services.joint_visit_record(referral=referral, actor=referral.owner or self.officer("investigator"),
                                                 now=at, visited_at=at - dt.timedelta(minutes=30))

    def full_checks(self, referral: Referral, at: dt.datetime) -> None:
        if not self._investigation(referral):
            return
        researcher = self.officer("researcher")
        for minutes, system in enumerate(FULL_CHECKS):
            checked_at = at - dt.timedelta(minutes=60 - 5 * minutes)
            new = system == "pnc"
            risk_services.systems_check_record(
                referral=referral, actor=researcher, now=at, system=system, checked_at=checked_at, anything_new=new,
                result=("New: a caution for assault in 2024 not known before." if new
                        else "Nothing further known on this system."))

    def new_intelligence(self, referral: Referral, at: dt.datetime) -> None:
        if self._investigation(referral):
            risk_services.systems_check_record(
                referral=referral, actor=self.officer("researcher"), now=at, system="pnc", checked_at=at,
                anything_new=True, result="New: the suspect was arrested last month in another borough.")

    def outcome(self, referral: Referral, at: dt.datetime) -> None:
        if self._investigation(referral) and not referral.outcome:
            referral_services.investigation_outcome_record(
                referral=referral, actor=referral.owner or self.officer("investigator"), now=at,
                outcome=OUTCOMES[self.index % len(OUTCOMES)], outcome_at=at - dt.timedelta(hours=2))

    def disclosure_request(self, referral: Referral, at: dt.datetime) -> None:
        referral_services.disclosure_request_record(
            referral=referral, actor=self.officer("supervisor"), now=at, received_at=at - dt.timedelta(hours=1),
            requested_by="Haringey Council legal services (care proceedings)",
            proceedings_reference=f"ZW26C{self.index:04d}")

    def disclosure_response(self, referral: Referral, at: dt.datetime) -> None:
        request = referral.disclosure_requests.filter(decision=DisclosureDecision.PENDING).first()
        if request is not None and self.index % 12 == 3:
            referral_services.disclosure_request_respond(
                request=request, actor=self.officer("supervisor"), now=at, responded_at=at,
                decision=DisclosureDecision.PARTLY_DISCLOSED)
        # Every other request is still waiting for its decision.

    def mappa_meeting(self, referral: Referral, at: dt.datetime) -> None:
        flagged = referral.referral_people.filter(role=PersonRole.SUSPECT, person__registered_sex_offender=True).exists() \
            or referral.referral_people.filter(role=PersonRole.SUSPECT, person__mappa=True).exists() \
            or referral.referral_people.filter(role=PersonRole.SUSPECT, person__potentially_dangerous=True).exists() \
            or Answer.objects.filter(assessment__referral=referral, code=MAPPA_FACTOR, value=AnswerValue.YES).exists()
        # One eligible referral in two goes to a MAPPA meeting, so the measure shows both.
        if flagged and self.mappa_turn() % 2 == 0:
            conference_services.meeting_create(
                referral=referral, actor=self.officer("supervisor"), now=at, kind=MeetingKind.MAPPA,
                starts_at=at - dt.timedelta(hours=2), place="Probation office, Wood Green", chair_name="Sam Keane",
                chair_agency="Probation service", held=True)

    def conference_minutes(self, referral: Referral, at: dt.datetime) -> None:
        conference = Meeting.objects.filter(referral=referral, kind=MeetingKind.INITIAL_CONFERENCE,
                                            status=MeetingStatus.HELD, minutes_received_at__isnull=True).first()
        if conference is not None and conference.starts_at < at:
            conference_services.minutes_record(meeting=conference, actor=self.officer("pclo"), now=at, received_at=at)

    def review_conference(self, referral: Referral, at: dt.datetime) -> None:
        initial = Meeting.objects.filter(referral=referral, kind=MeetingKind.INITIAL_CONFERENCE,
                                         status=MeetingStatus.HELD).first()
        if initial is None or self.index % 2:
            return
        pclo = self.officer("pclo")
        starts_at = at - dt.timedelta(hours=2)
        review = conference_services.meeting_create(
            referral=referral, actor=pclo, now=at, kind=MeetingKind.REVIEW_CONFERENCE, starts_at=starts_at,
            place="River Park House, Wood Green", chair_name="Helen Marsh",
            chair_agency="Safeguarding and Quality Assurance", children=initial.children.all(), held=True)
        # Police at every other review conference, so the measure shows attendance and its absence.
        police_came = self.review_turn() % 2 == 0
        conference_services.attendance_add(
            meeting=review, actor=pclo, now=at, name=pclo.get_full_name(), agency="Police",
            designation="Conference liaison officer", is_police=True, rank=pclo.rank,
            status=AttendanceStatus.ATTENDED if police_came else AttendanceStatus.APOLOGIES)
        conference_services.attendance_add(
            meeting=review, actor=pclo, now=at, name="Tom Pearce", agency="Children's social care",
            designation="Social worker", key_role=KeyRole.SOCIAL_WORKER, status=AttendanceStatus.ATTENDED)

    def _sign(self, assessment: Assessment | None, at: dt.datetime) -> None:
        if assessment is None or SignOff.objects.filter(assessment=assessment).exists():
            return
        rating, gaps, measures, actions = QUALITY[self.index % len(QUALITY)]
        risk_services.assessment_sign_off(
            assessment=assessment, actor=self.officer("supervisor"), now=at, data=risk_services.SignOffInput(
                decision=SignOffDecision.AGREED, rating_justified=rating, gaps_addressed=gaps,
                measures_adequate=measures, actions_timely=actions,
                comments="Agreed, with the points on quality recorded above to take forward."))

    def late_sign_off(self, referral: Referral, at: dt.datetime) -> None:
        self._sign(referral.assessments.completed().filter(kind=AssessmentKind.INITIAL).first(), at)

    def review_sign_off(self, referral: Referral, at: dt.datetime) -> None:
        self._sign(referral.assessments.completed().filter(kind=AssessmentKind.REVIEW).first(), at)


def performance_steps(*, officers: dict[str, Officer]) -> LaterSteps:
    """The hook `referrals.demo.seed_referrals` calls to add these steps to each Haringey referral."""
    seeded = itertools.count()
    mappa = itertools.count()
    reviews = itertools.count()

    def later(referral: Referral, assessed_at: dt.datetime) -> list[LaterStep]:
        if referral.team.code != TEAM:
            return []
        history = PerformanceHistory(officers=officers, index=next(seeded), mappa_turn=lambda: next(mappa),
                                     review_turn=lambda: next(reviews))
        return history.steps(assessed_at)

    return later

