"""Per-sensor time ranges an incremental job recomputes, as Spark predicates that select or replace them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from pyspark.sql import Column
from pyspark.sql import functions as F

_NS_PER_DAY = 86_400 * 10**9


def range_predicate(start_ns: Mapping[str, int], ts_column: str, date_column: str | None = None) -> Column:
    """Rows of sensor s with ts_column >= start_ns[s] (OR over sensors; false when empty). With a date partition
    column the predicate also bounds it, so Delta prunes whole partitions."""
    terms = []
    for sensor, start in sorted(start_ns.items()):
        term = (F.col("sensor_id") == F.lit(sensor)) & (F.col(ts_column) >= F.lit(int(start)))
        if date_column:
            term &= F.col(date_column) >= F.date_from_unix_date(F.lit(int(start) // _NS_PER_DAY))
        terms.append(term)
    return reduce(lambda a, b: a | b, terms) if terms else F.lit(False)


def date_of_ns(column: str) -> Column:
    """UTC date of an epoch-ns column with integer arithmetic (independent of the session time zone)."""
    return F.expr(f"date_from_unix_date(CAST(({column} - pmod({column}, {_NS_PER_DAY})) div {_NS_PER_DAY} AS INT))")
