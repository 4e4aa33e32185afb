"""A PCLO finds next week's conference in the diary, writes the police report, is stopped until the
pre-conference CRAM is done, submits it and downloads the PDF, in Chromium."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conferences import services as conference_services
from conferences.models import MeetingKind, PoliceReport, ReportStatus
from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank
from referrals.models import Referral
from risk import services as risk_services

from ..factories import OfficerFactory
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
REFUSAL = "Complete the pre-conference CRAM for this conference before submitting the report."


def _complete_cram(referral: Referral, actor: Officer, kind: str) -> None:
    """A CRAM through the services (the catalogue is made on the first start: the flush removed it)."""
    now = timezone.now()
    assessment = risk_services.assessment_start(referral=referral, kind=kind, actor=actor, now=now)
    answers = {answer.code: risk_services.AnswerInput("no") for answer in assessment.answers.all()}
    answers |= {"previous_injuries": risk_services.AnswerInput("not_known"),
                "domestic_abuse": risk_services.AnswerInput("not_known"),
                "weapon_injury": risk_services.AnswerInput("yes")}
    risk_services.assessment_save(
        assessment=assessment, actor=actor, now=now, complete=True,
        data=risk_services.AssessmentInput(revision=assessment.revision, answers=answers, rating="high",
                                           rating_rationale="A weapon was used on a young child."))


def _wednesday_next_week() -> dt.datetime:
    today = timezone.now().astimezone(LONDON).date()
    wednesday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=9)
    return dt.datetime.combine(wednesday, dt.time(10, 0), tzinfo=LONDON)


def test_pclo_writes_submits_and_downloads_the_police_report(page, live_server, log_referral, desk_sergeant,
                                                             haringey) -> None:
    """The report is refused without a pre-conference CRAM, then submitted, and the PDF downloads."""
    # Given a referral with an initial CRAM and an initial conference next Wednesday
    pclo = OfficerFactory(username="pclo-hy", first_name="Priya", last_name="Lowe", rank=Rank.DC,
                          staff_number="DC808", team=haringey, roles=["pclo"])
    referral = log_referral()
    _complete_cram(referral, desk_sergeant, "initial")
    meeting = conference_services.meeting_create(
        referral=referral, actor=desk_sergeant, now=timezone.now(), kind=MeetingKind.INITIAL_CONFERENCE,
        starts_at=_wednesday_next_week(), place="Civic Centre, Room 4", chair_name="Jo Adeyemi",
        chair_agency="Safeguarding", police_attendee=pclo)

    # When the PCLO signs in, she starts at the diary, and next week holds the conference
    sign_in(page, live_server.url, "pclo-hy", PASSWORD)
    expect(page.get_by_role("heading", name="Conference diary")).to_be_visible()
    expect(page.get_by_test_id("diary")).not_to_contain_text(referral.urn)
    page.get_by_role("link", name="Next week →").click()
    row = page.locator(f"tr[data-meeting='{meeting.pk}']")
    expect(row).to_contain_text("Initial child protection conference")
    expect(row).to_contain_text(pclo.display_name)
    row.get_by_role("link", name=f"Police report for {referral.urn}: Not started").click()

    # The report shows what it will say before it is opened
    expect(page.get_by_test_id("report-rating")).to_have_text("High")
    expect(page.get_by_test_id("report-gaps")).to_contain_text("Has the child had previous injuries or referrals?")
    expect(page.get_by_test_id("report-gaps")).to_contain_text("Is there domestic abuse in the household?")
    page.get_by_role("button", name="Open the report").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Draft")

    # She writes the narrative
    page.get_by_label("Summary of police concerns").fill("An injury with a belt to a five-year-old.")
    page.get_by_label("Police involvement since the last conference").fill("Suspect arrested and bailed.")
    page.get_by_label("Analysis of risk").fill("High while the suspect's access is unmanaged.")
    page.get_by_label("Recommendations").fill("A child protection plan under physical abuse.")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_label("Summary of police concerns")).to_have_value("An injury with a belt to a five-year-old.")

    # and tries to submit it: refused until the pre-conference CRAM is done
    expect(page.get_by_label("Submit the report to")).to_have_value("Jo Adeyemi (Safeguarding)")
    page.get_by_role("button", name="Submit the report").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(REFUSAL)
    expect(alert.get_by_role("link", name=re.compile("CRAM tab"))).to_have_attribute(
        "href", f"/referrals/{referral.urn}/cram/")
    assert PoliceReport.objects.get(meeting=meeting).status == ReportStatus.DRAFT

    # When the pre-conference CRAM is completed, the report goes in
    _complete_cram(referral, pclo, "pre_conference")
    page.get_by_role("button", name="Submit the report").click()
    expect(page.get_by_test_id("report-status")).to_contain_text("Submitted to Jo Adeyemi (Safeguarding) on")
    expect(page.get_by_role("button", name="Submit the report")).to_have_count(0)
    expect(page.get_by_text("An injury with a belt to a five-year-old.")).to_be_visible()
    assert PoliceReport.objects.get(meeting=meeting).status == ReportStatus.SUBMITTED

    # and the PDF downloads
    pdf_href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{pdf_href}")
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # And the diary shows the report as submitted
    page.get_by_role("link", name="Conference diary").click()
    page.get_by_role("link", name="Next week →").click()
    expect(page.locator(f"tr[data-meeting='{meeting.pk}']")).to_contain_text("Submitted")
