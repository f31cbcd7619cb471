"""Run a suite on a DataFrame with an ephemeral GX 1.x context (nothing written to disk; Data Docs are separate)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.data_context.data_context.abstract_data_context import AbstractDataContext

SPARK_ONLY = "expect_column_values_to_be_of_type"
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


def ephemeral_context() -> AbstractDataContext:
    """In-memory stores, no analytics, no progress bars, and no default Data Docs site (GX 1.x adds one in a temp
    dir and would render into it on every build)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def is_pandas(df: Any) -> bool:
    """pandas DataFrame (unit tests) rather than Spark; checked without importing pandas."""
    return type(df).__module__.split(".")[0] == "pandas"


def run_suite(df: Any, suite_dict: dict[str, Any], *, parameters: dict[str, Any], run_name: str) -> dict[str, Any]:
    """Validate df (Spark, or pandas for fast unit tests) against a suite dict; returns the GX result as JSON.

    On pandas the Spark type checks (expect_column_values_to_be_of_type with pyspark class names) are left out."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    from netqos.quality.suites import suite_from_dict

    pandas = is_pandas(df)
    if pandas:
        suite_dict = {
            **suite_dict,
            "expectations": [e for e in suite_dict["expectations"] if e["type"] != SPARK_ONLY],
        }
    ctx = ephemeral_context()
    suite = ctx.suites.add(suite_from_dict(suite_dict))
    source = ctx.data_sources.add_pandas("pandas") if pandas else ctx.data_sources.add_spark("spark")
    batch = source.add_dataframe_asset(name=suite.name).add_batch_definition_whole_dataframe("batch")
    definition = ctx.validation_definitions.add(gx.ValidationDefinition(name=suite.name, data=batch, suite=suite))
    result = definition.run(
        batch_parameters={"dataframe": df},
        expectation_parameters=parameters,
        result_format=RESULT_FORMAT,
        run_id=RunIdentifier(run_name=run_name),
    )
    out: dict[str, Any] = result.to_json_dict()  # type: ignore[no-untyped-call]
    return out
