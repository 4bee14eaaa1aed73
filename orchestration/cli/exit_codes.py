"""Exit codes shared by `run`, `demo`, `gate` and `score`: CI can tell a blocked release from a broken run."""

from enum import IntEnum


class ExitCode(IntEnum):
    #: The gate passed or warned (or the command did its job).
    OK = 0
    #: The gate blocked the release.
    BLOCKED = 1
    #: Usage or data error: a bad flag, a missing database, an unknown version, an unreadable input.
    USAGE = 2
    #: The simulation is incomplete: a run failed, or the candidate answered too few prefixes (ERROR).
    INCOMPLETE = 3
