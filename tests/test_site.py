"""The course website: it builds with every notebook executed, and every page works in a browser.

``site/build.py`` (the command README gives) executes the notebooks and runs Jupyter Book;
it exits 1 when a cell fails or the log reports a failure. Then headless Chromium opens every
page from a local server: no console error, every image loaded, every internal link (and its
#anchor) pointing at something that exists, and the search page finding "Henize".

The browser is offline: requests to other hosts fail at once (``--host-resolver-rules``), so
that the result does not depend on the network. The published site loads MathJax and the
widget manager from a CDN; those failed loads are the only console errors allowed here.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import re
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from browser import chromium, console_errors, free_port, require_browser

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "site" / "_build" / "html"
CDN = re.compile(r"https://(cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com)/\S+ - Failed to load resource")


def test_the_website_builds_with_every_notebook_executed():
    if importlib.util.find_spec("jupyter_book") is None:
        pytest.skip("Jupyter Book is not installed: pip install -e '.[site]'")
    start = time.monotonic()
    run = subprocess.run([sys.executable, str(ROOT / "site" / "build.py")], capture_output=True, text=True)
    print(run.stdout[-3000:], run.stderr[-3000:], f"({time.monotonic() - start:.0f} s)")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    pages = {p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")}
    for source in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        for part in ("notebooks", "solutions"):
            assert f"{part}/{source.stem}.html" in pages, f"no page for {part}/{source.name}"


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(errors="replace"))
    return parser


def _pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html") if not {"_static", "_sources"} & set(p.parts))


def test_every_page_names_the_site_icon():
    # a page without one makes the browser ask for /favicon.ico, which the site does not
    # have: a console error, or none when a redirect is faster than the request
    if not (HTML / "search.html").exists():
        pytest.skip("the website is not built: .venv/bin/python site/build.py")
    assert [p.name for p in _pages() if 'rel="icon"' not in p.read_text()] == []


@pytest.fixture(scope="module")
def site():
    require_browser()
    if not (HTML / "search.html").exists():
        pytest.skip("the website is not built: .venv/bin/python site/build.py")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with chromium(extra=["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]) as driver:
            yield f"http://127.0.0.1:{server.server_address[1]}", driver
    finally:
        server.shutdown()


def test_every_page_loads_without_errors_with_its_images_and_links(site):
    url, driver = site
    problems, checked = [], 0
    for page in _pages():
        address = f"{url}/{page.relative_to(HTML).as_posix()}"
        driver.get(address)
        # images below the fold load when scrolled to
        broken = driver.execute_script("""
            const imgs = Array.from(document.images);
            imgs.forEach(i => { i.loading = 'eager'; });
            return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);""")
        if broken:
            time.sleep(1)
            broken = driver.execute_script(
                "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);")
        problems += [f"{page.name}: image not loaded: {src[:120]}" for src in broken]
        problems += [f"{page.name}: console: {m[:300]}" for m in console_errors(driver) if not CDN.search(m)]
        for href in _parse(page).links:
            target = urlsplit(urljoin(address, href))
            if target.scheme not in ("http", "https") or target.netloc != urlsplit(url).netloc:
                continue
            path = HTML / unquote(target.path).lstrip("/")
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                problems.append(f"{page.name}: broken link {href}")
            elif target.fragment and path.suffix == ".html" and unquote(target.fragment) not in _parse(path).ids:
                problems.append(f"{page.name}: link to a missing anchor {href}")
            checked += 1
    print(f"{len(_pages())} pages, {checked} internal links checked")
    assert len(_pages()) >= 2 * len(list((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")))
    assert not problems, "\n".join(problems)


def test_the_search_page_finds_henize(site):
    from selenium.webdriver.common.by import By

    url, driver = site
    driver.get(f"{url}/search.html?q=Henize")
    deadline = time.monotonic() + 60
    while not (hits := driver.find_elements(By.CSS_SELECTOR, "ul.search li")):
        assert time.monotonic() < deadline, "the search page found nothing for 'Henize'"
        time.sleep(0.5)
    titles = " ".join(h.text for h in hits)
    assert "Henize" in titles
    assert not [m for m in console_errors(driver) if not CDN.search(m)]
