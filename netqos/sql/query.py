"""Run SQL text against the netqos catalog and render the answers (a rich table, CSV or JSON)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from netqos.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from rich.console import Console

OutputFormat = Literal["table", "csv", "json"]
FORMATS: tuple[OutputFormat, ...] = ("table", "csv", "json")


class MissingTableError(LookupError):
    """A statement named a table the catalog does not have; the message lists the tables it does have."""


class QueryError(ValueError):
    """Spark could not analyse or parse a statement (unknown column, syntax): the message is Spark's, without
    the analysed plan."""


class DerbyLockedError(RuntimeError):
    """The embedded Derby metastore is open in another Spark process."""


@dataclass(frozen=True)
class Answer:
    statement: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows than max_rows existed


def split_statements(text: str) -> list[str]:
    """Split SQL text on `;` outside quotes, backticks and comments; empty statements are dropped."""
    out: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote is not None:
            buf.append(c)
            if c == "\\" and quote != "`" and i + 1 < n:
                buf.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
            buf.append(c)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif c == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    out.append("".join(buf))
    return [s.strip() for s in out if s.strip()]


def list_tables(spark: SparkSession, database: str) -> list[str]:
    """`database`'s tables, sorted; empty when the database does not exist. Temporary views of the session are
    not the database's (listTables returns them too, whatever the database)."""
    if not spark.catalog.databaseExists(database):
        return []
    return sorted(t.name for t in spark.catalog.listTables(database) if not t.isTemporary)


def _missing_table_message(spark: SparkSession, settings: Settings, error: str) -> str:
    database = settings.lake.database
    tables = list_tables(spark, database)
    first_line = error.strip().splitlines()[0] if error.strip() else error
    if tables:
        have = f"tables in {database}: " + ", ".join(tables)
    else:
        have = f"database {database} has no tables yet: run the ingest job first (README: `make demo`)"
    return f"{first_line}\n{have}"


def run_statements(spark: SparkSession, text: str, settings: Settings, *, max_rows: int = 1000) -> list[Answer]:
    """Run each statement of `text` in order, in the database `settings.lake.database` when it exists (so
    `flows` and `netqos.flows` both work); at most `max_rows` rows are fetched per statement.

    Raises MissingTableError (listing the tables there are) when a statement names a table that does not exist,
    QueryError for any other statement Spark cannot analyse or parse.
    """
    from pyspark.errors import AnalysisException

    statements = split_statements(text)
    if not statements:
        raise ValueError("no SQL statement given")
    if spark.catalog.databaseExists(settings.lake.database):
        spark.catalog.setCurrentDatabase(settings.lake.database)
    answers = []
    for statement in statements:
        try:
            df = spark.sql(statement)
            rows = df.take(max_rows + 1)
        except AnalysisException as e:
            if e.getCondition() in ("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND"):
                raise MissingTableError(_missing_table_message(spark, settings, str(e))) from None
            if is_derby_locked(e):
                raise
            raise QueryError(query_error_text(str(e))) from None
        answers.append(
            Answer(
                statement=statement,
                columns=list(df.columns),
                rows=[tuple(r) for r in rows[:max_rows]],
                truncated=len(rows) > max_rows,
            )
        )
    return answers


def jsonable(value: Any) -> Any:
    """A Spark value as JSON: timestamps/dates in ISO 8601, decimals as numbers, structs as objects, bytes as hex."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {k: jsonable(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return json.dumps(jsonable(value)) if isinstance(value, list | tuple | dict) else str(jsonable(value))


def _csv_cell(value: Any) -> Any:
    """Full precision (no rounding as in the table view); nested values as JSON; NULL as an empty field."""
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return value
    plain = jsonable(value)
    return json.dumps(plain) if isinstance(plain, list | dict) else plain


def to_csv(answer: Answer) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(answer.columns)
    for row in answer.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


def to_json(answer: Answer) -> str:
    return json.dumps([dict(zip(answer.columns, jsonable(list(row)), strict=True)) for row in answer.rows], indent=1)


def print_answers(answers: Sequence[Answer], fmt: OutputFormat, console: Console) -> None:
    """`table`: every statement that returned columns; `csv`/`json`: the last statement's rows only (earlier
    statements are set-up such as `USE` or `CREATE TEMPORARY VIEW`), on stdout without decoration."""
    from rich.table import Table

    if fmt in ("csv", "json"):
        last = answers[-1]
        text = to_csv(last) if fmt == "csv" else to_json(last)
        console.file.write(text if text.endswith("\n") else text + "\n")
        return
    for answer in answers:
        if not answer.columns:
            continue
        console.print(_title(answer.statement), style="bold", highlight=False, soft_wrap=True)
        table = Table()
        for name in answer.columns:
            table.add_column(name, overflow="fold")
        for row in answer.rows:
            table.add_row(*(_cell(v) for v in row))
        console.print(table)
        more = " (more rows not shown: raise --max-rows)" if answer.truncated else ""
        console.print(f"{len(answer.rows)} row{'s' if len(answer.rows) != 1 else ''}{more}")


def _title(statement: str, width: int = 100) -> str:
    one_line = " ".join(statement.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def query_error_text(message: str) -> str:
    """What a person needs from Spark's error for a query they typed: the error line with its suggestion (the
    analysed plan after it is for Spark developers); a parse error keeps its `== SQL ==` excerpt with the caret."""
    text = message.strip()
    if "== SQL ==" in text:
        return text
    return text.splitlines()[0].rstrip(";") if text else "the query failed"


def is_derby_locked(error: BaseException) -> bool:
    """True for the error Hive's client raises when another JVM has the embedded Derby metastore open."""
    text = "".join(_chain_text(error))
    return "XSDB6" in text or "Another instance of Derby may have already booted" in text


def _chain_text(error: BaseException | None) -> Iterable[str]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield str(error)
        error = error.__cause__ or error.__context__
