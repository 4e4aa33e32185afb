"""Referral desk, case page, people and search. Every lookup goes through `visible_to(user)`."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cram_site.audit import audit_view
from cram_site.calendar import LONDON
from cram_site.models import AuditEvent, Officer, Team

from . import services
from .forms import (
    URN_EXACT,
    URN_LIKE,
    ActionFinishForm,
    ActionForm,
    AllocationForm,
    AssessmentForm,
    CaseLogEntryForm,
    CorrectionForm,
    PersonFormSet,
    ReferralForm,
    SearchForm,
    SocialServicesUpdateForm,
    WrittenFollowupForm,
    person_matches,
)
from .models import Action, Person, Referral, ReferralPerson, ReferralStatus
from .querysets import ReferralQuerySet

PEOPLE_PREFIX = "people"
PERSON_FIELDS = ("existing_person", "role", "first_name", "last_name", "date_of_birth",
                 "date_of_birth_approximate", "gender", "address")
CASE_TABS = ("chronology", "people", "actions", "audit")


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _visible_referral(request: HttpRequest, urn: str) -> Referral:
    """The referral if this officer may see it; a 404 otherwise, whether it exists or not."""
    return get_object_or_404(Referral.objects.visible_to(request.user).select_related("team"), urn=urn)


# --- Lists ----------------------------------------------------------------------------------

REFERRAL_FILTERS = {
    "all": ("All referrals", lambda qs, user: qs),
    "awaiting": ("Awaiting assessment", lambda qs, user: qs.awaiting_assessment()),
    "open": ("Open", lambda qs, user: qs.filter(status=ReferralStatus.OPEN)),
    "mine": ("Mine", lambda qs, user: qs.owned_by(user).open()),
    "unallocated": ("Unallocated", lambda qs, user: qs.open().filter(owner__isnull=True)),
    "closed": ("Closed", lambda qs, user: qs.filter(status=ReferralStatus.CLOSED)),
}


def referral_list_filtered(user: Officer, query: QueryDict) -> tuple[str, str, ReferralQuerySet]:
    """The referral list as `?show=` chooses it, narrowed to what `user` may see: the filter's
    key, its title and the queryset. The list page and its export both read it from here."""
    chosen = query.get("show", "all")
    if chosen not in REFERRAL_FILTERS:
        chosen = "all"
    title, apply = REFERRAL_FILTERS[chosen]
    return chosen, title, apply(Referral.objects.visible_to(user), user)


@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    chosen, title, referrals = referral_list_filtered(request.user, request.GET)
    page = Paginator(referrals.for_list(), 50).get_page(request.GET.get("page"))
    return render(request, "referrals/referral_list.html", {
        "page": page, "title": title, "chosen": chosen, "filters": REFERRAL_FILTERS, "now": timezone.now(),
    })


@require_GET
def referral_desk(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    visible = Referral.objects.visible_to(request.user)
    today = now.astimezone(LONDON).date()
    return render(request, "referrals/desk.html", {
        "todays": visible.received_on(today).for_list()[:100],
        "awaiting": visible.awaiting_assessment().for_list()[:100],
        "now": now,
    })


# --- Logging a referral ------------------------------------------------------------------------

def _rows_from_post(post: Any) -> list[dict[str, Any]]:
    """The person rows as typed, to re-show the form after adding, removing or choosing a row."""
    try:
        total = min(int(post.get(f"{PEOPLE_PREFIX}-TOTAL_FORMS", 1)), 30)
    except ValueError:
        total = 1
    return [{name: post.get(f"{PEOPLE_PREFIX}-{i}-{name}", "") for name in PERSON_FIELDS} for i in range(total)]


def _fill_from_person(row: dict[str, Any], person: Person) -> None:
    row.update(existing_person=person.pk, first_name=person.first_name, last_name=person.last_name,
               date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else "",
               date_of_birth_approximate=person.date_of_birth_approximate, gender=person.gender,
               address=person.address)


def _linked_people(request: HttpRequest, rows: list[dict[str, Any]]) -> dict[int, Person]:
    """Existing people chosen on the form, with their household and its referrals, in two queries."""
    ids = [int(row["existing_person"]) for row in rows if str(row.get("existing_person") or "").isdigit()]
    if not ids:
        return {}
    visible_links = ReferralPerson.objects.filter(
        referral__in=Referral.objects.visible_to(request.user)
    ).select_related("referral").order_by("-referral__received_at")
    people = (Person.objects.visible_to(request.user).filter(pk__in=ids)
              .select_related("household")
              .prefetch_related(Prefetch("household__members", queryset=Person.objects.prefetch_related(
                  Prefetch("referral_links", queryset=visible_links)))))
    return {person.pk: person for person in people}


@require_GET
def person_matches_partial(request: HttpRequest) -> HttpResponse:
    """Possible matches as a name and date of birth are typed (htmx)."""
    _require(request, "referrals.log_referral")
    prefix = request.GET.get("prefix", "")
    matches = person_matches(
        Person.objects.visible_to(request.user).select_related("household"),
        last_name=request.GET.get(f"{prefix}-last_name", ""),
        first_name=request.GET.get(f"{prefix}-first_name", ""),
        date_of_birth=request.GET.get(f"{prefix}-date_of_birth", ""),
    )
    return render(request, "referrals/_person_matches.html",
                  {"matches": matches, "prefix": prefix, "index": request.GET.get("index", "")})


def referral_create(request: HttpRequest) -> HttpResponse:
    _require(request, "referrals.log_referral")
    people = Person.objects.visible_to(request.user)
    if request.user.team is None:
        messages.error(request, "You are not in a team, so you cannot log referrals. Ask an administrator.")
        return redirect("home")
    if request.method == "POST" and "save" not in request.POST:
        return _referral_form_step(request, people)
    if request.method == "POST":
        form = ReferralForm(request.POST)
        formset = PersonFormSet(request.POST, prefix=PEOPLE_PREFIX, form_kwargs={"people": people})
        if form.is_valid() and formset.is_valid():
            try:
                referral = services.referral_log(
                    team=request.user.team, actor=request.user, now=timezone.now(),
                    received_at=form.cleaned_data["received_at"], channel=form.cleaned_data["channel"],
                    source_agency=form.cleaned_data["source_agency"],
                    referrer_name=form.cleaned_data["referrer_name"],
                    partner_reference=form.cleaned_data["partner_reference"],
                    allegation_category=form.cleaned_data["allegation_category"],
                    offence_date=form.cleaned_data["offence_date"], summary=form.cleaned_data["summary"],
                    urgent=form.cleaned_data["urgent"], referrer_email=form.cleaned_data["referrer_email"],
                    summary_only_offence=form.cleaned_data["summary_only_offence"],
                    people=[_person_details(row) for row in formset.people()],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Referral logged. Its URN is {referral.urn}.")
                return redirect(referral)
        rows = _rows_from_post(request.POST)
    else:
        form = ReferralForm(initial={"received_at": timezone.now().astimezone(LONDON).replace(second=0, microsecond=0)})
        formset = PersonFormSet(prefix=PEOPLE_PREFIX, form_kwargs={"people": people})
        rows = []
    return _render_referral_form(request, form, formset, rows)


def _referral_form_step(request: HttpRequest, people: Any) -> HttpResponse:
    """Add a person row, remove one, or link an existing person, keeping what was typed."""
    rows = _rows_from_post(request.POST)
    if "add_person" in request.POST:
        rows.append({"role": "", "gender": "unknown"})
    elif "remove" in request.POST and request.POST["remove"].isdigit():
        index = int(request.POST["remove"])
        if 0 <= index < len(rows) and len(rows) > 1:
            rows.pop(index)
    elif "choose" in request.POST:
        index_text, _, person_id = request.POST["choose"].partition(":")
        person = people.filter(pk=person_id).first() if person_id.isdigit() else None
        if person is not None and index_text.isdigit() and int(index_text) < len(rows):
            _fill_from_person(rows[int(index_text)], person)
    elif "unlink" in request.POST and request.POST["unlink"].isdigit():
        index = int(request.POST["unlink"])
        if 0 <= index < len(rows):
            rows[index]["existing_person"] = ""
    form = ReferralForm(initial=request.POST.dict())
    formset = PersonFormSet(prefix=PEOPLE_PREFIX, form_kwargs={"people": people}, initial=rows)
    return _render_referral_form(request, form, formset, rows)


def _render_referral_form(request: HttpRequest, form: ReferralForm, formset: Any,
                          rows: list[dict[str, Any]]) -> HttpResponse:
    linked = _linked_people(request, rows)
    for index, person_form in enumerate(formset.forms):
        row = rows[index] if index < len(rows) else {}
        person_id = str(row.get("existing_person") or "")
        person_form.linked_person = linked.get(int(person_id)) if person_id.isdigit() else None
    return render(request, "referrals/referral_form.html", {"form": form, "formset": formset})


def _person_details(row: dict[str, Any]) -> services.PersonDetails:
    return services.PersonDetails(
        role=row["role"], existing=row.get("person"), first_name=row.get("first_name", ""),
        last_name=row.get("last_name", ""), date_of_birth=row.get("date_of_birth"),
        date_of_birth_approximate=row.get("date_of_birth_approximate", False),
        gender=row.get("gender") or "unknown", address=row.get("address", ""),
    )


# --- The case page -------------------------------------------------------------------------------

def case_load(request: HttpRequest, urn: str, *, tab: str) -> Referral:
    """The referral for a case page, with what its header shows; the view is audited."""
    referral = get_object_or_404(
        Referral.objects.visible_to(request.user)
        .select_related("team", "owner", "supervising_officer", "logged_by")
        .prefetch_related(
            Prefetch("referral_people",
                     queryset=ReferralPerson.objects.select_related("person", "person__household").order_by("pk")),
            Prefetch("actions", queryset=Action.objects.select_related("owner").order_by("due_at", "pk")),
        ),
        urn=urn,
    )
    audit_view(referral, detail=tab)
    return referral


def case_context(request: HttpRequest, referral: Referral, *, tab: str) -> dict[str, Any]:
    """What every tab of the case page needs: the header, the tabs and the officer's permissions."""
    now = timezone.now()
    actions = list(referral.actions.all())
    open_actions = [action for action in actions if action.is_open]
    user = request.user
    return {
        "referral": referral, "tab": tab, "now": now, "actions": actions,
        "open_actions": open_actions, "next_due_at": referral.next_due_at(open_actions),
        "free_text": user.has_perm("referrals.read_free_text"),
        "can_write": user.has_perm("referrals.write_case_log"),
        "can_assess": user.has_perm("referrals.assess_referral") and referral.status == ReferralStatus.NEW,
        "can_allocate": user.has_perm("referrals.allocate_referral"),
        "can_audit": user.has_perm("referrals.view_audit"),
        # Whole hours until a running police protection must end (negative once it is past), for the header.
        "police_protection_hours_left": (
            (referral.police_protection_ends_by - now) // dt.timedelta(hours=1)
            if referral.police_protection_ends_by else None),
    }


@require_GET
def case_page(request: HttpRequest, urn: str) -> HttpResponse:
    tab = request.GET.get("tab", "chronology")
    if tab not in CASE_TABS:
        tab = "chronology"
    if tab == "audit":
        _require(request, "referrals.view_audit")
    referral = case_load(request, urn, tab=tab)
    context = case_context(request, referral, tab=tab)
    if tab == "chronology":
        entries = list(referral.case_log.select_related("corrects").prefetch_related("corrections").order_by("number"))
        context.update(entries=entries, entry_form=CaseLogEntryForm(), correction_form=CorrectionForm(referral=referral))
    elif tab == "people":
        context.update(household_groups=_household_groups(request, referral))
    elif tab == "actions":
        context.update(action_form=ActionForm(referral=referral), finish_form=ActionFinishForm())
    elif tab == "audit":
        context.update(audit_events=AuditEvent.objects.filter(referral_id=referral.pk)
                       .select_related("actor", "content_type").order_by("-timestamp")[:500])
    return render(request, "referrals/case_page.html", context)


def _household_groups(request: HttpRequest, referral: Referral) -> list[dict[str, Any]]:
    """Each household on the referral with its members and their other referrals this officer may see."""
    household_ids = {link.person.household_id for link in referral.referral_people.all() if link.person.household_id}
    visible_links = (ReferralPerson.objects.filter(referral__in=Referral.objects.visible_to(request.user))
                     .select_related("referral").order_by("-referral__received_at"))
    members = (Person.objects.visible_to(request.user).filter(household_id__in=household_ids)
               .select_related("household").prefetch_related(Prefetch("referral_links", queryset=visible_links))
               .order_by("household_id", "date_of_birth"))
    roles = {link.person_id: link.get_role_display() for link in referral.referral_people.all()}
    groups: dict[int, dict[str, Any]] = {}
    for person in members:
        group = groups.setdefault(person.household_id, {"household": person.household, "members": []})
        group["members"].append({"person": person, "role": roles.get(person.pk),
                                 "referrals": [link.referral for link in person.referral_links.all()]})
    unhoused = [link for link in referral.referral_people.all() if not link.person.household_id]
    result = list(groups.values())
    if unhoused:
        result.append({"household": None, "members": [{"person": link.person, "role": link.get_role_display(),
                                                        "referrals": []} for link in unhoused]})
    return result


def _back_to(referral: Referral, tab: str) -> HttpResponse:
    return redirect(f"{reverse('referrals:case', args=[referral.urn])}?tab={tab}")


def referral_assess(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "referrals.assess_referral")
    referral = _visible_referral(request, urn)
    if referral.status != ReferralStatus.NEW:
        messages.info(request, "This referral has already been assessed.")
        return redirect(referral)
    form = AssessmentForm(request.POST or None, referral=referral)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_assess(referral=referral, actor=request.user, now=timezone.now(),
                                                **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, f"{referral.urn} assessed: {referral.get_route_display()}.")
            return redirect(referral)
    audit_view(referral, detail="assessment form")
    return render(request, "referrals/assess.html", {"referral": referral, "form": form})


def referral_allocate(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "referrals.allocate_referral")
    referral = _visible_referral(request, urn)
    form = AllocationForm(request.POST or None, referral=referral)
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_allocate(referral=referral, actor=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Allocation saved.")
            return redirect(referral)
    return render(request, "referrals/allocate.html", {"referral": referral, "form": form})


@require_POST
def case_log_add(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "referrals.write_case_log")
    referral = _visible_referral(request, urn)
    form = CaseLogEntryForm(request.POST)
    if form.is_valid():
        try:
            entry = services.case_log_append(referral=referral, actor=request.user, now=timezone.now(),
                                             kind=form.cleaned_data["kind"], text=form.cleaned_data["text"],
                                             occurred_at=form.cleaned_data["occurred_at"])
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, f"Entry {entry.number} added to the case log.")
            return _back_to(referral, "chronology")
    return render(request, "referrals/case_log_form.html", {"referral": referral, "form": form,
                                                            "title": "Add a case-log entry",
                                                            "action": reverse("referrals:log_add", args=[urn])})


@require_POST
def case_log_correct(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "referrals.write_case_log")
    referral = _visible_referral(request, urn)
    form = CorrectionForm(request.POST, referral=referral)
    if form.is_valid():
        entry = services.case_log_correct(referral=referral, entry=form.cleaned_data["corrects"],
                                          text=form.cleaned_data["text"], actor=request.user, now=timezone.now())
        messages.success(request, f"Correction added as entry {entry.number}.")
        return _back_to(referral, "chronology")
    return render(request, "referrals/case_log_form.html", {"referral": referral, "form": form,
                                                            "title": "Correct an entry",
                                                            "action": reverse("referrals:log_correct", args=[urn])})


def written_followup(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "referrals.write_case_log")
    referral = _visible_referral(request, urn)
    form = WrittenFollowupForm(request.POST or None, initial={"received_at": timezone.now().astimezone(LONDON)})
    if request.method == "POST" and form.is_valid():
        try:
            services.written_followup_record(referral=referral, actor=request.user, now=timezone.now(),
                                             **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Written referral recorded.")
            return redirect(referral)
    return render(request, "referrals/case_log_form.html", {"referral": referral, "form": form,
                                                            "title": "Record the written referral",
                                                            "action": reverse("referrals:written_followup", args=[urn])})


def social_services_update(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "referrals.write_case_log")
    referral = _visible_referral(request, urn)
    form = SocialServicesUpdateForm(request.POST or None,
                                    initial={"received_at": timezone.now().astimezone(LONDON)})
    if request.method == "POST" and form.is_valid():
        try:
            services.social_services_update_record(referral=referral, actor=request.user, now=timezone.now(),
                                                   **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Update from social services recorded.")
            return redirect(referral)
    return render(request, "referrals/case_log_form.html", {
        "referral": referral, "form": form, "title": "Record the update from social services",
        "action": reverse("referrals:social_services_update", args=[urn])})


def action_add(request: HttpRequest, urn: str) -> HttpResponse:
    _require(request, "referrals.manage_actions")
    referral = _visible_referral(request, urn)
    form = ActionForm(request.POST or None, referral=referral)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_create(referral=referral, actor=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Action added.")
            return _back_to(referral, "actions")
    return render(request, "referrals/case_log_form.html", {"referral": referral, "form": form,
                                                            "title": "Add an action",
                                                            "action": reverse("referrals:action_add", args=[urn])})


def action_finish(request: HttpRequest, urn: str, action_id: int) -> HttpResponse:
    _require(request, "referrals.manage_actions")
    referral = _visible_referral(request, urn)
    action = get_object_or_404(Action.objects.filter(referral=referral), pk=action_id)
    form = ActionFinishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_finish(action=action, actor=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Action finished.")
            return _back_to(referral, "actions")
    return render(request, "referrals/case_log_form.html", {
        "referral": referral, "form": form, "title": f"Finish the action: {action.description}",
        "action": reverse("referrals:action_finish", args=[urn, action.pk])})


def _add_service_errors(form: Any, error: ValidationError) -> None:
    """Put a service's refusal next to the field it names, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- People and search ----------------------------------------------------------------------------

@require_GET
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    visible_links = (ReferralPerson.objects.filter(referral__in=Referral.objects.visible_to(request.user))
                     .select_related("referral").order_by("-referral__received_at"))
    person = get_object_or_404(
        Person.objects.visible_to(request.user).select_related("household").prefetch_related(
            Prefetch("referral_links", queryset=visible_links),
            Prefetch("household__members", queryset=Person.objects.visible_to(request.user).prefetch_related(
                Prefetch("referral_links", queryset=visible_links))),
        ),
        pk=person_id,
    )
    audit_view(person)
    return render(request, "referrals/person_detail.html", {
        "person": person, "free_text": request.user.has_perm("referrals.read_free_text"),
        "today": timezone.now().astimezone(LONDON).date(),
    })


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "searched": False, "now": timezone.now()}
    if request.GET and form.is_valid():
        context.update(_search_results(request, form.cleaned_data["q"].strip(), form.cleaned_data["date_of_birth"]))
        context["searched"] = True
    return render(request, "referrals/search.html", context)


def _search_results(request: HttpRequest, query: str, date_of_birth: dt.date | None) -> dict[str, Any]:
    referrals = Referral.objects.visible_to(request.user).for_list()
    people = Person.objects.visible_to(request.user).select_related("household")
    result: dict[str, Any] = {"referrals": [], "people": [], "hint": ""}
    urn = URN_EXACT.match(query.upper())
    if urn:
        result["referrals"] = list(referrals.filter(urn=query.upper()))
        if not result["referrals"] and not Team.objects.filter(code=urn["team"]).exists():
            result["hint"] = f"There is no team with the code {urn['team']}. A URN starts with its team's code, as in HY-26-00042."
        elif not result["referrals"]:
            result["hint"] = f"No referral you can see has the URN {query.upper()}."
        return result
    if query and URN_LIKE.match(query):
        result["hint"] = f"“{query}” looks like a URN but is not written as one. A URN looks like HY-26-00042."
    if query:
        result["referrals"] = list(referrals.filter(Q(crime_report_number__iexact=query)))
        if not query.replace("/", "").isdigit():
            last, _, first = _split_name(query)
            result["people"] = people.matching(last_name=last, first_name=first, date_of_birth=date_of_birth, limit=25)
    elif date_of_birth:
        result["people"] = list(people.filter(date_of_birth=date_of_birth)[:50])
    return result


def _split_name(query: str) -> tuple[str, str, str]:
    """"Smith", "Jane Smith" or "Smith, Jane" into (surname, separator, first name)."""
    if "," in query:
        last, _, first = query.partition(",")
        return last.strip(), ",", first.strip()
    parts = query.split()
    if len(parts) == 1:
        return parts[0], "", ""
    return parts[-1], " ", " ".join(parts[:-1])
