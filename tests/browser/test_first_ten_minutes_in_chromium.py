"""The first ten minutes of a newcomer, as the README tells them: `consentry demo` started as
the README starts it, the README's tour run twice in a row as written, the link the demo
printed opened in Chromium, the landing page, /docs without internet, and every page a
customer, a clerk or the privacy team opens in English and German at 360 and 1280 px — axe-core
clean and without a console error. The README's screenshots of the demo come from here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.test_centre_in_chromium import CHROMIUM, _axe, _shoot, pytestmark
from tests.servers import free_port

__all__ = ["pytestmark"]
ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (360, 1280)


@dataclass(frozen=True)
class Demo:
    base: str
    key: str
    link: str
    clerk_password: str
    console_password: str
    data_dir: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`consentry demo` as the README runs it: its 3,000 customers, on a free port."""
    where = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {**os.environ, "COLUMNS": "200"}
    for name in [n for n in env if n.startswith("CONSENTRY_")]:
        env.pop(name)
    process = subprocess.Popen(
        [sys.executable, "-m", "consentry.cli", "demo", "--port", str(port)],
        cwd=where,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    printed = ""
    deadline = time.monotonic() + 300
    while "\n  try " not in printed and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        printed += line
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        found = {
            name: re.search(pattern, printed)
            for name, pattern in {
                "key": r"admin key\s+(\S+)",
                "link": r"her preferences\s+(\S+)",
                "clerk": r"user clerk, password (\S+)\)",
                "console": r"a marketer; password (\S+)\)",
            }.items()
        }
        missing = [name for name, match in found.items() if match is None]
        assert not missing, f"the demo did not print {missing}:\n{printed}"
        yield Demo(
            base,
            found["key"].group(1),  # type: ignore[union-attr]
            found["link"].group(1),  # type: ignore[union-attr]
            found["clerk"].group(1),  # type: ignore[union-attr]
            found["console"].group(1),  # type: ignore[union-attr]
            where / "consentry-demo",
        )
    finally:
        process.terminate()
        process.wait(timeout=20)


def _tour(demo: Demo) -> str:
    """The README's tour, as written, with the key and port the demo printed; a marker before
    each command so that each answer can be found."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## A five-minute tour", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    consentry = str(Path(sys.executable).parent / "consentry")
    lines = []
    for written in block.splitlines():
        line = written.replace(".venv/bin/consentry", consentry)
        if line.startswith("KEY="):
            line = f"KEY={demo.key}"
        elif line.startswith("B="):
            line = f"B={demo.base}"
        if line and not line[0].isspace() and not line.startswith("#"):
            lines.append(f"printf '\\n@@ %s\\n' {_quoted(written[:60])}")
        lines.append(line)
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _answers(output: str) -> list[tuple[str, str]]:
    """(the command's first characters, what it printed) in order."""
    steps = [(step + "\n").split("\n", 1) for step in output.split("\n@@ ")[1:]]
    return [(command, said) for command, said in steps]


def test_the_readme_tour_runs_twice_in_a_row(demo: Demo) -> None:
    script = _tour(demo)
    here = demo.data_dir.parent  # where the README's demo was started
    for walk in (1, 2):
        done = subprocess.run(
            ["bash", "-c", script], cwd=here, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"walk {walk}:\n{done.stdout}\n{done.stderr}"
        answers = _answers(done.stdout)
        assert len(answers) > 25
        for command, said in answers:
            assert not re.search(r'"status":\s*[45]\d\d', said), f"walk {walk}: {command}: {said}"
            assert "Traceback" not in said, said
        checks = [said for command, said in answers if "check?customer=$CID" in command]
        assert '"allowed":true' in checks[0] and '"reason":"granted"' in checks[0], checks
        assert '"allowed":false' in checks[1] and '"reason":"withdrawn"' in checks[1], checks
        newcomer = [said for command, said in answers if "check?customer=$NEW" in command]
        assert '"reason":"restricted"' in newcomer[0] and '"reason":"erased"' in newcomer[1]
        links = [said for command, said in answers if "preference-link" in command]
        assert links and all('"url":"http' in said for said in links)
        assert (here / "her-data.html").read_text().startswith("<!doctype html>")
        [cli_link] = [said for command, said in answers if "consentry link" in command]
        assert "/p/" in cli_link


def _browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


class Watch:
    """Console errors, page errors and failed requests of a page, kept to be asserted."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"),
        )

    def clean(self, where: str) -> None:
        assert not self.problems, f"{where}: {self.problems}"


def _sweep(page: Any, watch: Watch, name: str) -> None:
    """axe-core at both widths, and no console error so far."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _axe(page, f"{name} at {width} px")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px is {overflow} px too wide"
    page.set_viewport_size({"width": 1280, "height": 900})
    watch.clean(name)


def test_the_printed_link_the_landing_page_and_every_page_in_both_languages(demo: Demo) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page()
        watch = Watch(page)
        # The landing page: every way in, and the health of the evidence log.
        page.goto(f"{demo.base}/")
        for name in ("See and change your privacy choices", "Staff desk", "Console"):
            assert page.get_by_role("link", name=name).is_visible()
        assert page.get_by_text("every change is in the log within a second").is_visible()
        _sweep(page, watch, "landing")
        _shoot(page, "landing")
        # The link the demo printed: a Continue, then her centre with its summary on top.
        page.goto(demo.link)
        _sweep(page, watch, "continue")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/p/")
        assert page.get_by_text("You get:").is_visible()
        assert page.get_by_role("heading", name="Messages to you").is_visible()
        _sweep(page, watch, "centre")
        _shoot(page, "preference-centre")
        page.goto(demo.link)  # opened again from the mail, in the same browser: her centre
        page.wait_for_url("**/p/")
        for path, shot in (("/p/data", "what-we-hold"), ("/p/offers", None), ("/p/delete", None)):
            page.goto(demo.base + path)
            _sweep(page, watch, path)
            if shot:
                _shoot(page, shot)
        held = page.goto(f"{demo.base}/p/data").text()
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d", held)  # no raw timestamps on the page
        assert "London, Oxford Street" in held or "Web shop" in held  # places by their names
        # The same pages in German, chosen as a German browser does.
        german = browser.new_context(locale="de-DE")
        de = german.new_page()
        de_watch = Watch(de)
        de.context.add_cookies(page.context.cookies())
        for path in ("/", "/p/request", "/p/", "/p/data", "/p/offers", "/p/delete"):
            de.goto(demo.base + path)
            assert de.locator("html").get_attribute("lang") == "de", path
            _sweep(de, de_watch, f"{path} (de)")
        de.goto(f"{demo.base}/p/")
        assert de.get_by_text("Sie erhalten:").is_visible()
        assert de.get_by_role("heading", name="Nachrichten an Sie").is_visible()
        _shoot(de, "preference-centre-de")
        de.goto(f"{demo.base}/p/data")
        assert re.search(r"\d{2}\.\d{2}\.\d{4}", de.locator("main").inner_text())  # 06.12.2026
        browser.close()


def test_the_desk_the_export_and_the_console_in_both_languages(demo: Demo) -> None:
    from playwright.sync_api import sync_playwright

    headers = {"Authorization": f"Bearer {demo.key}"}
    card = httpx.post(
        f"{demo.base}/v1/customers/lookup", headers=headers, json={"loyalty_card": "6000000003"}
    ).json()["id"]
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        for locale, words in (("en-GB", EN), ("de-DE", DE)):
            context = browser.new_context(locale=locale)
            page = context.new_page()
            watch = Watch(page)
            page.goto(f"{demo.base}/desk/")
            _sweep(page, watch, f"desk sign-in ({locale})")
            page.get_by_label(words["user"]).fill("clerk")
            page.get_by_label(words["password"]).fill(demo.clerk_password)
            page.get_by_role("button", name=words["sign in"]).click()
            page.get_by_role("heading", name=words["find"]).wait_for()
            _sweep(page, watch, f"desk search ({locale})")
            page.goto(f"{demo.base}/desk/customers/{card}")
            _sweep(page, watch, f"desk customer ({locale})")
            # A grant: the notice to read out, and a confirmation before anything is recorded.
            page.locator("form:has(input[name=action][value=grant]) button").first.click()
            page.get_by_role("heading", name=words["read"]).wait_for()
            _sweep(page, watch, f"desk grant ({locale})")
            page.get_by_role("button", name=words["agreed"]).click()
            page.get_by_role("link", name=words["receipt"]).click()
            page.get_by_role("heading", name=words["receipt heading"]).wait_for()
            receipt = page.locator("main").inner_text()
            assert not re.search(r"\d{4}-\d{2}-\d{2}T", receipt), receipt  # a date for people
            assert "Staff" in receipt or "Mitarbeiter" in receipt
            _sweep(page, watch, f"desk receipt ({locale})")
            context.close()
            # The HTML export, as an operator opens it for the customer.
            context = browser.new_context(locale=locale, extra_http_headers=headers)
            page = context.new_page()
            watch = Watch(page)
            page.goto(f"{demo.base}/v1/customers/{card}/export")
            text = page.locator("main").inner_text()
            assert words["export"] in text and not re.search(r"\d{4}-\d{2}-\d{2}T", text)
            _sweep(page, watch, f"export ({locale})")
            context.close()
        # The console (English: the retailer's own staff) opens its insights on a chart.
        page = browser.new_page()
        watch = Watch(page)
        page.goto(f"{demo.base}/console/login")
        page.get_by_label("User name").fill("privacy")
        page.get_by_label("Password").fill(demo.console_password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Overview").wait_for()
        for path in ("/console/insights", "/console/insights/offers"):
            page.goto(demo.base + path)
            assert "Nothing to draw" not in page.locator("figure").first.inner_text(), path
            _sweep(page, watch, path)
        assert "0 chosen" not in page.content()
        for path in CONSOLE:
            page.goto(demo.base + path)
            _sweep(page, watch, path)
        # The demo's two collection points, the footer's two wordings compared.
        listed = httpx.get(f"{demo.base}/v1/collection-points", headers=headers).json()
        assert len(listed["collection_points"]) == 2
        footer = next(p for p in listed["collection_points"] if len(p["wordings"]) == 2)
        page.goto(f"{demo.base}/console/collection-points/{footer['id']}")
        rates = page.get_by_role("table", name="Consent rates per version and wording")
        assert re.search(r"\d+%", rates.inner_text()), rates.inner_text()
        _sweep(page, watch, "a collection point")
        _shoot(page, "console-collection-point")
        browser.close()


CONSOLE = (
    "/console/",
    "/console/insights/told",
    "/console/purposes",
    "/console/purposes/newsletter",
    "/console/questions",
    "/console/offers",
    "/console/collection-points",
    "/console/apps",
    "/console/webhooks",
    "/console/staff",
    "/console/evidence",
    "/console/requests",
    "/console/activity",
)


EN = {
    "user": "User name",
    "password": "Password",
    "sign in": "Sign in",
    "find": "Find a customer",
    "read": "Read this to the customer",
    "agreed": "The customer agreed: record it",
    "receipt": "Print or e-mail the receipt",
    "receipt heading": "Receipt of a consent change",
    "export": "Every change, as recorded",
}
DE = {
    "user": "Benutzername",
    "password": "Passwort",
    "sign in": "Anmelden",
    "find": "Kundin oder Kunden finden",
    "read": "Lesen Sie das der Kundin oder dem Kunden vor",
    "agreed": "Zugestimmt: erfassen",
    "receipt": "Beleg drucken oder per E-Mail senden",
    "receipt heading": "Beleg einer Änderung der Einwilligung",
    "export": "Jede Änderung, wie aufgezeichnet",
}


def test_the_api_docs_render_without_internet(demo: Demo) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page()
        watch = Watch(page)
        outside: list[str] = []

        def only_here(route: Any) -> None:
            if route.request.url.startswith(demo.base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_here)
        page.goto(f"{demo.base}/docs")
        page.locator(".swagger-ui .info .title").wait_for()
        assert "Consentry" in page.locator(".swagger-ui .info .title").inner_text()
        page.locator(".opblock-tag").first.wait_for()
        assert not outside, outside
        watch.clean("/docs")
        browser.close()
