"""Which capture files hold the rows a failed column-map expectation rejected.

GX's SUMMARY result lists at most 20 offending rows and COMPLETE collects all of them to the driver, so neither
can name every bad file of a large batch. Instead each row-level expectation kind is mirrored by a row predicate
(same semantics: nulls are skipped, ranges inclusive, pairs skip rows with a missing side) and one grouped Spark
pass returns, per file, which failed expectations it violates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _q(column: str) -> str:
    return "`" + column.replace("`", "``") + "`"


def _lit(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


@dataclass(frozen=True)
class RowCheck:
    """The rows an expectation rejects, as Spark SQL and as a pandas mask."""

    kind: str
    kwargs: dict[str, Any]

    def sql(self) -> str:
        k = self.kwargs
        if self.kind == "expect_column_values_to_not_be_null":
            return f"{_q(k['column'])} IS NULL"
        if self.kind == "expect_column_values_to_be_between":
            col, parts = _q(k["column"]), []
            if k.get("min_value") is not None:
                parts.append(f"{col} {'<=' if k.get('strict_min') else '<'} {_lit(k['min_value'])}")
            if k.get("max_value") is not None:
                parts.append(f"{col} {'>=' if k.get('strict_max') else '>'} {_lit(k['max_value'])}")
            return f"({col} IS NOT NULL AND ({' OR '.join(parts) or 'false'}))"
        if self.kind == "expect_column_values_to_be_in_set":
            col, values = _q(k["column"]), ", ".join(_lit(v) for v in k["value_set"])
            return f"({col} IS NOT NULL AND NOT ({col} IN ({values or 'NULL'})))"
        if self.kind == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b, op = _q(k["column_A"]), _q(k["column_B"]), ">=" if k.get("or_equal") else ">"
            return f"({a} IS NOT NULL AND {b} IS NOT NULL AND NOT ({a} {op} {b}))"
        raise ValueError(f"no row predicate for {self.kind}")

    def pandas_mask(self, df: Any) -> Any:
        k = self.kwargs
        if self.kind == "expect_column_values_to_not_be_null":
            return df[k["column"]].isna()
        if self.kind == "expect_column_values_to_be_between":
            s = df[k["column"]]
            bad = s.notna() & False
            if k.get("min_value") is not None:
                bad |= (s <= k["min_value"]) if k.get("strict_min") else (s < k["min_value"])
            if k.get("max_value") is not None:
                bad |= (s >= k["max_value"]) if k.get("strict_max") else (s > k["max_value"])
            return s.notna() & bad
        if self.kind == "expect_column_values_to_be_in_set":
            s = df[k["column"]]
            return s.notna() & ~s.isin(list(k["value_set"]))
        if self.kind == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = df[k["column_A"]], df[k["column_B"]]
            ok = (a >= b) if k.get("or_equal") else (a > b)
            return a.notna() & b.notna() & ~ok
        raise ValueError(f"no row predicate for {self.kind}")


ROW_LEVEL = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
)


def files_by_check(df: Any, file_col: str, checks: list[RowCheck]) -> list[set[str]]:
    """For each check, the file_col values of the rows it rejects (one pass over df)."""
    if not checks:
        return []
    from netqos.quality.gx_runner import is_pandas

    if is_pandas(df):
        return [set(df.loc[c.pandas_mask(df), file_col].dropna().astype(str)) for c in checks]
    from pyspark.sql import functions as F

    flags = [F.max(F.expr(c.sql()).cast("int")).alias(f"c{i}") for i, c in enumerate(checks)]
    any_bad = " OR ".join(f"coalesce({c.sql()}, false)" for c in checks)
    rows = df.where(F.expr(any_bad)).groupBy(file_col).agg(*flags).collect()
    return [{str(r[file_col]) for r in rows if r[f"c{i}"] == 1} for i in range(len(checks))]
