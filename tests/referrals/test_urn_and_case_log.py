"""URNs, and the case log: numbered, append-only, with the author as they were at the time."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.test import RequestFactory
from django.urls import reverse

from cram_site.calendar import LONDON
from cram_site.models import AuditEvent, Officer, Rank, Team
from referrals import services
from referrals.models import AppendOnlyError, CaseLogEntry, CaseLogKind, Referral, UrnSequence
from tests.conftest import requires_postgres

# A Tuesday in March, before the clocks change: London is on GMT.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
THREADS = 8


def _in_threads(count: int, work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    """Run `work(i)` in `count` threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = work(index)
            with lock:
                results.append(outcome)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


# --- URNs -------------------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_urn_is_team_code_two_digit_year_and_five_digit_sequence(log_referral, haringey: Team) -> None:
    """The first referrals of 2026 in Haringey are HY-26-00001, HY-26-00002, …"""
    first = log_referral()
    second = log_referral()

    assert [first.urn, second.urn] == ["HY-26-00001", "HY-26-00002"]
    assert UrnSequence.objects.get(team=haringey, year=26).last_number == 2


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_urn_sequences_are_independent_per_team(log_referral, other_team_sergeant: Officer) -> None:
    """Enfield's first referral is EN-26-00001 however many Haringey has issued."""
    log_referral()
    log_referral()

    enfield_referral = log_referral(team=other_team_sergeant.team, actor=other_team_sergeant)
    haringey_referral = log_referral()

    assert enfield_referral.urn == "EN-26-00001"
    assert haringey_referral.urn == "HY-26-00003"


@pytest.mark.django_db
def test_urn_sequence_restarts_in_a_new_london_year(log_referral, haringey: Team) -> None:
    """Half an hour before midnight on New Year's Eve is still 2026; half an hour after is 2027, from 00001."""
    # Given two referrals late on 31 December 2026 (London is on GMT, so 23:30 UTC is 23:30 London)
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        late = [log_referral(), log_referral()]
    # When the next is logged at half past midnight London time on New Year's Day
    with time_machine.travel(dt.datetime(2027, 1, 1, 0, 30, tzinfo=LONDON), tick=False):
        new_year = log_referral()

    # Then the number starts again under the new year
    assert [r.urn for r in late] == ["HY-26-00001", "HY-26-00002"]
    assert new_year.urn == "HY-27-00001"
    assert dict(UrnSequence.objects.filter(team=haringey).values_list("year", "last_number")) == {26: 2, 27: 1}


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_referral_that_fails_to_save_does_not_use_up_a_urn(log_referral, monkeypatch) -> None:
    """The URN is issued in the referral's transaction: a failure leaves the number for the next one."""

    def broken_append(**kwargs: object) -> None:
        raise RuntimeError("database went away")

    with monkeypatch.context() as patch:
        patch.setattr(services, "case_log_append", broken_append)
        with pytest.raises(RuntimeError):
            log_referral()

    assert not Referral.objects.exists()
    assert log_referral().urn == "HY-26-00001"


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_urns_issued_at_the_same_moment_are_distinct_and_consecutive(log_referral) -> None:
    """Eight sergeants saving at once get HY-26-00001 … HY-26-00008: none shared, none skipped."""
    with time_machine.travel(NOW, tick=False):
        results, errors = _in_threads(THREADS, lambda i: log_referral().urn)

    assert errors == []
    assert sorted(results) == [f"HY-26-{n:05d}" for n in range(1, THREADS + 1)]
    assert Referral.objects.count() == THREADS


# --- Case-log numbering -------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_case_log_entries_are_numbered_one_two_three_per_referral(log_referral, investigator: Officer) -> None:
    """Each referral's log counts from 1, and its counter matches the last number."""
    referral = log_referral()
    other = log_referral()

    services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION, text="Spoke to the school.",
                             actor=investigator, now=NOW)
    services.case_log_append(referral=referral, kind=CaseLogKind.MEDICAL, text="Medical booked.",
                             actor=investigator, now=NOW)

    assert list(referral.case_log.order_by("number").values_list("number", flat=True)) == [1, 2, 3]
    assert list(other.case_log.values_list("number", flat=True)) == [1]
    assert Referral.objects.get(pk=referral.pk).case_log_count == 3


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_entries_written_at_the_same_moment_are_numbered_without_gaps(log_referral, investigator: Officer) -> None:
    """Eight officers writing at once get entries 2 … 9 after the logging entry: no gap, no repeat."""
    referral = log_referral(now=NOW)

    def append(index: int) -> int:
        own_copy = Referral.objects.get(pk=referral.pk)
        entry = services.case_log_append(referral=own_copy, kind=CaseLogKind.INFORMATION,
                                         text=f"Note from officer {index}.", actor=investigator, now=NOW)
        return entry.number

    results, errors = _in_threads(THREADS, append)

    assert errors == []
    assert sorted(results) == list(range(2, THREADS + 2))
    assert list(referral.case_log.order_by("number").values_list("number", flat=True)) == list(range(1, THREADS + 2))
    assert Referral.objects.get(pk=referral.pk).case_log_count == THREADS + 1


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_entry_keeps_the_authors_rank_and_number_as_at_the_time(client, log_referral, investigator: Officer,
                                                                 supervisor: Officer) -> None:
    """A promotion after writing does not rewrite history: the entry still says DC, on the page too."""
    referral = log_referral()
    entry = services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION,
                                     text="Visited the family home.", actor=investigator, now=NOW)

    # When the investigator is promoted and given a new number
    investigator.rank = Rank.DS
    investigator.staff_number = "DS777"
    investigator.save()

    entry.refresh_from_db()
    assert (entry.author_rank, entry.author_name, entry.author_staff_number) == ("DC", "Ian Vance", "DC202")
    client.force_login(supervisor)
    body = client.get(referral.get_absolute_url()).content.decode()
    assert "DC Ian Vance DC202" in body
    assert "DS Ian Vance" not in body


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_correction_names_the_entry_and_both_show_on_the_chronology(client, log_referral, investigator: Officer,
                                                                     supervisor: Officer) -> None:
    """The original stays as written; the correction says which entry it corrects, and each links to the other."""
    referral = log_referral()
    wrong = services.case_log_append(referral=referral, kind=CaseLogKind.INFORMATION,
                                     text="Mother seen at 14:00.", actor=investigator, now=NOW)

    correction = services.case_log_correct(referral=referral, entry=wrong, text="Mother was seen at 16:00, not 14:00.",
                                           actor=investigator, now=NOW)

    assert (correction.number, correction.kind, correction.corrects_id) == (3, CaseLogKind.CORRECTION, wrong.pk)
    assert CaseLogEntry.objects.get(pk=wrong.pk).text == "Mother seen at 14:00."
    client.force_login(supervisor)
    body = client.get(referral.get_absolute_url(), {"tab": "chronology"}).content.decode()
    assert "Mother seen at 14:00." in body
    assert "Mother was seen at 16:00, not 14:00." in body
    assert 'Corrects <a href="#entry-2">entry #2</a>' in body
    assert 'Corrected by <a href="#entry-3">entry #3</a>' in body


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_correction_must_name_an_entry_of_the_same_case(log_referral, investigator: Officer) -> None:
    """An entry of another referral cannot be corrected from this one; nothing is written."""
    referral = log_referral()
    other_entry = log_referral().case_log.get(number=1)

    with pytest.raises(ValidationError, match="same case"):
        services.case_log_correct(referral=referral, entry=other_entry, text="Wrong case.", actor=investigator, now=NOW)
    assert referral.case_log.count() == 1


# --- Append-only ----------------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_entries_cannot_be_changed_or_deleted_through_the_orm(log_referral) -> None:
    """save() on a stored entry, delete(), and queryset update()/delete() all refuse; the entry is untouched."""
    referral = log_referral()
    entry = referral.case_log.get(number=1)
    original_text = entry.text

    entry.text = "Rewritten history."
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        CaseLogEntry.objects.filter(pk=entry.pk).update(text="Rewritten history.")
    with pytest.raises(AppendOnlyError):
        CaseLogEntry.objects.filter(referral=referral).delete()

    assert list(CaseLogEntry.objects.filter(referral=referral).values_list("number", "text")) == [(1, original_text)]


@requires_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("statement", [
    "UPDATE referrals_caselogentry SET text = 'Rewritten history.' WHERE id = %s",
    "DELETE FROM referrals_caselogentry WHERE id = %s",
])
@time_machine.travel(NOW, tick=False)
def test_database_refuses_raw_sql_changes_to_the_case_log(log_referral, statement: str) -> None:
    """Even SQL that goes round the ORM is refused by the append-only trigger."""
    entry = log_referral().case_log.get(number=1)

    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from referrals_caselogentry"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])

    assert CaseLogEntry.objects.get(pk=entry.pk).text == entry.text


@requires_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("statement", [
    "UPDATE cram_site_auditevent SET object_repr = 'nothing to see' WHERE id = %s",
    "DELETE FROM cram_site_auditevent WHERE id = %s",
])
@time_machine.travel(NOW, tick=False)
def test_database_refuses_raw_sql_changes_to_the_audit_trail(log_referral, statement: str) -> None:
    """The audit table is append-only in the database as well."""
    referral = log_referral()
    event = AuditEvent.objects.filter(referral_id=referral.pk).earliest("pk")

    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from cram_site_auditevent"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])

    assert AuditEvent.objects.get(pk=event.pk).object_repr == event.object_repr


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_admin_offers_no_change_or_delete_of_case_log_entries(client, log_referral, superuser: Officer) -> None:
    """Even a superuser only reads an entry in the admin: no save button, and delete is forbidden."""
    entry = log_referral().case_log.get(number=1)
    model_admin = admin.site._registry[CaseLogEntry]
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert not model_admin.has_add_permission(request)

    client.force_login(superuser)
    change_page = client.get(reverse("admin:referrals_caselogentry_change", args=[entry.pk]))
    assert change_page.status_code == 200
    assert 'name="_save"' not in change_page.content.decode()
    assert client.post(reverse("admin:referrals_caselogentry_change", args=[entry.pk]),
                       {"text": "Rewritten history."}).status_code == 403
    assert client.post(reverse("admin:referrals_caselogentry_delete", args=[entry.pk]),
                       {"post": "yes"}).status_code == 403
    assert CaseLogEntry.objects.get(pk=entry.pk).text == entry.text


# --- Entries the system writes ------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_logging_writes_referral_logged_as_entry_one(log_referral, desk_sergeant: Officer) -> None:
    """Entry #1 is a system entry, by the sergeant who logged it, naming the people and when it was received."""
    referral = log_referral()

    entry = referral.case_log.get()
    assert (entry.number, entry.kind) == (1, CaseLogKind.SYSTEM)
    assert entry.text.startswith("Referral logged: physical allegation")
    assert "email to the team mailbox" in entry.text.lower()
    assert "from Children's social care" in entry.text
    assert "Amara Okafor (victim), Tobi Okafor (sibling), Mark Dorsey (suspect)" in entry.text
    assert entry.author_label == "DS Dawn Price DS101"
    assert entry.occurred_at == NOW - dt.timedelta(hours=1)
    assert entry.recorded_at == NOW


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_phone_referral_awaits_its_written_followup_until_recorded(log_referral, investigator: Officer) -> None:
    """A phone referral opens a prompt, due a working day later, that the written referral closes."""
    referral = log_referral(channel="phone")

    assert referral.awaiting_written_followup
    assert referral.written_followup_due_at == NOW - dt.timedelta(hours=1) + dt.timedelta(days=1)
    assert referral.case_log.get(number=2).text == "Phone referral: a written referral is due from the referrer."

    services.written_followup_record(referral=referral, actor=investigator, now=NOW,
                                     received_at=NOW - dt.timedelta(minutes=10), note="Emailed by the GP.")

    referral = Referral.objects.get(pk=referral.pk)
    assert not referral.awaiting_written_followup
    assert referral.case_log.get(number=3).text == "Written referral received. Emailed by the GP."


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_email_referral_needs_no_written_followup(log_referral) -> None:
    """Only a phone referral asks for a written one."""
    referral = log_referral(channel="email")

    assert not referral.awaiting_written_followup
    assert referral.case_log.count() == 1


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_assessment_writes_decision_route_and_allocation_entries(log_referral, desk_sergeant: Officer,
                                                                  investigator: Officer, supervisor: Officer) -> None:
    """The desk assessment leaves the decision with its rationale, the route, and who now works the case."""
    referral = log_referral()

    services.referral_assess(referral=referral, actor=desk_sergeant, now=NOW, urgency="urgent",
                             route="police_investigation", rationale="Injury to a child under five.",
                             owner=investigator, supervising_officer=supervisor)

    entries = list(referral.case_log.order_by("number").values_list("number", "kind", "text"))
    assert [(number, kind) for number, kind, _ in entries] == [
        (1, "system"), (2, "decision"), (3, "system"), (4, "system")]
    decision, route, allocation = (text for _, _, text in entries[1:])
    assert decision == "Desk assessment: urgency urgent. Rationale: Injury to a child under five."
    assert route == "Route chosen: Police investigation."
    assert allocation.startswith("Allocation changed: investigating officer DC Ian Vance DC202,")
    assert "DS Sue Perkins DS303" in allocation
    assert allocation.endswith("Reason: Allocated at desk assessment.")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_reallocation_writes_allocation_changed_with_the_reason(log_referral, haringey: Team, desk_sergeant: Officer,
                                                                 investigator: Officer, supervisor: Officer) -> None:
    """Moving a case to another officer is logged with the new names and the reason given."""
    from tests.factories import OfficerFactory

    referral = log_referral()
    services.referral_assess(referral=referral, actor=desk_sergeant, now=NOW, urgency="routine",
                             route="police_investigation", rationale="Disclosure at school.",
                             owner=investigator, supervising_officer=supervisor)
    newcomer = OfficerFactory(username="investigator2-hy", first_name="Nia", last_name="Hughes", rank=Rank.DC,
                              staff_number="DC888", team=haringey, roles=["investigator"])
    referral = Referral.objects.get(pk=referral.pk)

    services.referral_allocate(referral=referral, actor=supervisor, now=NOW, owner=newcomer,
                               supervising_officer=supervisor, reason="DC Vance on leave for three weeks.")

    last = referral.case_log.order_by("number").last()
    assert last.text.startswith("Allocation changed: investigating officer DC Nia Hughes DC888,")
    assert "DS Sue Perkins DS303" in last.text
    assert last.text.endswith("Reason: DC Vance on leave for three weeks.")
    assert last.kind == CaseLogKind.SYSTEM
    assert last.author_label == "DS Sue Perkins DS303"
    assert Referral.objects.get(pk=referral.pk).owner == newcomer
