"""``python -m rumteb.cli`` (what ``torchrun -m rumteb.cli train`` and ``accelerate launch -m rumteb.cli`` run)."""

import sys

from rumteb.cli import main

sys.exit(main())
