"""An administrator imports a faulty legacy log in Chromium and reads why rows were rejected."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from referrals import legacy_import
from referrals.legacy_sample import write_sample
from referrals.models import ImportRun, ImportStatus, Referral

from ..factories import OfficerFactory
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__"), pytest.mark.usefixtures("tasks_inline")]

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _progress_connection_closed() -> Iterator[None]:
    # The import's second connection (PostgreSQL) must not outlive the test: the test database is
    # dropped at the end of the session.
    yield
    if legacy_import.PROGRESS_DATABASE in settings.DATABASES:
        connections[legacy_import.PROGRESS_DATABASE].close()


def test_the_administrator_uploads_a_faulty_log_and_reads_the_rejection_reasons(page, live_server, haringey, tmp_path):
    OfficerFactory(username="admin-hy", first_name="Lorraine", last_name="Mitchell", team=haringey,
                   roles=["administrator"])
    path = tmp_path / "legacy-log.csv"
    summary = write_sample(path, rows=30, faults=True)
    sign_in(page, live_server.url, "admin-hy", PASSWORD)
    page.goto(f"{live_server.url}/imports/")

    # When the administrator uploads the file for real
    page.get_by_label("Legacy referral log").set_input_files(str(path))
    page.get_by_label("Dry run: check every row, store nothing").uncheck()
    page.get_by_role("button", name="Upload and start").click()

    # Then the run page shows the counts and, row by row, why each rejected row was left out
    page.get_by_test_id("import-counts").wait_for()
    assert page.get_by_test_id("count-accepted").inner_text() == str(summary.accepted)
    assert page.get_by_test_id("count-rejected").inner_text() == str(summary.rejected)
    rejected = page.get_by_role("table", name="Rejected rows, by row number of the spreadsheet")
    assert "URN HY-17-00004 is repeated: it appears on an earlier row of this file" in rejected.inner_text()
    assert "Summary is missing." in rejected.inner_text()
    assert Referral.objects.filter(imported_from="legacy-log.csv").count() == summary.accepted

    # and the run is listed among the earlier runs
    page.get_by_role("link", name="All runs").click()
    assert "legacy-log.csv" in page.get_by_test_id("import-runs").inner_text()


def test_the_run_page_follows_a_running_import_and_announces_its_end(page, live_server, haringey):
    admin = OfficerFactory(username="admin-hy", team=haringey, roles=["administrator"])
    run = legacy_import.import_run_start(team=haringey, file_name="big-log.xlsx", dry_run=False, actor=admin,
                                         now=timezone.now())
    ImportRun.objects.filter(pk=run.pk).update(total_rows=50_000, processed_rows=12_000, accepted=11_000,
                                               rejected=1_000)
    sign_in(page, live_server.url, "admin-hy", PASSWORD)
    page.goto(f"{live_server.url}/imports/{run.pk}/")
    assert "Checking rows: 12000 of 50000 (24%)" in page.get_by_test_id("import-run-body").inner_text()

    # When the import ends (as a worker would record it)
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.DONE, processed_rows=50_000, accepted=45_000, rejected=5_000,
        rejections=[{"row": 12, "urn": "HY-16-00009", "reason": "URN HY-16-00009 is repeated."}])

    # Then, without a reload, the page shows the counts and the reason, and says so to a screen reader
    page.get_by_test_id("import-counts").wait_for(timeout=10_000)
    assert page.get_by_test_id("count-accepted").inner_text() == "45000"
    assert "URN HY-16-00009 is repeated." in page.get_by_test_id("rejections").inner_text()
    status = page.locator("#import-status")
    assert status.get_attribute("role") == "status"
    assert "The import has ended: imported. 45000 accepted, 0 already imported, 5000 rejected." in status.inner_text()
