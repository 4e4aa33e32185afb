"""Exports to CSV and Excel: formula-looking cells are escaped and Excel holds text as text; a file
holds exactly what its page shows to that officer; refusals are refused and audited; every export
is audited with its row count; a large export goes through a job only its officer can collect; the
writers take constant memory; and the pages make a fixed number of queries."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.urls import reverse

from cram_site import exports
from cram_site.celery import app
from cram_site.exports import ExportTable, escape_cell, export_job_run, export_jobs_tidy, write_csv, write_xlsx
from cram_site.models import AuditEvent, ExportFormat, ExportJob, ExportStatus, Officer, Team
from referrals import services
from referrals.models import Referral
from referrals.views import REFERRAL_FILTERS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_inline")]

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London (GMT)
HOUR = dt.timedelta(hours=1)
DANGEROUS = ["=1+1", "+44 20 7946 0000", "-2+3", "@SUM(A1:A2)", "\tTabbed", "\rReturned"]
HARMLESS = "Amara Okafor"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Cases:
    awaiting: Referral       # new, on the desk
    investigation: Referral  # open, owned by the investigator
    unallocated: Referral    # open, social services only, no officer
    formula_child: Referral  # a child whose name a spreadsheet would run as a formula
    enfield: Referral        # another team's


@pytest.fixture
def cases(log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer,
          supervisor: Officer, other_team_sergeant: Officer, enfield: Team) -> Cases:
    awaiting = log_referral(received_at=NOW - 1 * HOUR)
    investigation = log_referral(received_at=NOW - 2 * HOUR, people=[
        services.PersonDetails(role="victim", first_name="Grace", last_name="Mensah", date_of_birth=dt.date(2018, 5, 1))])
    services.referral_assess(referral=investigation, actor=desk_sergeant, now=NOW, urgency="routine",
                             route="police_investigation", rationale="Disclosure at school.", owner=investigator,
                             supervising_officer=supervisor)
    unallocated = log_referral(received_at=NOW - 3 * HOUR, people=[
        services.PersonDetails(role="victim", first_name="Noah", last_name="Clarke", date_of_birth=dt.date(2017, 1, 2))])
    services.referral_assess(referral=unallocated, actor=desk_sergeant, now=NOW, urgency="routine",
                             route="social_services_only", rationale="Neglect; social care lead.", owner=None,
                             supervising_officer=None)
    formula_child = log_referral(received_at=NOW - 4 * HOUR, people=[
        services.PersonDetails(role="victim", first_name='=HYPERLINK("http://evil.example")', last_name="Smith",
                               date_of_birth=dt.date(2016, 2, 3))])
    enfield_referral = services.referral_log(
        team=enfield, actor=other_team_sergeant, now=NOW, received_at=NOW - 30 * dt.timedelta(minutes=1),
        channel="email", source_agency="Enfield social care", allegation_category="neglect",
        summary="Enfield summary.", people=[services.PersonDetails(role="victim", first_name="Evie",
                                                                   last_name="Enfieldson")])
    for referral in (awaiting, investigation, unallocated, formula_child, enfield_referral):
        referral.refresh_from_db()
    return Cases(awaiting, investigation, unallocated, formula_child, enfield_referral)


def _download(client: object, source: str, fmt: str, query: str = "") -> object:
    return client.get(reverse("exports:download", args=[source, fmt]) + (f"?{query}" if query else ""))


def _csv_rows(response: object) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff"), "a CSV for Excel starts with a byte-order mark"
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx_sheet(content: bytes) -> object:
    return openpyxl.load_workbook(io.BytesIO(content)).active


def _xlsx_rows(response: object) -> list[list[object]]:
    assert response.status_code == 200, response.status_code
    return [list(row) for row in _xlsx_sheet(b"".join(response.streaming_content)).iter_rows(values_only=True)]


def _exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("pk"))


# --- Cells: formulas escaped, text kept as text, times in London ------------------------------------

@pytest.mark.parametrize("value", DANGEROUS)
def test_a_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(value: str) -> None:
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", [HARMLESS, "HY-26-00001", "", 5, -3, 2.5, Decimal("-1.5"), None, True])
def test_a_harmless_value_and_any_number_pass_through_unchanged(value: object) -> None:
    assert escape_cell(value) == value


def _mixed_table(rows: list[list[object]] | None = None) -> ExportTable:
    rows = rows if rows is not None else [[value, index] for index, value in enumerate([*DANGEROUS, HARMLESS])]
    return ExportTable(title="Cells: a test [of] escaping/formulas", headers=["Value", "Number"], rows=iter(rows),
                       total_rows=len(rows))


def test_csv_escapes_each_formula_prefix_and_leaves_a_harmless_text_alone() -> None:
    file = io.StringIO(newline="")
    assert write_csv(_mixed_table(), file) == len(DANGEROUS) + 1
    rows = list(csv.reader(io.StringIO(file.getvalue())))
    assert rows[0] == ["Value", "Number"]
    assert [row[0] for row in rows[1:]] == ["'" + value for value in DANGEROUS] + [HARMLESS]
    assert [row[1] for row in rows[1:]] == [str(index) for index in range(len(DANGEROUS) + 1)]


def test_excel_holds_every_formula_looking_text_as_text_with_an_apostrophe(tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    write_xlsx(_mixed_table([[value, -index] for index, value in enumerate([*DANGEROUS, HARMLESS, "#N/A"])]), path)
    sheet = openpyxl.load_workbook(path).active
    values = [cell for cell in sheet["A"][1:]]
    for cell, expected in zip(values, DANGEROUS, strict=False):
        assert cell.data_type == "s"
        # XML reads a carriage return back as a line feed; what matters is the apostrophe before it.
        assert cell.value == "'" + expected.replace("\r", "\n")
    assert values[len(DANGEROUS)].value == HARMLESS and values[len(DANGEROUS)].data_type == "s"
    assert values[-1].value == "#N/A" and values[-1].data_type == "s", "an error code stays a text"
    numbers = [cell for cell in sheet["B"][1:]]
    assert [cell.value for cell in numbers] == [-index for index in range(len(DANGEROUS) + 2)]
    assert {cell.data_type for cell in numbers} == {"n"}
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    # And the file itself holds no formula element anywhere: Excel opens it with values only.
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_excel_has_a_bold_heading_a_legal_sheet_title_and_sized_columns(tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    write_xlsx(_mixed_table(), path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value == "Value" and sheet["A1"].font.bold
    assert sheet.title.startswith("Cells") and len(sheet.title) <= 31
    assert not set(sheet.title) & set("\\*?:/[]")
    assert sheet.column_dimensions["A"].width >= len("+44 20 7946 0000")
    assert sheet.freeze_panes == "A2"


def test_times_are_written_in_london_time_without_a_zone() -> None:
    """09:00 UTC in July is 10:00 in London (BST); in January it is 09:00 (GMT)."""
    summer = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
    winter = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    table = lambda: ExportTable(title="Times", headers=["When", "Day", "Flag"],  # noqa: E731
                                rows=iter([[summer, dt.date(2026, 7, 1), True], [winter, None, False]]), total_rows=2)
    file = io.StringIO(newline="")
    write_csv(table(), file)
    assert list(csv.reader(io.StringIO(file.getvalue())))[1:] == [["2026-07-01 10:00", "2026-07-01", "Yes"],
                                                                  ["2026-01-15 09:00", "", "No"]]
    target = io.BytesIO()
    write_xlsx(table(), target)
    sheet = _xlsx_sheet(target.getvalue())
    assert sheet["A2"].value == dt.datetime(2026, 7, 1, 10, 0)
    assert sheet["A2"].number_format == exports.DATETIME_FORMAT
    assert sheet["A3"].value == dt.datetime(2026, 1, 15, 9, 0)
    assert sheet["B2"].value == dt.datetime(2026, 7, 1, 0, 0) and sheet["B2"].number_format == exports.DATE_FORMAT
    assert sheet["C2"].value == "Yes"


# --- Constant memory ------------------------------------------------------------------------------

ROWS = 50_000


class CountedRows:
    """A generator of rows that counts how many have been produced so far."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.produced = 0

    def __iter__(self) -> Iterator[list[object]]:
        for index in range(self.count):
            self.produced += 1
            yield [f"HY-26-{index:05d}", f"Child number {index} of a long export", index, NOW]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_writers_consume_fifty_thousand_rows_lazily(fmt: str, tmp_path: Path) -> None:
    """At every progress call the writer has read at most the rows written (plus the Excel writer's
    look-ahead for column widths): it never gathers the rows first."""
    rows = CountedRows(ROWS)
    table = ExportTable(title="Long", headers=["URN", "Child", "Number", "When"], rows=iter(rows), total_rows=ROWS)
    read_ahead: list[int] = []

    def progress(rows_written: int) -> None:
        read_ahead.append(rows.produced - rows_written)

    if fmt == "csv":
        with open(tmp_path / "long.csv", "w", newline="", encoding="utf-8") as file:
            written = write_csv(table, file, progress=progress, every=1_000)
        allowed = 0
    else:
        written = write_xlsx(table, tmp_path / "long.xlsx", progress=progress, every=1_000)
        allowed = exports._WIDTH_SAMPLE
    assert written == ROWS == rows.produced
    assert len(read_ahead) == ROWS // 1_000 + 1
    assert max(read_ahead) <= allowed


def _peak_memory(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_writers_memory_does_not_grow_with_the_rows(fmt: str, tmp_path: Path) -> None:
    """Writing twenty thousand rows takes a small fraction of the memory of holding them at once
    (tracing memory slows the writers down, hence fewer rows than above)."""
    count = 20_000
    table = ExportTable(title="Long", headers=["URN", "Child", "Number", "When"], rows=iter(CountedRows(count)),
                        total_rows=count)
    # A first small file, so the modules the writer imports are not counted as its memory.
    write_xlsx(_mixed_table(), tmp_path / "warm-up.xlsx")

    def write() -> None:
        if fmt == "csv":
            with open(tmp_path / "long.csv", "w", newline="", encoding="utf-8") as file:
                write_csv(table, file)
        else:
            write_xlsx(table, tmp_path / "long.xlsx")

    held = _peak_memory(lambda: list(CountedRows(count)))
    assert held > 2 * 1024 * 1024, "holding the rows is measurable"
    assert _peak_memory(write) < held / 4


# --- The registry -----------------------------------------------------------------------------------

def test_every_apps_exports_are_found_at_start_up() -> None:
    assert {"referrals", "queue", "workload"} <= {source.name for source in exports.registered_sources()}


def test_two_builders_under_one_name_fail_but_the_same_one_again_replaces_itself(monkeypatch) -> None:
    monkeypatch.setattr(exports, "_registry", dict(exports._registry))
    builder = exports.lookup("referrals").builder
    assert exports.register_export("referrals", label="Again")(builder) is builder

    def another(user: Officer, query: QueryDict) -> ExportTable:
        raise AssertionError

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        exports.register_export("referrals", label="Clash")(another)
    with pytest.raises(ImproperlyConfigured, match="slug"):
        exports.register_export("Not a slug!", label="Bad")


# --- The referral list: exactly what the page shows this officer ------------------------------------

def _page_urns(client: object, show: str) -> list[str]:
    response = client.get(reverse("referrals:list"), {"show": show})
    return [referral.urn for referral in response.context["page"].object_list]


@pytest.mark.parametrize("show", list(REFERRAL_FILTERS))
def test_the_referral_export_holds_the_rows_of_the_list_page_under_each_filter(client, cases: Cases,
                                                                                investigator: Officer,
                                                                                show: str) -> None:
    client.force_login(investigator)
    rows = _csv_rows(_download(client, "referrals", "csv", f"show={show}"))
    assert [row[0] for row in rows[1:]] == _page_urns(client, show)
    assert cases.enfield.urn not in {row[0] for row in rows}


def test_an_enfield_referral_never_appears_in_a_haringey_export(client, cases: Cases, supervisor: Officer,
                                                                 other_team_sergeant: Officer) -> None:
    client.force_login(supervisor)
    haringey_urns = {cases.awaiting.urn, cases.investigation.urn, cases.unallocated.urn, cases.formula_child.urn}
    assert {row[0] for row in _xlsx_rows(_download(client, "referrals", "xlsx"))[1:]} == haringey_urns
    assert {row[0] for row in _csv_rows(_download(client, "referrals", "csv"))[1:]} == haringey_urns
    client.force_login(other_team_sergeant)
    assert [row[0] for row in _csv_rows(_download(client, "referrals", "csv"))[1:]] == [cases.enfield.urn]


def test_the_referral_export_columns_and_a_formula_named_child_escaped(client, cases: Cases,
                                                                       supervisor: Officer) -> None:
    client.force_login(supervisor)
    rows = _xlsx_rows(_download(client, "referrals", "xlsx", "show=open"))
    assert rows[0] == ["URN", "Received", "Team", "Children", "Allegation", "Route", "Status", "Risk rating",
                       "Intelligence gaps", "Unmanaged risks", "Investigating officer", "Supervising sergeant",
                       "Next due"]
    by_urn = {row[0]: row for row in rows[1:]}
    assert set(by_urn) == {cases.investigation.urn, cases.unallocated.urn}
    investigation = by_urn[cases.investigation.urn]
    assert investigation[1] == dt.datetime(2026, 3, 10, 8, 0)  # received 08:00 UTC = 08:00 GMT
    assert investigation[2:7] == ["Haringey", "Grace Mensah", "Physical", "Police investigation", "Open"]
    assert investigation[10:12] == [cases.investigation.owner.display_name, supervisor.display_name]
    assert by_urn[cases.unallocated.urn][10] == "Unallocated"
    everything = client.get(reverse("exports:download", args=["referrals", "csv"]))
    children = {row[0]: row[3] for row in _csv_rows(everything)[1:]}
    assert children[cases.formula_child.urn] == "'=HYPERLINK(\"http://evil.example\") Smith"
    assert children[cases.awaiting.urn] == "Amara Okafor; Tobi Okafor"


def test_a_performance_manager_gets_no_names_and_nobody_gets_the_summary(client, cases: Cases,
                                                                         performance_manager: Officer,
                                                                         supervisor: Officer) -> None:
    client.force_login(performance_manager)
    body = b"".join(_download(client, "referrals", "csv").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert "Children" not in rows[0]
    assert len(rows) == 5
    assert "Okafor" not in body and "Mensah" not in body
    client.force_login(supervisor)
    body = b"".join(_download(client, "referrals", "csv").streaming_content).decode()
    assert "Okafor" in body
    assert "Bruising to the upper arm" not in body, "the summary is free text and never exported"


# --- Refusals and bad input -----------------------------------------------------------------------

def test_a_queue_export_is_refused_to_an_investigator_and_the_refusal_audited(client, cases: Cases,
                                                                               investigator: Officer) -> None:
    client.force_login(investigator)
    response = _download(client, "queue", "csv", "queue=awaiting-assessment")
    assert response.status_code == 403
    assert "Your role does not allow this" in response.content.decode()
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.REFUSED)
    assert refusal.actor == investigator
    assert "/exports/download/queue/csv/" in refusal.object_repr
    assert not _exports()


@pytest.mark.parametrize("source, fmt", [("no-such-table", "csv"), ("referrals", "pdf")])
def test_an_unknown_source_or_format_is_not_found(client, cases: Cases, supervisor: Officer, source: str,
                                                  fmt: str) -> None:
    client.force_login(supervisor)
    response = _download(client, source, fmt)
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REFUSED, actor=supervisor).exists()
    assert not _exports()


@pytest.mark.parametrize("query, message", [("", "Choose one of the supervisor&#x27;s queues"),
                                            ("queue=unallocated&rating=extreme", "Risk rating: Select a valid choice")])
def test_bad_queue_parameters_are_explained_and_nothing_is_exported(client, cases: Cases, supervisor: Officer,
                                                                    query: str, message: str) -> None:
    client.force_login(supervisor)
    response = _download(client, "queue", "xlsx", query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was exported" in response.content.decode()
    assert not _exports()


# --- Queues and workload -----------------------------------------------------------------------------

@pytest.mark.parametrize("slug, query", [("awaiting-assessment", ""), ("unallocated", ""),
                                         ("awaiting-assessment", "rating=none&order=-due")])
def test_a_queue_export_holds_the_rows_of_the_queue_page(client, cases: Cases, supervisor: Officer, slug: str,
                                                         query: str) -> None:
    client.force_login(supervisor)
    page = client.get(reverse("supervision:queue", args=[slug]) + f"?{query}")
    page_urns = [row.referral.urn for row in page.context["rows"]]
    assert page_urns, "the queue holds something to compare"
    rows = _csv_rows(_download(client, "queue", "csv", f"queue={slug}&{query}"))
    urn_column = rows[0].index("URN")
    assert [row[urn_column] for row in rows[1:]] == page_urns
    assert cases.enfield.urn not in {row[urn_column] for row in rows}


def test_the_workload_export_lists_each_officer_with_their_open_referrals(client, cases: Cases, supervisor: Officer,
                                                                          investigator: Officer) -> None:
    client.force_login(supervisor)
    rows = _csv_rows(_download(client, "workload", "csv"))
    assert rows[0][:6] == ["Officer", "High", "Medium", "Standard", "No rating", "Open referrals"]
    by_officer = {row[0]: row for row in rows[1:]}
    assert by_officer[investigator.display_name][5] == "1"


def test_the_pages_link_to_their_exports_with_their_own_parameters(client, cases: Cases, supervisor: Officer) -> None:
    client.force_login(supervisor)
    page = client.get(reverse("referrals:list"), {"show": "open"}).content.decode()
    assert f'href="{reverse("exports:download", args=["referrals", "xlsx"])}?show=open"' in page
    assert "Download this table as CSV" in page and "Download this table as Excel" in page
    queue = client.get(reverse("supervision:queue", args=["unallocated"]), {"rating": "none"}).content.decode()
    assert f'href="{reverse("exports:download", args=["queue", "csv"])}?queue=unallocated&amp;rating=none"' in queue


# --- Audit -------------------------------------------------------------------------------------------

def test_each_export_is_audited_with_what_was_exported_and_its_row_count(client, cases: Cases,
                                                                         supervisor: Officer) -> None:
    client.force_login(supervisor)
    _csv_rows(_download(client, "referrals", "csv", "show=open&page=2"))
    _xlsx_rows(_download(client, "queue", "xlsx", "queue=awaiting-assessment"))
    csv_event, xlsx_event = _exports()
    assert csv_event.actor == supervisor and xlsx_event.actor == supervisor
    assert csv_event.additional_data == {
        "source": "referrals", "title": "Referrals: open", "parameters": {"show": ["open"]}, "format": "csv",
        "rows": 2, "stage": "direct", "job": None}
    assert xlsx_event.additional_data["source"] == "queue"
    assert xlsx_event.additional_data["parameters"] == {"queue": ["awaiting-assessment"]}
    assert xlsx_event.additional_data["rows"] == 2  # the new referral and the formula-named child's
    assert xlsx_event.object_repr == "Queue: Awaiting desk assessment"
    assert xlsx_event.remote_addr == "127.0.0.1"


def test_a_small_excel_file_is_sent_with_its_length_and_never_cached(client, cases: Cases,
                                                                     supervisor: Officer) -> None:
    client.force_login(supervisor)
    response = _download(client, "referrals", "xlsx")
    content = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(content)
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert 'attachment; filename="referrals-all-referrals-2026-03-10.xlsx"' == response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"


# --- Large exports: a job, its progress and its file ---------------------------------------------------

@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "DIRECT_DOWNLOAD_LIMIT", 2)


def test_a_large_export_goes_through_a_job_only_its_officer_can_collect(
        client, cases: Cases, supervisor: Officer, investigator: Officer, small_limit: None,
        django_capture_on_commit_callbacks) -> None:
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _download(client, "referrals", "xlsx", "show=all")
    job = ExportJob.objects.get()
    assert len(callbacks) == 1, "the job starts once the request has committed"
    assert response.status_code == 302 and response["Location"] == reverse("exports:job", args=[job.pk])
    assert (job.requested_by, job.source, job.parameters, job.file_format) == (
        supervisor, "referrals", {"show": ["all"]}, ExportFormat.XLSX)
    assert (job.status, job.total_rows, job.rows_written) == (ExportStatus.DONE, 4, 4)
    requested = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert requested.additional_data["stage"] == "requested" and requested.additional_data["rows"] == 4
    assert requested.object_pk == str(job.pk)

    progress = client.get(reverse("exports:job", args=[job.pk])).content.decode()
    assert "4 of 4 rows written (100%)" in progress
    assert "Your export is ready to download." in progress
    assert reverse("exports:job_file", args=[job.pk]) in progress

    # Another officer of the same team is told there is no such export.
    client.force_login(investigator)
    for name in ("exports:job", "exports:job_progress", "exports:job_file"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REFUSED, actor=investigator).count() == 3

    client.force_login(supervisor)
    download = client.get(reverse("exports:job_file", args=[job.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="referrals-all-referrals-2026-03-10.xlsx"'
    urns = [row[0] for row in _xlsx_rows(download)[1:]]
    assert urns == [cases.awaiting.urn, cases.investigation.urn, cases.unallocated.urn, cases.formula_child.urn]
    downloaded = _exports()[-1]
    assert (downloaded.actor, downloaded.additional_data["stage"], downloaded.additional_data["rows"]) == (
        supervisor, "downloaded", 4)


def _job(officer: Officer, **fields: object) -> ExportJob:
    values = dict(requested_by=officer, requested_at=NOW, title="Referrals: all referrals", source="referrals",
                  parameters={"show": ["all"]}, file_format=ExportFormat.CSV, total_rows=4)
    values.update(fields)
    return ExportJob.objects.create(**values)


def test_the_progress_page_shows_a_running_job_and_polls_until_it_is_done(client, supervisor: Officer) -> None:
    job = _job(supervisor, status=ExportStatus.RUNNING, total_rows=1_000, rows_written=250)
    client.force_login(supervisor)
    page = client.get(reverse("exports:job", args=[job.pk])).content.decode()
    assert "Writing rows:" in page and "250 of 1000 rows written (25%)" in page
    assert '<progress id="export-progress-bar"' in page and 'value="25"' in page
    assert f'hx-get="{reverse("exports:job_progress", args=[job.pk])}" hx-trigger="every 1s"' in page
    assert "Download Referrals" not in page

    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE, rows_written=1_000, file_name="x.csv")
    partial = client.get(reverse("exports:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial, "a finished job stops polling"
    assert 'value="100"' in partial and "Download Referrals: all referrals (CSV)" in partial
    assert 'hx-swap-oob="innerHTML">Your export is ready to download.' in partial


def test_a_job_file_not_ready_sends_the_officer_back_to_its_progress(client, supervisor: Officer) -> None:
    job = _job(supervisor)
    client.force_login(supervisor)
    response = client.get(reverse("exports:job_file", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("exports:job", args=[job.pk])
    assert not _exports()


def test_the_job_runs_once_however_often_it_is_started(cases: Cases, supervisor: Officer,
                                                       private_files: Path) -> None:
    job = _job(supervisor)
    assert export_job_run(job_id=job.pk, now=NOW) == ExportStatus.DONE
    job.refresh_from_db()
    path = exports.export_file_path(job)
    first = path.read_bytes()
    assert first.startswith("\ufeff".encode()) and cases.formula_child.urn.encode() in first
    os.utime(path, (1, 1))

    # A retried task finds the job done and writes nothing.
    assert export_job_run(job_id=job.pk, now=NOW + HOUR) == ExportStatus.DONE
    assert path.stat().st_mtime == 1
    assert sorted(p.name for p in (private_files / "exports").iterdir()) == [job.file_name]
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.rows_written, again.finished_at) == (job.rows_written, job.finished_at)

    # A job another worker has claimed is left to it.
    running = _job(supervisor, status=ExportStatus.RUNNING)
    assert export_job_run(job_id=running.pk, now=NOW) == ExportStatus.RUNNING
    assert ExportJob.objects.get(pk=running.pk).file_name == ""


def test_a_job_of_an_officer_who_lost_the_role_fails_with_a_message(client, cases: Cases,
                                                                   investigator: Officer) -> None:
    job = _job(investigator, source="queue", parameters={"queue": ["unallocated"]}, title="Queue: Unallocated")
    assert export_job_run(job_id=job.pk, now=NOW) == ExportStatus.FAILED
    job.refresh_from_db()
    assert job.error == "Your role no longer allows this export." and job.file_name == ""
    client.force_login(investigator)
    page = client.get(reverse("exports:job", args=[job.pk])).content.decode()
    assert "Your role no longer allows this export." in page and 'hx-trigger="every 1s"' not in page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_job_records_its_progress_outside_any_transaction(monkeypatch, supervisor: Officer) -> None:
    """Each progress update commits as it is made, so the progress page sees the rows as they go."""
    seen: list[tuple[int, bool]] = []
    job_ids: list[int] = []

    def rows() -> Iterator[list[object]]:
        for index in range(1_000):
            if index == 600:
                seen.append((ExportJob.objects.get(pk=job_ids[0]).rows_written, connection.in_atomic_block))
            yield [index]

    def builder(user: Officer, query: QueryDict) -> ExportTable:
        return ExportTable(title="Numbers", headers=["Number"], rows=rows(), total_rows=1_000)

    monkeypatch.setitem(exports._registry, "numbers", exports.ExportSource("numbers", "Numbers", builder))
    job = _job(supervisor, source="numbers", parameters={}, total_rows=0)
    job_ids.append(job.pk)
    assert export_job_run(job_id=job.pk, now=NOW) == ExportStatus.DONE
    assert seen == [(2 * exports.PROGRESS_EVERY, False)]
    assert ExportJob.objects.get(pk=job.pk).rows_written == 1_000


def test_my_exports_lists_the_officers_own_jobs_of_the_last_day(client, supervisor: Officer,
                                                                investigator: Officer) -> None:
    mine = _job(supervisor, title="Referrals: open", status=ExportStatus.DONE, rows_written=4, file_name="a.csv")
    _job(supervisor, title="Yesterday's export", requested_at=NOW - dt.timedelta(days=2))
    _job(investigator, title="Someone else's export")
    client.force_login(supervisor)
    page = client.get(reverse("exports:jobs")).content.decode()
    assert "Referrals: open" in page and reverse("exports:job_file", args=[mine.pk]) in page
    assert "Yesterday&#x27;s export" not in page and "Someone else" not in page


# --- The hourly tidy ---------------------------------------------------------------------------------

def test_the_tidy_removes_day_old_exports_fails_lost_jobs_and_runs_forgotten_ones(
        cases: Cases, supervisor: Officer, private_files: Path) -> None:
    folder = private_files / "exports"
    folder.mkdir(parents=True)
    (folder / "old.csv").write_text("old")
    (folder / "recent.csv").write_text("recent")
    (folder / "orphan.part").write_text("half")
    os.utime(folder / "orphan.part", ((NOW - 2 * exports.EXPORTS_KEPT_FOR).timestamp(),) * 2)
    old = _job(supervisor, requested_at=NOW - 25 * HOUR, status=ExportStatus.DONE, file_name="old.csv")
    recent = _job(supervisor, requested_at=NOW - HOUR, status=ExportStatus.DONE, file_name="recent.csv")
    lost = _job(supervisor, requested_at=NOW - 3 * HOUR, status=ExportStatus.RUNNING)
    forgotten = _job(supervisor, requested_at=NOW - 20 * dt.timedelta(minutes=1))
    just_asked = _job(supervisor, requested_at=NOW - dt.timedelta(minutes=1))

    result = export_jobs_tidy(now=NOW)

    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert sorted(path.name for path in folder.iterdir() if not path.name.startswith(str(forgotten.pk))) == [
        "recent.csv"]
    assert ExportJob.objects.get(pk=recent.pk).status == ExportStatus.DONE
    assert ExportJob.objects.get(pk=lost.pk).status == ExportStatus.FAILED
    assert ExportJob.objects.get(pk=forgotten.pk).status == ExportStatus.DONE
    assert ExportJob.objects.get(pk=just_asked.pk).status == ExportStatus.QUEUED
    assert vars(result) == {"deleted_jobs": 1, "deleted_files": 2, "stalled_jobs": 1, "caught_up_jobs": 1}
    # A second tidy finds nothing left to do.
    assert vars(export_jobs_tidy(now=NOW)) == {"deleted_jobs": 0, "deleted_files": 0, "stalled_jobs": 0,
                                               "caught_up_jobs": 0}


def test_beat_tidies_exports_hourly_and_the_scheduler_does_too(supervisor: Officer, monkeypatch) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["tidy-exports"]
    assert entry == {"task": "cram_site.tidy_exports", "schedule": crontab(minute=5)}
    app.loader.import_default_modules()
    assert {"cram_site.tidy_exports", "cram_site.run_export"} <= set(app.tasks)
    old = _job(supervisor, requested_at=NOW - 25 * HOUR)
    # The command starts each round with fresh connections, which would end the test's transaction.
    monkeypatch.setattr("supervision.management.commands.run_scheduler.close_old_connections", lambda: None)
    call_command("run_scheduler", "--once", stdout=io.StringIO())
    assert not ExportJob.objects.filter(pk=old.pk).exists()


# --- Query counts ------------------------------------------------------------------------------------

def _more_referrals(log_referral: Callable[..., Referral], count: int) -> None:
    for index in range(count):
        log_referral(received_at=NOW - dt.timedelta(hours=10 + index))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_referral_list_download_makes_a_fixed_number_of_queries(client, cases: Cases, supervisor: Officer,
                                                                  log_referral, fmt: str,
                                                                  django_assert_max_num_queries) -> None:
    client.force_login(supervisor)

    def download_rows() -> int:
        response = _download(client, "referrals", fmt)
        return len(_csv_rows(response) if fmt == "csv" else _xlsx_rows(response)) - 1

    # Session, officer, roles, the count, the content type and the audit event (with the request's
    # savepoints), then the referrals with their people and open actions: one batch each.
    with django_assert_max_num_queries(11):
        assert download_rows() == 4
    _more_referrals(log_referral, 6)
    with django_assert_max_num_queries(11):
        assert download_rows() == 10


def test_a_queue_download_makes_a_fixed_number_of_queries(client, cases: Cases, supervisor: Officer, log_referral,
                                                          django_assert_max_num_queries) -> None:
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        assert len(_csv_rows(_download(client, "queue", "csv", "queue=awaiting-assessment"))) == 3
    _more_referrals(log_referral, 6)
    with django_assert_max_num_queries(12):
        assert len(_csv_rows(_download(client, "queue", "csv", "queue=awaiting-assessment"))) == 9


def test_the_job_pages_make_a_fixed_number_of_queries(client, supervisor: Officer,
                                                      django_assert_max_num_queries) -> None:
    job = _job(supervisor, status=ExportStatus.RUNNING)
    for index in range(5):
        _job(supervisor, title=f"Export {index}", status=ExportStatus.DONE, file_name="a.csv")
    client.force_login(supervisor)
    for name, args, text in (("exports:job", [job.pk], "Writing rows"),
                             ("exports:job_progress", [job.pk], "Writing rows"),
                             ("exports:jobs", [], "Export 4")):
        with django_assert_max_num_queries(7):
            assert text in client.get(reverse(name, args=args)).content.decode()
