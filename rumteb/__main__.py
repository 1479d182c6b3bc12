"""``python -m rumteb`` (and ``torchrun -m rumteb``) runs the ``rumteb`` command line."""

import sys

from rumteb.cli import main

sys.exit(main())
