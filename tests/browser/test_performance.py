"""The performance manager opens the dashboard for the last quarter, sees the trend charts, drills
into "initial conferences attended" and downloads the table as Excel, in Chromium."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conferences import services as conference_services
from conferences.models import AttendanceStatus, MeetingKind
from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank
from supervision.performance import add_months, this_month

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def _held_conference(log_referral, actor: Officer, starts_at: dt.datetime, *, police: bool) -> str:
    referral = log_referral(now=starts_at - dt.timedelta(days=3), received_at=starts_at - dt.timedelta(days=4))
    meeting = conference_services.meeting_create(
        referral=referral, actor=actor, now=timezone.now(), kind=MeetingKind.INITIAL_CONFERENCE, starts_at=starts_at,
        place="Civic Centre", chair_name="Jo Adeyemi", chair_agency="Safeguarding", held=True)
    conference_services.attendance_add(
        meeting=meeting, actor=actor, now=timezone.now(), name="Ian Vance", agency="Police", is_police=True,
        rank=Rank.DC, status=AttendanceStatus.ATTENDED if police else AttendanceStatus.APOLOGIES)
    return referral.urn


def test_performance_manager_drills_into_conferences_and_downloads_the_table(
        page, live_server, log_referral, desk_sergeant: Officer, performance_manager: Officer) -> None:
    # Given two initial conferences held last month, police at one of them
    last_month = add_months(this_month(timezone.now()), -1)
    month_label = f"{last_month:%b %Y}"
    held = dt.datetime.combine(last_month.replace(day=10), dt.time(10, 0), tzinfo=LONDON)
    attended = _held_conference(log_referral, desk_sergeant, held, police=True)
    missed = _held_conference(log_referral, desk_sergeant, held + dt.timedelta(days=1), police=False)

    # When the performance manager opens the dashboard for the last quarter
    sign_in(page, live_server.url, "performance-hy", PASSWORD)
    page.goto(f"{live_server.url}/performance/")
    page.get_by_role("link", name="Last quarter").click()

    # she sees the table and a trend chart of every measure
    expect(page.get_by_role("heading", name="Performance measures")).to_be_visible()
    expect(page.get_by_test_id("performance-table")).to_contain_text("Initial conferences attended")
    charts = page.locator('svg[role="img"]')
    expect(charts.first).to_be_visible()
    assert charts.count() >= 16
    expect(page.get_by_test_id("chart-initial-conferences-attended").locator("title").first).to_have_text(
        re.compile(r"^Initial conferences attended: percentage by month"))

    # and drills into last month's initial conferences attended
    page.get_by_role("link", name=f"Initial conferences attended, {month_label}: 1 of 2, 50%. Show the records").click()
    expect(page.get_by_role("heading", name="Initial conferences attended")).to_be_visible()
    expect(page.get_by_test_id("drill-summary")).to_contain_text("1 of 2 (50%) police attended")
    rows = page.get_by_test_id("drill-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=attended)).to_contain_text("Yes")
    expect(rows.filter(has_text=missed)).to_contain_text("No")

    # Then back on the dashboard she downloads the table as Excel, and it holds values, not formulas
    page.get_by_role("link", name="Performance measures").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the measures as Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    table = {row[0]: row for row in workbook.active.iter_rows(values_only=True)}
    headers = table["Measure"]
    column = headers.index(month_label)
    assert table["Initial conferences attended"][column:column + 2] == (1, 50)
    assert all(not (isinstance(cell, str) and cell.startswith("=")) for row in table.values() for cell in row)
