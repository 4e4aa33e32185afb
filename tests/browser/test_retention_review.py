"""A supervisor works the information management (MoPI) queue in Chromium: a record closed eleven
years ago is due; a review without a reason is refused next to the field; retaining it moves its
next review ten years on and takes it off the queue."""
from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from cram_site.calendar import LONDON
from referrals import services as referral_services
from supervision.closure import referral_close
from supervision.models import MopiReview

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def test_the_supervisor_retains_a_record_due_for_review(page, live_server, log_referral, desk_sergeant, supervisor):
    # Given a physical-abuse referral closed eleven years ago (its category is reviewed after ten)
    closed_at = timezone.now() - relativedelta(years=11)
    referral = log_referral(now=closed_at - dt.timedelta(days=1), allegation_category="physical")
    referral = referral_services.referral_assess(
        referral=referral, actor=desk_sergeant, now=closed_at - dt.timedelta(hours=20), urgency="routine",
        route="no_further_action", rationale="No offence disclosed.", owner=None, supervising_officer=None)
    referral_close(referral=referral, actor=supervisor, now=closed_at, rationale="Nothing further for police.")

    # When the supervisor opens the queue and the record's review
    sign_in(page, live_server.url, "supervisor-hy", PASSWORD)
    page.goto(f"{live_server.url}/retention/")
    row = page.get_by_role("row").filter(has_text=referral.urn)
    row.get_by_role("link", name="Review").click()

    # Then a review with no reason is refused next to the field, and nothing is stored
    page.get_by_label("Retain: keep the record and review it again later").check()
    page.get_by_role("button", name="Record the review").click()
    assert page.get_by_text("Give the reason for the decision.").is_visible()
    assert not MopiReview.objects.filter(referral=referral).exists()

    # And retaining it with a reason records the review and moves the next one ten years on
    page.get_by_label("Reason for the decision").fill("Suspect still has access to children; keep.")
    page.get_by_role("button", name="Record the review").click()
    next_review = timezone.now().astimezone(LONDON).date() + relativedelta(years=10)
    # back on the queue, which no longer lists it
    assert page.get_by_role("status").filter(
        has_text=f"{referral.urn} retained; next review due {next_review:%d/%m/%Y}.").is_visible()
    assert page.get_by_role("row").filter(has_text=referral.urn).count() == 0
    review = MopiReview.objects.get(referral=referral)
    assert (review.decision, review.next_review_on) == ("retain", next_review)
    # and the record's review page shows the new date and the review with its reason
    page.goto(f"{live_server.url}/referrals/{referral.urn}/retention/")
    assert page.get_by_test_id("review-due").inner_text() == f"{next_review.day} {next_review:%b %Y}"
    assert "Suspect still has access to children; keep." in page.get_by_test_id("mopi-reviews").inner_text()
