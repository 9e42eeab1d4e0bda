import sys

from isc_emulator.cli import main

sys.exit(main())
