"""Analyses of a finished suite that test the papers' claims: correlations, comparisons
over seeds, optimizer tables, and the claims report."""
