"""Side-by-side performance measurements: the reference loop and the comparison."""
