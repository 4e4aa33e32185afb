"""A supervisor downloads the referral list as Excel in Chromium, and a large export through its
progress page: the files open in openpyxl with the referrals the list shows."""
from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cram_site import exports
from cram_site.models import AuditEvent, ExportJob, ExportStatus
from referrals import services

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tasks_inline")]

PASSWORD = "correct-horse-battery"


def _sheet_urns(path: object) -> list[str]:
    # Playwright saves a download under a name without its extension, which openpyxl insists on.
    with open(path, "rb") as file:
        sheet = openpyxl.load_workbook(io.BytesIO(file.read())).active
    assert [cell.value for cell in sheet[1]][:3] == ["URN", "Received", "Team"]
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_a_supervisor_downloads_the_open_referrals_as_excel(page, live_server, log_referral, desk_sergeant,
                                                            investigator, supervisor) -> None:
    """Only the open referral is in the file of the "Open" list, and the export is audited."""
    now = timezone.now()
    waiting = log_referral()
    opened = log_referral()
    services.referral_assess(referral=opened, actor=desk_sergeant, now=now, urgency="routine",
                             route="police_investigation", rationale="Disclosure.", owner=investigator,
                             supervising_officer=supervisor)
    sign_in(page, live_server.url, "supervisor-hy", PASSWORD)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("link", name="Open", exact=True).click()
    expect(page.get_by_role("heading", name="Referrals: open")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download this table as Excel").click()
    download = download_info.value

    assert download.suggested_filename.startswith("referrals-open-") and download.suggested_filename.endswith(".xlsx")
    assert _sheet_urns(download.path()) == [opened.urn]
    assert waiting.urn not in _sheet_urns(download.path())
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == supervisor and event.additional_data["rows"] == 1


def test_a_large_export_shows_its_progress_then_downloads(page, live_server, log_referral, supervisor,
                                                          monkeypatch) -> None:
    """The job page waits, polls, and announces the file once the background job has written it."""
    monkeypatch.setattr(exports, "DIRECT_DOWNLOAD_LIMIT", 1)
    # No worker picks the job up until the test runs it, as a busy worker would.
    monkeypatch.setattr(exports, "_enqueue", lambda job_id: None)
    referrals = [log_referral(), log_referral()]
    sign_in(page, live_server.url, "supervisor-hy", PASSWORD)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("link", name="Download this table as Excel").click()

    expect(page.get_by_role("heading", name="Your export: Referrals: all referrals")).to_be_visible()
    expect(page.get_by_text("Waiting to start: 0 of 2 rows written (0%)")).to_be_visible()
    expect(page.get_by_role("link", name="Download Referrals: all referrals (Excel)")).to_have_count(0)

    job = ExportJob.objects.get()
    assert exports.export_job_run(job_id=job.pk, now=timezone.now()) == ExportStatus.DONE

    # The page's poll finds the job done, stops, and says so in its status region.
    expect(page.get_by_role("status")).to_contain_text("Your export is ready to download.")
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "100")
    expect(page.get_by_text("Finished: 2 of 2 rows written (100%)")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download Referrals: all referrals (Excel)").click()
    assert sorted(_sheet_urns(download_info.value.path())) == sorted(referral.urn for referral in referrals)
    stages = [event.additional_data["stage"] for event in
              AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("pk")]
    assert stages == ["requested", "downloaded"]
