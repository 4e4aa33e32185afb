"""The 07:00 digest (one e-mail per officer on working days, never twice a day), who an overdue
item escalates to, and the record each sweep leaves of itself."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from cram_site.models import Officer, Rank
from referrals import services as referral_services
from referrals.models import Action, Referral
from supervision.models import DigestDelivery, Notification, Reminder, ReminderKind, ReminderState, SweepRun
from supervision.sweep import digest_send, last_sweep, sweep
from tests.factories import OfficerFactory
from tests.supervision.test_reminders_clocks import (  # noqa: F401 (fixtures)
    MINUTE,
    inspector,
    investigation,
    london,
    sweep_at,
)

pytestmark = pytest.mark.django_db


def action_for(referral: Referral, owner: Officer, actor: Officer, *, due_at: dt.datetime, description: str,
               at: dt.datetime) -> Action:
    with time_machine.travel(at, tick=False):
        return referral_services.action_create(referral=referral, actor=actor, now=at, owner=owner,
                                               description=description, due_at=due_at)


def digests_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return digest_send(now=moment)


@pytest.fixture
def casework(desk_sergeant, investigator, supervisor) -> Referral:
    """DC Vance's investigation, set up on Monday 2 March 2026, with three actions: one overdue by
    Tuesday 10 March (due Monday 9th), one due on Wednesday 11th and one not until Monday 16th."""
    for officer, address in ((investigator, "ian.vance@met.police.uk"), (supervisor, "sue.perkins@met.police.uk"),
                             (desk_sergeant, "dawn.price@met.police.uk")):
        officer.email = address
        officer.save(update_fields=["email"])
    start = london(2026, 3, 2, 9)
    referral = investigation(desk_sergeant, investigator, supervisor, at=start)
    action_for(referral, investigator, supervisor, due_at=london(2026, 3, 9, 17), at=start,
               description="Obtain the nursery's body map")
    action_for(referral, investigator, supervisor, due_at=london(2026, 3, 11, 17), at=start,
               description="Book the ABE interview")
    action_for(referral, investigator, supervisor, due_at=london(2026, 3, 16, 17), at=start,
               description="Review the CCTV")
    return referral


# --- The digest -------------------------------------------------------------------------------------


def test_the_digest_goes_at_seven_on_a_working_day_once_to_each_officer_with_items(casework, investigator,
                                                                                   supervisor, desk_sergeant):
    """Tuesday 10 March 2026: nothing at 06:59; at 07:00 DC Vance gets his overdue action and the one
    due tomorrow (not next week's), DS Perkins the overdue action escalated to her; the desk sergeant,
    with nothing due, gets nothing. A second call that morning sends nothing more."""
    sweep_at(london(2026, 3, 10, 6, 45))
    urn = casework.urn

    assert digests_at(london(2026, 3, 10, 6, 59)) == 0
    assert mail.outbox == [] and not DigestDelivery.objects.exists()

    assert digests_at(london(2026, 3, 10, 7, 0)) == 2
    by_recipient = {tuple(message.to): message for message in mail.outbox}
    assert set(by_recipient) == {("ian.vance@met.police.uk",), ("sue.perkins@met.police.uk",)}

    vance = by_recipient[("ian.vance@met.police.uk",)]
    assert vance.subject == "CRAM: 2 item(s) due or overdue"
    overdue, coming = vance.body.split("Due in the next two days:")
    assert "Overdue:" in overdue and f"09/03/2026 17:00  {urn}: Obtain the nursery's body map" in overdue
    assert f"11/03/2026 17:00  {urn}: Book the ABE interview" in coming
    assert "Review the CCTV" not in vance.body

    perkins = by_recipient[("sue.perkins@met.police.uk",)]
    assert perkins.subject == "CRAM: 1 item(s) due or overdue"
    assert f"09/03/2026 17:00  {urn}: Obtain the nursery's body map" in perkins.body
    assert "Due in the next two days" not in perkins.body

    assert digests_at(london(2026, 3, 10, 7, 15)) == 0
    assert digests_at(london(2026, 3, 10, 16, 0)) == 0
    assert len(mail.outbox) == 2
    assert sorted(DigestDelivery.objects.values_list("recipient_id", "item_count")) == sorted(
        [(investigator.pk, 2), (supervisor.pk, 1)])


def test_no_digest_on_a_saturday(casework):
    sweep_at(london(2026, 3, 14, 6, 45))
    assert digests_at(london(2026, 3, 14, 7, 0)) == 0
    assert digests_at(london(2026, 3, 14, 12, 0)) == 0
    assert mail.outbox == []


def test_no_digest_on_a_bank_holiday_and_one_the_next_working_day(desk_sergeant, investigator, supervisor):
    """Monday 28 December 2026 is Boxing Day (observed): no digest; Tuesday 29th at 07:00 there is one."""
    investigator.email = "ian.vance@met.police.uk"
    investigator.save(update_fields=["email"])
    start = london(2026, 12, 21, 9)
    referral = investigation(desk_sergeant, investigator, supervisor, at=start)
    action_for(referral, investigator, supervisor, due_at=london(2026, 12, 29, 17), at=start,
               description="Visit the school")
    sweep_at(london(2026, 12, 28, 6, 45))

    assert digests_at(london(2026, 12, 28, 7, 0)) == 0
    assert mail.outbox == []

    sweep_at(london(2026, 12, 29, 6, 45))
    assert digests_at(london(2026, 12, 29, 7, 0)) >= 1
    assert any(message.to == ["ian.vance@met.police.uk"] and "Visit the school" in message.body
               for message in mail.outbox)


def test_the_digest_after_british_summer_time_begins_goes_at_seven_london_time(casework, investigator):
    """Monday 30 March 2026, the day after the clocks go forward: 07:00 BST is 06:00 UTC."""
    sweep_at(london(2026, 3, 30, 6, 0))
    assert digests_at(dt.datetime(2026, 3, 30, 5, 59, tzinfo=dt.UTC)) == 0
    assert digests_at(dt.datetime(2026, 3, 30, 6, 0, tzinfo=dt.UTC)) >= 1


# --- Escalation ------------------------------------------------------------------------------------


def test_overdue_work_escalates_to_the_line_manager_when_there_is_one(desk_sergeant, investigator, supervisor,
                                                                      inspector):
    """DC Vance's line manager is DI Hall: his overdue action goes to her, not to the team supervisor."""
    investigator.line_manager = inspector
    investigator.save(update_fields=["line_manager"])
    start = london(2026, 3, 2, 9)
    referral = investigation(desk_sergeant, investigator, supervisor, at=start)
    action = action_for(referral, investigator, supervisor, due_at=london(2026, 3, 4, 17), at=start,
                        description="Obtain the nursery's body map")

    sweep_at(london(2026, 3, 4, 17, 1))

    reminder = Reminder.objects.get(kind=ReminderKind.ACTION, subject_id=action.pk)
    assert (reminder.state, reminder.escalated_to_id) == (ReminderState.ESCALATED, inspector.pk)
    assert list(Notification.objects.filter(reminder=reminder, event="overdue").values_list(
        "recipient_id", flat=True)) == [inspector.pk]
    assert referral.case_log.filter(text__startswith=f"Reminder escalated to {inspector.display_name}").count() == 1


def test_overdue_work_escalates_to_the_team_supervisor_without_a_line_manager(desk_sergeant, investigator,
                                                                              supervisor):
    start = london(2026, 3, 2, 9)
    referral = investigation(desk_sergeant, investigator, supervisor, at=start)
    action = action_for(referral, investigator, supervisor, due_at=london(2026, 3, 4, 17), at=start,
                        description="Obtain the nursery's body map")

    sweep_at(london(2026, 3, 4, 17, 1))

    reminder = Reminder.objects.get(kind=ReminderKind.ACTION, subject_id=action.pk)
    assert reminder.escalated_to_id == supervisor.pk
    assert referral.case_log.filter(text__startswith=f"Reminder escalated to {supervisor.display_name}").count() == 1


def test_a_line_manager_who_has_left_is_passed_over_for_the_team_supervisor(desk_sergeant, investigator,
                                                                            supervisor, inspector):
    """DI Hall has left (her account is inactive): DC Vance's overdue work goes to DS Perkins instead."""
    investigator.line_manager = inspector
    investigator.save(update_fields=["line_manager"])
    inspector.is_active = False
    inspector.save(update_fields=["is_active"])
    start = london(2026, 3, 2, 9)
    referral = investigation(desk_sergeant, investigator, supervisor, at=start)
    action = action_for(referral, investigator, supervisor, due_at=london(2026, 3, 4, 17), at=start,
                        description="Obtain the nursery's body map")

    sweep_at(london(2026, 3, 4, 17, 1))

    reminder = Reminder.objects.get(kind=ReminderKind.ACTION, subject_id=action.pk)
    assert reminder.escalated_to_id == supervisor.pk
    assert not Notification.objects.filter(recipient=inspector).exists()


def test_a_supervisors_own_overdue_work_goes_to_another_supervisor_of_the_team(desk_sergeant, investigator,
                                                                              supervisor):
    """DS Perkins has no line manager and is the team's first supervisor: her overdue sign-off goes to
    the team's other supervisor, DS Osei, rather than back to herself or to nobody."""
    osei = OfficerFactory(username="supervisor2-hy", first_name="Kwame", last_name="Osei", rank=Rank.DS,
                          staff_number="DS404", team=supervisor.team, roles=["supervisor"])
    start = london(2026, 3, 2, 9)
    referral = investigation(desk_sergeant, investigator, supervisor, at=start)
    action = action_for(referral, supervisor, supervisor, due_at=london(2026, 3, 4, 17), at=start,
                        description="Countersign the strategy record")

    sweep_at(london(2026, 3, 4, 17, 1))

    reminder = Reminder.objects.get(kind=ReminderKind.ACTION, subject_id=action.pk)
    assert (reminder.owner_id, reminder.escalated_to_id) == (supervisor.pk, osei.pk)


# --- The record of each sweep -------------------------------------------------------------------------


def test_each_sweep_records_when_it_ran_and_what_it_did(casework):
    """last_sweep() is the latest finished run: its time, and how many reminders it made, prompted,
    escalated and resolved."""
    assert last_sweep() is None

    first = sweep_at(london(2026, 3, 10, 9))
    run = last_sweep()
    assert run.as_of == run.started_at == run.finished_at == london(2026, 3, 10, 9)
    assert (run.created, run.notified, run.escalated, run.resolved) == (
        first.created, first.notified, first.escalated, first.resolved)
    assert run.created == Reminder.objects.count() and run.escalated == 1

    sweep_at(london(2026, 3, 10, 9, 15))
    assert last_sweep().as_of == london(2026, 3, 10, 9, 15)
    assert (last_sweep().created, last_sweep().notified, last_sweep().escalated) == (0, 0, 0)
    assert SweepRun.objects.count() == 2


def test_a_sweep_that_did_not_finish_is_not_the_last_sweep(casework, monkeypatch):
    sweep_at(london(2026, 3, 10, 9))
    from supervision import sweep as sweep_module

    def dies(**kwargs: object) -> int:
        raise RuntimeError("worker lost")

    monkeypatch.setattr(sweep_module, "partner_emails_send", dies)
    with pytest.raises(RuntimeError):
        sweep(now=london(2026, 3, 10, 9, 15) + MINUTE)
    assert last_sweep().as_of == london(2026, 3, 10, 9)
    assert SweepRun.objects.filter(finished_at__isnull=True).count() == 1
