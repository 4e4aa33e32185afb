"""A generated legacy referral log, as the team kept it before the product: test data for the import.

Deterministic for a seed. With faults, one data row in ten carries one deliberate fault, the kinds
in turn (`FAULTS`), so a file of 600 rows has 60 rejected rows, six of each kind; blank rows and
two columns the import does not know are scattered in as well. In the .xlsx form every 50th URN is
a real `=HYPERLINK(...)` formula whose cached value is the URN, as Excel saves it: the import reads
the value and never the formula. The same generator writes the 50,000-row benchmark file.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

TITLE = "Haringey CAIT referral log (legacy spreadsheet)"
HEADINGS = ("Ref", "Date rec'd", "Referrer agency", "Child name", "DOB", "Summary", "Outcome", "OIC",
            "Notes", "Checked by")
FIRST_YEAR, LAST_YEAR = 2016, 2022

# The deliberate faults, each with the words its rejection reason contains.
FAULTS: dict[str, str] = {
    "duplicated_urn": "is repeated",
    "missing_summary": "Summary is missing",
    "impossible_date": "is not a real date",
    "future_date": "is in the future",
    "wrong_team": "another team's",
    "malformed_urn": "is not in the form",
    "unknown_decision": "is not one the import knows",
    "born_after_received": "is after the date received",
    "formula_text_summary": "Summary holds a formula",
    "formula_text_child": "Child's name holds a formula",
}
FAULT_EVERY = 10
BLANK_EVERY = 97
HYPERLINK_EVERY = 50

FIRST_NAMES = ("Amara", "Tobi", "Jaden", "Leah", "Mohammed", "Olivia", "Kwame", "Sofia", "Reece", "Aaliyah",
               "Harry", "Zainab", "Kacper", "Isla", "Deniz", "Chloe", "Ayaan", "Ruby", "Tyrese", "Maya",
               "Callum", "Fatima", "Mason", "Eliza", "Dylan", "Precious", "Noah", "Grace", "Ibrahim", "Poppy")
SURNAMES = ("Okafor", "Mensah", "Smith", "Yilmaz", "Nowak", "Ahmed", "Campbell", "O'Brien", "Begum", "Williams",
            "Kowalski", "Osei", "Hussain", "Brown", "Demir", "Clarke", "Adeyemi", "Patel", "Murphy", "Johnson",
            "Ali", "Green", "Mahmood", "Taylor", "Boateng", "Evans", "Popescu", "Khan", "Walker", "Reid")
SOURCES = ("St Ann's Primary School", "Haringey Children's Social Care", "North Middlesex Hospital",
           "Whittington Hospital ED", "Met Police - response team", "GP surgery, Bruce Grove", "NSPCC helpline",
           "Haringey Early Help", "Lordship Lane Primary School", "Park View Academy", "School nursing service",
           "Anonymous member of the public", "Haringey CAMHS", "Health visitor", "Haringey LADO")
CONCERNS = ("bruising to the upper arm", "a mark on the cheek", "being hit with a belt at home",
            "being left alone overnight", "an older cousin touching her", "not being fed at home",
            "being locked in a bedroom", "being shouted at and threatened", "a burn on the hand",
            "messages from an adult met online", "missing school for three weeks", "a black eye")
DISCLOSED_TO = ("the class teacher", "a nurse", "the school nurse", "a social worker", "a police officer",
                "the GP", "a youth worker", "the head teacher")
DECISIONS = (("NFA", 12), ("No further action", 8), ("nfa", 4), ("SS only", 12), ("Social services only", 8),
             ("Joint", 12), ("Joint investigation", 6), ("JOINT", 3), ("Police", 8), ("Police investigation", 5))
UNKNOWN_DECISIONS = ("Refer to CAMHS", "TBC", "Pending", "See notes")
# Officers of the demo team in the forms the old log used, and leavers the product never knew.
OFFICERS = ("DC Tom Asante", "226710", "T. Asante", "DC Priya Nair", "Nair", "231884", "DC Gareth Hughes",
            "DS Mark Fenwick", "investigator3-hy", "DC R. Osei", "PC Brown", "DC J. Whitlock", "")
NOTES = ("", "", "", "", "Strategy discussion held", "Sibling also known", "Chased CSC for update",
         "Mother informed", "see CRIS")


@dataclass(frozen=True)
class SampleRow:
    values: tuple[object, ...]
    # The deliberate fault of the row (a key of FAULTS), or None.
    fault: str | None = None
    blank: bool = False
    # The URN cell is a HYPERLINK formula whose cached value is the URN (written as such in .xlsx).
    hyperlink: bool = False


@dataclass(frozen=True)
class SampleSummary:
    rows: int
    faults: Counter[str]
    blank_rows: int
    hyperlinks: int

    @property
    def rejected(self) -> int:
        return sum(self.faults.values())

    @property
    def accepted(self) -> int:
        return self.rows - self.rejected


def sample_rows(*, rows: int, faults: bool = True, seed: int = 2026, team_code: str = "HY") -> Iterator[SampleRow]:
    """The data rows of a generated log, in order of receipt, with blank rows among them."""
    rng = random.Random(seed)
    years = LAST_YEAR - FIRST_YEAR + 1
    decisions, weights = zip(*DECISIONS, strict=True)
    recent_children: list[tuple[str, str, dt.date | None]] = []
    previous_urn, previous_received = "", None
    for index in range(rows):
        year = FIRST_YEAR + index * years // rows
        first_in_year = -(-(year - FIRST_YEAR) * rows // years)
        in_year = -(-(year - FIRST_YEAR + 1) * rows // years) - first_in_year
        position = index - first_in_year
        received = (dt.datetime(year, 1, 2, 8, 0) + dt.timedelta(days=position * 362 // max(in_year, 1),
                                                                 minutes=rng.randrange(0, 11 * 60)))
        urn = f"{team_code}-{year % 100:02d}-{position + 1:05d}"
        fault = None
        if faults and index % FAULT_EVERY == FAULT_EVERY - 1:
            fault = list(FAULTS)[(index // FAULT_EVERY) % len(FAULTS)]

        if recent_children and rng.random() < 0.15:
            first, last, born = rng.choice(recent_children)  # a child referred again
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
            born = None if rng.random() < 0.08 else (received - dt.timedelta(days=rng.randrange(30, 17 * 365))).date()
            recent_children = [*recent_children[-199:], (first, last, born)]
        child: object = f"{last.upper()}, {first}" if rng.random() < 0.3 else f"{first} {last}"
        received_cell: object = _received_cell(received, rng)
        born_cell: object = (born if rng.random() < 0.8 else f"{born:%d/%m/%Y}") if born else None
        summary: object = (f"{first} told {rng.choice(DISCLOSED_TO)} about {rng.choice(CONCERNS)}. "
                           f"Referred by {rng.choice(SOURCES).split(',')[0]}.")
        decision: object = rng.choices(decisions, weights)[0]
        urn_cell: object = urn
        hyperlink = index % HYPERLINK_EVERY == HYPERLINK_EVERY // 2

        if fault == "duplicated_urn":
            # The same referral entered twice: its URN and date again, its other cells as typed.
            urn_cell, received_cell = previous_urn, previous_received
        elif fault == "missing_summary":
            summary = None
        elif fault == "impossible_date":
            received_cell = f"{rng.choice((30, 31))}/02/{year}"
        elif fault == "future_date":
            received_cell, urn_cell = "15/06/2099", f"{team_code}-99-{position + 1:05d}"
        elif fault == "wrong_team":
            urn_cell = f"{'EN' if team_code != 'EN' else 'HY'}-{year % 100:02d}-{position + 1:05d}"
        elif fault == "malformed_urn":
            urn_cell = rng.choice((f"{team_code}/{year % 100:02d}/{position + 1:05d}",
                                   f"{team_code}-{year}-{position + 1}", f"{year % 100:02d}-{position + 1:05d}"))
        elif fault == "unknown_decision":
            decision = rng.choice(UNKNOWN_DECISIONS)
        elif fault == "born_after_received":
            born_cell = (received + dt.timedelta(days=rng.randrange(30, 400))).date()
        elif fault == "formula_text_summary":
            summary = "=1+1"
        elif fault == "formula_text_child":
            child = f'=HYPERLINK("http://intranet.example/people/{4000 + index}","{last}")'
        if fault is None:
            previous_urn, previous_received = urn, received_cell
        if fault in ("duplicated_urn", "malformed_urn", "wrong_team", "future_date"):
            hyperlink = False

        source = "" if rng.random() < 0.02 else rng.choice(SOURCES)
        officer = rng.choice(OFFICERS)
        values = (urn_cell, received_cell, source, child, born_cell, summary, decision, officer,
                  rng.choice(NOTES), rng.choice(("KW", "MF", "", "")))
        yield SampleRow(values=values, fault=fault, hyperlink=hyperlink and fault is None)
        if (index + 1) % BLANK_EVERY == 0:
            yield SampleRow(values=(), blank=True)


def _received_cell(received: dt.datetime, rng: random.Random) -> object:
    roll = rng.random()
    if roll < 0.6:
        return received
    if roll < 0.75:
        return received.date()
    if roll < 0.9:
        return f"{received:%d/%m/%Y}"
    if roll < 0.95:
        return f"{received:%d/%m/%Y %H:%M}"
    return f"{received:%Y-%m-%d}"


def write_sample(path: Path, *, rows: int, faults: bool = True, seed: int = 2026,
                 team_code: str = "HY") -> SampleSummary:
    """Write a generated log to `path` (.xlsx or .csv); returns what it holds."""
    path = Path(path)
    generated = sample_rows(rows=rows, faults=faults, seed=seed, team_code=team_code)
    if path.suffix.lower() == ".csv":
        return _write_csv(path, generated, rows=rows)
    if path.suffix.lower() == ".xlsx":
        return _write_xlsx(path, generated, rows=rows)
    raise ValueError("The sample is written as .xlsx or .csv.")


def _write_csv(path: Path, generated: Iterator[SampleRow], *, rows: int) -> SampleSummary:
    counts: Counter[str] = Counter()
    blanks = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([TITLE])
        writer.writerow(HEADINGS)
        for row in generated:
            blanks += row.blank
            counts.update([row.fault] if row.fault else [])
            writer.writerow([_csv_text(value) for value in row.values])
    return SampleSummary(rows=rows, faults=counts, blank_rows=blanks, hyperlinks=0)


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def _write_xlsx(path: Path, generated: Iterator[SampleRow], *, rows: int) -> SampleSummary:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Referral log")
    title = WriteOnlyCell(sheet, value=TITLE)
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    heading_cells = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True)
        heading_cells.append(cell)
    sheet.append(heading_cells)
    counts: Counter[str] = Counter()
    blanks = 0
    cached: dict[str, str] = {}
    sheet_row = 2
    for row in generated:
        sheet_row += 1
        blanks += row.blank
        counts.update([row.fault] if row.fault else [])
        cells = []
        for column, value in enumerate(row.values):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
            elif isinstance(value, dt.date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as a pasted cell would be
            if column == 0 and row.hyperlink:
                cell = WriteOnlyCell(sheet, value=f'=HYPERLINK("https://crime-reports.example/{value}","{value}")')
                cached[f"A{sheet_row}"] = str(value)
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _write_with_cached_values(buffer, path, cached)
    return SampleSummary(rows=rows, faults=counts, blank_rows=blanks, hyperlinks=len(cached))


FORMULA_CELL = re.compile(r'<c r="(A\d+)"( [^>]*)?><f>(.*?)</f><v\s*/?>(?:</v>)?</c>')


def _write_with_cached_values(buffer: io.BytesIO, path: Path, cached: dict[str, str]) -> None:
    """Give each formula cell the value Excel would have saved with it (openpyxl writes none)."""

    def with_value(match: re.Match[str]) -> str:
        ref, formula = match[1], match[3]
        value = cached.get(ref)
        if value is None:
            return match[0]
        return f'<c r="{ref}" t="str"><f>{formula}</f><v>{escape(value)}</v></c>'

    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet") and cached:
                data = FORMULA_CELL.sub(with_value, data.decode("utf-8")).encode("utf-8")
            target.writestr(item, data)
