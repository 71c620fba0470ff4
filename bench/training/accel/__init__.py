"""Optional speed-ups of the training loop: torch.compile, whole-iteration CUDA graphs,
channels_last and the fused MLP step, each chosen per group and each falling back to eager
PyTorch (autograd) where it does not apply or fails."""

MODES = ("auto", "on", "off")
"""How each speed-up is requested (``--compile``, ``--cuda-graphs``, ``--channels-last``,
``--fused``). Kept here, free of torch imports, so the CLI can name the choices without
loading torch."""
