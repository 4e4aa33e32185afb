"""The record of a strategy meeting: decisions and agreed actions, rewritable until the chair
countersigns; countersigning turns each agreed action into a case action and freezes the record, in
the services and (on PostgreSQL) in the database. A submitted police report is frozen the same way."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from conferences import services
from conferences.models import AgreedAction, Meeting, MeetingKind, PoliceReport, ReportStatus, StrategyRecord
from conferences.services import AgreedActionInput
from cram_site.models import Officer
from referrals.models import Action, ActionStatus, CaseLogEntry, CaseLogKind, Referral
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db

# A Tuesday in March, before the clocks change: London is on GMT.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


# --- Helpers --------------------------------------------------------------------------------------


def held_meeting(referral: Referral, actor: Officer, kind: str = MeetingKind.STRATEGY_MEETING) -> Meeting:
    return services.meeting_create(referral=referral, actor=actor, now=NOW, kind=kind, starts_at=NOW - 2 * HOUR,
                                   place="Tottenham Police Station", chair_name="Chris Hale",
                                   chair_agency="Children's social care", held=True)


def agreed(description: str, owner: Officer, due_at: dt.datetime, agency: str = "Police") -> AgreedActionInput:
    return AgreedActionInput(description=description, owner_agency=agency, owner=owner, due_at=due_at)


def save(meeting: Meeting, actor: Officer, actions: list[AgreedActionInput], *, decisions: str = "Joint visit today.",
         now: dt.datetime = NOW) -> StrategyRecord:
    return services.strategy_record_save(meeting=meeting, actor=actor, now=now, decisions=decisions,
                                         agreed_actions=actions)


def stored_actions(record: StrategyRecord) -> list[tuple[str, str, int, dt.datetime]]:
    return list(AgreedAction.objects.filter(record=record).order_by("pk")
                .values_list("description", "owner_agency", "owner_id", "due_at"))


# --- Saving ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [MeetingKind.INITIAL_CONFERENCE, MeetingKind.CORE_GROUP, MeetingKind.MAPPA])
@time_machine.travel(NOW, tick=False)
def test_only_a_strategy_discussion_or_meeting_has_a_strategy_record(log_referral: Callable[..., Referral],
                                                                     desk_sergeant: Officer, investigator: Officer,
                                                                     kind: str) -> None:
    referral = log_referral(now=NOW - DAY)
    meeting = held_meeting(referral, desk_sergeant, kind)

    with pytest.raises(ValidationError, match="Only a strategy discussion or meeting has a strategy record"):
        save(meeting, desk_sergeant, [agreed("Visit the school", investigator, NOW + DAY)])

    assert not StrategyRecord.objects.exists()
    assert not AgreedAction.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_strategy_record_without_decisions_is_refused(log_referral: Callable[..., Referral],
                                                        desk_sergeant: Officer, investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)
    meeting = held_meeting(referral, desk_sergeant)

    with pytest.raises(ValidationError) as refused:
        save(meeting, desk_sergeant, [agreed("Visit the school", investigator, NOW + DAY)], decisions="  \n ")

    assert "decisions" in refused.value.message_dict
    assert not StrategyRecord.objects.exists()
    assert not AgreedAction.objects.exists()


@pytest.mark.parametrize(("action", "message"), [
    (("Visit the school", "Police", NOW - dt.timedelta(minutes=1)), "cannot be due in the past"),
    (("  ", "Police", NOW + DAY), "needs a description and an agency"),
    (("Visit the school", " ", NOW + DAY), "needs a description and an agency"),
], ids=["due in the past", "no description", "no agency"])
@time_machine.travel(NOW, tick=False)
def test_a_faulty_agreed_action_refuses_the_whole_record(log_referral: Callable[..., Referral],
                                                         desk_sergeant: Officer, investigator: Officer,
                                                         action: tuple[str, str, dt.datetime], message: str) -> None:
    """One bad action among good ones: nothing is stored, not even the decisions."""
    referral = log_referral(now=NOW - DAY)
    meeting = held_meeting(referral, desk_sergeant)
    description, agency, due_at = action

    with pytest.raises(ValidationError, match=message) as refused:
        save(meeting, desk_sergeant, [agreed("Arrange an ABE interview", investigator, NOW + DAY),
                                      agreed(description, investigator, due_at, agency)])

    assert "agreed_actions" in refused.value.message_dict
    assert not StrategyRecord.objects.exists()
    assert not AgreedAction.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_an_agreed_action_due_exactly_now_is_accepted(log_referral: Callable[..., Referral],
                                                      desk_sergeant: Officer, investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)
    meeting = held_meeting(referral, desk_sergeant)

    record = save(meeting, desk_sergeant, [agreed("Speak to the nursery manager", investigator, NOW)])

    assert stored_actions(record) == [("Speak to the nursery manager", "Police", investigator.pk, NOW)]


@time_machine.travel(NOW, tick=False)
def test_the_record_can_be_rewritten_until_countersigned_and_its_actions_are_replaced(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer,
        supervisor: Officer) -> None:
    """The second save replaces decisions and agreed actions; no case action exists before countersigning."""
    referral = log_referral(now=NOW - DAY)
    meeting = held_meeting(referral, desk_sergeant)
    first = save(meeting, desk_sergeant, [agreed("Visit the school", investigator, NOW + DAY),
                                          agreed("Check the GP records", supervisor, NOW + 2 * DAY, "Health")],
                 decisions="Single-agency visit.")

    second = save(meeting, investigator, [agreed(" Joint visit with social care ", supervisor, NOW + 3 * DAY,
                                                 " Children's social care ")],
                  decisions=" Joint visit; medical examination. ", now=NOW + HOUR)

    assert second.pk == first.pk
    stored = StrategyRecord.objects.get(meeting=meeting)
    assert (stored.decisions, stored.recorded_by_id, stored.recorded_at) == (
        "Joint visit; medical examination.", investigator.pk, NOW + HOUR)
    assert (stored.countersigned_by, stored.countersigned_at) == ("", None)
    assert stored_actions(stored) == [("Joint visit with social care", "Children's social care", supervisor.pk,
                                       NOW + 3 * DAY)]
    assert not Action.objects.filter(referral=referral).exists()


# --- Countersigning ---------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_countersigning_makes_one_case_action_per_agreed_action_and_logs_it(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer,
        supervisor: Officer) -> None:
    referral = log_referral(now=NOW - DAY)
    meeting = held_meeting(referral, desk_sergeant)
    record = save(meeting, desk_sergeant, [agreed("Arrange an ABE interview", investigator, NOW + DAY),
                                           agreed("Child protection medical", supervisor, NOW + 2 * DAY, "Health")],
                  decisions="Section 47 enquiry; joint investigation.")
    entries_before = referral.case_log.count()
    signed_at = NOW + HOUR

    with time_machine.travel(signed_at, tick=False):
        services.strategy_record_countersign(record=record, actor=desk_sergeant, now=signed_at,
                                             chair_name=" Chris Hale ")

    stored = StrategyRecord.objects.get(pk=record.pk)
    assert (stored.countersigned_by, stored.countersigned_at) == ("Chris Hale", signed_at)
    actions = list(Action.objects.filter(referral=referral).order_by("due_at"))
    assert [(a.description, a.owner_id, a.due_at, a.status, a.created_by_id) for a in actions] == [
        ("Arrange an ABE interview (Police)", investigator.pk, NOW + DAY, ActionStatus.OPEN, desk_sergeant.pk),
        ("Child protection medical (Health)", supervisor.pk, NOW + 2 * DAY, ActionStatus.OPEN, desk_sergeant.pk),
    ]
    assert sorted(AgreedAction.objects.filter(record=record).values_list("action_id", flat=True)) == sorted(
        a.pk for a in actions)
    new_entries = list(CaseLogEntry.objects.filter(referral=referral, number__gt=entries_before).order_by("number"))
    assert [e.kind for e in new_entries] == [CaseLogKind.ACTION, CaseLogKind.ACTION, CaseLogKind.MEETING]
    assert new_entries[-1].text == ("Strategy record of 10/03/2026 08:00 countersigned by the chair, Chris Hale. "
                                    "Decisions: Section 47 enquiry; joint investigation.")
    assert new_entries[-1].recorded_at == signed_at


@time_machine.travel(NOW, tick=False)
def test_countersigning_needs_the_chairs_name(log_referral: Callable[..., Referral], desk_sergeant: Officer,
                                              investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)
    record = save(held_meeting(referral, desk_sergeant), desk_sergeant,
                  [agreed("Visit the school", investigator, NOW + DAY)])

    with pytest.raises(ValidationError) as refused:
        services.strategy_record_countersign(record=record, actor=desk_sergeant, now=NOW, chair_name="  ")

    assert "chair_name" in refused.value.message_dict
    assert StrategyRecord.objects.get(pk=record.pk).countersigned_at is None
    assert not Action.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_countersigned_record_cannot_be_rewritten_or_countersigned_again(
        log_referral: Callable[..., Referral], desk_sergeant: Officer, investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)
    meeting = held_meeting(referral, desk_sergeant)
    record = save(meeting, desk_sergeant, [agreed("Visit the school", investigator, NOW + DAY)],
                  decisions="Visit the school.")
    services.strategy_record_countersign(record=record, actor=desk_sergeant, now=NOW, chair_name="Chris Hale")
    entries = referral.case_log.count()

    with pytest.raises(ValidationError, match="countersigned by the chair and cannot be changed"):
        save(meeting, desk_sergeant, [agreed("Something else", investigator, NOW + 2 * DAY)],
             decisions="Changed afterwards.", now=NOW + HOUR)
    with pytest.raises(ValidationError, match="already been countersigned"):
        services.strategy_record_countersign(record=record, actor=desk_sergeant, now=NOW + HOUR,
                                             chair_name="Someone Else")

    stored = StrategyRecord.objects.get(pk=record.pk)
    assert (stored.decisions, stored.countersigned_by, stored.countersigned_at) == (
        "Visit the school.", "Chris Hale", NOW)
    assert stored_actions(stored) == [("Visit the school", "Police", investigator.pk, NOW + DAY)]
    assert Action.objects.filter(referral=referral).count() == 1
    assert referral.case_log.count() == entries


# --- The database refuses changes that go round the services (PostgreSQL triggers) -------------------


@pytest.fixture
def countersigned(log_referral: Callable[..., Referral], desk_sergeant: Officer,
                  investigator: Officer) -> StrategyRecord:
    with time_machine.travel(NOW, tick=False):
        referral = log_referral(now=NOW - DAY)
        record = save(held_meeting(referral, desk_sergeant), desk_sergeant,
                      [agreed("Visit the school", investigator, NOW + DAY)], decisions="Visit the school.")
        return services.strategy_record_countersign(record=record, actor=desk_sergeant, now=NOW,
                                                    chair_name="Chris Hale")


# A PL/pgSQL RAISE EXCEPTION (SQLSTATE P0001) reaches Django as ProgrammingError.
FROZEN_RECORD_STATEMENTS = [
    ("UPDATE conferences_strategyrecord SET decisions = 'Rewritten' WHERE id = %(record)s",
     "Cannot update or delete rows from conferences_strategyrecord"),
    ("UPDATE conferences_strategyrecord SET countersigned_at = NULL, countersigned_by = '' WHERE id = %(record)s",
     "Cannot update or delete rows from conferences_strategyrecord"),
    ("DELETE FROM conferences_strategyrecord WHERE id = %(record)s",
     "Cannot update or delete rows from conferences_strategyrecord"),
    ("UPDATE conferences_agreedaction SET description = 'Rewritten' WHERE record_id = %(record)s",
     "A countersigned strategy record cannot be changed"),
    ("DELETE FROM conferences_agreedaction WHERE record_id = %(record)s",
     "A countersigned strategy record cannot be changed"),
    ("INSERT INTO conferences_agreedaction (record_id, description, owner_agency, owner_id, due_at) "
     "VALUES (%(record)s, 'Added later', 'Police', %(owner)s, now())",
     "A countersigned strategy record cannot be changed"),
]


@requires_postgres
@pytest.mark.parametrize(("statement", "message"), FROZEN_RECORD_STATEMENTS,
                         ids=[s.split(" WHERE")[0].split(" (")[0][:45] for s, _m in FROZEN_RECORD_STATEMENTS])
def test_the_database_refuses_raw_sql_changes_to_a_countersigned_record(countersigned: StrategyRecord,
                                                                         investigator: Officer, statement: str,
                                                                         message: str) -> None:
    before_actions = stored_actions(countersigned)

    with pytest.raises(ProgrammingError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, {"record": countersigned.pk, "owner": investigator.pk})

    stored = StrategyRecord.objects.get(pk=countersigned.pk)
    assert (stored.decisions, stored.countersigned_by, stored.countersigned_at) == (
        "Visit the school.", "Chris Hale", NOW)
    assert stored_actions(stored) == before_actions


@requires_postgres
@time_machine.travel(NOW, tick=False)
def test_the_rows_of_a_record_not_yet_countersigned_can_still_change(log_referral: Callable[..., Referral],
                                                                     desk_sergeant: Officer,
                                                                     investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)
    record = save(held_meeting(referral, desk_sergeant), desk_sergeant,
                  [agreed("Visit the school", investigator, NOW + DAY)], decisions="Visit the school.")

    with connection.cursor() as cursor:
        cursor.execute("UPDATE conferences_strategyrecord SET decisions = 'Rewritten' WHERE id = %s", [record.pk])
        cursor.execute("UPDATE conferences_agreedaction SET description = 'Visit the nursery' WHERE record_id = %s",
                       [record.pk])
        cursor.execute("INSERT INTO conferences_agreedaction (record_id, description, owner_agency, owner_id, due_at)"
                       " VALUES (%s, 'Added by SQL', 'Police', %s, now())", [record.pk, investigator.pk])
        cursor.execute("DELETE FROM conferences_agreedaction WHERE record_id = %s AND description = 'Added by SQL'",
                       [record.pk])

    assert StrategyRecord.objects.get(pk=record.pk).decisions == "Rewritten"
    assert [row[0] for row in stored_actions(record)] == ["Visit the nursery"]


@requires_postgres
@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_changing_a_submitted_police_report_but_not_a_draft(
        log_referral: Callable[..., Referral], desk_sergeant: Officer) -> None:
    referral = log_referral(now=NOW - DAY)
    conference = services.meeting_create(referral=referral, actor=desk_sergeant, now=NOW,
                                         kind=MeetingKind.INITIAL_CONFERENCE, starts_at=NOW + 7 * DAY,
                                         place="Civic Centre", chair_name="Val Moore", chair_agency="Safeguarding")
    report = PoliceReport.objects.create(meeting=conference, prepared_by=desk_sergeant, opened_at=NOW,
                                         updated_at=NOW, summary_of_concerns="Bruising.", recommendations="A plan.")

    with connection.cursor() as cursor:
        cursor.execute("UPDATE conferences_policereport SET status = 'submitted', submitted_to = 'Val Moore', "
                       "submitted_at = %s WHERE id = %s", [NOW, report.pk])
    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from conferences_policereport"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE conferences_policereport SET summary_of_concerns = 'Rewritten' WHERE id = %s",
                           [report.pk])
    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from conferences_policereport"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE conferences_policereport SET status = 'draft' WHERE id = %s", [report.pk])
    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from conferences_policereport"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM conferences_policereport WHERE id = %s", [report.pk])

    stored = PoliceReport.objects.get(pk=report.pk)
    assert (stored.status, stored.summary_of_concerns, stored.submitted_to) == (
        ReportStatus.SUBMITTED, "Bruising.", "Val Moore")
