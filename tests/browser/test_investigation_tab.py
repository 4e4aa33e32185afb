"""An investigator records a joint visit on the case page's Investigation tab in Chromium: a visit
dated tomorrow is refused next to the field and nothing is stored; yesterday's is recorded and
written to the case log."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cram_site.calendar import LONDON
from referrals import services as referral_services
from referrals.models import Referral

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def test_the_investigator_records_a_joint_visit(page, live_server, log_referral, desk_sergeant, investigator,
                                                supervisor):
    # Given a joint investigation allocated to the investigator
    now = timezone.now()
    referral = log_referral(now=now - dt.timedelta(days=3))
    referral_services.referral_assess(
        referral=referral, actor=desk_sergeant, now=now - dt.timedelta(days=3), urgency="routine",
        route="joint_investigation", rationale="Injury to a child under five.", owner=investigator,
        supervising_officer=supervisor)

    # When the investigator opens the Investigation tab and enters a visit dated tomorrow
    sign_in(page, live_server.url, "investigator-hy", PASSWORD)
    page.goto(f"{live_server.url}/referrals/{referral.urn}/")
    page.get_by_role("link", name="Investigation").click()
    field = page.get_by_label("Joint visit with children's social care")
    tomorrow = (now + dt.timedelta(days=1)).astimezone(LONDON)
    field.fill(f"{tomorrow:%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Save the joint visit").click()

    # Then it is refused next to the field and nothing is stored
    assert page.get_by_text("A joint visit cannot be recorded before it happens.").is_visible()
    assert Referral.objects.get(pk=referral.pk).joint_visit_at is None

    # And yesterday's visit is recorded, shown and written to the case log
    yesterday = (now - dt.timedelta(days=1)).astimezone(LONDON).replace(hour=10, minute=30, second=0, microsecond=0)
    page.get_by_label("Joint visit with children's social care").fill(f"{yesterday:%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Save the joint visit").click()
    assert f"{yesterday:%d/%m/%Y %H:%M}" in page.get_by_test_id("joint-visit").inner_text()
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.joint_visit_at == yesterday
    assert stored.case_log.filter(text__icontains="joint visit").exists()
