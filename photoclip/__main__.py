"""`python -m photoclip` runs the same entry point as the `photoclip` command."""

import sys

from photoclip.cli import main

sys.exit(main())
