"""The one exception type the CLI turns into a one-line message and exit code 2."""


class BenchError(Exception):
    """Bad user input (names, YAML, budgets, files): the message says what is wrong and how
    to fix it. Raised before anything is written."""
