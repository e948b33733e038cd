"""docs/reliability.md is generated from the reliability tests' case registry and committed."""

from reliability_report import DOC, render


def test_reliability_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), \
        "docs/reliability.md is out of date: run `uv run python -m tests.reliability_report`"
