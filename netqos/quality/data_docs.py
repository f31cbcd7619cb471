"""Static HTML Data Docs of validation outcomes, rendered by GX's own SiteBuilder.

Site: <settings.lake.warehouse_dir>/../data_docs (beside the warehouse, so a report of that lake can link to it);
pages: index.html, expectations/<table>.html, validations/<table>/<run_id>/<time>/<batch>.html.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from netqos.quality.outcome import ValidationOutcome
from netqos.quality.suites import load_suite
from netqos.settings import Settings

SITE_NAME = "netqos"


def data_docs_dir(settings: Settings) -> Path:
    return settings.lake.warehouse_dir.parent / "data_docs"


def build_data_docs(outcomes: Sequence[ValidationOutcome], settings: Settings) -> Path:
    """Render the outcomes (and the suites they used) into the site; returns the index.html path.

    Pages of earlier builds stay on disk; the index lists the suites and the validations of this build."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from netqos.quality.gx_runner import ephemeral_context

    site = data_docs_dir(settings)
    site.mkdir(parents=True, exist_ok=True)
    ctx = ephemeral_context()
    ctx.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for table in dict.fromkeys(o.table for o in outcomes):
        ctx.suites.add(load_suite(table, settings.quality.expectations_dir))
    schema = ExpectationSuiteValidationResultSchema()
    for o in outcomes:
        result = schema.load(_loadable(o.gx_result))
        batch_id = str(_batch_id(o.gx_result))
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=o.table),
            run_id=result.meta.get("run_id"),
            batch_identifier=batch_id,
        )
        ctx.validation_results_store.set(key, result)
    ctx.build_data_docs(site_names=[SITE_NAME])
    return site / "index.html"


def _loadable(gx_result: dict[str, Any]) -> dict[str, Any]:
    """to_json_dict() output minus the fields the load schema rejects."""
    data = dict(gx_result)
    data.pop("id", None)
    data.pop("result_url", None)
    return data


def _batch_id(gx_result: dict[str, Any]) -> Any:
    for r in gx_result.get("results", []):
        batch_id = r.get("expectation_config", {}).get("kwargs", {}).get("batch_id")
        if batch_id:
            return batch_id
    return "batch"
