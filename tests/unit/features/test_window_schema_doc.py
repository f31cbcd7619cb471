from pathlib import Path

import pytest

from netqos.features.schema_doc import render_markdown

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[3] / "docs" / "schema"


@pytest.mark.parametrize("which", ["qos_windows", "tcp_analysis"])
def test_schema_doc_is_current(which: str) -> None:
    regenerate = f"python -m netqos.features.schema_doc {which} > docs/schema/{which}.md"
    assert (DOCS / f"{which}.md").read_text() == render_markdown(which), f"docs are stale; regenerate: {regenerate}"
