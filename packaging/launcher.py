"""Entry point of the frozen (PyInstaller) app: the same `photoclip` command, GUI by default."""

import multiprocessing
import sys

from photoclip.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
