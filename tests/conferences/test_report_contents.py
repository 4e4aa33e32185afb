"""The police report for a conference: what it says (the current CRAM with every gap, the chronology
since the previous conference, the latest check of each system, earlier attendance, open actions),
and its lifecycle: opened, saved, submitted once with a pre-conference CRAM of this conference, and
kept exactly as submitted. Its query count does not grow with the case."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conferences import services
from conferences.models import Meeting, MeetingKind, PoliceReport, ReportStatus
from conferences.report import report_contents
from cram_site.models import Officer, Rank, Team
from referrals import services as referral_services
from referrals.models import CaseLogEntry, CaseLogKind, Referral
from risk import services as risk_services
from risk.models import Answer, Assessment, SystemsCheck
from risk.services import AnswerInput, AssessmentInput, MeasureInput
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# The case: logged on Monday 5 January 2026, a strategy meeting on the 7th, a pre-conference CRAM on
# the 19th and the initial conference on Thursday 22 January; the review conference is on Monday
# 20 April (10:00 BST), its pre-conference CRAM on 8 April, and the report is written on 9 April.
REFERRED = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
STRATEGY = dt.datetime(2026, 1, 7, 10, 0, tzinfo=dt.UTC)
FIRST_PRE_CONFERENCE = dt.datetime(2026, 1, 19, 10, 0, tzinfo=dt.UTC)
INITIAL = dt.datetime(2026, 1, 22, 10, 0, tzinfo=dt.UTC)
DIARY_DAY = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
REVIEW = dt.datetime(2026, 4, 20, 9, 0, tzinfo=dt.UTC)
SECOND_PRE_CONFERENCE = dt.datetime(2026, 4, 8, 9, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 4, 9, 9, 0, tzinfo=dt.UTC)

GAPS = ["previous_injuries", "domestic_abuse", "suspect_violence", "carer_substances", "unknown_adults"]


@pytest.fixture
def pclo(haringey: Team) -> Officer:
    return OfficerFactory(username="pclo-hy", first_name="Priya", last_name="Lal", rank=Rank.DC,
                          staff_number="DC404", team=haringey, roles=["pclo"])


# --- Helpers --------------------------------------------------------------------------------------


def complete_cram(referral: Referral, actor: Officer, now: dt.datetime, kind: str, *, yes: tuple[str, ...] = (),
                  not_known: tuple[str, ...] = (), measures: tuple[MeasureInput, ...] = (),
                  rating: str = "medium") -> Assessment:
    """A CRAM with every factor answered: "no" unless named as present or not known."""
    draft = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=now)
    answers = {answer.code: AnswerInput("no") for answer in draft.answers.all()}
    answers |= {code: AnswerInput("yes", note=f"Seen {kind}") for code in yes}
    answers |= {code: AnswerInput("not_known") for code in not_known}
    data = AssessmentInput(revision=draft.revision, answers=answers, measures=list(measures), rating=rating,
                           rating_rationale="Set on the whole picture.", decisions="Keep under review.")
    return risk_services.assessment_save(assessment=draft, data=data, actor=actor, now=now, complete=True)


def record_meeting(referral: Referral, actor: Officer, kind: str, starts_at: dt.datetime,
                   attendance: list[tuple[str, str, str]] = ()) -> Meeting:
    """A meeting recorded as held, with (name, rank or "", status) attendance; blank rank is a partner."""
    meeting = services.meeting_create(referral=referral, actor=actor, now=starts_at + HOUR, kind=kind,
                                      starts_at=starts_at, place="Tottenham", chair_name="Chris Hale",
                                      chair_agency="Children's social care", held=True)
    for name, rank, status in attendance:
        services.attendance_add(meeting=meeting, actor=actor, now=starts_at + HOUR, name=name,
                                agency="Metropolitan Police" if rank else "Children's social care",
                                status=status, is_police=bool(rank), rank=rank)
    return meeting


def schedule_conference(referral: Referral, actor: Officer, kind: str, starts_at: dt.datetime,
                        now: dt.datetime = DIARY_DAY) -> Meeting:
    return services.meeting_create(referral=referral, actor=actor, now=now, kind=kind, starts_at=starts_at,
                                   place="Civic Centre", chair_name="Val Moore",
                                   chair_agency="Safeguarding and Quality Assurance")


def note(referral: Referral, actor: Officer, text: str, occurred_at: dt.datetime) -> CaseLogEntry:
    return referral_services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, text=text,
                                             actor=actor, now=max(occurred_at, REFERRED), occurred_at=occurred_at)


def write(report: PoliceReport, actor: Officer, now: dt.datetime = NOW, *, summary: str = "Bruising seen twice.",
          recommendations: str = "A child protection plan.") -> PoliceReport:
    return services.police_report_save(report=report, actor=actor, now=now, summary_of_concerns=summary,
                                       police_involvement="Joint visit and ABE interview.",
                                       analysis="Risk remains high while the suspect has access.",
                                       recommendations=recommendations)


@dataclass
class Case:
    referral: Referral
    strategy: Meeting
    initial: Meeting
    review: Meeting
    current_cram: Assessment


def build_case(log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer,
               researcher: Officer) -> Case:
    """The case described at the top, up to the review conference's pre-conference CRAM."""
    with time_machine.travel(REFERRED, tick=False):
        referral = log_referral(now=REFERRED)
        complete_cram(referral, desk_sergeant, REFERRED + HOUR, "initial", yes=("weapon_injury",),
                      not_known=("previous_injuries",))
    strategy = record_meeting(referral, desk_sergeant, MeetingKind.STRATEGY_MEETING, STRATEGY, [
        ("Sue Perkins", Rank.DS, "attended"), ("Ian Vance", Rank.DC, "attended"),
        ("Dee Ingram", Rank.DI, "apologies"), ("Jo Bell", "", "attended")])
    risk_services.systems_check_record(referral=referral, actor=researcher, now=STRATEGY + DAY, system="pnc",
                                           result="Old PNC result: nothing known.", checked_at=STRATEGY + DAY,
                                           anything_new=False)
    complete_cram(referral, desk_sergeant, FIRST_PRE_CONFERENCE, "pre_conference", yes=("weapon_injury",))
    note(referral, investigator, "Before the conference: nursery reports new bruising.", INITIAL - HOUR)
    initial = record_meeting(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, INITIAL, [
        ("Pat Quinn", Rank.DC, "attended"), ("Jo Bell", "", "attended")])
    review = schedule_conference(referral, desk_sergeant, MeetingKind.REVIEW_CONFERENCE, REVIEW)
    note(referral, investigator, "After the conference: suspect seen at the home.", DIARY_DAY + DAY)
    return Case(referral, strategy, initial, review, None)  # type: ignore[arg-type]


@pytest.fixture
def researcher(haringey: Team) -> Officer:
    return OfficerFactory(username="researcher-hy", first_name="Rae", last_name="Singh", rank=Rank.STAFF,
                          staff_number="S808", team=haringey, roles=["researcher"])


@pytest.fixture
def case(log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer,
         researcher: Officer) -> Case:
    built = build_case(log_referral, desk_sergeant, investigator, researcher)
    referral = built.referral
    with time_machine.travel(SECOND_PRE_CONFERENCE, tick=False):
        built.current_cram = complete_cram(
            referral, desk_sergeant, SECOND_PRE_CONFERENCE, "pre_conference", rating="high",
            yes=("weapon_injury", "suspect_access", "disability"), not_known=tuple(GAPS),
            measures=(MeasureInput(kind="cp_plan", owner_agency="Children's social care", status="active",
                                   factor_codes=["weapon_injury"]),
                      MeasureInput(kind="bail_conditions", owner_agency="Police", status="proposed",
                                   factor_codes=["suspect_access"])))
    later = SECOND_PRE_CONFERENCE + 5 * HOUR
    risk_services.systems_check_record(referral=referral, actor=researcher, now=later, system="pnc",
                                           result="New PNC result: arrested for assault.", checked_at=later - HOUR,
                                           anything_new=True)
    cris_gap = Answer.objects.get(assessment=built.current_cram, code="domestic_abuse")
    risk_services.systems_check_record(referral=referral, actor=researcher, now=later, system="cris",
                                           result="Two domestic incidents in 2025.", checked_at=later,
                                           anything_new=True, closes=[cris_gap])
    open_action = referral_services.action_create(referral=referral, actor=desk_sergeant, now=later,
                                                  description="Obtain the hospital notes", owner=investigator,
                                                  due_at=NOW + 3 * DAY)
    done_action = referral_services.action_create(referral=referral, actor=desk_sergeant, now=later,
                                                  description="Visit the nursery", owner=investigator,
                                                  due_at=NOW + DAY)
    referral_services.action_finish(action=done_action, actor=investigator, now=later + HOUR, status="done",
                                    note="Visited; manager spoken to.")
    assert open_action.is_open
    return built


# --- What the report says -----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_report_holds_the_current_cram_with_every_gap_present_factor_and_measure(case: Case) -> None:
    contents = report_contents(Meeting.objects.get(pk=case.review.pk), None)

    cram = contents["cram"]
    assert (cram["number"], cram["kind"], cram["rating"], cram["completed"]) == (
        case.current_cram.number, "Pre-conference", "High", "08/04/2026 10:00")
    gap_questions = set(Answer.objects.filter(assessment=case.current_cram, value="not_known")
                        .values_list("question", flat=True))
    assert len(gap_questions) == len(GAPS)
    assert {gap["question"] for gap in cram["gaps"]} == gap_questions
    assert len(cram["gaps"]) == len(GAPS)
    # The gap answered by the CRIS check since is still shown, marked closed, with the check that closes it.
    closed = {gap["question"]: (gap["closed"], gap["check"]) for gap in cram["gaps"]}
    assert closed["Is there domestic abuse in the household?"] == (True, "CRIS")
    assert sum(gap["closed"] for gap in cram["gaps"]) == 1
    present = {factor["question"]: (factor["unmanaged"], factor["contextual"]) for factor in cram["present"]}
    assert present == {
        "Was an injury caused with a weapon or implement?": (False, False),
        # Bail conditions are only proposed: the risk is unmanaged.
        "Does a suspect live with, or have unsupervised access to, the child?": (True, False),
        "Does the child have a disability or additional need?": (False, True),
    }
    assert cram["measures"] == [
        {"label": "Child protection plan", "agency": "Children's social care", "status": "Active"},
        {"label": "Bail conditions", "agency": "Police", "status": "Proposed"},
    ]


@time_machine.travel(NOW, tick=False)
def test_the_chronology_is_only_what_happened_since_the_previous_held_conference(case: Case) -> None:
    contents = report_contents(Meeting.objects.get(pk=case.review.pk), None)

    texts = [entry["text"] for entry in contents["chronology"]["entries"]]
    assert contents["since"] == "22/01/2026 10:00"
    assert "After the conference: suspect seen at the home." in texts
    assert "Before the conference: nursery reports new bruising." not in texts
    assert not any(text.startswith("Referral logged") for text in texts)
    expected = list(CaseLogEntry.objects.filter(referral=case.referral, occurred_at__gt=INITIAL)
                    .order_by("occurred_at", "number").values_list("number", flat=True))
    assert [entry["number"] for entry in contents["chronology"]["entries"]] == expected
    assert contents["chronology"]["more"] is False
    after = next(e for e in contents["chronology"]["entries"] if e["text"].startswith("After the conference"))
    assert (after["author"], after["kind"], after["when"]) == ("DC Ian Vance DC202", "Information",
                                                              "03/02/2026 09:00")


@time_machine.travel(NOW, tick=False)
def test_the_report_for_an_initial_conference_has_the_whole_chronology(log_referral: Callable[..., Referral],
                                                                       desk_sergeant: Officer,
                                                                       investigator: Officer) -> None:
    """No conference has been held before it (the strategy meeting is not a conference): everything
    since the referral is in."""
    referral = log_referral(now=REFERRED)
    record_meeting(referral, desk_sergeant, MeetingKind.STRATEGY_MEETING, STRATEGY)
    note(referral, investigator, "Early note.", STRATEGY + DAY)
    conference = schedule_conference(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, REVIEW, now=NOW)

    contents = report_contents(conference, None)

    texts = [entry["text"] for entry in contents["chronology"]["entries"]]
    assert contents["since"] == "the referral"
    assert texts[0].startswith("Referral logged")
    assert "Early note." in texts
    assert len(texts) == CaseLogEntry.objects.filter(referral=referral).count()


@time_machine.travel(NOW, tick=False)
def test_the_report_shows_the_latest_check_of_each_system_only(case: Case) -> None:
    contents = report_contents(Meeting.objects.get(pk=case.review.pk), None)

    checks = {check["system"]: (check["result"], check["new"], check["by"]) for check in contents["checks"]}
    assert checks == {
        "PNC": ("New PNC result: arrested for assault.", True, "Staff Rae Singh S808"),
        "CRIS": ("Two domestic incidents in 2025.", True, "Staff Rae Singh S808"),
    }


@time_machine.travel(NOW, tick=False)
def test_a_system_checked_long_ago_is_still_shown_after_many_checks_of_another(case: Case,
                                                                            researcher: Officer) -> None:
    """A long case with hundreds of PNC checks since its one MERLIN check still shows that MERLIN check."""
    first = SECOND_PRE_CONFERENCE - 60 * DAY
    SystemsCheck.objects.create(referral=case.referral, system="merlin", checked_by=researcher,
                                checked_by_label=researcher.display_name, checked_at=first, recorded_at=first,
                                result="One missing episode in 2024.", anything_new=True)
    SystemsCheck.objects.bulk_create([
        SystemsCheck(referral=case.referral, system="pnc", checked_by=researcher,
                     checked_by_label=researcher.display_name, checked_at=first + (index + 1) * HOUR,
                     recorded_at=first + (index + 1) * HOUR, result=f"Routine PNC check {index}.", anything_new=False)
        for index in range(250)])

    contents = report_contents(Meeting.objects.get(pk=case.review.pk), None)

    checks = {check["system"]: check["result"] for check in contents["checks"]}
    assert checks == {"PNC": "New PNC result: arrested for assault.", "CRIS": "Two domestic incidents in 2025.",
                      "MERLIN": "One missing episode in 2024."}
    # Newest first.
    assert [check["system"] for check in contents["checks"]] == ["CRIS", "PNC", "MERLIN"]


@time_machine.travel(NOW, tick=False)
def test_the_report_shows_police_attendance_with_ranks_at_earlier_held_meetings(case: Case,
                                                                               desk_sergeant: Officer) -> None:
    """Only those who attended; an earlier cancelled meeting and the conference itself are not listed."""
    cancelled = schedule_conference(case.referral, desk_sergeant, MeetingKind.CORE_GROUP, DIARY_DAY + 2 * DAY)
    services.meeting_cancel(meeting=cancelled, actor=desk_sergeant, now=DIARY_DAY + DAY, reason="Clash.")

    contents = report_contents(Meeting.objects.get(pk=case.review.pk), None)

    assert [(m["kind"], m["date"], m["police"]) for m in contents["earlier_meetings"]] == [
        ("Strategy meeting", "07/01/2026 10:00", ["DC Ian Vance", "DS Sue Perkins"]),
        ("Initial child protection conference", "22/01/2026 10:00", ["DC Pat Quinn"]),
    ]
    strategy = contents["earlier_meetings"][0]
    assert "Jo Bell (Children's social care)" in strategy["attended"]
    assert not any("Dee Ingram" in name for name in strategy["attended"])
    assert strategy["flags"] == ["No examining paediatrician at a strategy meeting about physical injury"]


@time_machine.travel(NOW, tick=False)
def test_the_report_lists_open_actions_only(case: Case) -> None:
    contents = report_contents(Meeting.objects.get(pk=case.review.pk), None)

    assert contents["open_actions"] == [
        {"description": "Obtain the hospital notes", "owner": "DC Ian Vance DC202", "due": "12/04/2026 10:00"},
    ]


@time_machine.travel(NOW, tick=False)
def test_the_report_carries_the_narrative_and_the_conference_details(case: Case, pclo: Officer) -> None:
    review = Meeting.objects.get(pk=case.review.pk)
    report = write(services.police_report_open(meeting=review, actor=pclo, now=NOW), pclo)

    contents = report_contents(review, report)

    assert contents["urn"] == case.referral.urn
    assert contents["conference"] == {
        "kind": "Review child protection conference", "date": "20/04/2026 10:00", "place": "Civic Centre",
        "chair": "Val Moore (Safeguarding and Quality Assurance)", "report_due": "13/04/2026 10:00"}
    assert contents["narrative"] == {
        "summary_of_concerns": "Bruising seen twice.", "police_involvement": "Joint visit and ABE interview.",
        "analysis": "Risk remains high while the suspect has access.",
        "recommendations": "A child protection plan."}
    assert [(person["name"], person["born"], person["role"]) for person in contents["children"]] == [
        ("Amara Okafor", "14/03/2019", "Victim"), ("Tobi Okafor", "02/06/2021", "Sibling"),
        ("Mark Dorsey", "09/01/1990", "Suspect")]


# --- Opening, saving and submitting -----------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_police_report_is_only_for_a_conference(case: Case, pclo: Officer) -> None:
    with pytest.raises(ValidationError, match="child protection conference"):
        services.police_report_open(meeting=case.strategy, actor=pclo, now=NOW)

    assert not PoliceReport.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_opening_a_report_twice_gives_the_same_report_and_one_log_entry(case: Case, pclo: Officer) -> None:
    first = services.police_report_open(meeting=case.review, actor=pclo, now=NOW)
    second = services.police_report_open(meeting=case.review, actor=pclo, now=NOW + HOUR)

    assert first.pk == second.pk
    assert PoliceReport.objects.get(pk=first.pk).status == ReportStatus.DRAFT
    assert CaseLogEntry.objects.filter(referral=case.referral, text__startswith="Police report opened").count() == 1


@time_machine.travel(NOW, tick=False)
def test_submitting_stores_the_snapshot_and_logs_it(case: Case, pclo: Officer) -> None:
    review = Meeting.objects.get(pk=case.review.pk)
    report = write(services.police_report_open(meeting=review, actor=pclo, now=NOW), pclo)
    contents = report_contents(review, report)

    services.police_report_submit(report=report, actor=pclo, now=NOW, submitted_to=" Val Moore, chair ",
                                  contents=contents)

    stored = PoliceReport.objects.get(pk=report.pk)
    assert (stored.status, stored.submitted_to, stored.submitted_at, stored.submitted_by_label) == (
        ReportStatus.SUBMITTED, "Val Moore, chair", NOW, "DC Priya Lal DC404")
    assert stored.pre_conference_assessment_id == case.current_cram.pk
    assert stored.snapshot == contents
    assert stored.snapshot["cram"]["rating"] == "High"
    entry = CaseLogEntry.objects.filter(referral=case.referral).order_by("-number").first()
    assert (entry.kind, entry.author_rank) == (CaseLogKind.MEETING, Rank.DC)
    assert entry.text == ("Police report for the review child protection conference of 20/04/2026 10:00 "
                          f"submitted to Val Moore, chair, with CRAM {case.current_cram.number}.")
    # The report clock of the conference is closed, on time (due Monday 13 April).
    clocks = services.conference_clocks(list(Meeting.objects.filter(referral=case.referral).order_by("starts_at")),
                                        {stored.meeting_id: stored}, team_id=case.referral.team_id)
    report_clock = next(clock for clock in clocks if clock.label == (
        "Police report and pre-conference CRAM for the review child protection conference of 20/04/2026"))
    assert (report_clock.due_at, report_clock.done_at, report_clock.is_late(NOW + 30 * DAY)) == (
        dt.datetime(2026, 4, 13, 9, 0, tzinfo=dt.UTC), NOW, False)


def test_a_report_submitted_after_its_due_date_says_so_in_the_case_log(case: Case, pclo: Officer) -> None:
    """Due Monday 13 April 10:00 BST; submitted a minute later."""
    late = dt.datetime(2026, 4, 13, 9, 1, tzinfo=dt.UTC)
    with time_machine.travel(late, tick=False):
        report = write(services.police_report_open(meeting=case.review, actor=pclo, now=late), pclo, late)
        services.police_report_submit(report=report, actor=pclo, now=late, submitted_to="Val Moore",
                                      contents=report_contents(case.review, report))

    assert "submitted to Val Moore (after its due date), with CRAM" in CaseLogEntry.objects.filter(
        referral=case.referral).order_by("-number").first().text


@time_machine.travel(NOW, tick=False)
def test_submitting_twice_and_saving_after_submission_are_refused(case: Case, pclo: Officer) -> None:
    report = write(services.police_report_open(meeting=case.review, actor=pclo, now=NOW), pclo)
    contents = report_contents(case.review, report)
    services.police_report_submit(report=report, actor=pclo, now=NOW, submitted_to="Val Moore", contents=contents)
    entries = case.referral.case_log.count()

    with pytest.raises(ValidationError, match="already been submitted"):
        services.police_report_submit(report=report, actor=pclo, now=NOW + HOUR, submitted_to="Someone else",
                                      contents={"changed": True})
    with pytest.raises(ValidationError, match="submitted and cannot be changed"):
        write(PoliceReport.objects.get(pk=report.pk), pclo, NOW + HOUR, summary="Rewritten after submission.")

    stored = PoliceReport.objects.get(pk=report.pk)
    assert (stored.submitted_to, stored.submitted_at, stored.summary_of_concerns, stored.updated_at) == (
        "Val Moore", NOW, "Bruising seen twice.", NOW)
    assert stored.snapshot == contents
    assert case.referral.case_log.count() == entries


@pytest.mark.parametrize(("summary", "recommendations"), [("", "A plan."), ("Bruising.", "  ")],
                         ids=["no summary", "no recommendations"])
@time_machine.travel(NOW, tick=False)
def test_a_report_without_summary_or_recommendations_cannot_be_submitted(case: Case, pclo: Officer, summary: str,
                                                                         recommendations: str) -> None:
    report = write(services.police_report_open(meeting=case.review, actor=pclo, now=NOW), pclo, summary=summary,
                   recommendations=recommendations)

    with pytest.raises(ValidationError, match="summary of concerns and the recommendations"):
        services.police_report_submit(report=report, actor=pclo, now=NOW, submitted_to="Val Moore",
                                      contents=report_contents(case.review, report))

    stored = PoliceReport.objects.get(pk=report.pk)
    assert (stored.status, stored.submitted_at, stored.snapshot) == (ReportStatus.DRAFT, None, None)


@time_machine.travel(NOW, tick=False)
def test_a_report_needs_somebody_to_submit_it_to(case: Case, pclo: Officer) -> None:
    report = write(services.police_report_open(meeting=case.review, actor=pclo, now=NOW), pclo)

    with pytest.raises(ValidationError) as refused:
        services.police_report_submit(report=report, actor=pclo, now=NOW, submitted_to=" ", contents={})

    assert "submitted_to" in refused.value.message_dict
    assert PoliceReport.objects.get(pk=report.pk).status == ReportStatus.DRAFT


@time_machine.travel(NOW, tick=False)
def test_a_pre_conference_cram_completed_before_the_previous_conference_does_not_count(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer, researcher: Officer,
        pclo: Officer) -> None:
    """The only pre-conference CRAM is the one done for the initial conference: the review's report is
    refused until a new one is completed, and then it is the new one the report names."""
    built = build_case(log_referral, desk_sergeant, investigator, researcher)
    report = write(services.police_report_open(meeting=built.review, actor=pclo, now=NOW), pclo)
    # A review CRAM (not a pre-conference one) since the initial conference does not count either.
    complete_cram(built.referral, desk_sergeant, NOW - DAY, "review")
    entries = built.referral.case_log.count()

    with pytest.raises(ValidationError, match="Complete the pre-conference CRAM for this conference"):
        services.police_report_submit(report=report, actor=pclo, now=NOW, submitted_to="Val Moore",
                                      contents=report_contents(built.review, report))
    assert PoliceReport.objects.get(pk=report.pk).status == ReportStatus.DRAFT
    assert built.referral.case_log.count() == entries

    fresh = complete_cram(built.referral, desk_sergeant, NOW + HOUR, "pre_conference")
    later = NOW + 2 * HOUR
    services.police_report_submit(report=report, actor=pclo, now=later, submitted_to="Val Moore",
                                  contents=report_contents(built.review, report))

    stored = PoliceReport.objects.get(pk=report.pk)
    assert (stored.status, stored.pre_conference_assessment_id) == (ReportStatus.SUBMITTED, fresh.pk)


@time_machine.travel(INITIAL - 2 * DAY, tick=False)
def test_a_report_for_an_initial_conference_needs_a_pre_conference_cram(log_referral: Callable[..., Referral],
                                                                        desk_sergeant: Officer,
                                                                        pclo: Officer) -> None:
    """The initial CRAM is not a pre-conference CRAM."""
    now = INITIAL - 2 * DAY
    referral = log_referral(now=REFERRED)
    complete_cram(referral, desk_sergeant, REFERRED + HOUR, "initial")
    conference = schedule_conference(referral, desk_sergeant, MeetingKind.INITIAL_CONFERENCE, INITIAL, now=now)
    report = write(services.police_report_open(meeting=conference, actor=pclo, now=now), pclo, now)

    with pytest.raises(ValidationError, match="Complete the pre-conference CRAM"):
        services.police_report_submit(report=report, actor=pclo, now=now, submitted_to="Val Moore", contents={})
    pre_conference = complete_cram(referral, desk_sergeant, now + HOUR, "pre_conference")
    services.police_report_submit(report=report, actor=pclo, now=now + 2 * HOUR, submitted_to="Val Moore",
                                  contents={})

    assert PoliceReport.objects.get(pk=report.pk).pre_conference_assessment_id == pre_conference.pk


# --- Query count ------------------------------------------------------------------------------------

# report_contents, given a meeting fetched on its own: the previous conference, the referral, its team,
# the people named, the CRAM (+ answers, their closing checks, measures), the chronology, the checks, the
# earlier meetings (+ attendance) and the open actions.
REPORT_QUERIES = 13


def grow(referral: Referral, desk_sergeant: Officer, investigator: Officer, researcher: Officer,
         times: int) -> None:
    """Add `times` earlier held meetings with attendance, checks of every system, actions and notes."""
    systems = ["pnc", "cris", "merlin", "visor", "ini_pnd", "social_care", "health", "education"]
    for index in range(times):
        moment = DIARY_DAY + (index + 2) * DAY
        record_meeting(referral, desk_sergeant, MeetingKind.CORE_GROUP, moment, [
            (f"Officer {index}", Rank.DC, "attended"), (f"Sergeant {index}", Rank.DS, "attended"),
            (f"Worker {index}", "", "attended"), (f"Absent {index}", Rank.DI, "apologies")])
        risk_services.systems_check_record(referral=referral, actor=researcher, now=moment,
                                               system=systems[index % len(systems)], result=f"Result {index}",
                                               checked_at=moment, anything_new=index % 2 == 0)
        referral_services.action_create(referral=referral, actor=desk_sergeant, now=moment, owner=investigator,
                                        description=f"Action {index}", due_at=NOW + (index + 1) * DAY)
        note(referral, investigator, f"Note {index}", moment + HOUR)


@pytest.mark.parametrize("extra", [1, 12], ids=["small case", "large case"])
def test_the_report_makes_the_same_number_of_queries_whatever_the_size_of_the_case(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer,
        researcher: Officer, pclo: Officer, django_assert_max_num_queries, extra: int) -> None:
    built = build_case(log_referral, desk_sergeant, investigator, researcher)
    grow(built.referral, desk_sergeant, investigator, researcher, extra)
    with time_machine.travel(SECOND_PRE_CONFERENCE, tick=False):
        complete_cram(built.referral, desk_sergeant, SECOND_PRE_CONFERENCE, "pre_conference", rating="high",
                      yes=("weapon_injury", "suspect_access"), not_known=tuple(GAPS[:1 + extra % 5]),
                      measures=tuple(MeasureInput(kind="other", description=f"Measure {i}", owner_agency="Police",
                                                  status="active", factor_codes=["weapon_injury"])
                                     for i in range(extra)))
    with time_machine.travel(NOW, tick=False):
        report = write(services.police_report_open(meeting=built.review, actor=pclo, now=NOW), pclo)
    review = Meeting.objects.get(pk=built.review.pk)
    report = PoliceReport.objects.get(pk=report.pk)

    with django_assert_max_num_queries(REPORT_QUERIES), CaptureQueriesContext(connection) as queries:
        contents = report_contents(review, report)

    assert len(queries) == REPORT_QUERIES
    assert len(contents["earlier_meetings"]) == 2 + extra
    assert len(contents["open_actions"]) == extra
