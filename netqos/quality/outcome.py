"""What a validation found, in a JSON-able form a job can act on (quarantine files, fail the run, report)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Source = Literal["gx", "ledger"]


@dataclass(frozen=True)
class FailedExpectation:
    """One failed check. files: capture files (file_sha256) with offending rows; None = not attributable to files
    (schema / type / table-level failures), which condemns the whole batch."""

    expectation_type: str
    kwargs: dict[str, Any]
    observed_value: Any = None
    unexpected_count: int | None = None
    partial_unexpected_list: list[Any] = field(default_factory=list)
    files: tuple[str, ...] | None = None
    source: Source = "gx"

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items() if k != "batch_id")
        detail = f"unexpected_count={self.unexpected_count}" if self.unexpected_count is not None else ""
        if self.observed_value is not None:
            detail = (detail + ", " if detail else "") + f"observed={_short(self.observed_value)}"
        files = f"; files={list(self.files)}" if self.files else ""
        return f"{self.expectation_type}({args}) [{self.source}] {detail}{files}"


@dataclass(frozen=True)
class ValidationOutcome:
    table: str
    run_id: str
    success: bool
    failures: tuple[FailedExpectation, ...]
    files_checked: tuple[str, ...]  # file_sha256 values in the batch ("" when the table has no file column)
    gx_result: dict[str, Any]  # ExpectationSuiteValidationResult.to_json_dict()
    file_column: str | None = None

    @property
    def batch_failure(self) -> bool:
        """A failure no file can be blamed for (schema, types): nothing in the batch should proceed."""
        return any(f.files is None for f in self.failures)

    @property
    def bad_files(self) -> frozenset[str]:
        if self.batch_failure:
            return frozenset(self.files_checked)
        return frozenset(sha for f in self.failures for sha in f.files or ())

    @property
    def clean_files(self) -> frozenset[str]:
        return frozenset(self.files_checked) - self.bad_files

    def failures_for(self, sha: str) -> list[FailedExpectation]:
        return [f for f in self.failures if f.files is None or sha in f.files]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bad_files"] = sorted(self.bad_files)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationOutcome:
        """Inverse of to_dict() (after a JSON round trip)."""
        failures = tuple(
            FailedExpectation(**{**f, "files": None if f.get("files") is None else tuple(f["files"])})
            for f in data["failures"]
        )
        return cls(
            table=data["table"],
            run_id=data["run_id"],
            success=data["success"],
            failures=failures,
            files_checked=tuple(data["files_checked"]),
            gx_result=data["gx_result"],
            file_column=data.get("file_column"),
        )


class ValidationFailed(Exception):
    def __init__(self, outcome: ValidationOutcome) -> None:
        self.outcome = outcome
        lines = [f"data quality: {outcome.table} failed {len(outcome.failures)} expectation(s) (run {outcome.run_id})"]
        lines += [f"  - {f.describe()}" for f in outcome.failures]
        super().__init__("\n".join(lines))


def raise_for_failure(outcome: ValidationOutcome) -> None:
    if not outcome.success:
        raise ValidationFailed(outcome)


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
