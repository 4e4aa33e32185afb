"""Actions on a case: set with an owner and due date, finished with a note, each in the case log."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from referrals import services
from referrals.models import Action, ReferralStatus

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("description", "due_at", "message"), [
    ("   ", NOW + dt.timedelta(days=1), "Say what must be done."),
    ("Visit the school", NOW - dt.timedelta(minutes=1), "The due date must not be in the past."),
])
def test_bad_actions_are_refused_and_nothing_is_stored(log_referral, desk_sergeant, investigator, description,
                                                       due_at, message):
    """An empty description or a past due date is refused with a message; no action, no log entry."""
    referral = log_referral(now=NOW)
    entries_before = referral.case_log.count()

    with pytest.raises(ValidationError) as refused:
        services.action_create(referral=referral, actor=desk_sergeant, now=NOW, description=description,
                               owner=investigator, due_at=due_at)

    assert message in str(refused.value)
    assert Action.objects.count() == 0
    assert referral.case_log.count() == entries_before


def test_a_closed_referral_takes_no_new_actions(log_referral, desk_sergeant, investigator):
    referral = log_referral(now=NOW)
    referral.status = ReferralStatus.CLOSED
    referral.save(update_fields=["status"])

    with pytest.raises(ValidationError, match="closed"):
        services.action_create(referral=referral, actor=desk_sergeant, now=NOW, description="Visit",
                               owner=investigator, due_at=NOW + dt.timedelta(days=1))


def test_finishing_an_action_twice_is_refused(log_referral, desk_sergeant, investigator):
    """The second officer to finish the same action is told it is already finished."""
    referral = log_referral(now=NOW)
    action = services.action_create(referral=referral, actor=desk_sergeant, now=NOW, description="Visit",
                                     owner=investigator, due_at=NOW + dt.timedelta(days=1))
    services.action_finish(action=action, actor=investigator, now=NOW, status="done", note="Visited.")

    with pytest.raises(ValidationError, match="already finished"):
        services.action_finish(action=action, actor=desk_sergeant, now=NOW, status="cancelled", note="No need.")

    action.refresh_from_db()
    assert (action.status, action.completion_note) == ("done", "Visited.")
    assert referral.case_log.filter(text__startswith="Action done: Visit").count() == 1
