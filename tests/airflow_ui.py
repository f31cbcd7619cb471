"""Driving the Airflow 3 UI and REST API of a `netqos airflow up` stack from tests: headless Chromium pages (a
screenshot on failure), the login form, the Trigger dialog, task logs."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")


@contextlib.contextmanager
def browser_page(shots: Path, name: str) -> Iterator[Any]:
    """A headless Chromium page; on failure a screenshot <name>-failure.png in `shots`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            yield page
        except BaseException:
            shot = shots / f"{name}-failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"failure screenshot: {shot} (page {page.url})")
            raise
        finally:
            browser.close()


def log_in(page: Any, password: str, user: str = "admin") -> None:
    """Fill the login form the UI redirects to, then wait to be sent back."""
    page.wait_for_selector("input[name=username]", timeout=60_000)
    assert "/auth/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda u: "/auth/login" not in u, timeout=60_000)


def trigger_in_ui(base_url: str, password: str, dag_id: str, shots: Path) -> None:
    """Log in, open the DAG, Trigger, confirm the dialog with its defaults (a single run, now, the DAG's params)."""
    with browser_page(shots, "trigger") as page:
        page.goto(f"{base_url}/dags/{dag_id}")
        log_in(page, password)
        page.get_by_test_id("trigger-dag-button").click(timeout=60_000)
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "trigger-dialog.png"))
        dialog.get_by_test_id("trigger-dag-submit").click()
        dialog.wait_for(state="hidden", timeout=30_000)


def task_log(base_url: str, token: str, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    """The last 60 events of a task try's log (REST, NDJSON)."""
    rid = urllib.parse.quote(run_id, safe="")
    url = f"{base_url}/api/v2/dags/{dag_id}/dagRuns/{rid}/taskInstances/{task_id}/logs/{max(try_number, 1)}"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/x-ndjson"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            lines = r.read().decode(errors="replace").splitlines()
    except urllib.error.URLError as e:
        return f"(no log: {e})"
    events = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            events.append(line)
            continue
        events.append(str(event.get("event", event)) if isinstance(event, dict) else str(event))
    return "\n".join(events[-60:])
