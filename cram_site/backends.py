"""Sign-in by username and password; permissions come only from the role rules (cram_site/rules.py)."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PasswordBackend(ModelBackend):
    """Django's password check without its per-user permission tables.

    The role rules answer every permission question; asking the permission tables as well would
    cost two queries on every page for nothing. Superusers still pass every check by themselves.
    """

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
