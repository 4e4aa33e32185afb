"""Exports of tables to CSV and Excel: the registry of exportable tables, the writers, and the
background jobs that write large exports to a private file.

Each app registers its tables in its own `exports.py` with `@register_export("source", label=...)`;
cram_site's AppConfig.ready() imports every app's `exports` module. A builder takes the officer and
the page's query string and returns an `ExportTable`: it checks the officer's role (PermissionDenied),
narrows to `visible_to(officer)` itself, and raises ValidationError for bad parameters.

Both writers go through the rows once and keep nothing of a row once it is written, so an export of
a million rows takes the memory of one. Every text cell that a spreadsheet would read as a formula
(`= + - @`, a tab or a carriage return first) gets a leading apostrophe, and in Excel every text is
stored as text, never as a formula.
"""
from __future__ import annotations

import csv
import datetime as dt
import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils.text import slugify

from .audit import audit_export
from .calendar import LONDON
from .models import ExportFormat, ExportJob, ExportStatus, Officer

logger = logging.getLogger(__name__)

# An export of at most this many rows is sent at once; a larger one is written by a background job.
DIRECT_DOWNLOAD_LIMIT = 2_000
# A job records its progress this often, so the progress bar moves without a write per row.
PROGRESS_EVERY = 250
# Export files and their jobs are removed after a day: they hold children's records.
EXPORTS_KEPT_FOR = dt.timedelta(days=1)
# A job still queued this long after it was asked for was never picked up (the broker was down):
# the hourly tidy runs it.
QUEUED_TOO_LONG = dt.timedelta(minutes=15)
# A job running this long has lost its worker (a job of a million rows takes minutes): marked failed.
RUNNING_TOO_LONG = dt.timedelta(hours=2)

# What a spreadsheet takes as the start of a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML (and so an .xlsx file) cannot hold; openpyxl refuses them rather than dropping them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_TITLE_ILLEGAL = re.compile(r"[\\*?:/\[\]]")
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")

DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How many rows the Excel writer reads ahead to size its columns (a width must be set before any row).
_WIDTH_SAMPLE = 100


# --- The table and the registry ------------------------------------------------------------------

@dataclass(frozen=True)
class ExportTable:
    """One table to export: what it is, its column headings and its rows, produced lazily."""

    title: str  # what was exported, in words: shown, used in the file name, audited
    headers: Sequence[str]
    # Produced lazily (queryset.iterator(chunk_size=...)); cells are str / int / float / Decimal /
    # date / datetime / bool / None.
    rows: Iterable[Sequence[object]]
    total_rows: int  # known before writing, for the progress bar


ExportBuilder = Callable[[Officer, QueryDict], ExportTable]


@dataclass(frozen=True)
class ExportSource:
    """A registered table: its name in addresses, what it is called, and how it is built."""

    name: str
    label: str
    builder: ExportBuilder


_registry: dict[str, ExportSource] = {}


def _qualified_name(builder: ExportBuilder) -> str:
    return f"{getattr(builder, '__module__', '')}.{getattr(builder, '__qualname__', repr(builder))}"


def register_export(source: str, *, label: str) -> Callable[[ExportBuilder], ExportBuilder]:
    """Register a builder under `source` (a slug: it appears in addresses and the audit trail).

    Two different builders under one name is a mistake and fails at start-up; the same builder
    registered again (its module imported a second time) replaces itself.
    """
    if not _SOURCE_NAME.match(source):
        raise ImproperlyConfigured(f"Export source {source!r} must be a lower-case slug of at most 60 characters.")

    def register(builder: ExportBuilder) -> ExportBuilder:
        existing = _registry.get(source)
        if existing is not None and _qualified_name(existing.builder) != _qualified_name(builder):
            raise ImproperlyConfigured(
                f"Export source {source!r} is registered twice: by {_qualified_name(existing.builder)} "
                f"and by {_qualified_name(builder)}.")
        _registry[source] = ExportSource(name=source, label=label, builder=builder)
        return builder

    return register


def lookup(source: str) -> ExportSource | None:
    """The registered export of that name, or None."""
    return _registry.get(source)


def registered_sources() -> list[ExportSource]:
    return sorted(_registry.values(), key=lambda export: export.name)


def parameters_of(query: QueryDict) -> dict[str, list[str]]:
    """A page's query string as stored on a job and in the audit trail (every value of every key).

    The page number is left out: an export holds every page of what the page shows.
    """
    return {key: query.getlist(key) for key in sorted(query) if key != "page"}


def query_of(parameters: dict[str, list[str]]) -> QueryDict:
    """The query string a builder is given, rebuilt from stored parameters."""
    query = QueryDict(mutable=True)
    for key, values in parameters.items():
        query.setlist(key, [str(value) for value in values])
    query._mutable = False
    return query


def export_file_name(title: str, file_format: str, moment: dt.datetime) -> str:
    """The name the file is downloaded under: what it holds and the day it was made."""
    stem = slugify(title)[:80] or "export"
    return f"{stem}-{moment.astimezone(LONDON):%Y-%m-%d}.{file_format}"


# --- Cells --------------------------------------------------------------------------------------

def escape_cell(value: object) -> object:
    """A text that a spreadsheet would run as a formula gets a leading apostrophe; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _london(moment: dt.datetime) -> dt.datetime:
    """London wall-clock time without a zone: spreadsheets have no time zones."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(LONDON)
    return moment.replace(tzinfo=None)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def csv_cell(value: object) -> str:
    """One value as CSV text: numbers and dates as themselves, London time, every other text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if _is_number(value):
        return str(value)
    if isinstance(value, dt.datetime):
        return f"{_london(value):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(escape_cell(str(value)))


class _Line:
    """A file that hands back what is written to it, so csv.writer makes one line at a time."""

    def write(self, text: str) -> str:
        return text


def csv_lines(table: ExportTable) -> Iterator[str]:
    """The heading line, then one line per row, each made when asked for and then forgotten."""
    writer = csv.writer(_Line())
    yield writer.writerow([csv_cell(header) for header in table.headers])
    for row in table.rows:
        yield writer.writerow([csv_cell(value) for value in row])


def write_csv(table: ExportTable, file: IO[str], *, progress: Callable[[int], object] | None = None,
              every: int = PROGRESS_EVERY) -> int:
    """Write the table to a text file as CSV (open it with newline=""); returns the rows written.

    `progress(rows_written)` is called every `every` rows and once at the end.
    """
    lines = csv_lines(table)
    file.write(next(lines))
    written = 0
    for line in lines:
        file.write(line)
        written += 1
        if progress is not None and written % every == 0:
            progress(written)
    if progress is not None:
        progress(written)
    return written


def _sheet_title(title: str) -> str:
    """An Excel sheet name: at most 31 characters, none of \\ * ? : / [ ]."""
    return _SHEET_TITLE_ILLEGAL.sub(" ", title).strip()[:31].strip() or "Export"


def _text_cell(sheet: Any, text: str, **style: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=escape_cell(_ILLEGAL_XML.sub("", text)))
    # openpyxl reads a text beginning "=" as a formula and "#N/A" as an error; a cell of an
    # export is always the text it holds.
    cell.data_type = "s"
    for name, value in style.items():
        setattr(cell, name, value)
    return cell


def _xlsx_cell(sheet: Any, value: object) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None or _is_number(value):
        return value
    if isinstance(value, bool):
        return _text_cell(sheet, "Yes" if value else "No")
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=_london(value))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    return _text_cell(sheet, str(value))


def _column_widths(headers: Sequence[str], sample: Sequence[Sequence[object]]) -> list[float]:
    widths = [len(str(header)) for header in headers]
    for row in sample:
        for index, value in enumerate(row[:len(widths)]):
            widths[index] = max(widths[index], len(csv_cell(value)))
    return [min(max(width + 2, 8), 60) for width in widths]


def write_xlsx(table: ExportTable, target: str | os.PathLike[str] | IO[bytes], *,
               progress: Callable[[int], object] | None = None, every: int = PROGRESS_EVERY) -> int:
    """Write the table as an Excel workbook of one sheet (to a path or a binary file); returns the rows written.

    The workbook is write-only: openpyxl streams each row into the file as it is appended, and
    texts are written inline, so nothing grows with the number of rows. Only the first rows are
    read ahead, to size the columns.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    workbook.properties.title = table.title[:200]
    sheet = workbook.create_sheet(title=_sheet_title(table.title))
    rows = iter(table.rows)
    sample = list(itertools.islice(rows, _WIDTH_SAMPLE))
    for index, width in enumerate(_column_widths(table.headers, sample), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, str(header), font=bold) for header in table.headers])
    written = 0
    for row in itertools.chain(sample, rows):
        sheet.append([_xlsx_cell(sheet, value) for value in row])
        written += 1
        if progress is not None and written % every == 0:
            progress(written)
    workbook.save(target)
    if progress is not None:
        progress(written)
    return written


# --- Background jobs -----------------------------------------------------------------------------

def exports_folder() -> Path:
    return Path(settings.PRIVATE_FILES_ROOT) / "exports"


def export_file_path(job: ExportJob) -> Path | None:
    """Where a finished job's file lies, or None when it has none."""
    if not job.file_name:
        return None
    return exports_folder() / job.file_name


def export_job_request(*, actor: Officer, source: str, table: ExportTable, parameters: dict[str, list[str]],
                       file_format: str, now: dt.datetime) -> ExportJob:
    """Ask for a large export: record the job and the export, and start the job once both are saved."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=actor, requested_at=now, title=table.title[:200], source=source, parameters=parameters,
            file_format=file_format, total_rows=table.total_rows,
        )
        audit_export(actor=actor, source=source, title=job.title, parameters=parameters, file_format=file_format,
                     rows=table.total_rows, job=job, stage="requested")
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_export_task

    try:
        run_export_task.delay(job_id)
    except Exception:
        # The broker is down: the job stays queued and the hourly tidy runs it.
        logger.exception("Export job %s could not be queued; the hourly tidy will run it", job_id)


def export_job_run(*, job_id: int, now: dt.datetime) -> str:
    """Write a queued job's file, as the officer who asked; returns the status the job ends in.

    The job is claimed by moving it from queued to running in one update, so a retried or
    duplicated task finds it taken and does nothing. It runs outside any long transaction: each
    progress update commits on its own, so the progress page sees the rows as they are written.
    """
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, rows_written=0, error="")
    if not claimed:
        return ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
    started = time.monotonic()
    job = ExportJob.objects.get(pk=job_id)
    folder = exports_folder()
    file_name = f"{job.pk}-{slugify(job.title)[:60] or 'export'}.{job.file_format}"
    partial = folder / f"{file_name}.part"
    try:
        table = _rebuild(job)
        ExportJob.objects.filter(pk=job.pk).update(total_rows=table.total_rows)
        folder.mkdir(parents=True, exist_ok=True)

        def progress(rows_written: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(rows_written=rows_written)

        if job.file_format == ExportFormat.CSV:
            # utf-8-sig starts the file with a byte-order mark, so Excel reads it as UTF-8.
            with open(partial, "w", encoding="utf-8-sig", newline="") as file:
                written = write_csv(table, file, progress=progress)
        else:
            written = write_xlsx(table, partial, progress=progress)
        # Only a complete file ever carries the name the download reads.
        os.replace(partial, folder / file_name)
    except PermissionDenied:
        return _fail(job, "Your role no longer allows this export.", partial, now, started)
    except ValidationError as error:
        return _fail(job, " ".join(error.messages), partial, now, started)
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        return _fail(job, "The export could not be written. Ask for it again; if it fails again, "
                          "tell the service desk.", partial, now, started)
    # The rows may have changed since they were counted: the file holds `written`, and says so.
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE, rows_written=written, total_rows=written, file_name=file_name,
        finished_at=_finished_at(now, started))
    return ExportStatus.DONE


def _rebuild(job: ExportJob) -> ExportTable:
    """The job's table, built again from its source and parameters, as the officer who asked."""
    source = lookup(job.source)
    if source is None:
        raise ValidationError("This kind of export is no longer offered.")
    officer = Officer.objects.get(pk=job.requested_by_id)
    if not officer.is_active:
        raise PermissionDenied
    return source.builder(officer, query_of(job.parameters))


def _finished_at(now: dt.datetime, started: float) -> dt.datetime:
    # The task reads the clock once, when it starts; the finishing time is that plus how long it ran.
    return now + dt.timedelta(seconds=time.monotonic() - started)


def _fail(job: ExportJob, error: str, partial: Path, now: dt.datetime, started: float) -> str:
    partial.unlink(missing_ok=True)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=error,
                                               finished_at=_finished_at(now, started))
    return ExportStatus.FAILED


@dataclass
class TidyResult:
    deleted_jobs: int = 0
    deleted_files: int = 0
    stalled_jobs: int = 0
    caught_up_jobs: int = 0


def export_jobs_tidy(*, now: dt.datetime) -> TidyResult:
    """The hourly tidy: remove export jobs and files older than a day; fail jobs whose worker was
    lost; run jobs that were never picked up. Safe to run twice at once: every step is a claim or
    a delete that a second run finds done."""
    result = TidyResult()
    cutoff = now - EXPORTS_KEPT_FOR
    folder = exports_folder()
    old = ExportJob.objects.filter(requested_at__lt=cutoff)
    for file_name in old.exclude(file_name="").values_list("file_name", flat=True).iterator():
        path = folder / file_name
        if path.exists():
            path.unlink(missing_ok=True)
            result.deleted_files += 1
    result.deleted_jobs, _ = old.delete()
    # Files no job names any more (a worker stopped half-way through one) go after a day too.
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                result.deleted_files += 1
    result.stalled_jobs = ExportJob.objects.filter(
        status=ExportStatus.RUNNING, requested_at__lt=now - RUNNING_TOO_LONG,
    ).update(status=ExportStatus.FAILED, finished_at=now,
             error="The export stopped before it finished. Ask for it again.")
    forgotten = ExportJob.objects.filter(status=ExportStatus.QUEUED, requested_at__lt=now - QUEUED_TOO_LONG)
    for job_id in list(forgotten.values_list("pk", flat=True)):
        if export_job_run(job_id=job_id, now=now) in (ExportStatus.DONE, ExportStatus.FAILED):
            result.caught_up_jobs += 1
    return result
