"""The legacy referral-log import: accepted, rejected, idempotent, all or nothing, in constant memory,
and its upload page for administrators."""
from __future__ import annotations

import csv
import datetime as dt
import gc
import re
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.urls import reverse

from cram_site.calendar import LONDON
from cram_site.models import AuditEvent, Officer, Rank, Team
from referrals import legacy_import, services
from referrals.legacy_import import OfficerDirectory, header_key, read_moment, RowFault
from referrals.legacy_sample import FAULTS, HEADINGS, TITLE, sample_rows, write_sample
from referrals.models import (
    CaseLogEntry,
    CaseLogKind,
    Household,
    ImportRun,
    ImportStatus,
    Person,
    Referral,
    ReferralStatus,
    Route,
    UrnSequence,
)
from tests.conftest import requires_postgres

from ..factories import OfficerFactory, PersonFactory

# Every test may touch the import's progress connection (PostgreSQL) besides the default one.
pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.usefixtures("tasks_inline")]

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
SAMPLE = Path(settings.BASE_DIR) / "docs" / "sample-legacy-referral-log.xlsx"
COLUMNS = ("URN", "Date received", "Source", "Child's name", "Date of birth", "Summary", "Decision", "Officer")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _progress_connection_closed() -> Iterator[None]:
    # The import's second connection (PostgreSQL) must not outlive the test: the test database is
    # dropped at the end of the session.
    yield
    if legacy_import.PROGRESS_DATABASE in settings.DATABASES:
        connections[legacy_import.PROGRESS_DATABASE].close()


@pytest.fixture
def administrator(haringey: Team) -> Officer:
    return OfficerFactory(username="administrator-hy", first_name="Lorraine", last_name="Mitchell",
                          rank=Rank.STAFF, staff_number="700001", team=haringey, roles=["administrator"])


def write_csv(path: Path, rows: list[tuple[object, ...]], headings: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headings)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[tuple[object, ...]], headings: tuple[str, ...] = COLUMNS) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("'="):
                cell.value, cell.data_type = cell.value[1:], "s"  # text that looks like a formula
    workbook.save(path)
    return path


def run_import(path: Path, *, actor: Officer, team: Team | None = None, dry_run: bool = False) -> ImportRun:
    run = legacy_import.import_run_start(team=team or actor.team, file_name=path.name, dry_run=dry_run,
                                         actor=actor, now=NOW)
    return legacy_import.import_referral_log(run=run, path=path, now=NOW)


def expected_faults(rows: int, *, seed: int = 2026) -> dict[int, str]:
    """Spreadsheet row -> deliberate fault of a generated log (its title is row 1, its headings row 2)."""
    faults, sheet_row = {}, 2
    for sample in sample_rows(rows=rows, faults=True, seed=seed):
        sheet_row += 1
        if sample.fault:
            faults[sheet_row] = sample.fault
    return faults


def stored_counts() -> tuple[int, int, int, int]:
    return (Referral.objects.count(), Person.objects.count(), CaseLogEntry.objects.count(),
            AuditEvent.objects.count())


# --- Accepted rows ---------------------------------------------------------------------------------


def test_accepted_rows_become_closed_referrals_with_their_original_urns(tmp_path, administrator, investigator):
    """Each row is a closed referral keeping its URN and route, received (and logged, assessed and closed)
    at its date in London time, with its child, its officer and a first case-log entry saying where it came from."""
    path = write_csv(tmp_path / "log.csv", [
        ("HY-19-00041", "03/05/2019", "St Ann's Primary School", "Amara Okafor", "14/03/2012",
         "Bruising to the arm seen at school.", "Joint investigation", "DC202"),
        ("hy-19-00042", "2019-12-01 14:30", "", "OKAFOR, Tobi", "", "Left alone overnight.", "SS only", "DC R. Osei"),
    ])

    run = run_import(path, actor=administrator)

    assert (run.status, run.accepted, run.already_imported, run.rejected) == (ImportStatus.DONE, 2, 0, 0)
    first, second = Referral.objects.order_by("urn")
    assert (first.urn, first.status, first.route, first.imported_from) == (
        "HY-19-00041", ReferralStatus.CLOSED, Route.JOINT_INVESTIGATION, "log.csv")
    # A date with no time is midnight in London: 23:00 UTC the day before, in summer time.
    assert first.received_at == dt.datetime(2019, 5, 2, 23, 0, tzinfo=dt.UTC)
    assert first.logged_at == first.assessed_at == first.closed_at == first.received_at
    assert first.owner == investigator and first.logged_by == administrator
    assert second.received_at.astimezone(LONDON) == dt.datetime(2019, 12, 1, 14, 30, tzinfo=LONDON)
    assert second.source_agency == legacy_import.SOURCE_NOT_RECORDED and second.owner is None

    child = first.lead_child
    assert (child.first_name, child.last_name, child.date_of_birth) == ("Amara", "Okafor", dt.date(2012, 3, 14))
    assert child.household is not None and child.team == administrator.team
    assert (second.lead_child.first_name, second.lead_child.last_name) == ("Tobi", "OKAFOR")

    [entry] = first.case_log.all()
    assert (entry.number, entry.kind, entry.author, entry.occurred_at) == (1, CaseLogKind.SYSTEM, administrator,
                                                                          first.received_at)
    assert entry.text == ("Imported from the legacy referral log log.csv, row 2; decision: Joint investigation "
                          "(Joint investigation); officer: DC Ian Vance DC202.")
    # An officer the team never knew does not reject the row: the name is kept in the entry.
    assert "officer: DC R. Osei (not matched to an officer of HY)." in second.case_log.get().text
    # Audited as every other write, in the import's name.
    created = AuditEvent.objects.filter(referral_id=first.pk, action=AuditEvent.Action.CREATE)
    assert {event.content_type.model for event in created} == {"referral", "referralperson", "caselogentry"}
    assert {event.actor_id for event in created} == {administrator.pk}


def test_a_child_known_to_the_team_is_linked_not_created_again(tmp_path, administrator, enfield):
    """Same name (any case) and date of birth as a person of the team: that record, with its household, is used.
    A namesake in another team is not."""
    known = PersonFactory(team=administrator.team, first_name="Amara", last_name="Okafor",
                          date_of_birth=dt.date(2012, 3, 14))
    PersonFactory(team=enfield, first_name="Jaden", last_name="Mensah", date_of_birth=dt.date(2010, 1, 5))
    path = write_csv(tmp_path / "log.csv", [
        ("HY-19-00041", "03/05/2019", "School", "OKAFOR, amara", "14/03/2012", "Disclosure.", "NFA", ""),
        ("HY-19-00042", "04/05/2019", "School", "Jaden Mensah", "05/01/2010", "Disclosure.", "NFA", ""),
        # The same new child twice in one file is one person.
        ("HY-19-00043", "05/05/2019", "School", "Leah Brown", "01/02/2015", "Disclosure.", "NFA", ""),
        ("HY-19-00044", "06/05/2019", "School", "leah brown", "01/02/2015", "Again.", "Police", ""),
    ])
    households_before = Household.objects.count()

    run = run_import(path, actor=administrator)

    assert run.accepted == 4
    linked = Referral.objects.get(urn="HY-19-00041")
    assert linked.lead_child == known
    assert Person.objects.get(pk=known.pk).household_id == known.household_id
    assert "Linked to the existing record of the child." in linked.case_log.get().text
    assert Referral.objects.get(urn="HY-19-00042").lead_child.team == administrator.team
    assert Person.objects.filter(first_name__iexact="leah", last_name__iexact="brown").count() == 1
    assert Person.objects.filter(team=administrator.team).count() == 3
    assert Household.objects.count() == households_before + 2


# --- Rejected rows -----------------------------------------------------------------------------------


def test_each_kind_of_fault_is_rejected_with_its_reason_and_row_number(tmp_path, administrator):
    """The generated log's deliberate faults are rejected, each on its own row with its own reason; blank rows and
    unknown columns are passed over; the URNs written as HYPERLINK formulas are imported by their value."""
    path = tmp_path / "faulty.xlsx"
    summary = write_sample(path, rows=200, faults=True)
    faults = expected_faults(200)

    run = run_import(path, actor=administrator)

    assert (run.status, run.accepted, run.rejected) == (ImportStatus.DONE, summary.accepted, summary.rejected)
    assert summary.rejected == 20 and set(faults.values()) == set(FAULTS)
    reasons = {rejection["row"]: rejection["reason"] for rejection in run.rejections}
    assert set(reasons) == set(faults)
    for row, fault in faults.items():
        others = [words for kind, words in FAULTS.items() if kind != fault and words in reasons[row]]
        assert FAULTS[fault] in reasons[row] and not others, (row, fault, reasons[row])
    assert Referral.objects.count() == summary.accepted
    # Every HYPERLINK formula's cached value is the URN stored; no formula is stored anywhere.
    hyperlinked = [s.values[0] for s in sample_rows(rows=200, faults=True) if s.hyperlink]
    assert len(hyperlinked) == 4 and Referral.objects.filter(urn__in=hyperlinked).count() == 4
    assert not Referral.objects.filter(summary__startswith="=").exists()
    assert not Person.objects.filter(last_name__startswith="=").exists()
    assert not Person.objects.filter(first_name__startswith="=").exists()
    # The full report, row by row, with a cell a spreadsheet would read as a formula made harmless.
    with legacy_import.rejection_report_path(run).open(encoding="utf-8-sig", newline="") as handle:
        report = list(csv.reader(handle))
    assert report[0] == ["Row", "URN", "Reason"] and len(report) == 21
    assert all(not cell.startswith("=") for line in report for cell in line)


@pytest.mark.parametrize(("cells", "reason"), [
    ({"urn": ""}, "URN is missing."),
    ({"urn": "HY-2019-41"}, "URN 'HY-2019-41' is not in the form HY-YY-NNNNN"),
    ({"urn": "EN-19-00041"}, "URN EN-19-00041 is another team's (EN): this import is for HY."),
    ({"received": "31/02/2019"}, "Date received 31/02/2019 is not a real date."),
    ({"received": "03/05/19"}, "two-digit year"),
    ({"received": "soon"}, "Date received 'soon' is not a date"),
    ({"received": "01/04/2026"}, "Date received 01/04/2026 is in the future."),
    ({"received": "01/04/1926"}, "is before 1990"),
    ({"received": "03/05/2021"}, "The year in URN HY-19-00041 (19) does not match the date received 03/05/2021."),
    ({"child": ""}, "Child's name is missing."),
    ({"dob": "04/05/2019"}, "Date of birth 04/05/2019 is after the date received 03/05/2019."),
    ({"summary": "  "}, "Summary is missing."),
    ({"decision": "Refer to CAMHS"}, "Decision 'Refer to CAMHS' is not one the import knows"),
    ({"decision": ""}, "Decision is missing."),
    ({"summary": "=1+1"}, "Summary holds a formula (=1+1): formulas are not imported"),
])
def test_a_faulty_row_is_rejected_with_a_clear_reason(tmp_path, administrator, cells, reason):
    row = {"urn": "HY-19-00041", "received": "03/05/2019", "source": "School", "child": "Amara Okafor",
           "dob": "14/03/2012", "summary": "Disclosure.", "decision": "NFA", "officer": ""} | cells
    path = write_csv(tmp_path / "log.csv", [
        ("HY-19-00040", "02/05/2019", "School", "Tobi Okafor", "", "Disclosure.", "NFA", ""),
        tuple(row.values()),
    ])

    run = run_import(path, actor=administrator)

    assert (run.accepted, run.rejected) == (1, 1)
    assert run.rejections[0]["row"] == 3 and reason in run.rejections[0]["reason"]
    assert list(Referral.objects.values_list("urn", flat=True)) == ["HY-19-00040"]


def test_a_repeated_urn_keeps_the_first_row_and_rejects_the_rest(tmp_path, administrator):
    rows = [("HY-19-00041", f"0{day}/05/2019", "School", f"Child{day} Okafor", "", "Disclosure.", "NFA", "")
            for day in (3, 4, 5)]
    run = run_import(write_csv(tmp_path / "log.csv", rows), actor=administrator)

    assert (run.accepted, run.rejected) == (1, 2)
    assert [r["row"] for r in run.rejections] == [3, 4]
    assert "appears on an earlier row of this file" in run.rejections[0]["reason"]
    assert Referral.objects.get().lead_child.first_name == "Child3"


def test_a_urn_already_used_by_a_referral_logged_in_the_product_is_rejected(tmp_path, administrator, log_referral):
    with time_machine.travel(dt.datetime(2019, 6, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        logged = log_referral()
    assert logged.urn == "HY-19-00001"
    path = write_csv(tmp_path / "log.csv", [
        ("HY-19-00001", "03/05/2019", "School", "Amara Okafor", "", "Disclosure.", "NFA", "")])

    run = run_import(path, actor=administrator)

    assert (run.accepted, run.already_imported, run.rejected) == (0, 0, 1)
    assert "already used by a referral logged in the product" in run.rejections[0]["reason"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_missing_columns_is_refused_with_nothing_stored(tmp_path, administrator, suffix):
    """One message names every missing column; no row is read, nothing is stored, the command fails."""
    headings = ("Ref", "Date rec'd", "Referrer agency", "Child name", "DOB", "Notes")
    rows = [("HY-19-00041", "03/05/2019", "School", "Amara Okafor", "", "x")]
    path = (write_csv if suffix == ".csv" else write_xlsx)(tmp_path / f"log{suffix}", rows, headings)
    before = stored_counts()

    run = run_import(path, actor=administrator)

    assert run.status == ImportStatus.FAILED
    assert run.error.startswith("The file has no column for Summary or Decision, so nothing was imported.")
    assert "Headings found in row 1: Ref, Date rec'd, Referrer agency, Child name, DOB, Notes." in run.error
    assert stored_counts() == before and run.processed_rows == 0
    with pytest.raises(CommandError, match="no column for Summary or Decision"):
        call_command("import_referral_log", str(path), "--user", administrator.username)


def test_headings_are_matched_whatever_their_case_spacing_and_spelling():
    columns, ignored, clashes = legacy_import._map_header(
        ["  REF ", "Date Rec’d.", "referrer  agency", "Child's Name", "D.O.B.", "Details", "OUTCOME", "oic", "Notes"])
    assert columns == {"urn": 0, "received": 1, "source": 2, "child": 3, "date_of_birth": 4, "summary": 5,
                       "decision": 6, "officer": 7}
    assert ignored == ["Notes"] and clashes == []
    assert header_key("Date rec'd") == header_key("date  RECD") == "date recd"


def test_two_columns_for_the_same_thing_refuse_the_file(tmp_path, administrator):
    headings = ("URN", "Received", "Date received", "Source", "Child", "Summary", "Decision")
    run = run_import(write_csv(tmp_path / "log.csv", [], headings), actor=administrator)
    assert run.status == ImportStatus.FAILED
    assert "two columns for the same thing: Date received ('Received' and 'Date received')" in run.error


def test_dates_are_read_in_the_forms_the_old_log_used():
    assert read_moment("03/05/2019", label="D") == dt.datetime(2019, 5, 3)
    assert read_moment("3.5.2019 14:05", label="D") == dt.datetime(2019, 5, 3, 14, 5)
    assert read_moment("2019-05-03T14:05:00", label="D") == dt.datetime(2019, 5, 3, 14, 5)
    assert read_moment(dt.datetime(2019, 5, 3, 14, 5), label="D") == dt.datetime(2019, 5, 3, 14, 5)
    assert read_moment(dt.date(2019, 5, 3), label="D") == dt.datetime(2019, 5, 3)
    assert read_moment(43588.5, label="D") == dt.datetime(2019, 5, 3, 12, 0)  # an Excel serial
    for bad in ("29/02/2019", "2019-13-01", "03/05/19", "May 2019", dt.time(9, 0)):
        with pytest.raises(RowFault):
            read_moment(bad, label="D")


def test_officers_are_matched_by_staff_number_username_or_name(administrator, investigator, supervisor):
    directory = OfficerDirectory(administrator.team)
    for text in ("DC202", "investigator-hy", "DC Ian Vance", "I. Vance", "Vance", "ian vance DC202"):
        assert directory.match(text) == investigator, text
    assert directory.match("DS Sue Perkins") == supervisor
    assert directory.match("DC R. Osei") is None and directory.match("") is None


def test_the_decisions_of_the_old_log_map_to_routes():
    for words, route in [("NFA", Route.NO_FURTHER_ACTION), ("No further action", Route.NO_FURTHER_ACTION),
                         ("joint", Route.JOINT_INVESTIGATION), ("Joint investigation", Route.JOINT_INVESTIGATION),
                         ("POLICE", Route.POLICE_INVESTIGATION), ("Police investigation", Route.POLICE_INVESTIGATION),
                         ("SS only", Route.SOCIAL_SERVICES_ONLY), ("Social services only", Route.SOCIAL_SERVICES_ONLY)]:
        assert legacy_import.DECISIONS[header_key(words)] == route


def test_a_csv_saved_in_another_encoding_is_refused_as_a_whole(tmp_path, administrator):
    path = tmp_path / "log.csv"
    path.write_bytes(",".join(COLUMNS).encode() + b"\r\nHY-19-00041,03/05/2019,Caf\xe9,A B,,x,NFA,\r\n")
    run = run_import(path, actor=administrator)
    assert run.status == ImportStatus.FAILED and "not UTF-8" in run.error
    assert not Referral.objects.exists()


def test_a_damaged_workbook_is_refused_as_a_whole(tmp_path, administrator):
    import zipfile

    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(SAMPLE) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    run = run_import(path, actor=administrator)
    assert run.status == ImportStatus.FAILED and "not a readable Excel workbook" in run.error
    assert not Referral.objects.exists()


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path, administrator):
    path = tmp_path / "log.csv"
    path.write_text(",".join(COLUMNS) + "\nHY-19-00041,03/05/2019,School,Amara Okafor,,x,NFA,\n",
                    encoding="utf-8-sig")
    assert run_import(path, actor=administrator).accepted == 1


# --- Formulas ----------------------------------------------------------------------------------------


def test_a_formula_is_never_stored_as_a_formula(tmp_path, administrator):
    """Text beginning with "=" is rejected; a formula cell is read as its calculated value, never evaluated here,
    so one saved without a value (as openpyxl writes it) is empty."""
    path = write_xlsx(tmp_path / "log.xlsx", [
        ("HY-19-00041", "03/05/2019", "School", "Amara Okafor", None, "'=1+1", "NFA", ""),
        ("HY-19-00042", "03/05/2019", "School", "'=HYPERLINK(\"http://x.example\",\"Okafor\")", None, "x", "NFA", ""),
        ("HY-19-00043", "03/05/2019", "School", "Leah Brown", None, "=CONCATENATE(\"a\",\"b\")", "NFA", ""),
        ("HY-19-00044", "03/05/2019", "School", "Jaden Mensah", None, "Plain words.", "NFA", "=1+1"),
    ])

    run = run_import(path, actor=administrator)

    reasons = {r["row"]: r["reason"] for r in run.rejections}
    assert reasons[2] == "Summary holds a formula (=1+1): formulas are not imported; type the value itself."
    assert reasons[3].startswith("Child's name holds a formula (=HYPERLINK(")
    assert reasons[4] == "Summary is missing."  # openpyxl saves no calculated value, so Excel would show none
    # A formula in the optional officer column is read the same way: the row is stored, officer not recorded.
    assert 5 not in reasons and run.accepted == 1
    assert Referral.objects.get().case_log.get().text.endswith("officer: not recorded.")
    assert not CaseLogEntry.objects.filter(text__contains="=1+1").exists()


# --- Idempotence, rollback, dry run, URN counter ------------------------------------------------------


def test_a_second_run_of_the_same_file_creates_nothing(tmp_path, administrator):
    path = tmp_path / "faulty.csv"
    summary = write_sample(path, rows=60, faults=True)
    first = run_import(path, actor=administrator)
    before = stored_counts()
    sequences = list(UrnSequence.objects.order_by("year").values_list("year", "last_number"))

    second = run_import(path, actor=administrator)

    assert (first.accepted, first.rejected) == (summary.accepted, summary.rejected)
    assert (second.status, second.accepted, second.already_imported, second.rejected) == (
        ImportStatus.DONE, 0, summary.accepted, summary.rejected)
    assert stored_counts() == before
    assert list(UrnSequence.objects.order_by("year").values_list("year", "last_number")) == sequences


def test_a_failure_part_way_rolls_back_every_row_and_marks_the_run_failed(tmp_path, administrator, monkeypatch):
    path = tmp_path / "faulty.csv"
    write_sample(path, rows=60, faults=True)
    before = stored_counts()
    real_writer = legacy_import.referral_import_row

    def failing_writer(*, row, **kwargs):
        if row.row == 40:
            raise RuntimeError("the database went away")
        return real_writer(row=row, **kwargs)

    monkeypatch.setattr(legacy_import, "referral_import_row", failing_writer)
    run = run_import(path, actor=administrator)

    assert run.status == ImportStatus.FAILED
    assert run.error == ("Stopped at row 40: RuntimeError: the database went away Nothing was imported: the whole "
                         "run was rolled back.")
    assert run.accepted > 30  # rows before the failure were written, then rolled back with the rest
    assert stored_counts() == before
    assert not UrnSequence.objects.exists()
    assert ImportRun.objects.get(pk=run.pk).status == ImportStatus.FAILED


def test_ctrl_c_rolls_the_run_back_and_marks_it_failed(tmp_path, administrator, monkeypatch):
    path = tmp_path / "faulty.csv"
    write_sample(path, rows=30, faults=True)
    real_writer = legacy_import.referral_import_row

    def interrupted(*, row, **kwargs):
        if row.row == 20:
            raise KeyboardInterrupt
        return real_writer(row=row, **kwargs)

    monkeypatch.setattr(legacy_import, "referral_import_row", interrupted)
    with pytest.raises(CommandError, match="Interrupted: nothing was imported"):
        call_command("import_referral_log", str(path), "--user", administrator.username)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED and run.error.startswith("Interrupted at row 20.")
    assert not Referral.objects.exists()


def test_a_dry_run_checks_every_row_and_stores_nothing(tmp_path, administrator):
    path = tmp_path / "faulty.csv"
    summary = write_sample(path, rows=60, faults=True)
    before = stored_counts()

    run = run_import(path, actor=administrator, dry_run=True)

    assert (run.status, run.accepted, run.rejected) == (ImportStatus.DRY_RUN, summary.accepted, summary.rejected)
    assert stored_counts() == before and not UrnSequence.objects.exists()
    assert ImportRun.objects.get(pk=run.pk).accepted == summary.accepted
    assert legacy_import.rejection_report_path(run).exists()


def test_after_an_import_the_urn_counter_issues_the_next_free_number(tmp_path, administrator, desk_sergeant):
    """Imported URNs of a past year and of this one raise their counters; a higher counter is never lowered."""
    UrnSequence.objects.create(team=administrator.team, year=18, last_number=500)
    path = write_csv(tmp_path / "log.csv", [
        ("HY-19-00041", "03/05/2019", "School", "Amara Okafor", "", "x", "NFA", ""),
        ("HY-19-00007", "01/02/2019", "School", "Tobi Okafor", "", "x", "NFA", ""),
        ("HY-26-00007", "01/02/2026", "School", "Leah Brown", "", "x", "NFA", ""),
        ("HY-18-00012", "01/02/2018", "School", "Jaden Mensah", "", "x", "NFA", ""),
    ])
    assert run_import(path, actor=administrator).accepted == 4

    assert services.urn_issue(team=administrator.team, now=NOW) == "HY-26-00008"
    assert services.urn_issue(team=administrator.team, now=dt.datetime(2019, 7, 1, tzinfo=dt.UTC)) == "HY-19-00042"
    assert services.urn_issue(team=administrator.team, now=dt.datetime(2018, 7, 1, tzinfo=dt.UTC)) == "HY-18-00501"


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases="__all__")
def test_progress_is_visible_to_other_connections_while_the_import_runs(tmp_path, haringey, monkeypatch):
    """The counters are committed every 250 rows through the second connection, the import's own transaction still open."""
    actor = OfficerFactory(username="administrator-hy", team=haringey, roles=["administrator"])
    path = tmp_path / "log.csv"
    write_sample(path, rows=300, faults=False)
    seen: list[tuple[int, int]] = []
    real_writer = legacy_import.referral_import_row

    def watching_writer(*, row, **kwargs):
        if row.row == 280:
            def look() -> None:
                from django.db import connection

                run = ImportRun.objects.get()
                seen.append((run.processed_rows, Referral.objects.count()))
                connection.close()
            watcher = threading.Thread(target=look)
            watcher.start()
            watcher.join()
        return real_writer(row=row, **kwargs)

    monkeypatch.setattr(legacy_import, "referral_import_row", watching_writer)
    run = legacy_import.import_run_start(team=haringey, file_name=path.name, dry_run=False, actor=actor, now=NOW)
    run = legacy_import.import_referral_log(run=run, path=path, now=NOW)

    # Another connection saw 250 rows counted and not one referral (they are committed together at the end).
    assert seen == [(250, 0)]
    assert (run.status, run.accepted) == (ImportStatus.DONE, 300)


def test_memory_stays_flat_from_5000_to_20000_rows(tmp_path, administrator, enfield):
    """Rows are read lazily and rejections kept only up to a cap: four times the rows, about the same peak."""
    peaks = {}
    for rows, team in ((5_000, administrator.team), (20_000, enfield)):
        path = _write_mostly_rejected(tmp_path / f"log-{rows}.xlsx", rows=rows, team=team)
        gc.collect()
        tracemalloc.start()
        run = run_import(path, actor=administrator, team=team)
        _current, peaks[rows] = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert (run.status, run.accepted, run.rejected) == (ImportStatus.DONE, rows // 100, rows - rows // 100)
        assert len(run.rejections) == legacy_import.REJECTIONS_KEPT

    assert peaks[20_000] < peaks[5_000] * 1.5 + 1_000_000, peaks


def _write_mostly_rejected(path: Path, *, rows: int, team: Team) -> Path:
    """A generated log in which one row in a hundred is stored and the others carry a decision the import does not
    know: both the writing and the rejecting paths run, and the test stays quick on PostgreSQL."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADINGS)
    generated = sample_rows(rows=rows, faults=False, seed=rows, team_code=team.code)
    for index, sample in enumerate(s for s in generated if not s.blank):
        values = list(sample.values)
        if index % 100:
            values[6] = "TBC"
        sheet.append(values)
    workbook.save(path)
    return path


# --- The upload page -------------------------------------------------------------------------------------


def test_only_administrators_reach_the_import_pages(client, desk_sergeant, administrator, tmp_path):
    run = legacy_import.import_run_start(team=administrator.team, file_name="log.csv", dry_run=True,
                                         actor=administrator, now=NOW)
    client.force_login(desk_sergeant)
    for url in (reverse("referrals:import"), reverse("referrals:import_run", args=[run.pk]),
                reverse("referrals:import_run_progress", args=[run.pk]),
                reverse("referrals:import_run_report", args=[run.pk])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("referrals:import"), {"team": administrator.team_id}).status_code == 403
    assert ImportRun.objects.count() == 1


def test_an_administrator_imports_the_sample_spreadsheet_and_reads_the_rejection_report(
        client, administrator, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    """The shipped sample: 540 rows imported, 60 rejected, each reason on the run page and in the CSV."""
    client.force_login(administrator)
    with SAMPLE.open("rb") as upload, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("referrals:import"),
                               {"file": upload, "team": administrator.team_id, "dry_run": ""})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("referrals:import_run", args=[run.pk])
    assert (run.status, run.accepted, run.already_imported, run.rejected) == (ImportStatus.DONE, 540, 0, 60)
    assert Referral.objects.filter(imported_from=SAMPLE.name).count() == 540

    # Session, officer, roles, run with its team and officer, the officer's team; the request's savepoint.
    with django_assert_max_num_queries(7):
        page = client.get(reverse("referrals:import_run", args=[run.pk]))
    body = page.content.decode()
    assert 'data-testid="count-accepted">540<' in body and 'data-testid="count-rejected">60<' in body
    assert "Date received 30/02/2016 is not a real date." in body or "Date received 31/02/2016 is not a real date." in body
    assert "Page 1 of 2" in body and body.count("<tr><td class=\"text-end\">") == 50
    second = client.get(reverse("referrals:import_run", args=[run.pk]), {"page": 2}).content.decode()
    assert second.count("<tr><td class=\"text-end\">") == 10

    report = client.get(reverse("referrals:import_run_report", args=[run.pk]))
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,URN,Reason" and len(lines) == 61
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, actor=administrator).count() == 1

    with django_assert_max_num_queries(8):
        listing = client.get(reverse("referrals:import"))
    assert SAMPLE.name in listing.content.decode() and "Imported" in listing.content.decode()


def test_a_dry_run_from_the_page_then_imports_the_same_file_for_real(client, administrator, tmp_path,
                                                                     django_capture_on_commit_callbacks):
    path = tmp_path / "log.csv"
    summary = write_sample(path, rows=40, faults=True)
    client.force_login(administrator)
    with path.open("rb") as upload, django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("referrals:import"), {"file": upload, "team": administrator.team_id, "dry_run": "on"})
    checked = ImportRun.objects.get()
    assert checked.status == ImportStatus.DRY_RUN and not Referral.objects.exists()
    page = client.get(reverse("referrals:import_run", args=[checked.pk])).content.decode()
    assert "Import this file for real" in page and "Would be imported" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("referrals:import_run_again", args=[checked.pk]))
    run = ImportRun.objects.exclude(pk=checked.pk).get()
    assert response["Location"] == reverse("referrals:import_run", args=[run.pk])
    assert (run.status, run.dry_run, run.accepted) == (ImportStatus.DONE, False, summary.accepted)
    assert Referral.objects.count() == summary.accepted


def test_the_progress_partial_polls_while_running_and_announces_the_end(client, administrator):
    run = legacy_import.import_run_start(team=administrator.team, file_name="log.csv", dry_run=False,
                                         actor=administrator, now=NOW)
    ImportRun.objects.filter(pk=run.pk).update(total_rows=1000, processed_rows=250, accepted=200, rejected=50)
    client.force_login(administrator)
    url = reverse("referrals:import_run_progress", args=[run.pk])

    running = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in running and "Checking rows: 250 of 1000 (25%)" in running
    assert 'value="25"' in running

    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.DONE, processed_rows=1000, accepted=900,
                                               rejected=100)
    finished = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in finished
    assert 'hx-swap-oob="innerHTML">The import has ended: imported. 900 accepted' in finished


@pytest.mark.parametrize(("name", "content", "message"), [
    ("log.txt", b"URN,Date received\n", "Choose an Excel workbook (.xlsx) or a CSV file (.csv)."),
    ("log.xlsx", b"not a zip file at all", "The file is not an Excel workbook (.xlsx), whatever its name says."),
    ("log.csv", b"Ref,Child\nHY-19-00001,A B\n", "The file has no column for Date received, Source, Summary or Decision"),
])
def test_a_file_that_cannot_be_imported_is_refused_next_to_the_field(client, administrator, name, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(administrator)
    response = client.post(reverse("referrals:import"), {
        "file": SimpleUploadedFile(name, content), "team": administrator.team_id})

    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and 'id="id_file"' in body and "is-invalid" in body
    assert not ImportRun.objects.exists()
    assert not list((Path(settings.PRIVATE_FILES_ROOT) / "imports").glob("upload-*"))


def test_a_file_over_the_size_limit_is_refused_with_its_size(client, administrator, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    monkeypatch.setattr(legacy_import, "MAX_UPLOAD_BYTES", 1024 * 1024)
    monkeypatch.setattr("referrals.import_forms.MAX_UPLOAD_BYTES", 1024 * 1024)
    client.force_login(administrator)
    response = client.post(reverse("referrals:import"), {
        "file": SimpleUploadedFile("log.csv", b"x" * (1024 * 1024 + 1)), "team": administrator.team_id})
    assert "The file is 1.0 MB; the limit is 1 MB. Split the log into several files." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_an_administrator_of_one_team_cannot_import_into_another(client, administrator, enfield):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(administrator)
    response = client.post(reverse("referrals:import"), {
        "file": SimpleUploadedFile("log.csv", b"URN\n"), "team": enfield.pk})
    assert "You may import only into your own team" in response.content.decode()
    assert not ImportRun.objects.exists()
    # Another team's run is not found at any of its addresses.
    other = legacy_import.import_run_start(team=enfield, file_name="x.csv", dry_run=True,
                                           actor=administrator, now=NOW)
    ImportRun.objects.filter(pk=other.pk).update(status=ImportStatus.DRY_RUN)
    for name in ("import_run", "import_run_progress", "import_run_report"):
        assert client.get(reverse(f"referrals:{name}", args=[other.pk])).status_code == 404, name
    assert client.post(reverse("referrals:import_run_again", args=[other.pk])).status_code == 404
    assert ImportRun.objects.count() == 1


def test_the_command_prints_counts_rejections_time_and_memory(tmp_path, administrator, capsys):
    path = tmp_path / "faulty.csv"
    summary = write_sample(path, rows=30, faults=True)

    call_command("import_referral_log", str(path), "--team", "hy", "--user", administrator.username, "--dry-run")

    out, err = capsys.readouterr()
    assert f"[{'#' * 30}] {summary.rows + summary.blank_rows}/{summary.rows + summary.blank_rows} rows" in err
    assert re.search(rf"would be imported +{summary.accepted}\n", out)
    assert ("row     12  HY-17-00004    URN HY-17-00004 is repeated: it appears on an earlier row of this file, "
            "and only the first is imported.\n") in out
    assert "Full rejection report: " in out and "Elapsed " in out and "peak memory " in out
    assert not Referral.objects.exists()


def test_the_command_refuses_an_officer_who_is_not_an_administrator(tmp_path, desk_sergeant):
    path = write_csv(tmp_path / "log.csv", [])
    with pytest.raises(CommandError, match="is not an administrator"):
        call_command("import_referral_log", str(path), "--user", desk_sergeant.username)
    assert not ImportRun.objects.exists()


def test_the_shipped_sample_is_the_generator_output():
    """docs/sample-legacy-referral-log.xlsx holds 600 rows and is what the generator writes for its seed."""
    from openpyxl import load_workbook

    sheet = load_workbook(SAMPLE, read_only=True, data_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == TITLE and rows[1] == HEADINGS
    generated = list(sample_rows(rows=600, faults=True))
    assert len(rows) - 2 == len(generated)
    assert [row[0] if row else None for row in rows[2:]] == [
        sample.values[0] if sample.values else None for sample in generated]
