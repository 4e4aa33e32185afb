"""The legacy referral-log import for administrators: upload, progress, and the rejection report.

The upload is saved under PRIVATE_FILES_ROOT/imports, its header checked at once (a file missing a
column is refused next to the field and nothing is stored), and the import itself runs in a Celery
task enqueued when the request commits (inline when there is no broker).
"""
from __future__ import annotations

import shutil
import uuid
from functools import partial
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cram_site.models import AuditEvent, Officer

from . import legacy_import
from .import_forms import ImportUploadForm
from .models import ImportRun, ImportStatus
from .tasks import import_referral_log_task

RUNS_PER_PAGE = 20
REJECTIONS_PER_PAGE = 50


def _require_administrator(request: HttpRequest) -> None:
    if not request.user.has_perm("referrals.import_referrals"):
        raise PermissionDenied


def _visible_runs(user: Officer) -> QuerySet[ImportRun]:
    """Runs of the administrator's own team; every team's for a force-wide officer or a superuser."""
    runs = ImportRun.objects.select_related("team", "started_by")
    if user.is_superuser or user.force_wide:
        return runs
    return runs.filter(team_id=user.team_id) if user.team_id else runs.none()


def _visible_run(request: HttpRequest, run_id: int) -> ImportRun:
    _require_administrator(request)
    return get_object_or_404(_visible_runs(request.user), pk=run_id)


def _enqueue(run: ImportRun) -> None:
    # After the commit, so the worker finds the run and its file; inline when there is no broker.
    transaction.on_commit(partial(import_referral_log_task.delay, run.pk))


@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a legacy log (dry run or for real) and see the earlier runs."""
    _require_administrator(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        run = _start_run(request, form)
        if run is not None:
            return redirect("referrals:import_run", run_id=run.pk)
    runs = Paginator(_visible_runs(request.user).order_by("-started_at", "-pk"), RUNS_PER_PAGE)
    return render(request, "referrals/import_page.html", {
        "form": form, "runs": runs.get_page(request.GET.get("page")),
        "max_mb": legacy_import.MAX_UPLOAD_BYTES // (1024 * 1024), "expected": legacy_import.expected_columns_text(),
        "rejections_kept": legacy_import.REJECTIONS_KEPT,
    })


def _start_run(request: HttpRequest, form: ImportUploadForm) -> ImportRun | None:
    """Save the upload, refuse it if its header lacks a column, else record the run and enqueue it."""
    upload = form.cleaned_data["file"]
    suffix = Path(upload.name).suffix.lower()
    staging = legacy_import.imports_folder() / f"upload-{uuid.uuid4().hex}{suffix}"
    with staging.open("wb") as saved:
        for piece in upload.chunks():
            saved.write(piece)
    try:
        with legacy_import.open_legacy_log(staging, count_rows=False):
            pass
    except legacy_import.LegacyLogRefused as refusal:
        staging.unlink(missing_ok=True)
        form.add_error("file", str(refusal))
        return None
    run = legacy_import.import_run_start(team=form.cleaned_data["team"], file_name=upload.name,
                                         dry_run=form.cleaned_data["dry_run"], actor=request.user,
                                         now=timezone.now())
    staging.rename(legacy_import.upload_path(run))
    _enqueue(run)
    return run


@require_POST
def import_run_again(request: HttpRequest, run_id: int) -> HttpResponse:
    """Import for real the file a dry run checked, without uploading it again."""
    checked = _visible_run(request, run_id)
    source = legacy_import.upload_path(checked)
    if checked.status != ImportStatus.DRY_RUN or not source.exists():
        messages.error(request, "Only the file of a finished dry run can be imported from here; upload it again.")
        return redirect("referrals:import_run", run_id=checked.pk)
    run = legacy_import.import_run_start(team=checked.team, file_name=checked.file_name, dry_run=False,
                                         actor=request.user, now=timezone.now())
    shutil.copyfile(source, legacy_import.upload_path(run))
    _enqueue(run)
    return redirect("referrals:import_run", run_id=run.pk)


def _run_context(request: HttpRequest, run: ImportRun) -> dict[str, object]:
    return {
        "run": run,
        "rejections": Paginator(run.rejections, REJECTIONS_PER_PAGE).get_page(request.GET.get("page")),
        "rejections_kept": legacy_import.REJECTIONS_KEPT,
        "report_ready": run.status != ImportStatus.RUNNING and legacy_import.rejection_report_path(run).exists(),
        "file_kept": run.status == ImportStatus.DRY_RUN and legacy_import.upload_path(run).exists(),
    }


@require_GET
def import_run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run: its progress while it runs, then its counts and every rejected row with its reason."""
    run = _visible_run(request, run_id)
    return render(request, "referrals/import_run.html", _run_context(request, run))


@require_GET
def import_run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's body, polled by htmx every second while it runs; the last answer carries the report."""
    run = _visible_run(request, run_id)
    return render(request, "referrals/_import_run_body.html", _run_context(request, run))


@require_GET
def import_run_report(request: HttpRequest, run_id: int) -> FileResponse:
    """Every rejected row of a run, as CSV; the download is audited."""
    run = _visible_run(request, run_id)
    path = legacy_import.rejection_report_path(run)
    if run.status == ImportStatus.RUNNING or not path.exists():
        raise Http404("There is no rejection report for this run yet.")
    AuditEvent.objects.log_create(run, force_log=True, action=AuditEvent.Action.EXPORT,
                                  additional_data={"exported": "legacy import rejection report",
                                                   "rows": run.rejected})
    response = FileResponse(path.open("rb"), as_attachment=True, content_type="text/csv",
                            filename=f"import-{run.pk}-rejections.csv")
    response["Cache-Control"] = "no-store"
    return response
