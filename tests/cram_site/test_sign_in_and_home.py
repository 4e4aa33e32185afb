"""Signing in: every attempt audited, and each role sent to its own starting screen."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from cram_site.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def test_successful_and_failed_sign_ins_are_audited_with_the_address(client, desk_sergeant):
    """A wrong password and a right one each leave an audit event, the password never stored."""
    client.post(reverse("login"), {"username": "desk-hy", "password": "wrong-guess-1"}, REMOTE_ADDR="10.1.2.3")
    response = client.post(reverse("login"), {"username": "desk-hy", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 302
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert (failed.object_repr, failed.remote_addr, failed.actor) == ("desk-hy", "10.1.2.3", None)
    assert "wrong-guess-1" not in str(failed.__dict__)
    success = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert (success.actor, success.remote_addr) == (desk_sergeant, "10.1.2.3")


@pytest.mark.parametrize(("officer", "expected"), [
    ("desk_sergeant", "/referrals/desk/"),
    ("supervisor", "/supervision/"),
    ("investigator", "/referrals/?show=mine"),
    ("auditor", "/audit/"),
    ("performance_manager", "/performance/"),
])
def test_home_sends_each_role_to_its_starting_screen(client, request, officer, expected):
    client.force_login(request.getfixturevalue(officer))

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == expected


def test_celery_runs_tasks_inline_without_a_broker_and_on_redis_with_one():
    """The embedded default needs no Redis; with CELERY_BROKER_URL set the app talks to it."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "cram_site.settings"
    probe = "import django; django.setup(); from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER)"
    inline = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True,
                            check=True)
    assert inline.stdout.strip() == "True"

    if not settings.CELERY_BROKER_URL:
        pytest.skip("CELERY_BROKER_URL is not set")
    from cram_site.celery import app

    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.connected
