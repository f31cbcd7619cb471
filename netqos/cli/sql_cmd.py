"""`netqos sql`: Spark SQL on the netqos catalog, the project's spark-sql shell, the Thrift server (docs/queries.md).

netqos sql "SELECT src_addr, sum(bytes) FROM netqos.flows GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
netqos sql --file q.sql --format csv > answer.csv
netqos sql --shell [-- SPARK_SQL_ARGS...]      # bin/spark-sql with the project's confs
netqos sql --thrift start|status|stop [--port N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

FORMATS = ("table", "csv", "json")  # netqos.sql.query.FORMATS, without importing it at start-up


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sql",
        help="run Spark SQL against the netqos catalog; --shell: spark-sql; --thrift: the JDBC server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "sql",
        nargs="*",
        help="SQL text (statements separated by ;), '-' for stdin; with --shell: arguments for spark-sql (after --)",
    )
    p.add_argument("-f", "--file", type=Path, help="read the SQL from this file")
    p.add_argument("--format", choices=FORMATS, default="table", help="table (default), csv or json on stdout")
    p.add_argument("--max-rows", type=int, default=1000, help="rows fetched per statement (default 1000)")
    p.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--shell", action="store_true", help="start pyspark's spark-sql shell configured by netqos")
    mode.add_argument(
        "--thrift",
        choices=("start", "stop", "status"),
        help="the Spark Thrift Server on 127.0.0.1 (JDBC: jdbc:hive2://127.0.0.1:PORT/netqos)",
    )
    p.add_argument("--port", type=int, help="Thrift server port (default: lake.thrift_port, 10000)")
    p.set_defaults(run=run)


def _settings(args: argparse.Namespace) -> Any:
    from netqos.jobs.job_args import settings_from_args
    from netqos.settings import get_settings

    return settings_from_args(args, get_settings())


def run(args: argparse.Namespace) -> int:
    if args.thrift:
        return thrift(args)
    if args.shell:
        from netqos.sql.launch import exec_spark_sql

        exec_spark_sql(_settings(args), list(args.sql))
        return 0  # not reached: exec replaced this process
    return query(args)


def _sql_text(args: argparse.Namespace) -> str | None:
    if args.file is not None:
        if args.sql:
            return None
        return str(args.file.read_text())
    if args.sql == ["-"]:
        return sys.stdin.read()
    return " ".join(args.sql)


def query(args: argparse.Namespace) -> int:
    text = _sql_text(args)
    if text is None or not text.strip():
        print("netqos sql: give SQL text, --file FILE or '-' (stdin); see `netqos sql --help`", file=sys.stderr)
        return 2
    from rich.console import Console

    from netqos.jars import JarsMissingError
    from netqos.spark.session import build_spark
    from netqos.sql.query import MissingTableError, QueryError, is_derby_locked, print_answers, run_statements

    settings = _settings(args)
    _quiet_python_loggers()
    err = Console(stderr=True, soft_wrap=True)
    try:
        spark = build_spark(settings, app_name="netqos-sql")
    except JarsMissingError as e:
        err.print(f"[red]{e}[/red]")
        return 2
    try:
        answers = run_statements(spark, text, settings, max_rows=args.max_rows)
    except (MissingTableError, QueryError) as e:
        err.print(f"netqos sql: {e}", style="red", markup=False, highlight=False)
        return 2
    except Exception as e:
        if is_derby_locked(e):
            err.print(
                "[red]the embedded Derby metastore is open in another Spark process (a job, a shell or "
                "`netqos sql --thrift`): stop it, or configure a PostgreSQL metastore (docs/queries.md)[/red]"
            )
            return 2
        raise
    finally:
        spark.stop()
    out = Console(width=200 if not sys.stdout.isatty() else None, soft_wrap=args.format != "table")
    print_answers(answers, args.format, out)
    return 0


def _quiet_python_loggers() -> None:
    """The answer (or one clear error) is the output: no py4j chatter, no JSON dump of an AnalysisException."""
    import logging

    from pyspark.logger import PySparkLogger

    logging.getLogger("py4j").setLevel(logging.WARNING)
    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)


def thrift(args: argparse.Namespace) -> int:
    from netqos.sql import thrift as server

    settings = _settings(args)
    if args.thrift == "status":
        state, line = server.status(settings)
        print(line)
        return 0 if state is not None else 3
    if args.thrift == "stop":
        stopped = server.stop(settings)
        print("stopped" if stopped else "not running")
        return 0
    from netqos.jars import JarsMissingError

    try:
        state = server.start(settings, port=args.port)
    except (server.ThriftError, JarsMissingError) as e:
        print(f"netqos sql --thrift start: {e}", file=sys.stderr)
        return 1
    print(f"Thrift server running: pid {state.pid}, {state.jdbc_url(settings.lake.database)} (log {state.log})")
    if settings.lake.metastore_url is None:
        print("embedded Derby metastore: other Spark processes cannot open the catalog while it runs")
    return 0
