"""Medical examinations (police non-attendance needs a reason and a deciding officer) and police
protection (at most 72 hours of elapsed time, whatever the clocks do), in the services and in the
database's own constraints."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conferences import services
from conferences.models import MedicalExamination, PoliceProtection
from cram_site.calendar import LONDON
from cram_site.models import Officer
from referrals.models import CaseLogEntry, CaseLogKind, Person, Referral
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

# A Tuesday in March, before the clocks change: London is on GMT.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


# --- Helpers --------------------------------------------------------------------------------------


def person(referral: Referral, role: str) -> Person:
    return referral.referral_people.get(role=role).person


def log_texts(referral: Referral) -> list[str]:
    return list(CaseLogEntry.objects.filter(referral=referral).order_by("number").values_list("text", flat=True))


def examine(referral: Referral, actor: Officer, *, child: Person | None = None, now: dt.datetime = NOW,
            examined_at: dt.datetime = NOW - 2 * HOUR, police_attended: bool = False, reason: str = "",
            deciding_officer: Officer | None = None) -> MedicalExamination:
    return services.medical_record(
        referral=referral, actor=actor, now=now, child=child or person(referral, "victim"), examined_at=examined_at,
        kind="physical", examiner_name="Dr Rita Shah", examiner_role="Consultant paediatrician",
        police_attended=police_attended, non_attendance_reason=reason, deciding_officer=deciding_officer,
        photographs_taken=True)


def protect(referral: Referral, actor: Officer, *, started_at: dt.datetime, now: dt.datetime | None = None,
            child: Person | None = None, reason: str = "Found alone at home with injuries.") -> PoliceProtection:
    return services.protection_start(referral=referral, actor=actor, now=now or started_at,
                                     child=child or person(referral, "victim"), started_at=started_at,
                                     designated_officer=actor, reason=reason)


# --- Medical examinations -------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_examination_police_attended_is_recorded_and_logged(log_referral: Callable[..., Referral],
                                                              investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)

    examination = examine(referral, investigator, police_attended=True, reason="ignored",
                          deciding_officer=investigator)

    stored = MedicalExamination.objects.get(pk=examination.pk)
    assert (stored.police_attended, stored.non_attendance_reason, stored.deciding_officer_id,
            stored.deciding_officer_label) == (True, "", None, "")
    entry = CaseLogEntry.objects.filter(referral=referral).order_by("-number").first()
    assert (entry.kind, entry.occurred_at, entry.recorded_at) == (CaseLogKind.MEDICAL, NOW - 2 * HOUR, NOW)
    assert entry.text == ("Physical / non-accidental injury medical examination of Amara Okafor by Dr Rita Shah "
                          "(Consultant paediatrician). Police attended. Photographs taken; first account not "
                          "secured.")


@time_machine.travel(NOW, tick=False)
def test_non_attendance_stores_the_reason_and_the_deciding_officer_with_rank(
        log_referral: Callable[..., Referral], investigator: Officer, supervisor: Officer) -> None:
    """The deciding officer is stored as named at the time: rank, name and number."""
    referral = log_referral(now=NOW - DAY)

    examination = examine(referral, investigator, reason=" No officer free: all at a fatal incident. ",
                          deciding_officer=supervisor)

    stored = MedicalExamination.objects.get(pk=examination.pk)
    assert (stored.police_attended, stored.non_attendance_reason, stored.deciding_officer_id,
            stored.deciding_officer_label) == (False, "No officer free: all at a fatal incident.", supervisor.pk,
                                               "DS Sue Perkins DS303")
    assert (stored.recorded_by_id, stored.recorded_at) == (investigator.pk, NOW)
    entry = CaseLogEntry.objects.filter(referral=referral).order_by("-number").first()
    assert entry.kind == CaseLogKind.MEDICAL
    assert ("Police did not attend: No officer free: all at a fatal incident. (decided by DS Sue Perkins DS303)."
            in entry.text)
    assert MedicalExamination.objects.filter(police_attended=False).count() == 1


@pytest.mark.parametrize(("reason", "deciding", "field_name"), [
    ("", True, "non_attendance_reason"),
    ("   ", True, "non_attendance_reason"),
    ("Officer on a late shift.", False, "deciding_officer"),
], ids=["no reason", "blank reason", "no deciding officer"])
@time_machine.travel(NOW, tick=False)
def test_non_attendance_without_a_reason_or_a_deciding_officer_is_refused(
        log_referral: Callable[..., Referral], investigator: Officer, supervisor: Officer, reason: str,
        deciding: bool, field_name: str) -> None:
    referral = log_referral(now=NOW - DAY)
    before = log_texts(referral)

    with pytest.raises(ValidationError) as refused:
        examine(referral, investigator, reason=reason, deciding_officer=supervisor if deciding else None)

    assert list(refused.value.message_dict) == [field_name]
    assert not MedicalExamination.objects.exists()
    assert log_texts(referral) == before


@time_machine.travel(NOW, tick=False)
def test_an_examination_of_a_child_not_on_the_referral_is_refused(log_referral: Callable[..., Referral],
                                                                  investigator: Officer, haringey) -> None:
    referral = log_referral(now=NOW - DAY)
    stranger = PersonFactory(team=haringey)

    with pytest.raises(ValidationError) as refused:
        examine(referral, investigator, child=stranger, police_attended=True)

    assert "child" in refused.value.message_dict
    assert not MedicalExamination.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_an_examination_recorded_for_an_adult_on_the_referral_is_refused(log_referral: Callable[..., Referral],
                                                                         investigator: Officer) -> None:
    """The suspect is named on the referral, but the examination is of a child (victim or sibling)."""
    referral = log_referral(now=NOW - DAY)

    with pytest.raises(ValidationError) as refused:
        examine(referral, investigator, child=person(referral, "suspect"), police_attended=True)
    examine(referral, investigator, child=person(referral, "sibling"), police_attended=True)

    assert "child" in refused.value.message_dict
    assert list(MedicalExamination.objects.values_list("child__first_name", flat=True)) == ["Tobi"]


@time_machine.travel(NOW, tick=False)
def test_an_examination_in_the_future_is_refused(log_referral: Callable[..., Referral],
                                                 investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)

    with pytest.raises(ValidationError) as refused:
        examine(referral, investigator, examined_at=NOW + MINUTE, police_attended=True)
    examine(referral, investigator, examined_at=NOW, police_attended=True)

    assert "examined_at" in refused.value.message_dict
    assert list(MedicalExamination.objects.values_list("examined_at", flat=True)) == [NOW]


@pytest.mark.parametrize(("reason", "deciding"), [("", True), ("Officer on a late shift.", False)],
                         ids=["no reason", "no deciding officer"])
@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_an_unexplained_non_attendance(log_referral: Callable[..., Referral],
                                                            investigator: Officer, supervisor: Officer, reason: str,
                                                            deciding: bool) -> None:
    """Even written round the services, a non-attendance row needs its reason and deciding officer."""
    referral = log_referral(now=NOW - DAY)

    with pytest.raises(IntegrityError, match="medical_non_attendance_explained"), transaction.atomic():
        MedicalExamination.objects.create(
            referral=referral, child=person(referral, "victim"), examined_at=NOW - HOUR, kind="sexual",
            examiner_name="Dr Rita Shah", examiner_role="Paediatrician", police_attended=False,
            non_attendance_reason=reason, deciding_officer=supervisor if deciding else None,
            recorded_by=investigator, recorded_at=NOW)

    assert not MedicalExamination.objects.exists()


# --- Police protection: starting ------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_police_protection_must_end_72_hours_after_it_starts(log_referral: Callable[..., Referral],
                                                             investigator: Officer) -> None:
    referral = log_referral(now=NOW - DAY)

    protection = protect(referral, investigator, started_at=NOW - HOUR, now=NOW)

    stored = PoliceProtection.objects.get(pk=protection.pk)
    assert stored.ends_by == NOW + 71 * HOUR
    assert (stored.started_at, stored.ended_at, stored.designated_officer_label) == (
        NOW - HOUR, None, "DC Ian Vance DC202")
    referral.refresh_from_db()
    assert referral.police_protection_ends_by == NOW + 71 * HOUR
    entry = CaseLogEntry.objects.filter(referral=referral).order_by("-number").first()
    assert (entry.kind, entry.occurred_at) == (CaseLogKind.DECISION, NOW - HOUR)
    assert entry.text == ("Amara Okafor taken into police protection at 10/03/2026 09:00. Designated officer: "
                          "DC Ian Vance DC202. Must end by 13/03/2026 09:00. Reason: Found alone at home with "
                          "injuries.")


@pytest.mark.parametrize(("started_at", "ends_by_london"), [
    # Friday 27 March 2026, 18:00 GMT: the clocks go forward on Sunday 29 March, so 72 hours later it is
    # 19:00 BST on Monday 30 March, not 18:00.
    (dt.datetime(2026, 3, 27, 18, 0, tzinfo=dt.UTC), "30/03/2026 19:00"),
    # Saturday 24 October 2026, 12:00 BST: the clocks go back on Sunday 25 October: 11:00 GMT on Tuesday.
    (dt.datetime(2026, 10, 24, 11, 0, tzinfo=dt.UTC), "27/10/2026 11:00"),
], ids=["March clock change", "October clock change"])
def test_the_72_hours_are_elapsed_time_across_the_clock_changes(log_referral: Callable[..., Referral],
                                                                investigator: Officer, started_at: dt.datetime,
                                                                ends_by_london: str) -> None:
    with time_machine.travel(started_at + HOUR, tick=False):
        referral = log_referral(now=started_at - DAY)
        protection = protect(referral, investigator, started_at=started_at, now=started_at + HOUR)

    stored = PoliceProtection.objects.get(pk=protection.pk)
    assert stored.ends_by - stored.started_at == dt.timedelta(hours=72)
    assert stored.ends_by.astimezone(LONDON).strftime("%d/%m/%Y %H:%M") == ends_by_london
    referral.refresh_from_db()
    assert referral.police_protection_ends_by == started_at + 72 * HOUR
    assert f"Must end by {ends_by_london}." in log_texts(referral)[-1]


@time_machine.travel(NOW, tick=False)
def test_a_child_already_in_police_protection_cannot_be_taken_again(log_referral: Callable[..., Referral],
                                                                    investigator: Officer) -> None:
    """Refused even from another referral; the sibling can be protected at the same time."""
    referral = log_referral(now=NOW - DAY)
    child = person(referral, "victim")
    first = protect(referral, investigator, started_at=NOW - 2 * HOUR, now=NOW)
    other_referral = log_referral(now=NOW - DAY, people=[])
    other_referral.referral_people.create(person=child, role="victim")
    entries = referral.case_log.count()

    with pytest.raises(ValidationError) as refused:
        protect(referral, investigator, started_at=NOW - HOUR, now=NOW)
    with pytest.raises(ValidationError):
        protect(other_referral, investigator, child=child, started_at=NOW - HOUR, now=NOW)
    sibling = protect(referral, investigator, child=person(referral, "sibling"), started_at=NOW - HOUR, now=NOW)

    assert refused.value.message_dict == {"child": ["Amara Okafor is already in police protection."]}
    assert list(PoliceProtection.objects.order_by("pk").values_list("pk", flat=True)) == [first.pk, sibling.pk]
    assert referral.case_log.count() == entries + 1
    referral.refresh_from_db()
    # The earlier of the two running protections is the one the case shows.
    assert referral.police_protection_ends_by == first.ends_by == NOW + 70 * HOUR


@pytest.mark.parametrize(("fields", "field_name"), [
    ({"started_at": NOW + MINUTE}, "started_at"),
    ({"started_at": NOW - HOUR, "reason": "  "}, "reason"),
], ids=["in the future", "no reason"])
@time_machine.travel(NOW, tick=False)
def test_police_protection_in_the_future_or_without_a_reason_is_refused(
        log_referral: Callable[..., Referral], investigator: Officer, fields: dict[str, object],
        field_name: str) -> None:
    referral = log_referral(now=NOW - DAY)

    with pytest.raises(ValidationError) as refused:
        protect(referral, investigator, now=NOW, **fields)

    assert field_name in refused.value.message_dict
    assert not PoliceProtection.objects.exists()
    referral.refresh_from_db()
    assert referral.police_protection_ends_by is None


@time_machine.travel(NOW, tick=False)
def test_police_protection_is_only_for_a_child_of_the_referral(log_referral: Callable[..., Referral],
                                                               investigator: Officer, haringey) -> None:
    """A stranger and the adult suspect are both refused."""
    referral = log_referral(now=NOW - DAY)

    for someone in (PersonFactory(team=haringey), person(referral, "suspect")):
        with pytest.raises(ValidationError) as refused:
            protect(referral, investigator, child=someone, started_at=NOW - HOUR, now=NOW)
        assert "child" in refused.value.message_dict

    assert not PoliceProtection.objects.exists()


# --- Police protection: ending --------------------------------------------------------------------

STARTED = dt.datetime(2026, 3, 27, 18, 0, tzinfo=dt.UTC)
ENDS_BY = STARTED + 72 * HOUR


@pytest.fixture
def running(log_referral: Callable[..., Referral], investigator: Officer) -> PoliceProtection:
    with time_machine.travel(STARTED, tick=False):
        referral = log_referral(now=STARTED - DAY)
        return protect(referral, investigator, started_at=STARTED)


@pytest.mark.parametrize(("ended_at", "now", "message"), [
    (STARTED - MINUTE, ENDS_BY + DAY, "cannot end before it starts"),
    (ENDS_BY + MINUTE, ENDS_BY + DAY, "cannot run past 72 hours"),
    (STARTED + 2 * HOUR, STARTED + HOUR, "cannot end in the future"),
], ids=["before it starts", "72 hours and a minute", "in the future"])
def test_ending_police_protection_out_of_bounds_is_refused(running: PoliceProtection, investigator: Officer,
                                                           ended_at: dt.datetime, now: dt.datetime,
                                                           message: str) -> None:
    referral = running.referral
    entries = referral.case_log.count()

    with time_machine.travel(now, tick=False), pytest.raises(ValidationError, match=message) as refused:
        services.protection_end(protection=running, actor=investigator, now=now, ended_at=ended_at)

    assert "ended_at" in refused.value.message_dict
    assert PoliceProtection.objects.get(pk=running.pk).ended_at is None
    referral.refresh_from_db()
    assert referral.police_protection_ends_by == ENDS_BY
    assert referral.case_log.count() == entries


def test_police_protection_can_end_exactly_at_72_hours(running: PoliceProtection, investigator: Officer) -> None:
    """The last moment allowed; the case no longer shows a running protection."""
    referral = running.referral

    with time_machine.travel(ENDS_BY, tick=False):
        services.protection_end(protection=running, actor=investigator, now=ENDS_BY, ended_at=ENDS_BY,
                                note="Returned to mother.")

    stored = PoliceProtection.objects.get(pk=running.pk)
    assert (stored.ended_at, stored.is_running) == (ENDS_BY, False)
    referral.refresh_from_db()
    assert referral.police_protection_ends_by is None
    entry = CaseLogEntry.objects.filter(referral=referral).order_by("-number").first()
    assert (entry.kind, entry.occurred_at) == (CaseLogKind.DECISION, ENDS_BY)
    assert entry.text == "Police protection of Amara Okafor ended at 30/03/2026 19:00. Returned to mother."


def test_ending_one_protection_keeps_the_case_showing_the_other_still_running(
        running: PoliceProtection, investigator: Officer) -> None:
    referral = running.referral
    ended_at = STARTED + 10 * HOUR
    with time_machine.travel(STARTED + 2 * HOUR, tick=False):
        sibling = protect(referral, investigator, child=person(referral, "sibling"), started_at=STARTED + 2 * HOUR)

    with time_machine.travel(ended_at, tick=False):
        services.protection_end(protection=running, actor=investigator, now=ended_at, ended_at=ended_at)

    referral.refresh_from_db()
    assert referral.police_protection_ends_by == sibling.ends_by == STARTED + 74 * HOUR


def test_police_protection_cannot_end_twice_and_can_start_again_after(running: PoliceProtection,
                                                                      investigator: Officer) -> None:
    referral = running.referral
    ended_at = STARTED + 10 * HOUR
    with time_machine.travel(ended_at, tick=False):
        services.protection_end(protection=running, actor=investigator, now=ended_at, ended_at=ended_at)

        with pytest.raises(ValidationError, match="already ended"):
            services.protection_end(protection=PoliceProtection.objects.get(pk=running.pk), actor=investigator,
                                    now=ended_at, ended_at=ended_at - HOUR)
        again = protect(referral, investigator, started_at=ended_at, now=ended_at)

    assert PoliceProtection.objects.get(pk=running.pk).ended_at == ended_at
    referral.refresh_from_db()
    assert referral.police_protection_ends_by == again.ends_by == ended_at + 72 * HOUR


@pytest.mark.parametrize(("ended_at", "constraint"), [
    (ENDS_BY + MINUTE, "protection_within_72_hours"),
    (STARTED - MINUTE, "protection_ends_after_start"),
], ids=["after 72 hours", "before the start"])
def test_the_database_refuses_an_end_outside_the_72_hours(running: PoliceProtection, ended_at: dt.datetime,
                                                          constraint: str) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        PoliceProtection.objects.filter(pk=running.pk).update(ended_at=ended_at)

    assert PoliceProtection.objects.get(pk=running.pk).ended_at is None
