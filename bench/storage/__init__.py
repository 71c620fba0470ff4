"""Results folders: the store, one loader per file, manifests, the driver lock,
rounds.json, provenance, and the side experiments' output files."""
