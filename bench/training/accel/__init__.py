"""Optional speed-ups of the training loop: torch.compile, whole-iteration CUDA graphs and
channels_last, each chosen per group and each falling back to eager PyTorch where it does
not apply or fails."""

MODES = ("auto", "on", "off")
"""How each speed-up is requested (``--compile``, ``--cuda-graphs``, ``--channels-last``).
Kept here, free of torch imports, so the CLI can name the choices without loading torch."""
