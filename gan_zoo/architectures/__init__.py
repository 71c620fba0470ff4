"""Generator and critic architectures, separate from losses, constraints and recipes."""
