"""`netqos airflow up` for real: PostgreSQL, MinIO and the four Airflow components on free ports in a tmp state dir.

Security (no anonymous access, roles, no secret in logs or command lines) and the MLflow server and UI of the same
stack. A netqos_ingest run triggered through the UI runs in tests/integration/scaleout (Celery workers, a Spark
cluster), beside a second run triggered at the same time.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from airflow_ui import CHROMIUM, browser_page

from netqos.orchestration.local_airflow import (
    MLFLOW_BUCKET,
    Layout,
    LocalAirflowConfig,
    down,
    get_token,
    http_json,
    s3_client,
    up,
)
from netqos.orchestration.local_procs import Secrets, load_or_create_secrets

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

DAG_ID = "netqos_ingest"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    config: LocalAirflowConfig
    secrets: Secrets
    artifacts: Path  # screenshots

    @property
    def url(self) -> str:
        return self.config.base_url

    def token(self, user: str = "admin") -> str:
        password = self.secrets.admin_password if user == "admin" else self.secrets.viewer_password
        return get_token(self.url, user, password)

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Any:
        return http_json(method, f"{self.url}/api/v2{path}", body, token=token or self.token(), timeout=30)


def _status(method: str, url: str, body: Any = None, token: str | None = None) -> int:
    """HTTP status of a request, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=15) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    state = tmp_path_factory.mktemp("airflow-state")
    artifacts = tmp_path_factory.mktemp("airflow-artifacts")
    config = LocalAirflowConfig(
        state_dir=state,
        api_port=_free_port(),
        postgres_port=_free_port(),
        minio_port=_free_port(),
        mlflow_port=_free_port(),
    )
    try:
        started = time.monotonic()
        up(config, say=lambda m: print(f"[up +{time.monotonic() - started:5.1f}s] {m}"))
        print(f"local Airflow up in {time.monotonic() - started:.0f} s, state in {state}")
        secrets = load_or_create_secrets(Layout(state).secrets_file)
        yield Running(config, secrets, artifacts)
    finally:
        down(state, purge_db=True, say=print)


# --- (a) security ---------------------------------------------------------------------------------------------------
def test_anonymous_rest_call_is_refused(airflow: Running) -> None:
    assert _status("GET", f"{airflow.url}/api/v2/dags") == 401


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium (make tools)")
def test_ui_sends_anonymous_browser_to_login(airflow: Running) -> None:
    """The UI is a single-page app: / itself is public HTML, the redirect to the login form happens in the browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{airflow.url}/")
            page.wait_for_selector("input[name=username]", timeout=60_000)
            assert "/auth/login" in page.url, page.url
        finally:
            browser.close()


def test_wrong_password_gets_no_token(airflow: Running) -> None:
    body = {"username": "admin", "password": airflow.secrets.admin_password + "x"}
    assert _status("POST", f"{airflow.url}/auth/token", body) == 401


def test_viewer_can_read_but_not_trigger(airflow: Running) -> None:
    viewer = airflow.token("viewer")
    assert _status("GET", f"{airflow.url}/api/v2/dags/{DAG_ID}", token=viewer) == 200
    trigger = _status("POST", f"{airflow.url}/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None}, token=viewer)
    assert trigger == 403


def test_dags_import_cleanly(airflow: Running) -> None:
    errors = airflow.api("GET", "/importErrors")
    assert errors["total_entries"] == 0, [e["stack_trace"][-600:] for e in errors["import_errors"]]


# --- the MLflow tracking server of the same stack ---------------------------------------------------------------------
def test_mlflow_server_registers_a_model_with_artifacts_in_minio(airflow: Running) -> None:
    """A real round trip through the server `up` started: log a pyfunc model, register it, point the `champion`
    alias at it, load it back by alias; the artifacts land in MinIO (proxied: this client holds no S3 keys) and
    the run's metadata in PostgreSQL."""
    script = """
import json, sys
import mlflow, numpy as np, pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.ensemble import IsolationForest
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("netqos-smoke")
X = pd.DataFrame({"pps": np.linspace(1, 100, 64), "rtt_p95_s": np.linspace(0.01, 0.2, 64)})
model = IsolationForest(random_state=0).fit(X)
with mlflow.start_run() as run:
    mlflow.log_metric("f1", 0.5)
    # MLflow 3.17 saves sklearn models with skops, which refuses tree nodes unless trusted explicitly.
    info = mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)),
                                    registered_model_name="netqos-smoke",
                                    skops_trusted_types=["sklearn.tree._tree.Tree"])
client = MlflowClient()
client.set_registered_model_alias("netqos-smoke", "champion", info.registered_model_version)
loaded = mlflow.pyfunc.load_model("models:/netqos-smoke@champion")
print("RESULT" + json.dumps({"version": int(info.registered_model_version), "n": len(loaded.predict(X)),
      "alias": client.get_model_version_by_alias("netqos-smoke", "champion").version}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    proc = subprocess.run([sys.executable, "-c", script, airflow.config.mlflow_url], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert lines, proc.stderr[-4000:]
    result = json.loads(lines[-1][len("RESULT") :])
    assert result == {"version": 1, "n": 64, "alias": "1"}
    keys = [o["Key"] for o in s3_client(airflow.config, airflow.secrets).list_objects_v2(Bucket=MLFLOW_BUCKET)
            .get("Contents", [])]  # fmt: skip
    assert any(k.endswith("MLmodel") for k in keys), keys


UI_MODEL = "netqos-ui-check"


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium (make tools)")
def test_mlflow_ui_shows_versions_and_aliases_and_moves_champion(airflow: Running, tmp_path: Path) -> None:
    """The MLflow UI in headless Chromium: a model registered through the API with two versions (champion on 1,
    challenger on 2) is listed, its page shows each alias next to its version, and moving champion to version 2 in
    the version page's alias editor reaches the registry."""
    from mlflow import MlflowClient
    from playwright.sync_api import expect

    started = time.monotonic()
    # LogisticRegression: unlike trees, MLflow 3.17's skops format loads it without skops_trusted_types.
    script = f"""
import json
import mlflow, numpy as np, pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment("{UI_MODEL}")
X = pd.DataFrame({{"pps": np.linspace(1, 100, 32), "rtt_p95_s": np.linspace(0.01, 0.2, 32)}})
y = (X["pps"] > 50).astype(int)
versions = []
for c in (1.0, 0.1):
    model = LogisticRegression(C=c).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)),
                                        registered_model_name="{UI_MODEL}")
    versions.append(int(info.registered_model_version))
client = MlflowClient()
client.set_registered_model_alias("{UI_MODEL}", "champion", versions[0])
client.set_registered_model_alias("{UI_MODEL}", "challenger", versions[1])
print("RESULT" + json.dumps({{"versions": versions}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    env["MLFLOW_TRACKING_URI"] = airflow.config.mlflow_url
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert lines, proc.stderr[-4000:]
    assert json.loads(lines[-1][len("RESULT") :]) == {"versions": [1, 2]}
    print(f"two versions registered in {time.monotonic() - started:.0f} s")

    url = airflow.config.mlflow_url
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with browser_page(shots, "mlflow") as page:
        # A fresh browser gets a "new Model Registry UI" promo modal, some time after the list renders, that
        # swallows clicks: closed whenever it shows up.
        promo = page.get_by_role("dialog").filter(has_text="new Model Registry UI")
        page.add_locator_handler(promo, lambda: promo.get_by_role("button", name="Close").click())
        page.goto(f"{url}/#/models")
        model_link = page.get_by_role("link", name=UI_MODEL, exact=True)
        model_link.wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "models-list.png"), full_page=True)

        model_link.click()
        table = page.get_by_test_id("model-version-table")

        def row(version: int) -> Any:
            return table.get_by_role("row").filter(has=page.get_by_role("link", name=f"Version {version}", exact=True))

        # An alias is a tag whose title is the bare alias name (its text is "@ name").
        expect(row(1).get_by_title("champion", exact=True)).to_be_visible(timeout=60_000)
        expect(row(2).get_by_title("challenger", exact=True)).to_be_visible()
        expect(row(1).get_by_title("challenger", exact=True)).to_have_count(0)
        expect(row(2).get_by_title("champion", exact=True)).to_have_count(0)
        page.screenshot(path=str(shots / "model-page.png"), full_page=True)

        # The version page's pencil next to "Aliases" opens the editor; champion is picked by typing it, and the
        # dialog warns it leaves version 1.
        row(2).get_by_role("link", name="Version 2", exact=True).click()
        page.locator("button[data-component-id*=modelversionviewaliaseditor]").click(timeout=60_000)
        dialog = page.get_by_role("dialog").filter(has_text="alias for model version 2")
        dialog.wait_for(timeout=30_000)
        box = dialog.get_by_role("combobox")
        box.fill("champion")
        box.press("Enter")
        expect(dialog.get_by_title("champion", exact=True)).to_be_visible()
        expect(dialog).to_contain_text("remove it from version 1")
        page.screenshot(path=str(shots / "alias-editor.png"))
        dialog.get_by_role("button", name="Save aliases").click()
        dialog.wait_for(state="hidden", timeout=30_000)
        expect(page.get_by_title("champion", exact=True)).to_be_visible(timeout=30_000)
        page.screenshot(path=str(shots / "version-2-after-move.png"), full_page=True)
    print(f"screenshots in {shots}: {sorted(p.name for p in shots.iterdir())}")

    client = MlflowClient(tracking_uri=url)
    assert client.get_model_version_by_alias(UI_MODEL, "champion").version == "2"
    assert client.get_model_version_by_alias(UI_MODEL, "challenger").version == "2"
    print(f"done in {time.monotonic() - started:.0f} s")


# --- (a) again, after the run: secrets stay out of logs and command lines --------------------------------------------
def test_no_secret_in_logs_or_command_lines(airflow: Running) -> None:
    secrets = airflow.secrets.values()
    assert all(len(s) >= 16 for s in secrets)
    logs = Layout(airflow.config.state_dir).logs
    files = [p for p in logs.rglob("*") if p.is_file()]
    assert any("scheduler" in p.name for p in files)
    leaks = [(str(p), i) for p in files for i, s in enumerate(secrets) if s.encode() in p.read_bytes()]
    assert not leaks, f"secret values (index into Secrets.values()) found in logs: {leaks}"
    ps = shutil.which("ps") or "ps"
    command_lines = subprocess.run([ps, "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert not [i for i, s in enumerate(secrets) if s in command_lines]
