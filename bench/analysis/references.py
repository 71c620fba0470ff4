"""Where in the two papers each claim comes from: paper, section, figure or table, and the
sentence it restates, as read in the papers' text (WGAN: arXiv 1701.07875; WGAN-GP:
arXiv 1704.00028v3). A claim (bench.analysis.claims) holds one Reference; docs/claims.md's
and experiments tables are checked against them (tests/test_paper_references.py)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    name: str
    """How the claims tables (docs/claims.md) name it: 'WGAN', 'WGAN-GP'."""
    source: str
    """Authors, year and arXiv identifier."""


WGAN = Paper("WGAN", "Arjovsky, Chintala and Bottou 2017, arXiv:1701.07875")
WGAN_GP = Paper("WGAN-GP", "Gulrajani et al. 2017, arXiv:1704.00028v3")


@dataclass(frozen=True)
class Reference:
    paper: Paper
    section: str
    """The section number, '4.2'."""
    item: str
    """The figure, table or example, '' for a remark in the text: 'Figs. 3, 4', 'Table 2'."""
    quote: str
    """The paper's sentence that the claim restates."""
    setting: str = ""
    """The paper's setting, where ours differs from it."""

    @property
    def label(self) -> str:
        """'WGAN Sec. 4.2, Figs. 3, 4': the paper column of docs/claims.md's tables."""
        return ", ".join(filter(None, (f"{self.paper.name} Sec. {self.section}", self.item)))

    @property
    def citation(self) -> str:
        """The label with the paper's source: claims.csv's and report.md's paper column."""
        return f"{self.label} ({self.paper.source})"
