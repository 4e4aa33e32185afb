from __future__ import annotations

from django.apps import AppConfig


class CramSiteConfig(AppConfig):
    name = "cram_site"
    verbose_name = "Officers, teams and audit"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the sign-in audit receivers)
