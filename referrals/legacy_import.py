"""The legacy referral-log import: the old spreadsheet, row by row, into closed historical referrals.

A file is read lazily (openpyxl's read-only mode for .xlsx, the csv module for .csv), so 50,000
rows take the memory of a few hundred. The header is found and mapped first; a file that lacks a
required column is refused as a whole and nothing is stored. Every data row is then checked and
either imported, skipped as already imported (its URN is in the product from an earlier run) or
rejected with its reasons.

All or nothing: the whole run is one transaction on "default", and each row is written in its own
savepoint inside it, so a row is in or out and a failure part-way (an exception, a database error,
Ctrl-C) rolls every row back and marks the run failed. A dry run does every check and every write,
then rolls back. The run's counters are written every few hundred rows through a second connection
(`PROGRESS_DATABASE`, PostgreSQL only) so the upload page can show them while the transaction is
open; SQLite allows one writer at a time, so there they appear when the run ends.

Decisions where the old log is ambiguous (said on the upload page and in the README):
- A cell read as text that begins with "=" is a formula pasted as text, or a value that would be
  one when exported again: the row is rejected, naming the column. A real formula cell is read
  as the value Excel last calculated for it (`data_only=True`) and stored as plain text; a formula
  is never evaluated here and never stored as a formula.
- A date without a time is taken as midnight, London time: the time was not recorded, and midnight
  never pushes a date received today into the future.
- An officer who cannot be matched to an officer of the team (a leaver of years ago) does not
  reject the row: the name stays in the import's case-log entry and the referral has no owner.
- Blank rows are skipped and not reported; columns that map to nothing are ignored and listed.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import logging
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from auditlog.context import set_actor
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models.functions import Lower

from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank, Team

from . import services
from .models import (
    CaseLogKind,
    ImportRun,
    ImportStatus,
    Person,
    PersonRole,
    Referral,
    ReferralStatus,
    Route,
)

logger = logging.getLogger(__name__)

# The second connection the progress counters are written through (cram_site/settings.py).
PROGRESS_DATABASE = "import_progress"
PROGRESS_EVERY = 250
# Rows checked together: one query finds the chunk's URNs already in the product, one its known children.
CHUNK_ROWS = 500
# Rejections kept on the run itself for the page; the report file has every one.
REJECTIONS_KEPT = 1000
MAX_ROWS = 200_000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_SUFFIXES = (".xlsx", ".csv")
HEADER_SEARCH_ROWS = 10
EARLIEST_RECEIVED = dt.date(1990, 1, 1)
SOURCE_NOT_RECORDED = "Not recorded in the legacy log"
URN_FORM = re.compile(r"^(?P<team>[A-Z]{2,4})-(?P<year>\d{2})-(?P<number>\d{5})$")


class LegacyLogRefused(Exception):
    """The file as a whole cannot be imported (missing columns, not a spreadsheet…); nothing is stored."""


# --- Columns ---------------------------------------------------------------------------------

def header_key(value: object) -> str:
    """A header (or decision, or officer) as compared: case, spacing, apostrophes and punctuation ignored."""
    text = str(value if value is not None else "").casefold().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    required: bool
    aliases: tuple[str, ...]


COLUMNS = (
    Column("urn", "URN", True, ("urn", "ref", "ref no", "reference", "reference number", "referral ref",
                                "referral reference", "referral number", "unique reference number",
                                "cait ref", "cait reference")),
    Column("received", "Date received", True, ("date received", "date recd", "date rec", "received",
                                               "received date", "date of referral", "referral date",
                                               "received on")),
    Column("source", "Source", True, ("source", "source agency", "referrer agency", "referring agency",
                                      "referrer", "agency", "referred by")),
    Column("child", "Child's name", True, ("child name", "childs name", "child", "name of child",
                                           "child victim", "victim", "victim name", "child s name")),
    Column("date_of_birth", "Date of birth", False, ("dob", "d o b", "date of birth", "child dob",
                                                     "childs dob", "birth date")),
    Column("summary", "Summary", True, ("summary", "details", "summary of referral", "referral summary",
                                        "description", "circumstances", "allegation")),
    Column("decision", "Decision", True, ("decision", "outcome", "route", "desk decision",
                                          "decision outcome")),
    Column("officer", "Officer", False, ("officer", "oic", "officer in charge", "officer in case",
                                         "allocated officer", "allocated to", "io", "investigating officer")),
)
COLUMN_BY_ALIAS = {alias: column for column in COLUMNS for alias in column.aliases}
LABELS = {column.field: column.label for column in COLUMNS}

# The old log's decisions, as officers wrote them, and the route each one means.
DECISIONS: dict[str, str] = {
    **dict.fromkeys(("nfa", "no further action", "no further police action", "nfpa", "nfa police",
                     "no further police involvement", "no police action"), Route.NO_FURTHER_ACTION),
    **dict.fromkeys(("joint", "joint investigation", "joint inv", "joint s47", "s47 joint",
                     "joint enquiry", "joint s 47"), Route.JOINT_INVESTIGATION),
    **dict.fromkeys(("police", "police investigation", "police only", "police inv", "single agency police",
                     "police single agency", "crime investigation"), Route.POLICE_INVESTIGATION),
    **dict.fromkeys(("ss only", "social services only", "social care only", "ssd only", "csc only",
                     "childrens social care only", "ss", "social services"), Route.SOCIAL_SERVICES_ONLY),
}


def expected_columns_text() -> str:
    required = ", ".join(c.label for c in COLUMNS if c.required)
    optional = " and ".join(c.label for c in COLUMNS if not c.required)
    return f"{required} ({optional} optional)"


@dataclass(frozen=True)
class Header:
    row: int
    columns: dict[str, int]
    ignored: tuple[str, ...]


def _map_header(values: Iterable[object]) -> tuple[dict[str, int], list[str], list[str]]:
    """Which column holds which field; the headers that map to nothing; fields claimed twice."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    clashes: list[str] = []
    names: dict[str, str] = {}
    for index, value in enumerate(values):
        key = header_key(value)
        if not key:
            continue
        column = COLUMN_BY_ALIAS.get(key)
        if column is None:
            ignored.append(str(value).strip())
        elif column.field in columns:
            clashes.append(f"{column.label} ('{names[column.field]}' and '{str(value).strip()}')")
        else:
            columns[column.field] = index
            names[column.field] = str(value).strip()
    return columns, ignored, clashes


def _find_header(numbered_rows: Iterator[tuple[int, tuple[Any, ...]]]) -> Header:
    """The first of the opening rows that names every required column (a title row may sit above it)."""
    best: tuple[int, int, list[str], list[str]] | None = None
    for row_number, values in numbered_rows:
        columns, ignored, clashes = _map_header(values)
        found = sum(1 for c in COLUMNS if c.required and c.field in columns)
        if found == sum(1 for c in COLUMNS if c.required):
            if clashes:
                raise LegacyLogRefused(
                    f"Row {row_number} has two columns for the same thing: {'; '.join(clashes)}. "
                    "Rename or remove one of each and try again.")
            return Header(row=row_number, columns=columns, ignored=tuple(ignored))
        headers = [str(v).strip() for v in values if header_key(v)]
        if headers and (best is None or found > best[1]):
            best = (row_number, found, [c.label for c in COLUMNS if c.required and c.field not in columns],
                    headers)
        if row_number >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        raise LegacyLogRefused("The file is empty: no row of column headings was found.")
    row_number, _found, missing, headers = best
    shown = ", ".join(headers[:12]) + ("…" if len(headers) > 12 else "")
    raise LegacyLogRefused(
        f"The file has no column for {_and_list(missing)}, so nothing was imported. "
        f"Headings found in row {row_number}: {shown}. Expected: {expected_columns_text()}.")


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


# --- Reading the file --------------------------------------------------------------------------

class LegacyLog:
    """An opened legacy log: its header and its data rows, read one at a time."""

    def __init__(self, *, header: Header, numbered_rows: Iterator[tuple[int, tuple[Any, ...]]],
                 total_rows: int | None, closers: list[Callable[[], None]]) -> None:
        self.header = header
        self.total_rows = total_rows
        self._numbered_rows = numbered_rows
        self._closers = closers

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number as the spreadsheet shows it, cell values), after the header."""
        row_number = self.header.row
        iterator = iter(self._numbered_rows)
        while True:
            try:
                row_number, values = next(iterator)
            except StopIteration:
                return
            except Exception as error:  # noqa: BLE001 - whatever the reader trips on, the file is at fault
                raise LegacyLogRefused(f"The file could not be read after row {row_number}: {error}") from error
            yield row_number, values

    def close(self) -> None:
        for close in self._closers:
            close()

    def __enter__(self) -> LegacyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_legacy_log(path: Path, *, count_rows: bool = True) -> LegacyLog:
    """Open an .xlsx or .csv legacy log and map its header; refuse a file that cannot be imported."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return _open_xlsx(Path(path), count_rows=count_rows)
    if suffix == ".csv":
        return _open_csv(Path(path), count_rows=count_rows)
    raise LegacyLogRefused("Only Excel workbooks (.xlsx) and CSV files (.csv) can be imported.")


def _open_xlsx(path: Path, *, count_rows: bool) -> LegacyLog:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only: a formula cell gives the value Excel last calculated, never the formula.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError, SyntaxError,
            EOFError, zlib.error) as error:
        raise LegacyLogRefused(
            "The file is not a readable Excel workbook (.xlsx). Save it from Excel as an .xlsx "
            "workbook, or as 'CSV UTF-8', and try again.") from error
    try:
        if not workbook.worksheets:
            raise LegacyLogRefused("The workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        numbered = enumerate(sheet.iter_rows(values_only=True), start=1)
        try:
            header = _find_header(numbered)
        except (zipfile.BadZipFile, OSError, ValueError, KeyError, SyntaxError, EOFError, zlib.error) as error:
            # A damaged archive or sheet (ElementTree's ParseError is a SyntaxError).
            raise LegacyLogRefused(f"The workbook could not be read: {error}") from error
        total = None
        if count_rows:
            # The sheet's recorded dimension; files written without one are counted in a first pass.
            max_row = sheet.max_row
            if not max_row:
                max_row = _count_sheet_rows(path, getattr(sheet, "_worksheet_path", ""))
            total = max(max_row - header.row, 0) if max_row else None
            if total is not None:
                _check_size(total)
    except BaseException:
        workbook.close()
        raise
    return LegacyLog(header=header, numbered_rows=numbered, total_rows=total, closers=[workbook.close])


def _count_sheet_rows(path: Path, sheet_path: str) -> int | None:
    """The rows of a sheet saved without its dimension, counted in its XML as it streams past.

    Parsing every cell again with openpyxl would double the time of reading the file; the count
    only sizes the progress bar. Text in the sheet is escaped, so "<row" only ever opens a row.
    """
    if not sheet_path:
        return None
    count, tail = 0, b""
    with zipfile.ZipFile(path) as archive, archive.open(sheet_path) as sheet_xml:
        while block := sheet_xml.read(1 << 20):
            # The last four bytes of the block before: a tag split across two blocks is counted once.
            data = tail + block
            count += data.count(b"<row ") + data.count(b"<row>") + data.count(b":row ")
            tail = data[-4:]
    return count


@contextlib.contextmanager
def _unreadable_csv_refused() -> Iterator[None]:
    """A file that is not UTF-8, or not CSV, is refused as a whole with a message saying how to mend it."""
    try:
        yield
    except UnicodeDecodeError as error:
        raise LegacyLogRefused(
            "The file is not UTF-8 text. Save it from Excel as 'CSV UTF-8 (comma delimited)' and "
            "try again.") from error
    except csv.Error as error:
        raise LegacyLogRefused(f"The file is not a readable CSV file: {error}.") from error


def _open_csv(path: Path, *, count_rows: bool) -> LegacyLog:
    total = None
    if count_rows:
        # A first pass: counts the rows and finds bad encoding before anything is written.
        with _unreadable_csv_refused(), path.open(encoding="utf-8-sig", newline="") as handle:
            total = sum(1 for _ in csv.reader(handle))
    handle: IO[str] = path.open(encoding="utf-8-sig", newline="")
    try:
        numbered = enumerate(csv.reader(handle), start=1)
        with _unreadable_csv_refused():
            header = _find_header(numbered)
        if total is not None:
            total = max(total - header.row, 0)
            _check_size(total)
    except BaseException:
        handle.close()
        raise
    return LegacyLog(header=header, numbered_rows=numbered, total_rows=total, closers=[handle.close])


def _check_size(total: int) -> None:
    if total > MAX_ROWS:
        raise LegacyLogRefused(f"The file has {total:,} rows; at most {MAX_ROWS:,} are imported at once. "
                               "Split it into several files.")


# --- Checking a row --------------------------------------------------------------------------

class RowFault(Exception):
    """One reason a row cannot be imported."""


@dataclass
class CheckedRow:
    row: int
    urn_text: str = ""
    urn: str = ""
    year: int = 0
    number: int = 0
    received_at: dt.datetime | None = None
    source: str = ""
    first_name: str = ""
    last_name: str = ""
    date_of_birth: dt.date | None = None
    summary: str = ""
    decision: str = ""
    route: str = ""
    officer: str = ""
    reasons: list[str] = field(default_factory=list)
    # The URN is well formed, the team's, and its first appearance in the file.
    urn_usable: bool = False

    @property
    def person_key(self) -> tuple[str, str, dt.date] | None:
        """How a child is matched to a known person: the exact name and date of birth, any case."""
        if self.date_of_birth is None:
            return None
        return (self.first_name.casefold(), self.last_name.casefold(), self.date_of_birth)


class _UrnsSeen:
    """The URNs met so far in the file, one bit per possible number: 1.25 MB, however long the file."""

    def __init__(self) -> None:
        self._bits = bytearray(100 * 100_000 // 8)

    def add(self, year: int, number: int) -> bool:
        """Mark a URN as seen; False when it had been seen already."""
        index = year * 100_000 + number
        byte, bit = divmod(index, 8)
        if self._bits[byte] & (1 << bit):
            return False
        self._bits[byte] |= 1 << bit
        return True


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return " ".join(str(value).split())


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T,]+(\d{1,2})[:.](\d{2})(?::(\d{2}))?)?$")
YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")


def read_moment(value: object, *, label: str) -> dt.datetime:
    """A date (and time, when given) from a cell, as a naive London wall-clock time.

    Accepts Excel dates and serial numbers, dd/mm/yyyy and yyyy-mm-dd, each with an optional
    hh:mm. Two-digit years are refused rather than guessed.
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(LONDON).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, dt.time):
        raise RowFault(f"{label} is a time of day, not a date.")
    if isinstance(value, bool):
        raise RowFault(f"{label} '{value}' is not a date.")
    if isinstance(value, (int, float)):
        from openpyxl.utils.datetime import from_excel

        if not 1 <= value < 2_958_466:
            raise RowFault(f"{label} {value} is not a date.")
        return from_excel(value)
    text = _text(value)
    parts: tuple[str | None, ...]
    if match := DMY.match(text):
        day, month, year, hour, minute, second = match.groups()
        if len(year) == 2:
            raise RowFault(f"{label} {text} has a two-digit year: write the year in full (e.g. 03/05/2019).")
        parts = (year, month, day, hour, minute, second)
    elif match := YMD.match(text):
        parts = match.groups()
    else:
        raise RowFault(f"{label} '{_shown(text)}' is not a date: write it as dd/mm/yyyy (e.g. 03/05/2019) "
                       "or yyyy-mm-dd.")
    year, month, day, hour, minute, second = (int(p) if p else 0 for p in parts)
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise RowFault(f"{label} {text} is not a real date.") from error


def _london(naive: dt.datetime) -> dt.datetime:
    return naive.replace(tzinfo=LONDON)


def split_name(text: str) -> tuple[str, str]:
    """(first, last) from "Amara Okafor", "OKAFOR, Amara" or a single name (kept as the surname)."""
    if "," in text:
        last, _, first = text.partition(",")
        return " ".join(first.split()), " ".join(last.split())
    parts = text.split()
    return " ".join(parts[:-1]), parts[-1]


def check_row(row_number: int, values: tuple[Any, ...], *, header: Header, team: Team, now: dt.datetime,
              seen: _UrnsSeen) -> CheckedRow | None:
    """Every check a row can fail without the database; None for a blank row."""
    if not any(_text(value) for value in values):
        return None
    cells: dict[str, object] = {}
    for field_name, index in header.columns.items():
        cells[field_name] = values[index] if index < len(values) else None
    row = CheckedRow(row=row_number)
    reasons = row.reasons

    # A text cell beginning with "=" is a formula typed or pasted as text: never stored.
    formulas: set[str] = set()
    for field_name, value in cells.items():
        if isinstance(value, str) and value.lstrip().startswith("="):
            formulas.add(field_name)
            reasons.append(f"{LABELS[field_name]} holds a formula ({_shown(value.strip())}): formulas are "
                           "not imported; type the value itself.")
    for field_name in formulas:
        cells[field_name] = None

    if "urn" in formulas:
        row.urn_text = _shown(str(values[header.columns["urn"]]).strip(), 30)
    else:
        _check_urn(row, cells["urn"], team=team, seen=seen)

    received_naive = None
    if _text(cells["received"]):
        try:
            received_naive = read_moment(cells["received"], label="Date received")
        except RowFault as fault:
            reasons.append(str(fault))
    elif "received" not in formulas:
        reasons.append("Date received is missing.")
    if received_naive is not None:
        shown = f"{received_naive:%d/%m/%Y}"
        received_at = _london(received_naive)
        if received_naive.date() < EARLIEST_RECEIVED:
            reasons.append(f"Date received {shown} is before {EARLIEST_RECEIVED:%Y}: check the year.")
        elif received_at > now:
            reasons.append(f"Date received {shown} is in the future.")
        else:
            row.received_at = received_at
            if row.urn and row.year not in _urn_years_for(received_naive):
                reasons.append(f"The year in URN {row.urn} ({row.year:02d}) does not match the date received "
                               f"{shown}.")

    row.source = _text(cells["source"])
    if len(row.source) > 120:
        reasons.append(f"Source is longer than 120 characters ({len(row.source)}): shorten it.")

    child = _text(cells["child"])
    if child:
        row.first_name, row.last_name = split_name(child)
        if not row.last_name:
            reasons.append(f"Child's name '{_shown(child)}' has no surname.")
        elif len(row.first_name) > 80 or len(row.last_name) > 80:
            reasons.append("Child's name is longer than 80 characters.")
    elif "child" not in formulas:
        reasons.append("Child's name is missing.")

    born = cells.get("date_of_birth")
    if _text(born):
        try:
            row.date_of_birth = read_moment(born, label="Date of birth").date()
        except RowFault as fault:
            reasons.append(str(fault))
        else:
            if row.date_of_birth > now.astimezone(LONDON).date():
                reasons.append(f"Date of birth {row.date_of_birth:%d/%m/%Y} is in the future.")
            elif received_naive is not None and row.date_of_birth > received_naive.date():
                reasons.append(f"Date of birth {row.date_of_birth:%d/%m/%Y} is after the date received "
                               f"{received_naive:%d/%m/%Y}.")

    summary = cells["summary"]
    # The summary keeps its line breaks; other cells are read as one line.
    row.summary = (summary.replace("\r\n", "\n").strip() if isinstance(summary, str) else _text(summary))
    if not row.summary and "summary" not in formulas:
        reasons.append("Summary is missing.")

    row.decision = _text(cells["decision"])
    if row.decision:
        route = DECISIONS.get(header_key(row.decision))
        if route is None:
            reasons.append(f"Decision '{_shown(row.decision)}' is not one the import knows: use NFA, Joint, "
                           "Police or SS only (or the words in full).")
        else:
            row.route = route
    elif "decision" not in formulas:
        reasons.append("Decision is missing.")

    row.officer = _text(cells.get("officer"))
    return row


def _urn_years_for(received: dt.datetime) -> set[int]:
    """The two-digit years a URN may carry: the year received, or the next when received in December
    (a referral received late on 31 December may be logged after midnight)."""
    years = {received.year % 100}
    if received.month == 12:
        years.add((received.year + 1) % 100)
    return years


def _check_urn(row: CheckedRow, value: object, *, team: Team, seen: _UrnsSeen) -> None:
    text = _text(value).upper().replace(" ", "")
    row.urn_text = _shown(_text(value), 30)
    if not text:
        row.reasons.append("URN is missing.")
        return
    match = URN_FORM.match(text)
    if match is None:
        row.reasons.append(f"URN '{_shown(_text(value), 30)}' is not in the form {team.code}-YY-NNNNN "
                           f"(e.g. {team.code}-19-00042).")
        return
    if match["team"] != team.code:
        row.reasons.append(f"URN {text} is another team's ({match['team']}): this import is for {team.code}.")
        return
    year, number = int(match["year"]), int(match["number"])
    if number == 0:
        row.reasons.append(f"URN {text} has the number 00000, which is never issued.")
        return
    row.urn, row.year, row.number = text, year, number
    row.urn_text = text
    if not seen.add(year, number):
        row.reasons.append(f"URN {text} is repeated: it appears on an earlier row of this file, and only "
                           "the first is imported.")
        return
    row.urn_usable = True


# --- Officers --------------------------------------------------------------------------------

RANK_WORDS = frozenset({rank.value.casefold() for rank in Rank} | {
    "det", "detective", "sgt", "sergeant", "insp", "inspector", "constable", "ch", "chief", "mr", "mrs",
    "ms", "miss", "dr"})


class OfficerDirectory:
    """The team's officers (leavers too), matched by staff number, username or name."""

    def __init__(self, team: Team) -> None:
        self._by_key: dict[str, Officer | None] = {}
        officers = Officer.objects.filter(team=team).only(
            "username", "first_name", "last_name", "rank", "staff_number", "team_id", "is_active")
        for officer in officers:
            first, last = header_key(officer.first_name), header_key(officer.last_name)
            keys = {header_key(officer.username), header_key(officer.staff_number)}
            if last:
                keys |= {f"{first} {last}".strip(), f"{first[:1]} {last}".strip(), f"last:{last}"}
            for key in keys - {""}:
                # A key two officers share matches neither.
                self._by_key[key] = None if key in self._by_key else officer

    def match(self, text: str) -> Officer | None:
        key = header_key(text)
        if not key:
            return None
        if key in self._by_key:
            return self._by_key[key]
        words = key.split()
        for word in words:
            if any(ch.isdigit() for ch in word) and word in self._by_key:
                return self._by_key[word]
        name = [w for w in words if w not in RANK_WORDS and not any(ch.isdigit() for ch in w)]
        if not name:
            return None
        if len(name) == 1:
            return self._by_key.get(f"last:{name[0]}")
        for candidate in (" ".join(name), f"{name[0][:1]} {name[-1]}", f"{name[0]} {name[-1]}"):
            if candidate in self._by_key:
                return self._by_key[candidate]
        return None


# --- Progress and the rejection report --------------------------------------------------------

@dataclass
class ImportProgress:
    total_rows: int = 0
    processed_rows: int = 0
    accepted: int = 0
    already_imported: int = 0
    rejected: int = 0
    # The row being worked on: named in the error of a run that fails.
    current_row: int = 0
    rejections: list[dict[str, object]] = field(default_factory=list)

    def counters(self) -> dict[str, int]:
        return {"total_rows": max(self.total_rows, self.processed_rows), "processed_rows": self.processed_rows,
                "accepted": self.accepted, "already_imported": self.already_imported, "rejected": self.rejected}


def imports_folder() -> Path:
    folder = Path(settings.PRIVATE_FILES_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_path(run: ImportRun) -> Path:
    """Where the uploaded file of a run is kept (the upload page saves it here)."""
    return imports_folder() / f"run-{run.pk}{Path(run.file_name).suffix.lower()}"


def rejection_report_path(run: ImportRun) -> Path:
    return imports_folder() / f"run-{run.pk}-rejections.csv"


def spreadsheet_safe(text: str) -> str:
    """A cell that a spreadsheet will not read as a formula when the report is opened."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class RejectionReport:
    """Every rejected row, written to a CSV file as it happens; the first ones also kept for the page."""

    def __init__(self, path: Path, progress: ImportProgress) -> None:
        self.path = path
        self._progress = progress
        self._handle = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(["Row", "URN", "Reason"])

    def add(self, row: CheckedRow, reason: str) -> None:
        self._progress.rejected += 1
        self._writer.writerow([row.row, spreadsheet_safe(row.urn_text), spreadsheet_safe(reason)])
        if len(self._progress.rejections) < REJECTIONS_KEPT:
            self._progress.rejections.append({"row": row.row, "urn": row.urn_text, "reason": reason})

    def close(self) -> None:
        self._handle.close()


class ProgressPublisher:
    """Writes a run's counters where the upload page can read them while the import's transaction is open."""

    def __init__(self, run: ImportRun) -> None:
        self._run_pk = run.pk
        # PostgreSQL only: SQLite's single writer is held by the import itself.
        self.alias = PROGRESS_DATABASE if PROGRESS_DATABASE in settings.DATABASES else None

    def publish(self, progress: ImportProgress) -> None:
        if self.alias is None:
            return
        try:
            ImportRun.objects.using(self.alias).filter(pk=self._run_pk).update(**progress.counters())
        except DatabaseError:
            # Progress is a courtesy: the import carries on without it.
            logger.warning("Could not publish the progress of import run %s", self._run_pk, exc_info=True)

    def close(self) -> None:
        if self.alias is not None:
            connection = connections[self.alias]
            if not connection.in_atomic_block:
                connection.close()


# --- Importing -------------------------------------------------------------------------------

@dataclass
class ImportContext:
    team: Team
    actor: Officer
    file_name: str
    officers: OfficerDirectory
    # Children by (first, last, date of birth) for the rows of the current chunk, and those the run created.
    people: dict[tuple[str, str, dt.date], Person] = field(default_factory=dict)
    # The highest number imported per two-digit year; each year's URN counter is locked when first met.
    urn_years: dict[int, int] = field(default_factory=dict)


def import_run_start(*, team: Team, file_name: str, dry_run: bool, actor: Officer, now: dt.datetime) -> ImportRun:
    """Record a run before its import starts (committed on its own, so its progress can be shown)."""
    return ImportRun.objects.create(team=team, file_name=Path(file_name).name[:200], dry_run=dry_run,
                                    started_by=actor, started_at=now, status=ImportStatus.RUNNING)


def import_run_execute(*, run_id: int, now: dt.datetime) -> ImportRun:
    """Import the file uploaded for a run (the Celery task's body)."""
    run = ImportRun.objects.select_related("team", "started_by").get(pk=run_id)
    return import_referral_log(run=run, path=upload_path(run), now=now)


def import_referral_log(*, run: ImportRun, path: Path, now: dt.datetime,
                        on_progress: Callable[[ImportProgress], None] | None = None) -> ImportRun:
    """Import a legacy log into the run's team, all or nothing; the run records what happened.

    Returns the run, finished: DONE, DRY_RUN or FAILED (the file refused as a whole, or a failure
    part-way, which rolls every row back).
    """
    started = time.perf_counter()
    progress = ImportProgress()

    def finished_at() -> dt.datetime:
        # The clock is read once by the caller; the run's end is that moment plus the time it took.
        return now + dt.timedelta(seconds=time.perf_counter() - started)

    if run.status != ImportStatus.RUNNING:
        return run  # a task delivered twice finds the run already finished
    if run.started_by is None:
        return _record(run, progress, status=ImportStatus.FAILED, finished_at=finished_at(),
                       error="The run names no officer to record as having logged the referrals.")
    try:
        log = open_legacy_log(path)
    except (LegacyLogRefused, OSError) as refusal:
        message = str(refusal) if isinstance(refusal, LegacyLogRefused) else "The uploaded file could not be found."
        return _record(run, progress, status=ImportStatus.FAILED, finished_at=finished_at(), error=message)
    except KeyboardInterrupt:
        _record(run, progress, status=ImportStatus.FAILED, finished_at=finished_at(),
                error="Interrupted before the first row. Nothing was imported.")
        raise

    progress.total_rows = log.total_rows or 0
    publisher = ProgressPublisher(run)
    report: RejectionReport | None = None

    def tick() -> None:
        publisher.publish(progress)
        if on_progress is not None:
            on_progress(progress)

    try:
        report = RejectionReport(rejection_report_path(run), progress)
        context = ImportContext(team=run.team, actor=run.started_by, file_name=run.file_name,
                                officers=OfficerDirectory(run.team))
        publisher.publish(progress)
        with set_actor(run.started_by), transaction.atomic():
            _lock_team(run.team)
            if ImportRun.objects.filter(pk=run.pk).values_list("status", flat=True).first() != ImportStatus.RUNNING:
                return ImportRun.objects.get(pk=run.pk)  # finished by a twin delivery while this one waited
            _import_rows(log, context=context, progress=progress, report=report, now=now, tick=tick)
            for year, top in sorted(context.urn_years.items()):
                if top:
                    services.urn_sequence_raise(team=run.team, year=year, at_least=top)
            progress.total_rows = progress.processed_rows
            if run.dry_run:
                transaction.set_rollback(True)
            else:
                # In the import's own transaction: the rows and "done" are committed together.
                _record(run, progress, status=ImportStatus.DONE, finished_at=finished_at())
    except KeyboardInterrupt:
        _record(run, progress, status=ImportStatus.FAILED, finished_at=finished_at(),
                error=f"Interrupted at row {progress.current_row}. Nothing was imported: the whole run was "
                      "rolled back.")
        raise
    except Exception as error:  # noqa: BLE001 - any failure rolls the run back and is recorded on it
        logger.exception("Import run %s failed at row %s", run.pk, progress.current_row)
        message = str(error) if isinstance(error, LegacyLogRefused) else f"{type(error).__name__}: {error}"
        return _record(run, progress, status=ImportStatus.FAILED, finished_at=finished_at(),
                       error=f"Stopped at row {progress.current_row}: {message} Nothing was imported: the "
                             "whole run was rolled back.")
    finally:
        log.close()
        if report is not None:
            report.close()
        publisher.close()
    if run.dry_run:
        return _record(run, progress, status=ImportStatus.DRY_RUN, finished_at=finished_at())
    return run


def _lock_team(team: Team) -> None:
    """Two imports into one team run one after the other (the second then finds the rows imported).

    FOR NO KEY UPDATE does not block the key-share locks that logging a referral takes on the team.
    """
    from django.db import connection

    if connection.features.has_select_for_update:
        Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()


def _record(run: ImportRun, progress: ImportProgress, *, status: str, finished_at: dt.datetime,
            error: str = "") -> ImportRun:
    values = {**progress.counters(), "status": status, "finished_at": finished_at, "error": error,
              "rejections": progress.rejections}
    try:
        ImportRun.objects.filter(pk=run.pk).update(**values)
    except DatabaseError:
        # The import's own connection has gone: record the failure through the progress connection.
        if status != ImportStatus.FAILED or PROGRESS_DATABASE not in settings.DATABASES:
            raise
        ImportRun.objects.using(PROGRESS_DATABASE).filter(pk=run.pk).update(**values)
    for name, value in values.items():
        setattr(run, name, value)
    return run


def _chunks(rows: Iterator[tuple[int, tuple[Any, ...]]], size: int) -> Iterator[list[tuple[int, tuple[Any, ...]]]]:
    chunk: list[tuple[int, tuple[Any, ...]]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _import_rows(log: LegacyLog, *, context: ImportContext, progress: ImportProgress, report: RejectionReport,
                 now: dt.datetime, tick: Callable[[], None]) -> None:
    seen = _UrnsSeen()
    for chunk in _chunks(log.rows(), CHUNK_ROWS):
        checked = [(number, check_row(number, values, header=log.header, team=context.team, now=now, seen=seen))
                   for number, values in chunk]
        in_product = _urns_in_product([row.urn for _, row in checked if row is not None and row.urn_usable])
        context.people = _known_children(context.team, [row for _, row in checked
                                                        if row is not None and not row.reasons])
        for number, row in checked:
            progress.current_row = number
            progress.processed_rows += 1
            if row is not None:
                _import_checked(row, in_product=in_product, context=context, progress=progress,
                                report=report, now=now)
            if progress.processed_rows % PROGRESS_EVERY == 0:
                tick()
    tick()


def _import_checked(row: CheckedRow, *, in_product: dict[str, str], context: ImportContext,
                    progress: ImportProgress, report: RejectionReport, now: dt.datetime) -> None:
    if row.urn_usable and row.urn in in_product:
        if in_product[row.urn]:
            progress.already_imported += 1
        else:
            report.add(row, f"URN {row.urn} is already used by a referral logged in the product.")
        return
    if row.reasons:
        report.add(row, " ".join(row.reasons))
        return
    if row.year not in context.urn_years:
        # Locked in the import's transaction (not the row's savepoint), so it stays locked to the end.
        services.urn_sequence_raise(team=context.team, year=row.year, at_least=0)
        context.urn_years[row.year] = 0
    try:
        with transaction.atomic():
            _referral, child = referral_import_row(row=row, context=context, now=now)
    except ValidationError as error:
        report.add(row, "Could not be stored: " + " ".join(error.messages))
        return
    except IntegrityError as error:
        report.add(row, f"Could not be stored: {str(error).splitlines()[0]}")
        return
    progress.accepted += 1
    context.urn_years[row.year] = max(context.urn_years[row.year], row.number)
    if row.person_key is not None:
        context.people[row.person_key] = child


def _urns_in_product(urns: list[str]) -> dict[str, str]:
    """URN -> the file it was imported from ("" for a referral logged in the product)."""
    if not urns:
        return {}
    return dict(Referral.objects.filter(urn__in=urns).values_list("urn", "imported_from"))


def _known_children(team: Team, rows: list[CheckedRow]) -> dict[tuple[str, str, dt.date], Person]:
    """The team's people matching the chunk's children by exact name and date of birth, in one query."""
    keys = {row.person_key for row in rows if row.person_key is not None}
    if not keys:
        return {}
    candidates = (Person.objects.filter(team=team, date_of_birth__in={key[2] for key in keys})
                  .annotate(last_lower=Lower("last_name"))
                  .filter(last_lower__in={key[1] for key in keys})
                  .select_related("household").order_by("pk"))
    found: dict[tuple[str, str, dt.date], Person] = {}
    for person in candidates:
        key = (person.first_name.casefold(), person.last_name.casefold(), person.date_of_birth)
        # Two records of one child: the earlier is the one the team has used longest.
        if key in keys:
            found.setdefault(key, person)
    return found


def referral_import_row(*, row: CheckedRow, context: ImportContext, now: dt.datetime) -> tuple[Referral, Person]:
    """Store one checked row: a closed referral with its original URN, its child and a first case-log entry."""
    assert row.received_at is not None
    officer = context.officers.match(row.officer) if row.officer else None
    referral = Referral.objects.create(
        team=context.team,
        urn=row.urn,
        received_at=row.received_at,
        # The old log recorded neither how a referral came in nor its category: left blank, not guessed.
        channel="",
        allegation_category="",
        source_agency=row.source or SOURCE_NOT_RECORDED,
        summary=row.summary,
        status=ReferralStatus.CLOSED,
        route=row.route,
        owner=officer,
        logged_by=context.actor,
        logged_at=row.received_at,
        assessment_due_at=row.received_at,
        assessed_at=row.received_at,
        # The old log holds no closure date; the referral is history as of the day it was received.
        closed_at=row.received_at,
        imported_from=context.file_name,
    )
    known = context.people.get(row.person_key) if row.person_key else None
    details = (services.PersonDetails(role=PersonRole.VICTIM, existing=known) if known else
               services.PersonDetails(role=PersonRole.VICTIM, first_name=row.first_name, last_name=row.last_name,
                                      date_of_birth=row.date_of_birth))
    [child] = services.referral_people_link(referral=referral, people=[details], now=now)
    if officer is not None:
        officer_text = officer.display_name
    elif row.officer:
        officer_text = f"{row.officer} (not matched to an officer of {context.team.code})"
    else:
        officer_text = "not recorded"
    services.case_log_append(
        referral=referral, kind=CaseLogKind.SYSTEM, actor=context.actor, now=now, occurred_at=row.received_at,
        text=(f"Imported from the legacy referral log {context.file_name}, row {row.row}; decision: "
              f"{row.decision} ({Route(row.route).label}); officer: {officer_text}."
              + (" Linked to the existing record of the child." if known else "")),
    )
    return referral, child
