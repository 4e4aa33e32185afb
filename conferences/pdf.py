"""The police report as a PDF, rendered by WeasyPrint from the print page.

WeasyPrint fetches the stylesheets a page links to. The fetcher here serves only the app's own
static files, read from disk through the staticfiles finders: a report can never make the server
reach out to the network or read any other file, whatever ends up in its HTML.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# The origin the report's relative URLs resolve against. `.invalid` never resolves (RFC 2606),
# and the fetcher answers for it from the static files without any network.
PDF_BASE_URL = "https://cram.invalid/"


class StaticFilesFetcher(URLFetcher):
    """Serve URLs under STATIC_URL from the staticfiles finders; refuse everything else."""

    def __init__(self, base_url: str = PDF_BASE_URL) -> None:
        # Errors are fatal: a report that silently lost its stylesheet would print unmarked.
        super().__init__(allowed_protocols={"https"}, allow_redirects=False, fail_on_errors=True)
        self.base_url = base_url
        self.static_prefix = urljoin(base_url, _static_path())

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        absolute = urljoin(self.base_url, url)
        if not absolute.startswith(self.static_prefix):
            raise ValueError(f"Only the app's own static files may be fetched, not {url!r}")
        relative = unquote(urlsplit(absolute[len(self.static_prefix):]).path)
        parts = relative.split("/")
        if not relative or "\\" in relative or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"Not a static file: {url!r}")
        found = finders.find(relative)
        if not found or isinstance(found, list):
            raise ValueError(f"No such static file: {url!r}")
        content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        return URLFetcherResponse(absolute, Path(found).read_bytes(), {"Content-Type": content_type})


def _static_path() -> str:
    """STATIC_URL as an absolute path ("static/" → "/static/"); read when used, not at import."""
    return "/" + settings.STATIC_URL.strip("/") + "/"


def render_pdf(html: str) -> bytes:
    """The PDF of a page rendered for print; its stylesheets come from the app's static files."""
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesFetcher())
    return document.write_pdf()
