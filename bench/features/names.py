"""The feature extractors' names, apart from the extractors (which load networks), so the
metric registry can check the names its metrics declare when it is imported."""

POINTS, DIGITS, DIGIT_LABELS, INCEPTION = "points", "digits", "digit_labels", "inception"
INCEPTION_LOGITS = "inception_logits"
"""The same Inception pass's 1008-way logits (no fc bias), for the Inception Score."""
EXTRACTORS = (POINTS, DIGITS, DIGIT_LABELS, INCEPTION, INCEPTION_LOGITS)
INCEPTION_PASS = (INCEPTION, INCEPTION_LOGITS)
"""Extractors served by one forward of the FID Inception network."""
BEST = "best"
"""Inception when the run computes it, else the dataset's own extractor."""
