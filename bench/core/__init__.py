"""Core values of the harness: errors, validators, atomic writes, the result schema,
the frozen specs and hyperparameters, the machine environment. The lowest layer of bench."""
