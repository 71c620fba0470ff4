"""The feature extractors' names, apart from the extractors (which load networks), so the
metric declarations can check the names they give without torch."""

POINTS, DIGITS, DIGIT_LABELS, INCEPTION = "points", "digits", "digit_labels", "inception"
INCEPTION_LOGITS = "inception_logits"
"""The FID Inception network's 1008-way logits (no fc bias) of 8-bit images resized as
torch-fidelity resizes them, for the Inception Score."""
EXTRACTORS = (POINTS, DIGITS, DIGIT_LABELS, INCEPTION, INCEPTION_LOGITS)
INCEPTION_NETWORK = (INCEPTION, INCEPTION_LOGITS)
"""Extractors that need the FID Inception network."""
BEST = "best"
"""Inception when the run computes it, else the dataset's own extractor."""
