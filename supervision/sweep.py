"""The reminder sweep: derive what is due from the database, then create, resolve, notify and
escalate reminders. Safe to run twice at once, to rerun, and to run after days of outage:

- a reminder is created once per (kind, subject, due date): a unique constraint, inserts that ignore conflicts;
- each state change is claimed row by row (`select_for_update(skip_locked=True)` and a
  compare-and-swap on the state), and its notification is unique per (reminder, recipient, event);
- e-mails (digests, partner escalations) are claimed by setting `sent_at` before they are sent.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, Value, When

from cram_site.calendar import LONDON, is_working_day
from cram_site.models import Officer
from referrals.models import CaseLogKind, Referral
from referrals.services import case_log_append

from .due import DueItem, Sources
from .models import DigestDelivery, Notification, PartnerEmail, Reminder, ReminderState, SweepRun

logger = logging.getLogger(__name__)

BATCH = 500


@dataclass
class SweepResult:
    created: int = 0
    resolved: int = 0
    notified: int = 0
    escalated: int = 0
    partner_emails: int = 0


def sweep(*, now: dt.datetime) -> SweepResult:
    """One full sweep as of `now`. Each step commits on its own, so an interrupted sweep leaves
    nothing half-done and the next sweep finishes the work."""
    run = SweepRun.objects.create(started_at=now, as_of=now)
    items = list(Sources(now).all())
    result = SweepResult(
        created=reminders_create(items, now=now),
        resolved=reminders_resolve(items, now=now),
    )
    result.notified = reminders_notify(now=now)
    result.escalated = reminders_escalate(now=now)
    result.partner_emails = partner_emails_send(now=now)
    SweepRun.objects.filter(pk=run.pk).update(finished_at=now, created=result.created, resolved=result.resolved,
                                              notified=result.notified, escalated=result.escalated)
    return result


def reminders_create(items: list[DueItem], *, now: dt.datetime) -> int:
    """A reminder for every due item that has none yet; a rerun inserts nothing.

    An item due again after its reminder resolved (new work given to a leaver after reallocation, or a
    concurrent sweep that read the database a moment earlier and resolved a reminder it did not know
    of) cannot have a second reminder for the same (kind, subject, due date): its reminder reopens
    instead, in the state it had reached, so it is neither lost nor prompted twice.
    """
    # Reminders already made for these subjects, one query per kind of subject (not per referral).
    existing: set[tuple[str, str, int, dt.datetime]] = set()
    reopen: list[int] = []
    current = {item.key for item in items}
    subjects: dict[str, set[int]] = {}
    for item in items:
        subjects.setdefault(item.subject_type, set()).add(item.subject_id)
    for subject_type, ids in subjects.items():
        for pk, state, *key in (Reminder.objects.filter(subject_type=subject_type, subject_id__in=ids)
                                .values_list("pk", "state", "kind", "subject_type", "subject_id", "due_at")):
            existing.add(tuple(key))
            if state == ReminderState.RESOLVED and tuple(key) in current:
                reopen.append(pk)
    new = [Reminder(kind=item.kind, subject_type=item.subject_type, subject_id=item.subject_id,
                    referral_id=item.referral_id, title=item.title[:300], owner_id=item.owner_id,
                    escalate_to_id=item.escalate_to_id, escalate_to_email=item.escalate_to_email,
                    notify_at=item.notify_at, due_at=item.due_at, created_at=now)
           for item in items if item.key not in existing]
    with transaction.atomic():
        created = Reminder.objects.bulk_create(new, batch_size=BATCH, ignore_conflicts=True)
    for start in range(0, len(reopen), BATCH):
        # Compare and swap: only a reminder still resolved reopens.
        Reminder.objects.filter(pk__in=reopen[start:start + BATCH], state=ReminderState.RESOLVED).update(
            resolved_at=None,
            state=Case(When(escalated_at__isnull=False, then=Value(ReminderState.ESCALATED)),
                       When(notified_at__isnull=False, then=Value(ReminderState.NOTIFIED)),
                       default=Value(ReminderState.PENDING)))
    return len(created)


def reminders_resolve(items: list[DueItem], *, now: dt.datetime) -> int:
    """Reminders whose item is no longer due (done, moved, closed) resolve themselves."""
    current = {item.key for item in items}
    stale = [pk for pk, *key in Reminder.objects.unresolved().values_list("pk", "kind", "subject_type", "subject_id",
                                                                           "due_at")
             if tuple(key) not in current]
    resolved = 0
    for start in range(0, len(stale), BATCH):
        resolved += (Reminder.objects.unresolved().filter(pk__in=stale[start:start + BATCH])
                     .update(state=ReminderState.RESOLVED, resolved_at=now))
    return resolved


def reminders_notify(*, now: dt.datetime) -> int:
    """Prompt the owner of every reminder whose time has come, once."""
    notified = 0
    while True:
        with transaction.atomic():
            batch = list(Reminder.objects.select_for_update(skip_locked=True)
                         .filter(state=ReminderState.PENDING, notify_at__lte=now).order_by("notify_at")[:BATCH])
            if not batch:
                return notified
            claimed = Reminder.objects.filter(pk__in=[r.pk for r in batch], state=ReminderState.PENDING).update(
                state=ReminderState.NOTIFIED, notified_at=now)
            Notification.objects.bulk_create([
                Notification(reminder=r, recipient_id=r.owner_id, event=Notification.Event.DUE, created_at=now,
                             text=f"{'Overdue' if r.due_at < now else 'Due'} {r.due_at.astimezone(LONDON):%d/%m/%Y %H:%M}: "
                                  f"{r.title}"[:400])
                for r in batch], ignore_conflicts=True)
            notified += claimed


def reminders_escalate(*, now: dt.datetime) -> int:
    """Overdue reminders go to the owner's supervisor (and a partner contact where there is one),
    with an entry in the case log."""
    escalated = 0
    while True:
        with transaction.atomic():
            # In referral order: each escalation locks its referral to number a case-log entry, and two
            # sweeps taking those locks in the same order cannot deadlock.
            batch = list(Reminder.objects.select_for_update(skip_locked=True)
                         .filter(state=ReminderState.NOTIFIED, due_at__lt=now)
                         .order_by("referral_id", "due_at", "pk")[:BATCH])
            if not batch:
                return escalated
            for reminder in batch:
                escalated += _escalate(reminder, now=now)


def _escalate(reminder: Reminder, *, now: dt.datetime) -> int:
    claimed = Reminder.objects.filter(pk=reminder.pk, state=ReminderState.NOTIFIED).update(
        state=ReminderState.ESCALATED, escalated_at=now, escalated_to_id=reminder.escalate_to_id)
    if not claimed:
        return 0
    if reminder.escalate_to_id:
        Notification.objects.bulk_create([Notification(
            reminder=reminder, recipient_id=reminder.escalate_to_id, event=Notification.Event.OVERDUE,
            created_at=now, text=f"Overdue since {reminder.due_at.astimezone(LONDON):%d/%m/%Y %H:%M}: "
                                 f"{reminder.title}"[:400])], ignore_conflicts=True)
    if reminder.escalate_to_email:
        PartnerEmail.objects.bulk_create([PartnerEmail(reminder=reminder, address=reminder.escalate_to_email,
                                                       created_at=now)], ignore_conflicts=True)
    if reminder.referral_id:
        referral = Referral.objects.get(pk=reminder.referral_id)
        to = []
        if reminder.escalate_to_id:
            to.append(Officer.objects.get(pk=reminder.escalate_to_id).display_name)
        if reminder.escalate_to_email:
            to.append(f"the partner contact {reminder.escalate_to_email}")
        case_log_append(referral=referral, kind=CaseLogKind.SYSTEM, actor=None, now=now,
                        text=f"Reminder escalated to {' and '.join(to) or 'nobody (no supervisor recorded)'}: "
                             f"{reminder.title} (due {reminder.due_at.astimezone(LONDON):%d/%m/%Y %H:%M}).")
    return 1


def partner_emails_send(*, now: dt.datetime) -> int:
    """Send each partner escalation once: claimed by setting sent_at, then handed to the mail server.
    If the mail server refuses it, the claim is given back so the next sweep tries again."""
    sent = 0
    for email in PartnerEmail.objects.filter(sent_at__isnull=True).select_related("reminder__referral")[:BATCH]:
        if not PartnerEmail.objects.filter(pk=email.pk, sent_at__isnull=True).update(sent_at=now):
            continue
        reminder = email.reminder
        try:
            send_mail(
                subject=f"Overdue: {reminder.title}",
                message=(f"The police Child Abuse Investigation Team is still waiting for an update on referral "
                         f"{reminder.referral.urn if reminder.referral else ''}, due "
                         f"{reminder.due_at.astimezone(LONDON):%d/%m/%Y}. Please send it to the team mailbox."),
                from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[email.address], fail_silently=False)
        except Exception:
            logger.exception("Partner e-mail %s to %s not sent; the next sweep will retry", email.pk, email.address)
            PartnerEmail.objects.filter(pk=email.pk, sent_at=now).update(sent_at=None)
            continue
        sent += 1
    return sent


# --- The daily digest ------------------------------------------------------------------------

DIGEST_HOUR = 7


def digest_send(*, now: dt.datetime) -> int:
    """At 07:00 London time on working days, each officer gets one e-mail of what is due and overdue."""
    local = now.astimezone(LONDON)
    if local.hour < DIGEST_HOUR or not is_working_day(local.date()):
        return 0
    horizon = now + dt.timedelta(days=2)
    reminders = list(Reminder.objects.unresolved().filter(due_at__lte=horizon)
                     .values_list("owner_id", "escalated_to_id", "title", "due_at"))
    by_officer: dict[int, list[tuple[str, dt.datetime]]] = {}
    for owner_id, escalated_to_id, title, due_at in reminders:
        for officer_id in {owner_id, escalated_to_id} - {None}:
            by_officer.setdefault(officer_id, []).append((title, due_at))
    DigestDelivery.objects.bulk_create([DigestDelivery(recipient_id=pk, day=local.date(), item_count=len(items))
                                        for pk, items in by_officer.items()], ignore_conflicts=True)
    sent = 0
    officers = {o.pk: o for o in Officer.objects.filter(pk__in=by_officer, is_active=True)}
    for delivery in DigestDelivery.objects.filter(day=local.date(), sent_at__isnull=True, recipient_id__in=officers):
        if not DigestDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).update(sent_at=now):
            continue
        officer = officers[delivery.recipient_id]
        try:
            send_mail(subject=f"CRAM: {len(by_officer[officer.pk])} item(s) due or overdue",
                      message=digest_text(by_officer[officer.pk], now=now), from_email=settings.DEFAULT_FROM_EMAIL,
                      recipient_list=[officer.email or f"{officer.username}@localhost"])
        except Exception:
            # Give the claim back: the next call that day tries again.
            logger.exception("Digest for officer %s not sent; the next sweep will retry", officer.pk)
            DigestDelivery.objects.filter(pk=delivery.pk, sent_at=now).update(sent_at=None)
            continue
        sent += 1
    return sent


def digest_text(items: list[tuple[str, dt.datetime]], *, now: dt.datetime) -> str:
    overdue = sorted((due, title) for title, due in items if due < now)
    coming = sorted((due, title) for title, due in items if due >= now)
    lines = ["Good morning. This is what is due for you in CRAM case manager.", ""]
    if overdue:
        lines.append("Overdue:")
        lines += [f"  {due.astimezone(LONDON):%d/%m/%Y %H:%M}  {title}" for due, title in overdue]
        lines.append("")
    if coming:
        lines.append("Due in the next two days:")
        lines += [f"  {due.astimezone(LONDON):%d/%m/%Y %H:%M}  {title}" for due, title in coming]
    return "\n".join(lines)


def last_sweep() -> SweepRun | None:
    return SweepRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
