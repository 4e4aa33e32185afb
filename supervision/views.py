"""The supervisor's pages: home, queues, workload and allocation, leavers; and every officer's
notifications. Each page reads the clock once and makes a fixed number of queries."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cram_site.rules import is_supervisor
from referrals.models import Referral, Route
from referrals.services import referral_allocate
from referrals.views import _add_service_errors

from . import services
from .context import supervisor_context
from .forms import AllocateForm, LeavingDateForm, LeaverWorkForm, QueueFilterForm, ReallocateLookupForm
from .models import Notification
from .queues import (
    PAGE_SIZE,
    QUEUES,
    QUEUES_BY_SLUG,
    Queues,
    leavers,
    officer_open_work,
    skills_match,
    team_officers,
    workload,
)


def _require_supervisor(request: HttpRequest) -> None:
    if not is_supervisor(request.user):
        raise PermissionDenied


def _safe_next(request: HttpRequest, candidate: str, fallback: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return fallback


# --- Home and queues -----------------------------------------------------------------------------

@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """A count for every queue, each linking to it."""
    _require_supervisor(request)
    now = timezone.now()
    counts = Queues(request.user, now).counts()
    context = supervisor_context(now, current="home")
    context["queue_counts"] = [(queue, counts[queue.slug]) for queue in QUEUES]
    return render(request, "supervision/home.html", context)


@require_GET
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    """One queue, sorted by due date, narrowed by officer and rating, with an action on each row."""
    _require_supervisor(request)
    chosen = QUEUES_BY_SLUG.get(slug)
    if chosen is None:
        raise Http404("No such queue.")
    now = timezone.now()
    officers = list(team_officers(request.user))
    form = QueueFilterForm(request.GET or None, officers=officers)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = form.cleaned_data
    queues = Queues(request.user, now)
    rows = queues.rows(chosen, officer_id=filters.get("officer"), rating=filters.get("rating") or "",
                       descending=filters.get("order") == "-due")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = supervisor_context(now, current=slug)
    context.update(
        queue=chosen, form=form, page=page, rows=queues.load(chosen, page.object_list),
        investigators=[officer for officer in officers if officer.is_investigator],
        query=query.urlencode(), here=request.get_full_path(),
    )
    return render(request, "supervision/queue.html", context)


# --- Allocation -----------------------------------------------------------------------------------

def allocate(request: HttpRequest, urn: str) -> HttpResponse:
    """Choose a referral's new investigating officer, seeing each candidate's skills and load."""
    _require_supervisor(request)
    now = timezone.now()
    referral = get_object_or_404(
        Referral.objects.visible_to(request.user).select_related("team", "owner", "supervising_officer"), urn=urn)
    candidates = team_officers(request.user).filter(team_id=referral.team_id, is_investigator=True)
    back = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""),
                      reverse("supervision:workload"))
    form = AllocateForm(request.POST or None, candidates=candidates, initial={"next": back})
    if request.method == "POST" and form.is_valid():
        new_owner = form.cleaned_data["owner"]
        if not referral.is_open:
            form.add_error(None, "This referral is closed; it cannot be reallocated.")
        elif new_owner.pk == referral.owner_id:
            form.add_error("owner", f"{new_owner.display_name} already has this referral.")
        else:
            try:
                referral_allocate(referral=referral, actor=request.user, now=now, owner=new_owner,
                                  supervising_officer=referral.supervising_officer, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, f"{referral.urn} allocated to {new_owner.display_name}.")
                return redirect(back)
    if request.method == "POST" and request.POST.get("from_row"):
        # A row's small form went wrong: say so on the full page, where the choice can be made again.
        messages.error(request, "The allocation was not saved; see below.")
    loads = workload(request.user, now, candidates)
    context = supervisor_context(now, current="workload")
    context.update(
        referral=referral, form=form, back=back,
        candidates=[{"load": load, "matches": skills_match(load.officer.skills, referral.allegation_category),
                     "current": load.officer.pk == referral.owner_id} for load in loads],
    )
    return render(request, "supervision/allocate.html", context)


@require_GET
def workload_page(request: HttpRequest) -> HttpResponse:
    """Each officer's open referrals by rating, open actions, overdue items and skills."""
    _require_supervisor(request)
    now = timezone.now()
    lookup = ReallocateLookupForm(request.GET or None)
    if lookup.is_bound and lookup.is_valid():
        urn = lookup.cleaned_data["urn"]
        if Referral.objects.visible_to(request.user).open().filter(urn=urn).exists():
            return redirect(f"{reverse('supervision:allocate', args=[urn])}?next={reverse('supervision:workload')}")
        lookup.add_error("urn", f"No open referral you can see has the URN {urn}.")
    officers = [officer for officer in team_officers(request.user) if officer.does_casework]
    context = supervisor_context(now, current="workload")
    context.update(loads=workload(request.user, now, officers), lookup=lookup)
    return render(request, "supervision/workload.html", context)


# --- Leavers --------------------------------------------------------------------------------------

def leavers_page(request: HttpRequest) -> HttpResponse:
    """Officers of the team who are leaving, with their open work; and setting a leaving date."""
    _require_supervisor(request)
    now = timezone.now()
    form = LeavingDateForm(request.POST or None, officers=team_officers(request.user))
    if request.method == "POST" and form.is_valid():
        officer = form.cleaned_data["officer"]
        try:
            services.officer_leaving_date_set(officer=officer, actor=request.user, now=now,
                                              leaving_date=form.cleaned_data["leaving_date"])
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            date = form.cleaned_data["leaving_date"]
            messages.success(request, f"{officer.display_name} leaves on {date:%d/%m/%Y}." if date
                             else f"{officer.display_name} no longer has a leaving date.")
            return redirect("supervision:leavers")
    context = supervisor_context(now, current="leavers")
    context.update(leavers=list(leavers(request.user)), form=form)
    return render(request, "supervision/leavers.html", context)


def leaver_checklist(request: HttpRequest, officer_id: int) -> HttpResponse:
    """A leaver's exit checklist: every open referral, investigation and action, each reallocated with a rationale."""
    _require_supervisor(request)
    now = timezone.now()
    leaver = get_object_or_404(team_officers(request.user), pk=officer_id)
    referrals, actions = officer_open_work(request.user, leaver)
    referrals, actions = list(referrals), list(actions)
    candidates = list(team_officers(request.user).filter(team_id=leaver.team_id, does_casework=True)
                      .exclude(pk=leaver.pk))
    form = LeaverWorkForm(request.POST or None, referrals=referrals, actions=actions, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.leaver_work_reallocate(leaver=leaver, actor=request.user, now=now, moves=form.moves())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_service_errors({key: [str(m) for e in errors for m in e.messages]
                                         for key, errors in error.error_dict.items()})
            else:
                form.add_error(None, error)
        else:
            messages.success(request, f"{moved} item{'s' if moved != 1 else ''} of {leaver.display_name}'s "
                                      "work reallocated.")
            return redirect("supervision:leaver", officer_id=leaver.pk)
    context = supervisor_context(now, current="leavers")
    context.update(leaver=leaver, form=form, rows=form.rows(), referral_count=len(referrals),
                   action_count=len(actions),
                   investigation_count=sum(1 for r in referrals if r.owner_id == leaver.pk
                                           and r.route in (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION)))
    return render(request, "supervision/leaver_checklist.html", context)


# --- Notifications --------------------------------------------------------------------------------

@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The officer's notifications, newest first."""
    rows = Notification.objects.filter(recipient=request.user).select_related("reminder__referral")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
    return render(request, "supervision/notifications.html", {"page": page, "unread": unread})


@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    marked = services.notifications_mark_read(recipient=request.user, now=timezone.now())
    messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked as read.")
    return redirect("supervision:notifications")


@login_not_required
@require_GET
def notifications_badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the page header, fetched by htmx after the page has loaded.

    Signed-out (an expired session), it answers with nothing rather than a sign-in page to swap in.
    """
    unread = 0
    if request.user.is_authenticated:
        # The unread count in every page header: partial index notification_unread_idx.
        unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
    return render(request, "supervision/_notifications_badge.html", {"unread": unread})

