"""The police report for a conference: what it shows, the pre-conference CRAM it needs before it
can be submitted, the submitted report that never changes, its PDF and who may reach it."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from conferences import services as conference_services
from conferences.models import Meeting, MeetingKind, PoliceReport, ReportStatus
from conferences.pdf import PDF_BASE_URL, StaticFilesFetcher
from cram_site.models import AuditEvent, Officer, Rank, Team
from referrals import services as referral_services
from referrals.models import CaseLogEntry, CaseLogKind, Referral
from risk import services as risk_services
from risk.models import Assessment

from ..factories import OfficerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # a Tuesday
CONFERENCE_AT = dt.datetime(2026, 3, 19, 10, 0, tzinfo=dt.UTC)  # Thursday of next week
GAP_CODES = ("previous_injuries", "domestic_abuse", "suspect_violence")
CHRONOLOGY_TEXT = "Home visit with the social worker: Amara seen alone, bruise photographed."
CHECK_RESULT = "PNC: suspect cautioned for assault in 2019."
REFUSAL = "Complete the pre-conference CRAM for this conference before submitting the report."


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pclo(haringey: Team) -> Officer:
    return OfficerFactory(username="pclo-hy", first_name="Priya", last_name="Lowe", rank=Rank.DC,
                          staff_number="DC808", team=haringey, roles=["pclo"])


def complete_cram(referral: Referral, actor: Officer, *, kind: str, gaps: tuple[str, ...] = GAP_CODES,
                  present: tuple[str, ...] = ("weapon_injury",), rating: str = "high",
                  measures: list[risk_services.MeasureInput] | None = None) -> Assessment:
    """Start and complete a CRAM through the services: every factor answered."""
    assessment = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=NOW)
    answers = {answer.code: risk_services.AnswerInput("no") for answer in assessment.answers.all()}
    answers |= {code: risk_services.AnswerInput("not_known") for code in gaps}
    answers |= {code: risk_services.AnswerInput("yes") for code in present}
    risk_services.assessment_save(
        assessment=assessment, actor=actor, now=NOW, complete=True,
        data=risk_services.AssessmentInput(revision=assessment.revision, answers=answers, measures=measures or [],
                                           rating=rating, rating_rationale="Weapon used on a young child."))
    return assessment


def schedule_conference(referral: Referral, actor: Officer, *, starts_at: dt.datetime = CONFERENCE_AT,
                        kind: str = MeetingKind.INITIAL_CONFERENCE) -> Meeting:
    return conference_services.meeting_create(
        referral=referral, actor=actor, now=NOW, kind=kind, starts_at=starts_at, place="Civic Centre, Room 4",
        chair_name="Jo Adeyemi", chair_agency="Safeguarding and Quality Assurance", police_attendee=actor)


@dataclass
class Case:
    referral: Referral
    meeting: Meeting

    @property
    def report_url(self) -> str:
        return reverse("conferences:report", args=[self.referral.urn, self.meeting.pk])

    @property
    def print_url(self) -> str:
        return reverse("conferences:report_print", args=[self.referral.urn, self.meeting.pk])

    @property
    def pdf_url(self) -> str:
        return reverse("conferences:report_pdf", args=[self.referral.urn, self.meeting.pk])


@pytest.fixture
def case(log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer,
         pclo: Officer) -> Case:
    """A referral with an initial CRAM (three gaps, a weapon injury), a check, a case-log entry and
    an initial conference next week; no pre-conference CRAM yet."""
    referral = log_referral()
    complete_cram(referral, desk_sergeant, kind="initial")
    referral_services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, actor=investigator,
                                      now=NOW, text=CHRONOLOGY_TEXT)
    risk_services.systems_check_record(referral=referral, actor=investigator, now=NOW, system="pnc",
                                       result=CHECK_RESULT, checked_at=NOW - dt.timedelta(hours=1),
                                       anything_new=True)
    return Case(referral, schedule_conference(referral, pclo))


def _text(response) -> str:
    """The page as a reader sees its characters (apostrophes and ampersands unescaped)."""
    return html.unescape(response.content.decode())


def _open_and_write(client, case: Case) -> PoliceReport:
    client.post(case.report_url, {"intent": "open"})
    client.post(case.report_url, {"intent": "save", "summary_of_concerns": "A weapon was used on a five-year-old.",
                                  "police_involvement": "Suspect interviewed under caution.",
                                  "analysis": "Risk remains high while the suspect has access.",
                                  "recommendations": "A child protection plan under physical abuse."})
    return PoliceReport.objects.get(meeting=case.meeting)


# --- What the report shows ------------------------------------------------------------------------

def test_report_page_shows_rating_every_gap_the_chronology_and_the_latest_checks(client, case: Case, pclo) -> None:
    """Before the report is even opened, the PCLO sees what it will say: the current CRAM's rating and
    every one of its intelligence gaps, the chronology since the referral and the latest checks."""
    client.force_login(pclo)

    response = client.get(case.report_url)

    page = _text(response)
    current = Assessment.objects.completed().get(referral=case.referral)
    gaps = list(current.answers.filter(value="not_known").order_by("section", "position"))
    assert len(gaps) == len(GAP_CODES)
    assert "High" in re.search(r'data-testid="report-rating">([^<]+)<', page)[1]
    for gap in gaps:
        assert gap.question in page
    assert CHRONOLOGY_TEXT in page
    assert CHECK_RESULT in page
    assert "Was an injury caused with a weapon or implement?" in page
    assert "unmanaged risk" in page
    assert "Not opened" in page and "Open the report" in page
    # Reading the page writes nothing.
    assert not PoliceReport.objects.filter(meeting=case.meeting).exists()


def test_opening_and_saving_the_report_writes_a_draft_and_a_case_log_entry(client, case: Case, pclo) -> None:
    client.force_login(pclo)

    report = _open_and_write(client, case)

    assert report.status == ReportStatus.DRAFT
    assert report.summary_of_concerns == "A weapon was used on a five-year-old."
    assert CaseLogEntry.objects.filter(referral=case.referral, text__startswith="Police report opened").count() == 1
    page = _text(client.get(case.report_url))
    assert re.search(r'data-testid="report-status">Draft<', page)
    assert "Suspect interviewed under caution." in page  # back in the narrative form


def test_report_shows_its_deadline_and_says_when_it_is_late(client, case: Case, pclo) -> None:
    """The report for an initial conference is due two working days before it; after that it is late."""
    client.force_login(pclo)
    due = case.meeting.report_due_at
    assert due is not None and due < CONFERENCE_AT

    on_time = _text(client.get(case.report_url))
    with time_machine.travel(due + dt.timedelta(minutes=1), tick=False):
        client.force_login(pclo)  # a shift's session has long expired by then
        late = _text(client.get(case.report_url))

    due_cell = re.compile(r'data-testid="report-due">(.*?)</dd>', re.S)
    assert "late" not in due_cell.search(on_time)[1]
    assert "late" in due_cell.search(late)[1]


# --- Submitting ----------------------------------------------------------------------------------

def test_submitting_without_a_pre_conference_cram_is_refused_and_the_report_stays_draft(client, case: Case,
                                                                                       pclo) -> None:
    client.force_login(pclo)
    _open_and_write(client, case)

    response = client.post(case.report_url, {"intent": "submit", "submitted_to": "Jo Adeyemi (chair)"})

    assert response.status_code == 400
    page = _text(response)
    assert REFUSAL in page
    assert reverse("risk:cram", args=[case.referral.urn]) in page
    report = PoliceReport.objects.get(meeting=case.meeting)
    assert report.status == ReportStatus.DRAFT and report.snapshot is None and report.submitted_at is None


def test_after_the_pre_conference_cram_the_report_is_submitted_logged_and_kept_as_submitted(
        client, case: Case, pclo, desk_sergeant, investigator) -> None:
    """Submission records to whom and when, writes the case log, and the page then shows the report
    exactly as submitted, whatever is added to the case afterwards."""
    client.force_login(pclo)
    _open_and_write(client, case)
    pre_conference = complete_cram(case.referral, pclo, kind="pre_conference", gaps=GAP_CODES[:2])

    response = client.post(case.report_url, {"intent": "submit", "submitted_to": "Jo Adeyemi (chair)"})

    assert response.status_code == 302
    report = PoliceReport.objects.get(meeting=case.meeting)
    assert report.status == ReportStatus.SUBMITTED
    assert report.submitted_to == "Jo Adeyemi (chair)" and report.submitted_at == NOW
    assert report.pre_conference_assessment == pre_conference
    entry = CaseLogEntry.objects.filter(referral=case.referral).order_by("-number").first()
    assert entry.text.startswith("Police report for the initial child protection conference of")
    assert "submitted to Jo Adeyemi (chair)" in entry.text and f"CRAM {pre_conference.number}" in entry.text
    before = _text(client.get(case.report_url))
    assert "Submitted to Jo Adeyemi (chair) on 10 Mar 2026 10:00" in before
    assert "Save the draft" not in before and "Submit the report" not in before

    # When the case moves on: a new entry, a new check and a fresh CRAM with a different rating
    referral_services.case_log_append(referral=case.referral, kind=CaseLogKind.INFORMATION, actor=investigator,
                                      now=NOW, text="Entry written after the report went to the chair.")
    risk_services.systems_check_record(referral=case.referral, actor=investigator, now=NOW, system="cris",
                                       result="CRIS check made after submission.", checked_at=NOW,
                                       anything_new=False)
    complete_cram(case.referral, desk_sergeant, kind="change", gaps=(), present=(), rating="standard")

    after = _text(client.get(case.report_url))
    assert "Entry written after the report went to the chair." not in after
    assert "CRIS check made after submission." not in after
    assert re.search(r'data-testid="report-rating">([^<]+)<', after)[1] == "High"
    for code in GAP_CODES[:2]:
        question = case.referral.assessments.get(number=pre_conference.number).answers.get(code=code).question
        assert question in after
    assert CHRONOLOGY_TEXT in after
    # And a second submission is refused
    again = client.post(case.report_url, {"intent": "submit", "submitted_to": "Someone else"})
    assert "already been submitted" in _text(again)
    assert PoliceReport.objects.get(pk=report.pk).submitted_to == "Jo Adeyemi (chair)"
    # and so is a change to its narrative
    changed = client.post(case.report_url, {"intent": "save", "summary_of_concerns": "Rewritten afterwards.",
                                            "recommendations": "None."}, follow=True)
    assert "This report has been submitted and cannot be changed." in _text(changed)
    assert PoliceReport.objects.get(pk=report.pk).summary_of_concerns == "A weapon was used on a five-year-old."


def test_an_officer_without_the_pclo_role_reads_the_report_but_cannot_write_it(client, case: Case,
                                                                               investigator) -> None:
    client.force_login(investigator)

    page = _text(client.get(case.report_url))
    refused = client.post(case.report_url, {"intent": "open"})

    assert CHRONOLOGY_TEXT in page and "Open the report" not in page
    assert refused.status_code == 403
    assert not PoliceReport.objects.filter(meeting=case.meeting).exists()


# --- Print and PDF --------------------------------------------------------------------------------

def test_print_page_uses_the_print_stylesheet_and_shows_the_report(client, case: Case, pclo) -> None:
    client.force_login(pclo)
    _open_and_write(client, case)

    page = _text(client.get(case.print_url))

    assert "/static/css/report_print.css" in page
    assert "bootstrap" not in page
    assert "A weapon was used on a five-year-old." in page and CHRONOLOGY_TEXT in page


def test_pdf_is_a_marked_paginated_report_with_the_urn_on_every_page(client, case: Case, pclo,
                                                                     investigator) -> None:
    """Long enough to run to several pages; each page is marked, numbered and carries the URN."""
    for number in range(40):
        referral_services.case_log_append(referral=case.referral, kind=CaseLogKind.INFORMATION,
                                          actor=investigator, now=NOW,
                                          text=f"Entry {number}: contact with the school about attendance.")
    client.force_login(pclo)
    _open_and_write(client, case)

    response = client.get(case.pdf_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{case.referral.urn}-police-report.pdf"'
    assert response.content.startswith(b"%PDF")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "OFFICIAL-SENSITIVE" in text, number
        assert case.referral.urn in text, number
        assert f"Page {number} of {len(pages)}" in text, number
    whole = " ".join(" ".join(text.split()) for text in pages)
    assert "Page 1 of" in whole
    assert "High" in whole
    for code in GAP_CODES:
        question = Assessment.objects.completed().get(referral=case.referral).answers.get(code=code).question
        assert question in whole, question
    export = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).get()
    assert export.actor == pclo and export.referral_id == case.referral.pk


def test_the_pdf_fetcher_serves_only_the_apps_static_files() -> None:
    fetcher = StaticFilesFetcher()

    served = fetcher.fetch("/static/css/cram.css")

    assert served.read() == open(finders.find("css/cram.css"), "rb").read()
    assert served.content_type == "text/css"
    for refused in ("http://example.com/x.png", "file:///etc/passwd", f"{PDF_BASE_URL}static/../manage.py",
                    f"{PDF_BASE_URL}static/%2e%2e/manage.py", f"{PDF_BASE_URL}media/x.png",
                    "data:text/css,body{}", f"{PDF_BASE_URL}static/css/nothing-here.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(refused)


# --- Who may see it --------------------------------------------------------------------------------

def test_another_team_gets_not_found_on_every_report_address(client, case: Case, other_team_sergeant) -> None:
    client.force_login(other_team_sergeant)

    for url in (case.report_url, case.print_url, case.pdf_url):
        assert client.get(url).status_code == 404, url
    assert client.post(case.report_url, {"intent": "open"}).status_code == 404
    assert not PoliceReport.objects.filter(meeting=case.meeting).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_a_meeting_that_is_not_a_conference_has_no_report(client, case: Case, pclo) -> None:
    strategy = conference_services.meeting_create(
        referral=case.referral, actor=pclo, now=NOW, kind=MeetingKind.STRATEGY_MEETING,
        starts_at=NOW + dt.timedelta(days=1), place="Police station", chair_name="DS Perkins", chair_agency="Police")
    client.force_login(pclo)

    assert client.get(reverse("conferences:report", args=[case.referral.urn, strategy.pk])).status_code == 404


# --- Query counts ------------------------------------------------------------------------------------

REPORT_PAGE_MOST_QUERIES = 25


def _worked_case(log_referral, cast: dict[str, Officer], *, size: int) -> Case:
    """A case that grows with `size`: CRAMs, checks, case-log entries, actions and earlier meetings
    with attendance, then a conference with an open draft report."""
    referral = log_referral()
    for round_number in range(size):
        complete_cram(referral, cast["desk"], kind="initial" if round_number == 0 else "review",
                      measures=[risk_services.MeasureInput(kind="safety_plan", owner_agency="Social care",
                                                           status="active", factor_codes=["weapon_injury"])])
        risk_services.systems_check_record(referral=referral, actor=cast["investigator"], now=NOW,
                                           system=["pnc", "cris", "merlin", "visor"][round_number % 4],
                                           result=f"Check {round_number}.", checked_at=NOW, anything_new=False)
        referral_services.action_create(referral=referral, actor=cast["desk"], now=NOW, owner=cast["investigator"],
                                        due_at=NOW + dt.timedelta(days=3), description=f"Action {round_number}")
        meeting = conference_services.meeting_create(
            referral=referral, actor=cast["pclo"], now=NOW, kind=MeetingKind.CORE_GROUP,
            starts_at=NOW - dt.timedelta(days=round_number + 1), place="School", chair_name="Chair",
            chair_agency="Social care", held=True)
        conference_services.attendance_add(meeting=meeting, actor=cast["pclo"], now=NOW, name="DC Lowe",
                                           agency="Police", status="attended", is_police=True, rank=Rank.DC)
        conference_services.attendance_add(meeting=meeting, actor=cast["pclo"], now=NOW, name="Kay Mensah",
                                           agency="Social care", status="attended")
    case = Case(referral, schedule_conference(referral, cast["pclo"]))
    conference_services.police_report_open(meeting=case.meeting, actor=cast["pclo"], now=NOW)
    return case


def test_report_page_queries_do_not_grow_with_the_case(client, log_referral, desk_sergeant, investigator, pclo,
                                                       django_assert_max_num_queries) -> None:
    cast = {"desk": desk_sergeant, "investigator": investigator, "pclo": pclo}
    small, large = _worked_case(log_referral, cast, size=1), _worked_case(log_referral, cast, size=4)
    client.force_login(pclo)
    client.get(small.report_url)  # fills the content-type cache

    counts = []
    for case in (small, large):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(case.report_url)
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1], "the report page's queries grew with the case"
    with django_assert_max_num_queries(REPORT_PAGE_MOST_QUERIES):
        page = _text(client.get(large.report_url))
    assert "Check 3." in page and "Action 3" in page and "DC Lowe" in page
