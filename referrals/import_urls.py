"""Addresses of the legacy referral-log import; added to referrals/urls.py (namespace "referrals")."""
from __future__ import annotations

urlpatterns: list = []
