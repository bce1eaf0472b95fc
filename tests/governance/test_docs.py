"""docs/RESPONSIBLE_USE.md carries the policy table exactly as the code defines it."""

from __future__ import annotations

import re
from pathlib import Path

from facecue.governance.policy import POLICY_VERSION, markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "RESPONSIBLE_USE.md"


def test_doc_table_matches_the_code():
    text = DOC.read_text()
    found = re.search(r"<!-- policy-table:begin[^>]*-->\n(.*?)<!-- policy-table:end -->", text, re.DOTALL)
    assert found, "the policy-table markers are missing from docs/RESPONSIBLE_USE.md"
    assert found.group(1) == markdown_table(), (
        "docs/RESPONSIBLE_USE.md is out of date: paste the output of python -c 'from facecue.governance.policy "
        'import markdown_table; print(markdown_table(), end="")\' between its policy-table markers'
    )
    assert f"Policy version {POLICY_VERSION}." in found.group(1)


def test_doc_cites_the_legal_bases():
    text = DOC.read_text()
    for citation in ("Art. 5(1)(f)", "Recital 44", "820 ILCS 42", "42/15", "Local Law 144", "intersectional"):
        assert citation in text
