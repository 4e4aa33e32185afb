from __future__ import annotations

from django.apps import AppConfig


class CramSiteConfig(AppConfig):
    name = "cram_site"
    verbose_name = "Officers, teams and audit"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import signals  # noqa: F401  (connects the sign-in audit receivers)

        # Every app's `exports.py` registers its tables with cram_site.exports. That includes
        # cram_site.exports itself, the registry, which is imported once like any module; a
        # builder registered again under its own name replaces itself, so a second import is harmless.
        autodiscover_modules("exports")
