"""Reports: pure functions of the results store -> summary, tables, plots, report.md."""
