"""Exit codes of the client commands, for scripts: 0 done; 1 a waited job ended Failed or Cancel;
2 bad usage; 3 the server answered an error; 4 the server could not be reached; 5 ``jobs wait`` timed out."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from wanxiang.cli_client.http import Client

OK, JOB_FAILED, USAGE, API_ERROR, UNREACHABLE, TIMED_OUT = 0, 1, 2, 3, 4, 5
Run = Callable[[Client, argparse.Namespace], int]
