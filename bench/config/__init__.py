"""Suites: YAML -> SuiteConfig -> RunSpecs, and a suite's search space."""
