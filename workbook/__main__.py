import signal
import sys

from .cli import main

# `python -m workbook progress | head` should stop quietly, as other commands do.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
sys.exit(main())
