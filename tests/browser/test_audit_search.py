"""An auditor finds, in Chromium, every view of one child's record last week."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from cram_site.calendar import LONDON
from cram_site.models import AuditEvent
from referrals.models import Person, Referral

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def _viewed(record: Referral | Person, officer: object, at: dt.datetime) -> None:
    AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(record), object_pk=str(record.pk), object_repr=str(record),
        referral_id=record.pk if isinstance(record, Referral) else None, action=AuditEvent.Action.ACCESS,
        actor=officer, timestamp=at, remote_addr="10.20.30.40")


def test_the_auditor_picks_the_child_and_sees_last_weeks_views(page, live_server, log_referral, auditor,
                                                              investigator, desk_sergeant):
    # Given views of Amara's page and of her referral by two officers, one of them ten days ago
    now = timezone.now()
    referral = log_referral()
    child = referral.lead_child
    _viewed(child, investigator, now - dt.timedelta(days=2))
    _viewed(referral, desk_sergeant, now - dt.timedelta(days=5))
    _viewed(referral, investigator, now - dt.timedelta(days=10))

    # When the auditor signs in, opens the audit search and finds the child by name
    sign_in(page, live_server.url, "auditor-hy", PASSWORD)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Person's name").fill("Okafor")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Amara Okafor, born 14 Mar 2019").click()
    page.get_by_label("Include the referrals this person is on").check()
    page.get_by_role("button", name="Search").click()

    # Then the two views of last week are listed, newest first, and the one of ten days ago is not
    table = page.get_by_test_id("audit-events")
    rows = table.locator("tbody tr")
    views = [rows.nth(index).inner_text() for index in range(rows.count())
             if "\taccess\t" in rows.nth(index).inner_text()]
    assert len(views) == 2, views
    assert "DC Ian Vance DC202" in views[0] and "person: Amara Okafor" in views[0]
    assert "DS Dawn Price DS101" in views[1] and f"referral: {referral.urn}" in views[1]
    assert (now - dt.timedelta(days=2)).astimezone(LONDON).strftime("%d/%m/%Y %H:%M") in views[0]
    assert "10.20.30.40" in views[0]
    assert page.get_by_test_id("event-count").inner_text().startswith(f"{rows.count()} event")
    # The record links to her case page
    table.get_by_role("link", name=f"referral: {referral.urn}").first.click()
    assert page.get_by_test_id("urn").inner_text() == referral.urn
