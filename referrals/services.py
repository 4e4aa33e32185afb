"""Every write on a referral goes through one of these functions, each in one transaction.

Services take the clock (`now`) and the acting officer; views and commands read the clock once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cram_site.calendar import LONDON
from cram_site.models import Officer, Team
from cram_site.models import Clock
from cram_site.timescales import desk_assessment_due, due_after, written_followup_due

from .models import (
    DETECTION_OUTCOMES,
    Action,
    ActionStatus,
    CaseLogEntry,
    CaseLogKind,
    Channel,
    DisclosureDecision,
    DisclosureRequest,
    Household,
    InvestigationOutcome,
    Person,
    PersonRole,
    Referral,
    ReferralPerson,
    ReferralStatus,
    Route,
    Urgency,
    UrnSequence,
)


@dataclass(frozen=True)
class PersonDetails:
    """One person named on a new referral: an existing record, or the details of a new one."""

    role: str
    existing: Person | None = None
    first_name: str = ""
    last_name: str = ""
    date_of_birth: dt.date | None = None
    date_of_birth_approximate: bool = False
    gender: str = "unknown"
    address: str = ""
    flags: dict[str, bool] = field(default_factory=dict)


# Roles of people taken to live with the child, and so placed in the child's household.
HOUSEHOLD_ROLES = frozenset({PersonRole.VICTIM, PersonRole.SIBLING, PersonRole.PARENT_CARER})


# --- URNs ------------------------------------------------------------------------------------

def urn_issue(*, team: Team, now: dt.datetime) -> str:
    """The next URN of the team for this year, e.g. HY-26-00042; never reused.

    The sequence row is locked until the caller's transaction ends, so two sergeants saving at
    the same moment get consecutive numbers rather than the same one.
    """
    year = now.astimezone(LONDON).year % 100
    sequence = _urn_sequence_locked(team=team, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{team.code}-{year:02d}-{sequence.last_number:05d}"


def urn_sequence_raise(*, team: Team, year: int, at_least: int) -> int:
    """Lock the team's URN counter for a two-digit year and raise it to at least `at_least`.

    The legacy import keeps the URNs of the old referral log. Raising the counter under the same
    row lock `urn_issue` takes means no URN issued afterwards can be one that was imported; the
    lock is held until the caller's transaction ends, so a sergeant logging meanwhile waits.
    """
    sequence = _urn_sequence_locked(team=team, year=year)
    if sequence.last_number < at_least:
        sequence.last_number = at_least
        sequence.save(update_fields=["last_number"])
    return sequence.last_number


def _urn_sequence_locked(*, team: Team, year: int) -> UrnSequence:
    # Create the year's row if it is the first referral; ignore_conflicts makes a race harmless.
    UrnSequence.objects.bulk_create([UrnSequence(team=team, year=year)], ignore_conflicts=True)
    return UrnSequence.objects.select_for_update().get(team=team, year=year)


# --- Case log ----------------------------------------------------------------------------------

def case_log_append(*, referral: Referral, kind: str, text: str, actor: Officer | None,
                    now: dt.datetime, occurred_at: dt.datetime | None = None,
                    corrects: CaseLogEntry | None = None) -> CaseLogEntry:
    """Add the next numbered entry to a referral's case log.

    The referral row is locked while its counter moves on, so entries are numbered 1, 2, 3…
    without gaps even when several officers write at once.
    """
    if not text.strip():
        raise ValidationError({"text": "Write what happened."})
    if corrects is not None and corrects.referral_id != referral.pk:
        raise ValidationError({"corrects": "A correction must name an entry of the same case."})
    if occurred_at is not None and occurred_at > now:
        raise ValidationError({"occurred_at": "When it happened cannot be in the future."})
    with transaction.atomic():
        locked = Referral.objects.select_for_update().only("pk", "case_log_count").get(pk=referral.pk)
        number = locked.case_log_count + 1
        Referral.objects.filter(pk=referral.pk).update(case_log_count=number)
        referral.case_log_count = number
        return CaseLogEntry.objects.create(
            referral=referral,
            number=number,
            kind=kind,
            occurred_at=occurred_at or now,
            recorded_at=now,
            author=actor,
            author_name=(actor.get_full_name() or actor.username) if actor else "System",
            author_rank=actor.rank if actor else "",
            author_staff_number=actor.staff_number if actor else "",
            text=text.strip(),
            corrects=corrects,
        )


def case_log_correct(*, referral: Referral, entry: CaseLogEntry, text: str, actor: Officer,
                     now: dt.datetime) -> CaseLogEntry:
    """A correction is a new entry naming the one it corrects; the original stays as it was."""
    return case_log_append(referral=referral, kind=CaseLogKind.CORRECTION, text=text, actor=actor,
                           now=now, corrects=entry)


# --- Logging a referral ----------------------------------------------------------------------

def referral_log(*, team: Team, actor: Officer, now: dt.datetime, received_at: dt.datetime,
                 channel: str, source_agency: str, allegation_category: str, summary: str,
                 people: list[PersonDetails], referrer_name: str = "", partner_reference: str = "",
                 offence_date: dt.date | None = None, urgent: bool = False, referrer_email: str = "",
                 summary_only_offence: bool = False) -> Referral:
    """Log a new referral with its people, issue its URN and open its case log."""
    if received_at > now:
        raise ValidationError({"received_at": "The referral cannot be received in the future."})
    if offence_date is not None and offence_date > now.astimezone(LONDON).date():
        raise ValidationError({"offence_date": "The date of the alleged offence cannot be in the future."})
    if summary_only_offence and offence_date is None:
        raise ValidationError({"offence_date": "Give the date of the offence: the six-month limit runs from it."})
    if not any(p.role in ("victim", "sibling") for p in people):
        raise ValidationError("Name at least one child (as victim or sibling).")
    with transaction.atomic():
        referral = Referral.objects.create(
            team=team,
            urn=urn_issue(team=team, now=now),
            received_at=received_at,
            channel=channel,
            source_agency=source_agency,
            referrer_name=referrer_name,
            referrer_email=referrer_email,
            summary_only_offence=summary_only_offence,
            partner_reference=partner_reference,
            allegation_category=allegation_category,
            offence_date=offence_date,
            summary=summary,
            urgency=Urgency.URGENT if urgent else "",
            logged_by=actor,
            logged_at=now,
            assessment_due_at=desk_assessment_due(received_at, team=team, urgent=urgent),
            written_followup_due_at=(written_followup_due(received_at, team=team)
                                     if channel == Channel.PHONE else None),
        )
        _link_people(referral=referral, people=people, now=now)
        names = ", ".join(
            f"{link.person.full_name} ({link.get_role_display().lower()})"
            for link in referral.referral_people.select_related("person").order_by("pk")
        )
        case_log_append(
            referral=referral, kind=CaseLogKind.SYSTEM, actor=actor, now=now, occurred_at=received_at,
            text=(f"Referral logged: {referral.get_allegation_category_display().lower()} allegation "
                  f"received by {referral.get_channel_display().lower()} from {source_agency}. "
                  f"People: {names}."),
        )
        if referral.awaiting_written_followup:
            case_log_append(
                referral=referral, kind=CaseLogKind.SYSTEM, actor=actor, now=now,
                text="Phone referral: a written referral is due from the referrer.",
            )
    return referral


def referral_people_link(*, referral: Referral, people: list[PersonDetails], now: dt.datetime) -> list[Person]:
    """Link the people of a new referral as `referral_log` does (the legacy import uses it too).

    Returns the people in the order given, existing or newly created.
    """
    return _link_people(referral=referral, people=people, now=now)


def _link_people(*, referral: Referral, people: list[PersonDetails], now: dt.datetime) -> list[Person]:
    """Link existing people and create new ones; the children and their carers share a household.

    Choosing an existing child or carer brings their household, and new children and carers on
    the referral join it, so siblings and the adults around them are seen together. A suspect
    or other person is not assumed to live with the child.
    """
    home = [p for p in people if p.role in HOUSEHOLD_ROLES]
    households = [p.existing.household for p in home if p.existing and p.existing.household_id]
    household = households[0] if households else None
    if household is None and home:
        address = next((p.address for p in home if p.address), "")
        household = Household.objects.create(team=referral.team, address=address, created_at=now)
    seen: set[int] = set()
    linked: list[Person] = []
    for details in people:
        person = details.existing
        lives_with_child = details.role in HOUSEHOLD_ROLES
        if person is None:
            person = Person.objects.create(
                team=referral.team,
                household=household if lives_with_child else None,
                first_name=details.first_name.strip(),
                last_name=details.last_name.strip(),
                date_of_birth=details.date_of_birth,
                date_of_birth_approximate=details.date_of_birth_approximate,
                gender=details.gender,
                address=details.address or (household.address if lives_with_child and household else ""),
                created_at=now,
                **details.flags,
            )
        elif person.household_id is None and lives_with_child:
            person.household = household
            person.save(update_fields=["household"])
        if person.pk in seen:
            raise ValidationError(f"{person.full_name} is named twice on this referral.")
        seen.add(person.pk)
        ReferralPerson.objects.create(referral=referral, person=person, role=details.role)
        linked.append(person)
    return linked


# --- Desk assessment and allocation ---------------------------------------------------------

def referral_assess(*, referral: Referral, actor: Officer, now: dt.datetime, urgency: str, route: str,
                    rationale: str, owner: Officer | None, supervising_officer: Officer | None,
                    crime_report_number: str = "") -> Referral:
    """Record the desk assessment: urgency, route with its rationale, and who works the case."""
    if referral.status != ReferralStatus.NEW:
        raise ValidationError("This referral has already been assessed.")
    if not rationale.strip():
        raise ValidationError({"rationale": "Give the rationale for the decision."})
    needs_officer = route in (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION)
    if needs_officer and owner is None:
        raise ValidationError({"owner": "An investigation needs an investigating officer."})
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.status != ReferralStatus.NEW:
            raise ValidationError("This referral has already been assessed.")
        referral.urgency = urgency
        referral.route = route
        referral.status = ReferralStatus.OPEN
        referral.assessed_at = now
        if route == Route.SOCIAL_SERVICES_ONLY:
            referral.social_services_update_due_at = due_after(team=referral.team_id,
                                                               clock=Clock.SOCIAL_SERVICES_UPDATE, start=now)
        crime_report_number = crime_report_number.strip().upper()
        if crime_report_number:
            referral.crime_report_number = crime_report_number
        try:
            with transaction.atomic():
                referral.save(update_fields=["urgency", "route", "status", "assessed_at", "crime_report_number",
                                             "social_services_update_due_at"])
        except IntegrityError as error:
            raise ValidationError(
                {"crime_report_number": "That crime report number is already on another referral."}
            ) from error
        case_log_append(
            referral=referral, kind=CaseLogKind.DECISION, actor=actor, now=now,
            text=f"Desk assessment: urgency {referral.get_urgency_display().lower()}. Rationale: {rationale.strip()}",
        )
        route_text = f"Route chosen: {referral.get_route_display()}."
        if referral.social_services_update_due_at:
            route_text += (" An update from social services is due by "
                           f"{referral.social_services_update_due_at.astimezone(LONDON):%d/%m/%Y %H:%M}.")
        case_log_append(referral=referral, kind=CaseLogKind.SYSTEM, actor=actor, now=now, text=route_text)
        if crime_report_number:
            case_log_append(referral=referral, kind=CaseLogKind.SYSTEM, actor=actor, now=now,
                            text=f"Crime report number recorded: {crime_report_number}.")
        if owner or supervising_officer:
            referral_allocate(referral=referral, actor=actor, now=now, owner=owner,
                              supervising_officer=supervising_officer, reason="Allocated at desk assessment.")
    return referral


def referral_allocate(*, referral: Referral, actor: Officer, now: dt.datetime, owner: Officer | None,
                      supervising_officer: Officer | None, reason: str) -> Referral:
    """Give the case an investigating officer and a supervisor, with the reason why."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the case is allocated this way."})
    for officer in (owner, supervising_officer):
        if officer is not None and not officer.is_active:
            raise ValidationError(f"{officer.display_name} is no longer an active officer.")
        if officer is not None and officer.team_id != referral.team_id and not officer.force_wide:
            raise ValidationError(f"{officer.display_name} is not in team {referral.team.code}.")
    with transaction.atomic():
        # Lock the row so two supervisors reallocating at once write one entry each, in turn.
        locked = Referral.objects.select_for_update().only("owner", "supervising_officer").get(pk=referral.pk)
        before = (locked.owner_id, locked.supervising_officer_id)
        referral.owner = owner
        referral.supervising_officer = supervising_officer
        if before == (referral.owner_id, referral.supervising_officer_id):
            return referral
        referral.save(update_fields=["owner", "supervising_officer"])
        case_log_append(
            referral=referral, kind=CaseLogKind.SYSTEM, actor=actor, now=now,
            text=(f"Allocation changed: investigating officer {_officer_label(owner)}, "
                  f"supervisor {_officer_label(supervising_officer)}. Reason: {reason.strip()}"),
        )
    return referral


def _officer_label(officer: Officer | None) -> str:
    return officer.display_name if officer else "none"


def written_followup_record(*, referral: Referral, actor: Officer, now: dt.datetime,
                            received_at: dt.datetime, note: str = "") -> Referral:
    """Close the phone referral's prompt: the written referral has arrived."""
    if received_at > now:
        raise ValidationError({"received_at": "The written referral cannot arrive in the future."})
    if received_at < referral.received_at:
        raise ValidationError({"received_at": "The written referral cannot arrive before the phone call."})
    with transaction.atomic():
        locked = Referral.objects.select_for_update().only("written_followup_due_at",
                                                           "written_followup_received_at").get(pk=referral.pk)
        if not locked.awaiting_written_followup:
            raise ValidationError("No written follow-up is outstanding on this referral.")
        referral.written_followup_received_at = received_at
        referral.save(update_fields=["written_followup_received_at"])
        text = "Written referral received."
        if note.strip():
            text += f" {note.strip()}"
        case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, actor=actor, now=now,
                        occurred_at=received_at, text=text)
    return referral


def social_services_update_record(*, referral: Referral, actor: Officer, now: dt.datetime,
                                  received_at: dt.datetime, note: str) -> Referral:
    """The update from social services has arrived: close its clock and log what it said."""
    if received_at > now:
        raise ValidationError({"received_at": "The update cannot arrive in the future."})
    if not note.strip():
        raise ValidationError({"note": "Say what social services reported."})
    with transaction.atomic():
        locked = Referral.objects.select_for_update().only("social_services_update_due_at",
                                                           "social_services_update_received_at").get(pk=referral.pk)
        if not locked.awaiting_social_services_update:
            raise ValidationError("No update from social services is outstanding on this referral.")
        referral.social_services_update_received_at = received_at
        referral.save(update_fields=["social_services_update_received_at"])
        case_log_append(referral=referral, kind=CaseLogKind.PARTNER_CONTACT, actor=actor, now=now,
                        occurred_at=received_at, text=f"Update received from social services. {note.strip()}")
    return referral


# --- Actions ------------------------------------------------------------------------------

def action_create(*, referral: Referral, actor: Officer, now: dt.datetime, description: str,
                  owner: Officer, due_at: dt.datetime) -> Action:
    if not description.strip():
        raise ValidationError({"description": "Say what must be done."})
    if not referral.is_open:
        raise ValidationError("This referral is closed; it takes no new actions.")
    if due_at < now:
        raise ValidationError({"due_at": "The due date must not be in the past."})
    if owner.team_id != referral.team_id and not owner.force_wide:
        raise ValidationError({"owner": f"{owner.display_name} is not in team {referral.team.code}."})
    with transaction.atomic():
        action = Action.objects.create(referral=referral, description=description.strip(), owner=owner,
                                       due_at=due_at, created_by=actor, created_at=now)
        case_log_append(
            referral=referral, kind=CaseLogKind.ACTION, actor=actor, now=now,
            text=f"Action set for {owner.display_name}, due {due_at.astimezone(LONDON):%d/%m/%Y %H:%M}: {action.description}",
        )
    return action


def action_finish(*, action: Action, actor: Officer, now: dt.datetime, status: str, note: str) -> Action:
    """Mark an action done or cancelled, with a note that says how or why."""
    if status not in (ActionStatus.DONE, ActionStatus.CANCELLED):
        raise ValidationError({"status": "An action is finished as done or cancelled."})
    if not note.strip():
        raise ValidationError({"note": "Say what was done, or why it was cancelled."})
    with transaction.atomic():
        action = Action.objects.select_for_update().get(pk=action.pk)
        if not action.is_open:
            raise ValidationError("This action is already finished.")
        action.status = status
        action.completion_note = note.strip()
        action.finished_at = now
        action.save(update_fields=["status", "completion_note", "finished_at"])
        case_log_append(
            referral=action.referral, kind=CaseLogKind.ACTION, actor=actor, now=now,
            text=f"Action {action.get_status_display().lower()}: {action.description}. Note: {action.completion_note}",
        )
    return action


# --- Investigation records: joint visits, outcomes, disclosure requests (SPEC §7) -------------------

INVESTIGATION_ROUTES = (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION)


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(LONDON):%d/%m/%Y %H:%M}"


def _after_receipt(referral: Referral, moment: dt.datetime, field_name: str, what: str) -> None:
    if moment < referral.received_at:
        raise ValidationError({field_name: f"{what} cannot be before the referral was received "
                                           f"({_when(referral.received_at)})."})


def joint_visit_record(*, referral: Referral, actor: Officer, now: dt.datetime,
                       visited_at: dt.datetime) -> Referral:
    """Record when police and children's social care visited together; a second record corrects it."""
    if visited_at > now:
        raise ValidationError({"visited_at": "A joint visit cannot be recorded before it happens."})
    _after_receipt(referral, visited_at, "visited_at", "The joint visit")
    with transaction.atomic():
        locked = Referral.objects.select_for_update().only("joint_visit_at").get(pk=referral.pk)
        before = locked.joint_visit_at
        if before == visited_at:
            return referral
        referral.joint_visit_at = visited_at
        referral.save(update_fields=["joint_visit_at"])
        text = f"Joint visit with children's social care on {_when(visited_at)}."
        if before is not None:
            text += f" This corrects the time recorded before ({_when(before)})."
        case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, actor=actor, now=now,
                        occurred_at=visited_at, text=text)
    return referral


def investigation_outcome_record(*, referral: Referral, actor: Officer, now: dt.datetime, outcome: str,
                                 outcome_at: dt.datetime) -> Referral:
    """Record how the investigation ended (a charge, caution or community resolution is a detection)."""
    if referral.route not in INVESTIGATION_ROUTES:
        raise ValidationError("An outcome is recorded on a police or joint investigation.")
    if outcome not in InvestigationOutcome.values:
        raise ValidationError({"outcome": "Choose the outcome of the investigation."})
    if outcome_at > now:
        raise ValidationError({"outcome_at": "The outcome cannot be in the future."})
    _after_receipt(referral, outcome_at, "outcome_at", "The outcome")
    with transaction.atomic():
        locked = Referral.objects.select_for_update().only("outcome", "outcome_at").get(pk=referral.pk)
        if (locked.outcome, locked.outcome_at) == (outcome, outcome_at):
            return referral
        earlier = locked.get_outcome_display() if locked.outcome else ""
        referral.outcome = outcome
        referral.outcome_at = outcome_at
        referral.save(update_fields=["outcome", "outcome_at"])
        text = f"Investigation outcome: {referral.get_outcome_display()}, on {_when(outcome_at)}"
        text += " (a detection)." if outcome in DETECTION_OUTCOMES else "."
        if earlier:
            text += f" This replaces the outcome recorded before ({earlier})."
        case_log_append(referral=referral, kind=CaseLogKind.DECISION, actor=actor, now=now,
                        occurred_at=outcome_at, text=text)
    return referral


def _disclosure_response_problems(*, decision: str, responded_at: dt.datetime | None, received_at: dt.datetime,
                                  now: dt.datetime) -> dict[str, str]:
    if decision not in DisclosureDecision.values:
        return {"decision": "Choose the decision."}
    if decision != DisclosureDecision.PENDING and responded_at is None:
        return {"responded_at": "Give the date the response was sent."}
    if decision == DisclosureDecision.PENDING and responded_at is not None:
        return {"decision": "Record the decision the response gave."}
    if responded_at is not None and responded_at > now:
        return {"responded_at": "The response cannot be in the future."}
    if responded_at is not None and responded_at < received_at:
        return {"responded_at": "The response cannot be before the request was received."}
    return {}


def disclosure_request_record(*, referral: Referral, actor: Officer, now: dt.datetime, received_at: dt.datetime,
                              requested_by: str, proceedings_reference: str = "",
                              decision: str = DisclosureDecision.PENDING,
                              responded_at: dt.datetime | None = None) -> DisclosureRequest:
    """A request for police material in family proceedings, and the response if it has been given."""
    if not requested_by.strip():
        raise ValidationError({"requested_by": "Say who asked: the court, local authority or party."})
    if received_at > now:
        raise ValidationError({"received_at": "A request cannot be received in the future."})
    _after_receipt(referral, received_at, "received_at", "The request")
    problems = _disclosure_response_problems(decision=decision, responded_at=responded_at, received_at=received_at,
                                             now=now)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        request = DisclosureRequest.objects.create(
            referral=referral, received_at=received_at, requested_by=requested_by.strip(),
            proceedings_reference=proceedings_reference.strip(), decision=decision, responded_at=responded_at,
            recorded_by=actor, recorded_at=now)
        reference = f" (proceedings {request.proceedings_reference})" if request.proceedings_reference else ""
        text = (f"Request for disclosure in family proceedings received {_when(received_at)} from "
                f"{request.requested_by}{reference}.")
        if responded_at is not None:
            text += f" Response sent {_when(responded_at)}: {request.get_decision_display().lower()}."
        case_log_append(referral=referral, kind=CaseLogKind.PARTNER_CONTACT, actor=actor, now=now,
                        occurred_at=received_at, text=text)
    return request


def disclosure_request_respond(*, request: DisclosureRequest, actor: Officer, now: dt.datetime, decision: str,
                               responded_at: dt.datetime) -> DisclosureRequest:
    """Record the response to a pending request: the decision and when it was sent."""
    if decision == DisclosureDecision.PENDING:
        raise ValidationError({"decision": "Record the decision the response gave."})
    problems = _disclosure_response_problems(decision=decision, responded_at=responded_at,
                                             received_at=request.received_at, now=now)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        locked = DisclosureRequest.objects.select_for_update().get(pk=request.pk)
        if locked.decision != DisclosureDecision.PENDING:
            raise ValidationError("This request has already been answered.")
        request.decision = decision
        request.responded_at = responded_at
        request.save(update_fields=["decision", "responded_at"])
        case_log_append(referral=request.referral, kind=CaseLogKind.PARTNER_CONTACT, actor=actor, now=now,
                        occurred_at=responded_at,
                        text=(f"Response to the request for disclosure from {request.requested_by} sent "
                              f"{_when(responded_at)}: {request.get_decision_display().lower()}."))
    return request
