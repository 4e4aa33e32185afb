"""The demo's meetings: strategy discussions (some held without a police supervisor), initial
conferences with police reports, medicals with and without police, and police protection.

Woven into each referral's history through referrals.demo's LaterSteps hook, in time order.
"""
from __future__ import annotations

import datetime as dt
import random

from cram_site.calendar import LONDON, add_working_days_at
from cram_site.models import Officer, Rank
from referrals.demo import LaterStep, LaterSteps
from referrals.models import CHILD_ROLES, Referral, Route
from risk import services as risk_services
from risk.matrix import suggested_rating
from risk.models import Answer, AnswerValue, Assessment, AssessmentKind

from . import services
from .models import (
    AttendanceStatus,
    ConferenceOutcome,
    KeyRole,
    Meeting,
    MeetingKind,
    PoliceProtection,
    StrategyRecord,
)

INVESTIGATIONS = (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION)
CATEGORY_OF_PLAN = {"physical": "physical", "sexual": "sexual", "neglect": "neglect", "emotional": "emotional"}


def _children(referral: Referral) -> list:
    return [link.person for link in referral.referral_people.select_related("person") if link.role in CHILD_ROLES]


class MeetingHistory:
    """One referral's meetings, decided up front from the random stream so every run is the same."""

    def __init__(self, *, officers: dict[str, Officer], team: str, category: str, rng: random.Random,
                 now: dt.datetime) -> None:
        self.officers = officers
        self.team = team
        self.category = category
        self.now = now
        self.supervisor_attends = rng.random() < 0.6
        self.paediatrician_attends = rng.random() < 0.5
        self.countersigned = rng.random() < 0.7
        self.police_at_medical = rng.random() < 0.6
        self.police_at_conference = rng.random() < 0.85
        self.minutes_arrive = rng.random() < 0.6
        self.pclo_assigned = rng.random() < 0.6
        self.protection_running = False
        self.protection_ended = False
        self.strategy: Meeting | None = None
        self.record: StrategyRecord | None = None
        self.protection: PoliceProtection | None = None
        self.conference: Meeting | None = None

    def officer(self, stem: str) -> Officer:
        return self.officers[f"{stem}-{self.team}"]

    def steps(self, assessed_at: dt.datetime) -> list[LaterStep]:
        strategy_at = assessed_at + dt.timedelta(hours=3)
        conference_day = add_working_days_at(strategy_at, 12).astimezone(LONDON)
        conference_at = conference_day.replace(hour=10, minute=0)
        steps = [
            LaterStep(strategy_at, lambda referral: self.strategy_discussion(referral, strategy_at)),
            LaterStep(strategy_at + dt.timedelta(hours=2),
                      lambda referral: self.countersign(referral, strategy_at + dt.timedelta(hours=2))),
            LaterStep(strategy_at + dt.timedelta(hours=4),
                      lambda referral: self.medical(referral, strategy_at + dt.timedelta(hours=4))),
            LaterStep(strategy_at + dt.timedelta(days=1),
                      lambda referral: self.schedule_conference(referral, strategy_at + dt.timedelta(days=1),
                                                                conference_at)),
        ]
        cram_at = add_working_days_at(conference_at, -3)
        report_at = add_working_days_at(conference_at, -2) - dt.timedelta(hours=1)
        steps += [
            LaterStep(cram_at, lambda referral: self.pre_conference_cram(referral, cram_at)),
            LaterStep(report_at, lambda referral: self.police_report(referral, report_at)),
            LaterStep(conference_at + dt.timedelta(hours=2),
                      lambda referral: self.hold_conference(referral, conference_at + dt.timedelta(hours=2))),
        ]
        if self.protection_running:
            # One child still in police protection, started yesterday, so its countdown shows.
            started = self.now.replace(second=0, microsecond=0) - dt.timedelta(hours=20)
            steps.append(LaterStep(started, lambda referral: self.protect(referral, started)))
        elif self.protection_ended:
            started = assessed_at + dt.timedelta(hours=2)
            ended = started + dt.timedelta(hours=30)
            steps.append(LaterStep(started, lambda referral: self.protect(referral, started)))
            steps.append(LaterStep(ended, lambda referral: self.end_protection(ended)))
        minutes_at = add_working_days_at(conference_at, 10)
        if self.minutes_arrive:
            steps.append(LaterStep(minutes_at, lambda referral: self.minutes(referral, minutes_at)))
        return steps

    # --- steps -----------------------------------------------------------------------------------

    def strategy_discussion(self, referral: Referral, at: dt.datetime) -> None:
        if referral.route not in INVESTIGATIONS:
            return
        self.strategy = services.meeting_create(
            referral=referral, actor=self.officer("desk"), now=at, kind=MeetingKind.STRATEGY_DISCUSSION,
            starts_at=at - dt.timedelta(minutes=45), place="Teleconference", chair_name="Rachel Obi",
            chair_agency="Children's social care", children=_children(referral), held=True)
        owner = referral.owner or self.officer("investigator")
        attendees = [
            dict(name=owner.get_full_name(), agency="Police", designation="Investigating officer", is_police=True,
                 rank=owner.rank, status=AttendanceStatus.ATTENDED),
            dict(name="Rachel Obi", agency="Children's social care", designation="Team manager (chair)",
                 status=AttendanceStatus.ATTENDED),
            dict(name="Tom Pearce", agency="Children's social care", designation="Social worker",
                 key_role=KeyRole.SOCIAL_WORKER, status=AttendanceStatus.ATTENDED),
        ]
        supervisor = self.officer("supervisor")
        attendees.append(dict(name=supervisor.get_full_name(), agency="Police", designation="Supervisor",
                              is_police=True, rank=supervisor.rank,
                              status=AttendanceStatus.ATTENDED if self.supervisor_attends else AttendanceStatus.APOLOGIES))
        if self.category == "physical":
            attendees.append(dict(name="Dr Anita Rao", agency="Whittington Health",
                                  designation="Consultant paediatrician", key_role=KeyRole.EXAMINING_PAEDIATRICIAN,
                                  status=AttendanceStatus.ATTENDED if self.paediatrician_attends
                                  else AttendanceStatus.ABSENT))
        for row in attendees:
            services.attendance_add(meeting=self.strategy, actor=self.officer("desk"), now=at, **row)
        record = services.strategy_record_save(
            meeting=self.strategy, actor=owner, now=at,
            decisions="Section 47 enquiries to begin. Joint visit today; child to be seen alone.",
            agreed_actions=[services.AgreedActionInput(
                description="Joint home visit and see the child alone", owner_agency="Police and social care",
                owner=owner, due_at=at + dt.timedelta(days=1))])
        self.record = record

    def countersign(self, referral: Referral, at: dt.datetime) -> None:
        if self.record is not None and self.countersigned:
            services.strategy_record_countersign(record=self.record, actor=self.record.recorded_by, now=at,
                                                 chair_name="Rachel Obi")

    def medical(self, referral: Referral, at: dt.datetime) -> None:
        if self.strategy is None or self.category not in ("physical", "sexual", "neglect"):
            return
        children = _children(referral)
        if not children:
            return
        services.medical_record(
            referral=referral, actor=self.officer("desk"), now=at, child=children[0],
            examined_at=at - dt.timedelta(hours=1), kind=self.category if self.category != "neglect" else "neglect",
            examiner_name="Dr Anita Rao", examiner_role="Consultant paediatrician",
            police_attended=self.police_at_medical,
            non_attendance_reason="" if self.police_at_medical else "No officer free at the time the hospital set.",
            deciding_officer=None if self.police_at_medical else self.officer("supervisor"),
            photographs_taken=self.category == "physical", first_account_secured=self.police_at_medical)

    def schedule_conference(self, referral: Referral, at: dt.datetime, conference_at: dt.datetime) -> None:
        if self.strategy is None or referral.route != Route.JOINT_INVESTIGATION:
            return
        self.conference = services.meeting_create(
            referral=referral, actor=self.officer("pclo"), now=at, kind=MeetingKind.INITIAL_CONFERENCE,
            starts_at=conference_at, place="River Park House, Wood Green", chair_name="Helen Marsh",
            chair_agency="Safeguarding and Quality Assurance", children=_children(referral),
            police_attendee=self.officer("pclo") if self.pclo_assigned else None)

    def pre_conference_cram(self, referral: Referral, at: dt.datetime) -> None:
        if self.conference is None or at > self.now:
            return
        desk = self.officer("desk")
        draft = risk_services.assessment_start(referral=referral, kind=AssessmentKind.PRE_CONFERENCE,
                                               actor=desk, now=at)
        previous = Assessment.objects.get(pk=draft.previous_id)
        earlier = {answer.code: answer for answer in previous.answers.all()}
        answers = {answer.code: risk_services.AnswerInput(
            value=answer.value or (earlier[answer.code].value if answer.code in earlier else AnswerValue.NO)
            or AnswerValue.NO, note=answer.note, source=answer.source) for answer in draft.answers.all()}
        measures = [risk_services.MeasureInput(kind=m.kind, owner_agency=m.owner_agency, status=m.status,
                                               factor_codes=m.factor_codes, description=m.description)
                    for m in draft.control_measures.all()]
        suggestion = suggested_rating([Answer(weight=answer.weight, contextual=answer.contextual,
                                              value=answers[answer.code].value) for answer in draft.answers.all()])
        risk_services.assessment_save(assessment=draft, actor=desk, now=at, complete=True,
                                      data=risk_services.AssessmentInput(
                                          revision=draft.revision, answers=answers, measures=measures,
                                          rating=suggestion, decisions=previous.decisions))

    def police_report(self, referral: Referral, at: dt.datetime) -> None:
        if self.conference is None or at > self.now:
            return
        from .report import report_contents

        pclo = self.officer("pclo")
        report = services.police_report_open(meeting=self.conference, actor=pclo, now=at)
        services.police_report_save(
            report=report, actor=pclo, now=at,
            summary_of_concerns="Police are investigating the allegation jointly with children's social care.",
            police_involvement="Strategy discussion, joint visit and medical examination; suspect interviewed.",
            analysis="The CRAM rating is set out above with the control measures in place.",
            recommendations="Police recommend a child protection plan.")
        report.refresh_from_db()
        services.police_report_submit(report=report, actor=pclo, now=at, submitted_to="Helen Marsh (chair)",
                                      contents=report_contents(self.conference, report))

    def hold_conference(self, referral: Referral, at: dt.datetime) -> None:
        if self.conference is None or at > self.now:
            return
        pclo = self.officer("pclo")
        if self.police_at_conference:
            services.attendance_add(meeting=self.conference, actor=pclo, now=at, name=pclo.get_full_name(),
                                    agency="Police", designation="Conference liaison officer", is_police=True,
                                    rank=pclo.rank or Rank.DC, status=AttendanceStatus.ATTENDED)
        services.attendance_add(meeting=self.conference, actor=pclo, now=at, name="Tom Pearce",
                                agency="Children's social care", designation="Social worker",
                                key_role=KeyRole.SOCIAL_WORKER, status=AttendanceStatus.ATTENDED)
        services.meeting_hold(meeting=self.conference, actor=pclo, now=at, outcome=ConferenceOutcome.PLAN_MADE,
                              plan_category=CATEGORY_OF_PLAN.get(self.category, "multiple"))

    def protect(self, referral: Referral, started: dt.datetime) -> None:
        children = _children(referral)
        if not children or started > self.now:
            return
        self.protection = services.protection_start(
            referral=referral, actor=self.officer("supervisor"), now=started, child=children[0], started_at=started,
            designated_officer=self.officer("supervisor"),
            reason="Child found alone at home at night with no food; parent could not be traced.")

    def end_protection(self, ended: dt.datetime) -> None:
        if self.protection is not None and ended <= self.now:
            services.protection_end(protection=self.protection, actor=self.officer("supervisor"), now=ended,
                                    ended_at=ended, note="Returned to the mother's care under a safety plan.")

    def minutes(self, referral: Referral, at: dt.datetime) -> None:
        if self.strategy is not None and at <= self.now:
            services.minutes_record(meeting=self.strategy, actor=self.officer("pclo"), now=at,
                                    received_at=at - dt.timedelta(hours=2))


def meeting_steps(*, officers: dict[str, Officer], rng: random.Random, now: dt.datetime) -> LaterSteps:
    """The hook `referrals.demo.seed_referrals` calls to weave meetings into each referral's history."""

    shown = {"running": False, "ended": False}

    def later(referral: Referral, assessed_at: dt.datetime) -> list[LaterStep]:
        history = MeetingHistory(officers=officers, team=referral.team.code.lower(),
                                 category=referral.allegation_category, rng=rng, now=now)
        # Police protection once each way in Haringey: one running now, one that ended in time.
        if referral.team.code == "HY" and referral.allegation_category == "neglect":
            if not shown["ended"]:
                history.protection_ended = shown["ended"] = True
            elif not shown["running"] and now - assessed_at > dt.timedelta(days=2):
                history.protection_running = shown["running"] = True
        return history.steps(assessed_at)

    return later
