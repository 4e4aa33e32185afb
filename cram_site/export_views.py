"""Downloading a table as CSV or Excel, and the progress and files of large exports.

The builder of each table checks the officer's role and narrows to what they may see; a refusal
(PermissionDenied, Http404) is recorded by RefusalAuditMiddleware. Every export is audited in the
request's transaction. A job and its file belong to the officer who asked for it alone: anyone
else is told there is no such export.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from . import exports
from .audit import audit_export
from .models import ExportFormat, ExportJob, ExportStatus

# "My exports" lists the jobs of the last day (older ones are removed by the hourly tidy).
MY_EXPORTS_LIMIT = 50


def _no_store(response: HttpResponse) -> HttpResponse:
    # The files hold children's records: no browser or proxy keeps a copy.
    response["Cache-Control"] = "no-store"
    return response


def _back_link(request: HttpRequest) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return referer
    return ""


@require_GET
def download(request: HttpRequest, source: str, fmt: str) -> HttpResponse:
    """What a page shows (every page of it), as CSV or Excel; a large table through a background job."""
    export = exports.lookup(source)
    if export is None or fmt not in ExportFormat.values:
        raise Http404("There is no such export.")
    parameters = exports.parameters_of(request.GET)
    try:
        table = export.builder(request.user, exports.query_of(parameters))
    except ValidationError as error:
        return render(request, "cram_site/export_invalid.html",
                      {"label": export.label, "errors": error.messages, "back": _back_link(request)}, status=400)
    now = timezone.now()
    if table.total_rows > exports.DIRECT_DOWNLOAD_LIMIT:
        job = exports.export_job_request(actor=request.user, source=source, table=table, parameters=parameters,
                                         file_format=fmt, now=now)
        return redirect("exports:job", job_id=job.pk)
    file_name = exports.export_file_name(table.title, fmt, now)
    if fmt == ExportFormat.CSV:
        audit_export(actor=request.user, source=source, title=table.title, parameters=parameters, file_format=fmt,
                     rows=table.total_rows)
        # A byte-order mark first, so Excel reads the file as UTF-8; then the rows as they are read.
        response = StreamingHttpResponse(_with_bom(exports.csv_lines(table)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, file_name)
        return _no_store(response)
    # An .xlsx file is a zip, finished only when its last row is in: written to a temporary file
    # first, then sent with its length known. The file is removed when the response closes it.
    temporary = tempfile.TemporaryFile()
    written = exports.write_xlsx(table, temporary)
    temporary.seek(0)
    audit_export(actor=request.user, source=source, title=table.title, parameters=parameters, file_format=fmt,
                 rows=written)
    return _no_store(FileResponse(temporary, as_attachment=True, filename=file_name,
                                  content_type=exports.XLSX_CONTENT_TYPE))


def _with_bom(lines: Iterator[str]) -> Iterator[str]:
    yield "\ufeff"
    yield from lines


def _own_job(request: HttpRequest, job_id: int) -> ExportJob:
    # Another officer's job is "not found", whether it exists or not.
    return get_object_or_404(ExportJob.objects.filter(requested_by=request.user), pk=job_id)


@require_GET
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    """A large export's progress, polled every second until its file is ready."""
    return render(request, "cram_site/export_job.html", {"job": _own_job(request, job_id)})


@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress bar alone, for the poll."""
    return render(request, "cram_site/_export_job_progress.html", {"job": _own_job(request, job_id)})


@require_GET
def job_file(request: HttpRequest, job_id: int) -> HttpResponse:
    """A finished job's file, for the officer who asked for it; the download is audited."""
    job = _own_job(request, job_id)
    if job.status != ExportStatus.DONE:
        messages.info(request, "That export is not ready yet.")
        return redirect("exports:job", job_id=job.pk)
    path = exports.export_file_path(job)
    if path is None or not path.is_file():
        raise Http404("That export's file has been removed. Exports are kept for a day: ask for it again.")
    audit_export(actor=request.user, source=job.source, title=job.title, parameters=job.parameters,
                 file_format=job.file_format, rows=job.rows_written, job=job, stage="downloaded")
    content_type = "text/csv; charset=utf-8" if job.file_format == ExportFormat.CSV else exports.XLSX_CONTENT_TYPE
    return _no_store(FileResponse(open(path, "rb"), as_attachment=True, content_type=content_type,  # noqa: SIM115
                                  filename=exports.export_file_name(job.title, job.file_format, job.requested_at)))


@require_GET
def my_exports(request: HttpRequest) -> HttpResponse:
    """The officer's own exports of the last day, newest first."""
    now = timezone.now()
    # export_officer_idx: one officer's jobs, newest first.
    jobs = list(ExportJob.objects.filter(requested_by=request.user,
                                         requested_at__gte=now - exports.EXPORTS_KEPT_FOR)[:MY_EXPORTS_LIMIT])
    return render(request, "cram_site/my_exports.html",
                  {"jobs": jobs, "kept_for_hours": int(exports.EXPORTS_KEPT_FOR / dt.timedelta(hours=1))})
