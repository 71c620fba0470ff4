"""Training a group of runs: the factory of its parts, the trainer, schedule,
optimizers, evaluator, checkpoints, speed-ups and the preflight memory estimates."""
