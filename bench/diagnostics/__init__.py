"""Critic diagnostics: the WGAN paper's Adam-vs-gradient cosine, weight pile-up at +-c, and the
WGAN-GP paper's deep-critic experiment (per-layer gradient norms, value surfaces)."""
