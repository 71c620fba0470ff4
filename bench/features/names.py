"""The feature extractors' names, apart from the extractors (which load networks), so the
metric registry can check the names its metrics declare when it is imported."""

POINTS, DIGITS, DIGIT_LABELS, INCEPTION = "points", "digits", "digit_labels", "inception"
EXTRACTORS = (POINTS, DIGITS, DIGIT_LABELS, INCEPTION)
BEST = "best"
"""Inception when the run computes it, else the dataset's own extractor."""
