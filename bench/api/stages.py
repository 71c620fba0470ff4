"""Stage lines on stderr while a long command works: no silent minute."""

import sys
from collections.abc import Callable


def stage_printer(command: str, show: bool = True) -> Callable[[str], None] | None:
    """Prints "``command``: stage" on stderr for each stage it hears; None when not ``show``."""
    if not show:
        return None
    return lambda stage: print(f"{command}: {stage}", file=sys.stderr, flush=True)
