"""infra/terraform: every file parses, module wiring is consistent, buckets are hardened, the sensor policy is the one
in infra/iam/, and checkov finds nothing (each skip justified inline). Offline: no provider, no `terraform init`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from netqos.settings import PROJECT_ROOT, Settings

TF_ROOT = PROJECT_ROOT / "infra" / "terraform"
EXAMPLE = TF_ROOT / "examples" / "complete"
SENSOR_JSON = PROJECT_ROOT / "infra" / "iam" / "sensor-put-only.json"
TF_FILES = sorted(p for p in TF_ROOT.rglob("*.tf") if ".terraform" not in p.parts)
MODULE_META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")
MIN_JUSTIFICATION_WORDS = 6
CHECKOV_TIMEOUT_S = 600


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals and block labels: '"x"' -> 'x'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def _clean(node: Any) -> Any:
    """Unquoted keys and strings, without python-hcl2's __is_block__ / __comments__ markers."""
    if isinstance(node, dict):
        return {_unquote(k): _clean(v) for k, v in node.items() if not str(k).startswith("__")}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return _unquote(node)


@cache
def _parsed(path: Path) -> dict[str, Any]:
    with path.open() as f:
        parsed: dict[str, Any] = _clean(hcl2.load(f))
    return parsed


def _blocks(directory: Path, kind: str) -> dict[str, Any]:
    """Blocks of one kind (variable, output, module, locals...) of all .tf files of a directory, by label."""
    found: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in _parsed(path).get(kind, []):
            found.update(block)
    return found


def _typed_blocks(directory: Path, kind: str) -> dict[tuple[str, str], dict[str, Any]]:
    """resource / data blocks by (type, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in _parsed(path).get(kind, []):
            for rtype, named in block.items():
                for name, body in named.items():
                    found[(rtype, name)] = body
    return found


def _tf_dirs() -> list[Path]:
    return sorted({p.parent for p in TF_FILES})


def _module_dirs() -> list[Path]:
    return sorted(p for p in (TF_ROOT / "modules").iterdir() if p.is_dir())


def _module_calls() -> list[tuple[Path, str, dict[str, Any]]]:
    return [(d, name, body) for d in _tf_dirs() for name, body in _blocks(d, "module").items()]


def test_the_tree_has_the_expected_modules_and_example() -> None:
    assert {p.name for p in _module_dirs()} >= {"buckets", "iam", "spark_emr_serverless", "airflow_mwaa", "mlflow_db"}
    for name in ("providers.tf", "variables.tf", "outputs.tf", "versions.tf", "main.tf", "terraform.tfvars.example"):
        assert (EXAMPLE / name).is_file(), name


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(TF_ROOT)))
def test_every_tf_file_parses(path: Path) -> None:
    assert isinstance(_parsed(path), dict)


def test_versions_pin_terraform_and_the_aws_provider() -> None:
    for directory in [*_module_dirs(), EXAMPLE]:
        terraform = _blocks(directory, "terraform")
        assert terraform.get("required_version") == ">= 1.6", directory
        aws = terraform["required_providers"][0]["aws"]
        assert aws == {"source": "hashicorp/aws", "version": "~> 6.0"}, directory


def test_module_sources_exist() -> None:
    calls = _module_calls()
    assert {name for _, name, _ in calls} >= {"buckets", "iam", "spark", "airflow", "mlflow_db"}
    for directory, name, body in calls:
        target = (directory / body["source"]).resolve()
        assert body["source"].startswith(("./", "../")), f"module {name}: only local modules here"
        assert list(target.glob("*.tf")), f"module {name}: {body['source']} has no .tf files"


def test_module_arguments_match_the_module_variables() -> None:
    for directory, name, body in _module_calls():
        declared = _blocks((directory / body["source"]).resolve(), "variable")
        passed = set(body) - MODULE_META_ARGS
        assert not passed - set(declared), f"module {name} passes undeclared {sorted(passed - set(declared))}"
        required = {v for v, spec in declared.items() if "default" not in spec}
        assert not required - passed, f"module {name} misses required {sorted(required - passed)}"


def test_every_variable_and_output_is_described() -> None:
    for directory in _tf_dirs():
        for kind in ("variable", "output"):
            for name, spec in _blocks(directory, kind).items():
                description = spec.get("description", "")
                assert isinstance(description, str) and len(description.split()) >= 3, f"{directory}: {kind} {name}"


def test_example_readme_lists_every_variable_and_output() -> None:
    readme = (TF_ROOT / "README.md").read_text()
    for kind in ("variable", "output"):
        for name in _blocks(EXAMPLE, kind):
            assert f"`{name}`" in readme, f"README.md does not document {kind} {name}"


def _attached(resources: dict[tuple[str, str], dict[str, Any]], rtype: str, bucket: str) -> dict[str, Any]:
    """The one `rtype` resource attached to aws_s3_bucket.<bucket> (through `bucket` or a for_each over it)."""
    ref = f"aws_s3_bucket.{bucket}"
    found = [
        body
        for (t, _), body in resources.items()
        if t == rtype and (ref in str(body.get("bucket", "")) or ref in str(body.get("for_each", "")))
    ]
    assert len(found) == 1, f"{ref}: {len(found)} {rtype} (expected one)"
    return found[0]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Static and dynamic statements of an aws_iam_policy_document."""
    dynamic = [c for d in document.get("dynamic", []) for s in d.values() for c in s.get("content", [])]
    statements: list[dict[str, Any]] = document.get("statement", [])
    return statements + dynamic


def _denies_insecure_transport(document: dict[str, Any]) -> bool:
    def insecure(condition: dict[str, Any]) -> bool:
        return condition.get("variable") == "aws:SecureTransport" and condition.get("values") == ["false"]

    return any(s.get("effect") == "Deny" and any(map(insecure, s.get("condition", []))) for s in _statements(document))


def test_every_bucket_is_encrypted_versioned_private_tls_only_and_has_a_lifecycle() -> None:
    buckets_seen = 0
    for directory in _tf_dirs():
        resources = _typed_blocks(directory, "resource")
        documents = _typed_blocks(directory, "data")
        for bucket in [name for rtype, name in resources if rtype == "aws_s3_bucket"]:
            buckets_seen += 1
            where = f"{directory.relative_to(TF_ROOT)}: aws_s3_bucket.{bucket}"

            sse = _attached(resources, "aws_s3_bucket_server_side_encryption_configuration", bucket)
            assert sse["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"], where

            versioning = _attached(resources, "aws_s3_bucket_versioning", bucket)
            assert versioning["versioning_configuration"][0]["status"] == "Enabled", where

            pab = _attached(resources, "aws_s3_bucket_public_access_block", bucket)
            flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
            assert all(pab.get(f) is True for f in flags), f"{where}: public access block"

            lifecycle = _attached(resources, "aws_s3_bucket_lifecycle_configuration", bucket)
            dynamic = [c for d in lifecycle.get("dynamic", []) for r in d.values() for c in r["content"]]
            rules = lifecycle["rule"] + dynamic
            assert all("filter" in r for r in rules), f"{where}: every lifecycle rule needs a filter (provider 6)"
            assert any("abort_incomplete_multipart_upload" in r for r in rules), f"{where}: multipart abort"
            assert any("noncurrent_version_expiration" in r for r in rules), f"{where}: noncurrent expiry"

            policy = _attached(resources, "aws_s3_bucket_policy", bucket)
            match = re.search(r"data\.aws_iam_policy_document\.(\w+)", policy["policy"])
            assert match, f"{where}: the bucket policy should be an aws_iam_policy_document"
            document = documents[("aws_iam_policy_document", match.group(1))]
            assert _denies_insecure_transport(document), f"{where}: no Deny of aws:SecureTransport=false"
    assert buckets_seen >= 2


def test_landing_bucket_expires_raw_captures() -> None:
    resources = _typed_blocks(TF_ROOT / "modules" / "buckets", "resource")
    lifecycle = resources[("aws_s3_bucket_lifecycle_configuration", "data")]
    rules = [c for d in lifecycle["dynamic"] for r in d.values() for c in r["content"]]
    raw = next(r for r in rules if r["id"] == "raw-capture-retention")
    assert raw["expiration"][0]["days"] == "${rule.value}"
    assert 'each.key == "landing"' in str(lifecycle["dynamic"])


def _iam_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{d.relative_to(TF_ROOT)}: {name}", body)
        for d in _tf_dirs()
        for (rtype, name), body in _typed_blocks(d, "data").items()
        if rtype == "aws_iam_policy_document"
    ]


def test_no_policy_allows_every_action_or_a_service_wildcard_on_every_resource() -> None:
    for where, document in _iam_documents():
        for s in _statements(document):
            if s.get("effect", "Allow") != "Allow" or "principals" in s:  # resource policies: principal-scoped
                continue
            actions = s.get("actions", [])
            assert "*" not in actions, f"{where}: action *"
            if s.get("resources") == ["*"]:
                wild = [a for a in actions if a.endswith(":*") or a.endswith("*")]
                assert not wild, f"{where}: {wild} on every resource"


def _sensor_statements_as_json() -> dict[str, dict[str, Any]]:
    """The Terraform sensor policy with the module's locals expanded for bucket netqos-landing, no key prefix."""
    iam_dir = TF_ROOT / "modules" / "iam"
    locals_ = _blocks(iam_dir, "locals")
    document = _typed_blocks(iam_dir, "data")[("aws_iam_policy_document", "sensor")]

    def expand(text: str) -> str:
        text = text.replace("${local.own_prefix}", locals_["own_prefix"])
        text = text.replace("${local.landing}", "arn:aws:s3:::netqos-landing")
        return text.replace("${var.landing_key_prefix}", "").replace("$${", "${")

    return {
        s["sid"]: {
            "Effect": s.get("effect", "Allow"),
            "Action": sorted(s["actions"]),
            "Resource": sorted(expand(r) for r in s["resources"]),
            "Condition": {c["test"]: {c["variable"]: [expand(v) for v in c["values"]]} for c in s.get("condition", [])},
        }
        for s in document["statement"]
    }


def test_sensor_policy_is_the_one_in_infra_iam() -> None:
    reference = {
        s["Sid"]: {
            "Effect": s["Effect"],
            "Action": sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"]),
            "Resource": sorted(s["Resource"]),
            "Condition": {
                test: {key: [v] if isinstance(v, str) else v for key, v in cond.items()}
                for test, cond in s.get("Condition", {}).items()
            },
        }
        for s in json.loads(SENSOR_JSON.read_text())["Statement"]
    }
    assert _sensor_statements_as_json() == reference


def test_sensor_policy_never_deletes_or_reads_other_prefixes() -> None:
    for statement in _sensor_statements_as_json().values():
        if statement["Effect"] != "Allow":
            continue
        assert not any("Delete" in a or a.endswith("*") for a in statement["Action"]), statement
        for resource in statement["Resource"]:
            assert "${aws:PrincipalTag/netqos-sensor}" in resource or statement["Condition"], resource


def test_every_checkov_skip_is_justified() -> None:
    skips = 0
    for path in TF_FILES:
        for line in path.read_text().splitlines():
            match = SKIP_COMMENT.search(line)
            if match:
                skips += 1
                reason = (match.group(2) or "").strip()
                assert len(reason.split()) >= MIN_JUSTIFICATION_WORDS, f"{path.name}: {line.strip()}"
    assert skips, "expected the justified skips of the log bucket"


def _checkov() -> Path | None:
    candidate = Settings().home / "tools" / "checkov" / "bin" / "checkov"
    if candidate.is_file():
        return candidate
    found = shutil.which("checkov")
    return Path(found) if found else None


def _run_checkov(directory: Path, *extra: str) -> tuple[dict[str, Any], float]:
    binary = _checkov()
    if binary is None:
        message = "checkov missing: `scripts/bootstrap.sh checkov` (make tools) installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    started = time.monotonic()
    # --skip-download: no Prisma Cloud guideline fetch (offline). No --quiet: it would drop the skipped checks.
    proc = subprocess.run(
        [str(binary), "-d", str(directory), "--framework", "terraform", "--compact", "-o", "json",
         "--download-external-modules", "false", "--skip-download", *extra],
        capture_output=True, text=True, timeout=CHECKOV_TIMEOUT_S, check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    (report,) = report if isinstance(report, list) else [report]
    return report, elapsed


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    report, elapsed = _run_checkov(TF_ROOT)
    print(f"checkov on infra/terraform: {report['summary']} in {elapsed:.1f}s")
    return report


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in checkov_report["results"]["failed_checks"]]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 40, "checkov did not see the modules' resources"
    assert summary["failed"] == 0 and not failed, failed


def test_checkov_skips_come_from_justified_inline_comments(checkov_report: dict[str, Any]) -> None:
    reasons = {
        (path.relative_to(TF_ROOT).as_posix(), m.group(1)): (m.group(2) or "").strip()
        for path in TF_FILES
        for m in map(SKIP_COMMENT.search, path.read_text().splitlines())
        if m
    }
    skipped = checkov_report["results"].get("skipped_checks", [])
    assert skipped, "the log bucket's skips should show up as skipped checks"
    for check in skipped:
        # checkov's JSON leaves suppress_comment empty in --compact mode: the reason is read from the .tf itself.
        reason = reasons.get((check["file_path"].lstrip("/"), check["check_id"]))
        assert reason is not None, f"{check['check_id']} skipped without an inline comment in {check['file_path']}"
        assert len(reason.split()) >= MIN_JUSTIFICATION_WORDS, (check["check_id"], reason)


def test_checkov_fails_a_bucket_without_public_access_block(tmp_path: Path) -> None:
    """The gate is real: the buckets module minus its public access blocks must fail checkov."""
    broken = tmp_path / "buckets"
    shutil.copytree(TF_ROOT / "modules" / "buckets", broken)
    for path in broken.glob("*.tf"):
        text = re.sub(
            r'resource "aws_s3_bucket_public_access_block" "\w+" \{.*?\n\}\n', "", path.read_text(), flags=re.S
        )
        text = re.sub(r"\n\s*depends_on = \[aws_s3_bucket_public_access_block\.\w+\]", "", text)
        path.write_text(text)
    # Only the public-access checks: the same verdict, half the time of a full run.
    report, _ = _run_checkov(broken, "--quiet", "--check", "CKV2_AWS_6,CKV_AWS_53,CKV_AWS_54,CKV_AWS_55,CKV_AWS_56")
    failed = {c["check_id"] for c in report["results"]["failed_checks"]}
    assert "CKV2_AWS_6" in failed, failed


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH (fmt needs no provider)")
def test_terraform_fmt_is_clean() -> None:
    proc = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(TF_ROOT)],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
