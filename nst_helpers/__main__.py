"""``python -m nst_helpers``: the command line (see ``cli.py``)."""

import signal
import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still loading: no traceback
    print("nst_helpers: interrupted while starting; nothing was written", file=sys.stderr)
    sys.exit(130)

status = 130
try:
    status = main()
    # the run is over: a Ctrl-C while Python shuts down must not print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
except KeyboardInterrupt:  # in the instant between the run's end and the lines above
    pass
sys.exit(status)
