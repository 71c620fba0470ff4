"""Benchmark harness: config, suites, data, training loop, budgets, metrics, store, reports."""
