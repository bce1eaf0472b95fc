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


def test_doc_marks_what_facecue_leaves_to_the_operator():
    text = DOC.read_text()
    for warning in (
        "the operator must give the strictest applicable jurisdiction",  # the laws reach beyond the candidate's place
        "does not produce the LL144 summary",  # a bias-audit flag and a FairFace measurement are not LL144's audit
        "no emotion reading of anyone but the candidate is kept",
        "the interviewer's voice included",
        "*including its backups*",
        "Saint-Martin `MF`, and Åland `AX`",
    ):
        assert warning in text, warning
