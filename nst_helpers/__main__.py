"""``python -m nst_helpers``: the command line (see ``cli.py``)."""

import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still loading: no traceback
    print("nst_helpers: interrupted while starting; nothing was written", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
