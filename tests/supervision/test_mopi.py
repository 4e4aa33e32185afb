"""Information management review (MoPI): a closed referral's review date comes from its category's
retention period, counted from the London date of closure; the queue holds it from that date; a
review retains it (moving the date) or approves it for disposal (clearing it), and nothing is ever
deleted; bad input stores nothing; another team's record is not found."""
from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.test import RequestFactory
from django.urls import reverse

from cram_site.calendar import LONDON
from cram_site.models import AuditEvent, Officer, Rank, Team
from referrals import services as referral_services
from referrals.models import CaseLogEntry, CaseLogKind, Person, Referral, ReferralPerson
from supervision.closure import referral_close
from supervision.models import MopiReview, RetentionPeriod
from supervision.mopi import (
    mopi_review_record,
    records_approved_for_disposal,
    records_due_for_review,
    retention_review_date,
    team_retention_periods_create,
)
from tests.conftest import requires_postgres
from tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # 10:00 in London (GMT)
DAY = dt.timedelta(days=1)
REASON = "No offence disclosed and no further concerns: no policing purpose remains."


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def administrator(haringey: Team) -> Officer:
    return OfficerFactory(username="records-hy", first_name="Rita", last_name="Cole", rank=Rank.STAFF,
                          staff_number="S707", team=haringey, roles=["administrator"])


@pytest.fixture
def close(log_referral: Callable[..., Referral], desk_sergeant: Officer, supervisor: Officer,
          other_team_sergeant: Officer, enfield: Team) -> Callable[..., Referral]:
    """A referral logged the day before `at`, assessed as no further police action and closed at `at`."""

    def closed(*, at: dt.datetime = NOW, category: str = "physical", team: str = "HY") -> Referral:
        enfield_case = team == "EN"
        desk = other_team_sergeant if enfield_case else desk_sergeant
        approver = other_team_sergeant if enfield_case else supervisor
        extra = {"team": enfield, "actor": other_team_sergeant} if enfield_case else {}
        referral = log_referral(now=at - DAY, allegation_category=category, **extra)
        referral = referral_services.referral_assess(
            referral=referral, actor=desk, now=at - DAY + dt.timedelta(hours=1), urgency="routine",
            route="no_further_action", rationale="No offence disclosed.", owner=None, supervising_officer=None)
        referral_close(referral=referral, actor=approver, now=at, rationale="Nothing further for police.")
        referral.refresh_from_db()
        return referral

    return closed


def _london(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def _stored(referral: Referral) -> tuple:
    """What a refused review must leave as it was."""
    fresh = Referral.objects.get(pk=referral.pk)
    return (fresh.mopi_review_due_on, fresh.case_log_count, MopiReview.objects.filter(referral=fresh).count())


# --- Review dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "years"), [
    ("sexual", 10), ("physical", 10), ("neglect", 10), ("emotional", 6), ("other", 6)])
def test_the_review_date_is_the_london_date_of_closure_plus_the_categorys_years(close, category: str,
                                                                                years: int) -> None:
    """Closed at 23:30 on New Year's Eve, the years count from 31 December; at 00:30 on New Year's
    Day, from 1 January. In summer, 23:30 UTC on 30 June is already 1 July in London."""
    new_years_eve = close(at=_london(2025, 12, 31, 23, 30), category=category)
    new_years_day = close(at=_london(2026, 1, 1, 0, 30), category=category)
    summer_night = close(at=dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), category=category)

    assert new_years_eve.mopi_review_due_on == dt.date(2025 + years, 12, 31)
    assert new_years_day.mopi_review_due_on == dt.date(2026 + years, 1, 1)
    assert summer_night.mopi_review_due_on == dt.date(2026 + years, 7, 1)


def test_a_leap_day_closure_is_reviewed_on_28_february_or_on_29_february_in_a_leap_year(close, haringey) -> None:
    ten_years = close(at=_london(2024, 2, 29, 12), category="physical")
    RetentionPeriod.objects.update_or_create(team=haringey, allegation_category="neglect",
                                             defaults={"review_after_years": 4})
    four_years = close(at=_london(2024, 2, 29, 12), category="neglect")

    assert ten_years.mopi_review_due_on == dt.date(2034, 2, 28)
    assert four_years.mopi_review_due_on == dt.date(2028, 2, 29)


def test_a_changed_retention_period_applies_to_later_closures_of_that_team_only(close, haringey) -> None:
    before = close(at=NOW - 30 * DAY)
    RetentionPeriod.objects.update_or_create(team=haringey, allegation_category="physical",
                                             defaults={"review_after_years": 7})

    after = close()
    enfield = close(team="EN")
    sexual = close(category="sexual")

    assert Referral.objects.get(pk=before.pk).mopi_review_due_on == dt.date(2036, 2, 8)
    assert after.mopi_review_due_on == dt.date(2033, 3, 10)
    assert enfield.mopi_review_due_on == dt.date(2036, 3, 10), "Enfield keeps the default"
    assert sexual.mopi_review_due_on == dt.date(2036, 3, 10), "another category keeps its period"


def test_retention_review_date_reads_the_teams_table(log_referral, haringey) -> None:
    referral = log_referral(allegation_category="emotional")
    assert retention_review_date(referral, NOW) == dt.date(2032, 3, 10)
    RetentionPeriod.objects.create(team=haringey, allegation_category="emotional", review_after_years=8)
    assert retention_review_date(referral, NOW) == dt.date(2034, 3, 10)


def test_the_closed_case_page_shows_the_review_date(client, close, supervisor) -> None:
    referral = close()
    client.force_login(supervisor)

    header = client.get(referral.get_absolute_url()).content.decode()

    assert re.search(r'data-testid="mopi-review-due">10 Mar 2036<', header)


# --- The queue -----------------------------------------------------------------------------------------


def test_the_queue_holds_a_record_from_its_london_due_date_not_the_day_before(client, close, supervisor) -> None:
    """Closed on 15 July, reviewed ten years on: at 23:59 BST on 14 July 2036 it is not due; a minute
    later (still 14 July in UTC) it is, on the queue page as in the query."""
    referral = close(at=_london(2026, 7, 15, 14))
    assert referral.mopi_review_due_on == dt.date(2036, 7, 15)

    with time_machine.travel(_london(2036, 7, 14, 23, 59), tick=False):
        client.force_login(supervisor)
        before = client.get(reverse("supervision:retention_queue")).content.decode()
        assert not records_due_for_review(supervisor, today=dt.date(2036, 7, 14)).exists()
    with time_machine.travel(_london(2036, 7, 15, 0, 0), tick=False):
        client.force_login(supervisor)
        on_the_day = client.get(reverse("supervision:retention_queue")).content.decode()
        assert list(records_due_for_review(supervisor, today=dt.date(2036, 7, 15))) == [referral]

    assert referral.urn not in before and 'data-testid="count-due">0<' in before
    assert 'data-testid="count-due">1<' in on_the_day
    row = on_the_day.split(f">{referral.urn}</a>")[1].split("</tr>")[0]
    assert "Physical" in row and "15 Jul 2026" in row and "15 Jul 2036" in row and "First review" in row


def test_the_queue_is_oldest_due_first_and_leaves_out_open_and_future_records(close, log_referral,
                                                                              supervisor) -> None:
    late = close(at=NOW - 200 * DAY)
    early = close(at=NOW - 400 * DAY)
    not_yet = close(at=NOW)
    still_open = log_referral()

    due = list(records_due_for_review(supervisor, today=dt.date(2036, 3, 9)))

    assert due == [early, late]
    assert not_yet not in due and still_open not in due


# --- Retain and dispose ----------------------------------------------------------------------------------


def test_retain_records_the_review_and_moves_the_date_by_the_categorys_period(close, supervisor) -> None:
    referral = close()
    with time_machine.travel(_london(2036, 3, 12, 11), tick=False):
        review = mopi_review_record(referral=referral, actor=supervisor, now=_london(2036, 3, 12, 11),
                                    decision="retain", reason="The suspect is still of interest.")

    referral.refresh_from_db()
    assert (review.reviewer, review.reviewer_label, review.decision, review.next_review_on) == (
        supervisor, "DS Sue Perkins DS303", "retain", dt.date(2046, 3, 12))
    assert referral.mopi_review_due_on == dt.date(2046, 3, 12)
    entry = referral.case_log.get(number=referral.case_log_count)
    assert entry.kind == CaseLogKind.DECISION and entry.author_staff_number == "DS303"
    assert entry.text == ("Information management (MoPI) review by DS Sue Perkins DS303: retain. "
                          "Next review due 12/03/2046. Reason: The suspect is still of interest.")
    assert not records_due_for_review(supervisor, today=dt.date(2036, 3, 12)).exists()


def test_the_reviewer_may_choose_when_to_review_a_retained_record_again(client, close, supervisor) -> None:
    referral = close()

    with time_machine.travel(_london(2036, 3, 10, 9), tick=False):
        client.force_login(supervisor)
        response = client.post(reverse("supervision:retention_review", args=[referral.urn]),
                               {"decision": "retain", "next_review_years": "3", "reason": "Linked to a live case."},
                               follow=True)

    referral.refresh_from_db()
    assert referral.mopi_review_due_on == dt.date(2039, 3, 10)
    assert f"{referral.urn} retained; next review due 10/03/2039." in response.content.decode()


def test_dispose_clears_the_date_and_deletes_nothing(client, close, supervisor) -> None:
    referral = close()
    people = list(ReferralPerson.objects.filter(referral=referral).values_list("person_id", flat=True))
    entries = list(CaseLogEntry.objects.filter(referral=referral).values_list("pk", "text"))

    with time_machine.travel(_london(2036, 3, 10, 9), tick=False):
        client.force_login(supervisor)
        response = client.post(reverse("supervision:retention_review", args=[referral.urn]),
                               {"decision": "dispose", "next_review_years": "5", "reason": REASON}, follow=True)
        disposals = client.get(reverse("supervision:retention_queue"), {"show": "disposal"}).content.decode()

    referral.refresh_from_db()
    assert referral.mopi_review_due_on is None
    review = MopiReview.objects.get(referral=referral)
    assert (review.decision, review.next_review_on, review.reason) == ("dispose", None, REASON)
    # The referral, its people and its whole case log are all still there, plus the decision.
    assert Referral.objects.filter(pk=referral.pk, status="closed").exists()
    assert Person.objects.filter(pk__in=people).count() == len(people) == 3
    assert list(CaseLogEntry.objects.filter(referral=referral).values_list("pk", "text"))[:len(entries)] == entries
    assert "approved for disposal (nothing has been deleted" in referral.case_log.get(
        number=referral.case_log_count).text
    assert "approved for disposal. Nothing has been deleted." in response.content.decode()
    assert list(records_approved_for_disposal(supervisor)) == [review]
    assert referral.urn in disposals and REASON in disposals and 'data-testid="count-disposal">1<' in disposals
    with pytest.raises(ValidationError, match="already been approved for disposal"):
        mopi_review_record(referral=referral, actor=supervisor, now=_london(2036, 3, 11, 9), decision="retain",
                           reason="Changed my mind.")


# --- Bad input stores nothing -------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "message"), [
    ({"reason": "  "}, "Give the reason for the decision."),
    ({"decision": "archive"}, "Choose to retain or to dispose of the record."),
    ({"next_review_years": 0}, "The next review is 1 to 100 years away."),
    ({"now": _london(2036, 3, 9, 23, 59)}, "This record is not due for review until 10/03/2036."),
])
def test_a_bad_review_is_refused_with_a_message_and_stores_nothing(close, supervisor, changes, message) -> None:
    referral = close()
    before = _stored(referral)
    arguments = {"referral": referral, "actor": supervisor, "now": _london(2036, 3, 10, 9), "decision": "retain",
                 "reason": "Keep it.", **changes}

    with pytest.raises(ValidationError) as refused:
        mopi_review_record(**arguments)

    assert message in refused.value.messages
    assert _stored(referral) == before


def test_an_open_referral_is_not_reviewed(log_referral, supervisor) -> None:
    referral = log_referral()
    before = _stored(referral)

    with pytest.raises(ValidationError) as refused:
        mopi_review_record(referral=referral, actor=supervisor, now=NOW, decision="dispose", reason=REASON)

    assert refused.value.messages == ["This referral is still open: only a closed referral is reviewed for retention."]
    assert _stored(referral) == before


def test_the_review_page_refuses_a_blank_reason_next_to_the_field(client, close, supervisor) -> None:
    referral = close()
    before = _stored(referral)

    with time_machine.travel(_london(2036, 3, 10, 9), tick=False):
        client.force_login(supervisor)
        response = client.post(reverse("supervision:retention_review", args=[referral.urn]),
                               {"decision": "retain", "reason": ""})

    assert response.status_code == 200
    reason_field = response.content.decode().split('id="div_id_reason"')[1].split("</form>")[0]
    assert "Give the reason for the decision." in reason_field
    assert _stored(referral) == before


def test_the_review_page_of_a_record_not_yet_due_says_when_and_offers_no_form(client, close, supervisor) -> None:
    referral = close()
    client.force_login(supervisor)

    page = client.get(reverse("supervision:retention_review", args=[referral.urn])).content.decode()
    posted = client.post(reverse("supervision:retention_review", args=[referral.urn]),
                         {"decision": "dispose", "reason": REASON}).content.decode()

    assert "This record is not due for review until 10/03/2036." in page
    assert "Record the review</button>" not in page
    assert "This record is not due for review until 10/03/2036." in posted
    assert not MopiReview.objects.exists()


# --- Who may review --------------------------------------------------------------------------------------------


def test_enfields_supervisor_cannot_see_or_review_haringeys_record(client, close, other_team_sergeant) -> None:
    referral = close()
    before = _stored(referral)
    address = reverse("supervision:retention_review", args=[referral.urn])

    with time_machine.travel(_london(2036, 3, 10, 9), tick=False):
        client.force_login(other_team_sergeant)
        page = client.get(address)
        posted = client.post(address, {"decision": "dispose", "reason": REASON})
        queue = client.get(reverse("supervision:retention_queue")).content.decode()
        with pytest.raises(PermissionDenied):
            mopi_review_record(referral=referral, actor=other_team_sergeant, now=_london(2036, 3, 10, 9),
                               decision="dispose", reason=REASON)

    assert (page.status_code, posted.status_code) == (404, 404)
    assert referral.urn not in queue and 'data-testid="count-due">0<' in queue
    assert _stored(referral) == before


@pytest.mark.parametrize("role", ["investigator", "auditor", "performance_manager"])
def test_only_supervisors_and_administrators_review_retention(client, request, close, role: str,
                                                              administrator: Officer) -> None:
    referral = close()
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("supervision:retention_queue")).status_code == 403
    assert client.get(reverse("supervision:retention_review", args=[referral.urn])).status_code == 403

    with time_machine.travel(_london(2036, 3, 10, 9), tick=False):
        client.force_login(administrator)
        assert referral.urn in client.get(reverse("supervision:retention_queue")).content.decode()
        client.post(reverse("supervision:retention_review", args=[referral.urn]),
                    {"decision": "retain", "reason": "Keep it."})
    assert MopiReview.objects.get(referral=referral).reviewer == administrator


def test_the_review_page_shows_the_history_and_the_view_is_audited(client, close, supervisor) -> None:
    referral = close(category="sexual")
    mopi_review_record(referral=referral, actor=supervisor, now=_london(2036, 3, 10, 9), decision="retain",
                       reason="Still of interest.", next_review_years=2)

    with time_machine.travel(_london(2038, 3, 10, 9), tick=False):
        client.force_login(supervisor)
        page = client.get(reverse("supervision:retention_review", args=[referral.urn])).content.decode()

    history = page.split('data-testid="mopi-reviews"')[1]
    assert "DS Sue Perkins DS303" in history and "Retain" in history and "10 Mar 2038" in history
    assert "Still of interest." in history
    assert "Sexual (reviewed every 10 years)" in page and "Record the review</button>" in page
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS, referral_id=referral.pk,
                                     additional_data={"viewed": "information management review"}).exists()


def test_the_supervisor_home_links_to_the_queue_with_its_count(client, close, supervisor) -> None:
    close(at=NOW - 4000 * DAY)
    client.force_login(supervisor)

    home = client.get(reverse("supervision:home")).content.decode()
    badge = client.get(reverse("supervision:retention_badge")).content.decode()

    assert f'href="{reverse("supervision:retention_queue")}">Records due for information management review' in home
    assert f'hx-get="{reverse("supervision:retention_badge")}"' in home
    assert 'data-testid="retention-count">1<' in badge


# --- Append-only, the admin and the defaults -----------------------------------------------------------------


@requires_postgres
@pytest.mark.parametrize("statement", [
    "UPDATE supervision_mopireview SET decision = 'retain' WHERE id = %s",
    "DELETE FROM supervision_mopireview WHERE id = %s",
])
def test_the_database_refuses_changes_to_a_review(close, supervisor, statement: str) -> None:
    review = mopi_review_record(referral=close(), actor=supervisor, now=_london(2036, 3, 10, 9),
                                decision="dispose", reason=REASON)

    with pytest.raises(ProgrammingError, match="Cannot update or delete rows from supervision_mopireview"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [review.pk])

    assert MopiReview.objects.get(pk=review.pk).decision == "dispose"


def test_administrators_edit_the_retention_table_in_the_admin(client, superuser, haringey) -> None:
    team_retention_periods_create(team=haringey)
    row = RetentionPeriod.objects.get(team=haringey, allegation_category="emotional")
    model_admin = admin.site._registry[RetentionPeriod]
    request = RequestFactory().get("/admin/")
    request.user = superuser
    client.force_login(superuser)

    page = client.get(reverse("admin:supervision_retentionperiod_change", args=[row.pk])).content.decode()

    assert model_admin.has_change_permission(request, row) and not model_admin.has_delete_permission(request, row)
    assert 'name="_save"' in page
    assert not admin.site._registry[MopiReview].has_change_permission(request)
    assert team_retention_periods_create(team=haringey) == 0, "rows a team has are kept"


def test_the_migration_gives_existing_teams_the_defaults_and_dates_referrals_closed_before(
        close, haringey, enfield) -> None:
    referral = close(at=_london(2020, 5, 31, 23, 30), category="emotional")
    Referral.objects.filter(pk=referral.pk).update(mopi_review_due_on=None)
    RetentionPeriod.objects.all().delete()
    migration = importlib.import_module("supervision.migrations.0003_default_retention_periods")

    migration.forwards(apps, None)

    assert RetentionPeriod.objects.filter(team=haringey).count() == RetentionPeriod.objects.filter(
        team=enfield).count() == 5
    assert dict(RetentionPeriod.objects.filter(team=haringey).values_list("allegation_category",
                                                                          "review_after_years")) == {
        "sexual": 10, "physical": 10, "neglect": 10, "emotional": 6, "other": 6}
    assert Referral.objects.get(pk=referral.pk).mopi_review_due_on == dt.date(2026, 5, 31)


# --- Query counts ------------------------------------------------------------------------------------------------


def test_the_queue_page_makes_the_same_queries_for_one_record_as_for_many(client, close, supervisor,
                                                                          django_assert_max_num_queries) -> None:
    """Session, officer, roles, team (header); the request's savepoint; the two counts; the page of
    referrals with their last decision in one query."""
    first = close(at=NOW - 5000 * DAY)
    mopi_review_record(referral=first, actor=supervisor, now=NOW - 1300 * DAY, decision="retain",
                       reason="Keep it.", next_review_years=1)
    client.force_login(supervisor)
    client.get(reverse("supervision:retention_queue"))

    with django_assert_max_num_queries(9) as one:
        assert client.get(reverse("supervision:retention_queue")).content.decode().count("Review<span") == 1
    for days in range(4000, 4012):
        close(at=NOW - days * DAY, category="sexual" if days % 2 else "neglect")
    with django_assert_max_num_queries(9) as many:
        body = client.get(reverse("supervision:retention_queue")).content.decode()
    with django_assert_max_num_queries(9):
        disposals = client.get(reverse("supervision:retention_queue"), {"show": "disposal"})

    assert len(one.captured_queries) == len(many.captured_queries)
    assert body.count("Review<span") == 13 and 'data-testid="count-due">13<' in body
    assert "Retained" in body and disposals.status_code == 200
