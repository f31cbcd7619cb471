"""Grouped Arrow UDFs for `GroupedData.applyInArrow`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def grouped_arrow_udf(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """fn(table, **kwargs) as a one-argument function without annotations.

    PySpark 4.2 infers the UDF kind from type hints and fails with UnboundLocalError on functools.partial
    objects and on hints it cannot resolve; a function without annotations takes the plain Table -> Table path.
    """

    def call(table):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        return fn(table, **kwargs)

    return call


def conform(table: Any, schema: Any) -> Any:
    """Arrow table -> exactly the Arrow schema Spark expects for `schema` (a StructType): order and types."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    target = to_arrow_schema(schema, timezone="UTC")
    return pa.Table.from_arrays([table.column(f.name).cast(f.type) for f in target], schema=target)
