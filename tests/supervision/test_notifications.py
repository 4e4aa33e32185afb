"""In-app notifications (SPEC §6): each officer's list, newest first, with "mark all read", and an
unread badge in the page header fetched after the page so no page's query count changes."""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cram_site.models import Officer
from referrals.models import Referral
from supervision.models import Notification, Reminder, ReminderKind, ReminderState
from supervision.sweep import sweep

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London (GMT)
MINUTE = dt.timedelta(minutes=1)
_subjects = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def referral(log_referral) -> Referral:
    return log_referral(now=NOW - dt.timedelta(days=3))


def notify(recipient: Officer, referral: Referral, *, text: str, at: dt.datetime, read: bool = False) -> Notification:
    """A notification as the sweep makes one: about a reminder, for one recipient."""
    reminder = Reminder.objects.create(
        kind=ReminderKind.ACTION, subject_type="referrals.action", subject_id=next(_subjects), referral=referral,
        title=text, owner=recipient, notify_at=at, due_at=at, state=ReminderState.NOTIFIED, created_at=at)
    return Notification.objects.create(reminder=reminder, recipient=recipient, event=Notification.Event.DUE,
                                       text=text, created_at=at, read_at=at if read else None)


def listed(body: str) -> list[str]:
    return re.findall(r'data-testid="notification-text">([^<]*)<', body)


def test_the_list_shows_only_my_notifications_newest_first_with_the_unread_count(client, investigator: Officer,
                                                                                  supervisor: Officer,
                                                                                  referral: Referral) -> None:
    notify(investigator, referral, text="Older, already read", at=NOW - 30 * MINUTE, read=True)
    notify(investigator, referral, text="Newest", at=NOW - MINUTE)
    notify(investigator, referral, text="Middle", at=NOW - 10 * MINUTE)
    notify(supervisor, referral, text="The supervisor's own", at=NOW)
    client.force_login(investigator)

    body = client.get(reverse("supervision:notifications")).content.decode()

    assert listed(body) == ["Newest", "Middle", "Older, already read"]
    assert 'data-testid="unread">2 unread<' in body
    assert f'href="{referral.get_absolute_url()}">Open {referral.urn}' in body


def test_the_list_is_paginated(client, investigator: Officer, referral: Referral) -> None:
    for number in range(30):
        notify(investigator, referral, text=f"Item {number:02d}", at=NOW - (30 - number) * MINUTE)
    client.force_login(investigator)

    first = listed(client.get(reverse("supervision:notifications")).content.decode())
    second = listed(client.get(reverse("supervision:notifications"), {"page": 2}).content.decode())

    assert first == [f"Item {number:02d}" for number in range(29, 4, -1)]
    assert second == [f"Item {number:02d}" for number in range(4, -1, -1)]


def test_mark_all_read_marks_only_my_unread_notifications(client, investigator: Officer, supervisor: Officer,
                                                          referral: Referral) -> None:
    earlier = notify(investigator, referral, text="Read yesterday", at=NOW - dt.timedelta(days=1), read=True)
    mine = [notify(investigator, referral, text=f"Mine {n}", at=NOW - n * MINUTE) for n in range(1, 3)]
    theirs = notify(supervisor, referral, text="Theirs", at=NOW - MINUTE)
    client.force_login(investigator)

    response = client.post(reverse("supervision:notifications_read"))

    assert response["Location"] == reverse("supervision:notifications")
    assert [Notification.objects.get(pk=n.pk).read_at for n in mine] == [NOW, NOW]
    assert Notification.objects.get(pk=earlier.pk).read_at == NOW - dt.timedelta(days=1)
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    body = client.get(reverse("supervision:notifications")).content.decode()
    assert "2 notifications marked as read." in body and 'data-testid="unread"' not in body


def test_the_badge_shows_the_unread_count_and_nothing_when_there_is_none(client, investigator: Officer,
                                                                         referral: Referral) -> None:
    client.force_login(investigator)
    assert client.get(reverse("supervision:notifications_badge")).content.decode().strip() == ""

    for n in range(3):
        notify(investigator, referral, text=f"Due {n}", at=NOW - n * MINUTE)
    notify(investigator, referral, text="Read", at=NOW, read=True)
    badge = client.get(reverse("supervision:notifications_badge")).content.decode()
    assert re.sub(r"<[^>]+>", "", badge).strip() == "3 unread notifications"
    assert '<span class="visually-hidden"> unread notifications</span>' in badge

    client.post(reverse("supervision:notifications_read"))
    assert client.get(reverse("supervision:notifications_badge")).content.decode().strip() == ""


def test_the_badge_answers_nothing_once_signed_out(client) -> None:
    """An expired session must not swap a sign-in page into the header."""
    response = client.get(reverse("supervision:notifications_badge"))
    assert (response.status_code, response.content.decode().strip()) == (200, "")


def test_every_page_loads_the_badge_after_it_and_counts_no_notifications_itself(client, investigator: Officer,
                                                                                referral: Referral) -> None:
    client.force_login(investigator)
    address = reverse("referrals:list")
    with CaptureQueriesContext(connection) as without:
        body = client.get(address).content.decode()
    for n in range(5):
        notify(investigator, referral, text=f"Due {n}", at=NOW - n * MINUTE)
    with CaptureQueriesContext(connection) as with_five:
        client.get(address)

    badge = reverse("supervision:notifications_badge")
    assert f'<span hx-get="{badge}" hx-trigger="load, every 60s"></span>' in body
    assert len(with_five) == len(without)
    assert not any("supervision_notification" in query["sql"] for query in with_five.captured_queries)


def test_the_sweep_notifies_the_desk_of_an_overdue_assessment(client, desk_sergeant: Officer,
                                                              referral: Referral) -> None:
    """A referral logged three days ago and not yet assessed: the sweep prompts the sergeant who logged it."""
    sweep(now=NOW)
    client.force_login(desk_sergeant)

    body = client.get(reverse("supervision:notifications")).content.decode()

    # Received Saturday 09:00; one working day later is Monday 09:00.
    assert listed(body) == [f"Overdue 09/03/2026 09:00: {referral.urn}: desk assessment due"]
    badge = client.get(reverse("supervision:notifications_badge")).content.decode()
    assert re.sub(r"<[^>]+>", "", badge).strip() == "1 unread notifications"


def _queries(client, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def test_the_list_and_badge_make_the_same_queries_for_three_notifications_as_for_forty(
        client, investigator: Officer, referral: Referral, django_assert_max_num_queries) -> None:
    """Session, officer, roles, team and the savepoint pair, then the page's count, its rows with their
    reminders and referrals, and the unread count (9); the badge: session, officer, savepoint pair, count (5)."""
    for n in range(3):
        notify(investigator, referral, text=f"Due {n}", at=NOW - n * MINUTE)
    client.force_login(investigator)
    pages = {"list": reverse("supervision:notifications"), "badge": reverse("supervision:notifications_badge")}
    small = {page: _queries(client, address) for page, address in pages.items()}

    for n in range(3, 40):
        notify(investigator, referral, text=f"Due {n}", at=NOW - n * MINUTE)
    large = {page: _queries(client, address) for page, address in pages.items()}

    assert large == small
    with django_assert_max_num_queries(9):
        assert "Due 39" in client.get(pages["list"], {"page": 2}).content.decode()
    with django_assert_max_num_queries(5):
        assert ">40<" in client.get(pages["badge"]).content.decode()
