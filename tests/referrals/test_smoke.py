from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_desk_sergeant_sees_logged_referral_on_case_page(client, desk_sergeant, log_referral):
    """The case page shows the URN, the child and the numbered case log."""
    referral = log_referral()
    client.force_login(desk_sergeant)
    response = client.get(referral.get_absolute_url())
    body = response.content.decode()
    assert referral.urn in body
    assert "Amara Okafor" in body
    assert "#1" in body
