"""docs/claims.md's paper references are the code's (bench/analysis/references.py, held by
CLAIMS): the claims table at the top of the page and the table of every experiment of the two
papers cite each claim's section and figure exactly as its Reference labels them."""

from pathlib import Path

import pytest

from bench.analysis.claims import CLAIMS
from bench.analysis.references import WGAN, WGAN_GP, Reference

CLAIMS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "claims.md"
LABELS = {claim.id: claim.reference.label for claim in CLAIMS}


def table_after(text: str, heading: str) -> list[dict[str, str]]:
    """The first Markdown table after the line ``heading``, one dict per row by header."""
    lines = text.splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    header, _, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def experiment_labels(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Each claim's experiment labels (the text before ': '); rows whose claim cell is '-'
    (drawn, judged by no claim) name none."""
    labels: dict[str, list[str]] = {}
    for row in rows:
        if not row["claim #"].startswith("-"):
            labels.setdefault(row["claim #"], []).append(row["experiment"].split(": ", 1)[0])
    return labels


def test_the_claims_table_cites_each_claims_reference():
    rows = table_after(CLAIMS_PAGE.read_text(), "# Claims, verdicts and statistics")
    assert {row["#"]: row["paper"] for row in rows} == LABELS
    assert len(rows) == len(CLAIMS)


def test_the_experiments_table_names_each_claim_once_as_the_code_does():
    rows = table_after(CLAIMS_PAGE.read_text(), "## Every experiment of the two papers")
    assert experiment_labels(rows) == {id_: [label] for id_, label in LABELS.items()}


def test_a_wrong_figure_in_the_experiments_table_is_seen():
    """Claim 4 cited with WGAN-GP's architectures figure (Fig. 2) instead of Fig. 3."""
    rows = [{"experiment": "WGAN-GP Sec. 5.3, Fig. 2: GP vs clipping", "claim #": "4"},
            {"experiment": "WGAN-GP Sec. 3.1, Fig. 1a: value surfaces", "claim #": "- (plot)"}]
    assert experiment_labels(rows) == {"4": ["WGAN-GP Sec. 5.3, Fig. 2"]}
    assert experiment_labels(rows)["4"] != [LABELS["4"]]


@pytest.mark.parametrize(("reference", "label"), [
    (Reference(WGAN, "4.2", "", "a remark"), "WGAN Sec. 4.2"),
    (Reference(WGAN_GP, "5.1", "Table 2", "a table"), "WGAN-GP Sec. 5.1, Table 2"),
])
def test_label_is_paper_section_and_item(reference, label):
    assert reference.label == label
    assert reference.citation.startswith(f"{label} (") and reference.paper.source in (
        reference.citation)
