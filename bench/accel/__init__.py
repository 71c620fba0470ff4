"""Optional speed-ups of the training loop: torch.compile, whole-iteration CUDA graphs and
channels_last, each chosen per group and each falling back to eager PyTorch where it does
not apply or fails."""
