"""`python -m vigil` is the `vigil` command."""
import sys

from vigil.cli import main

sys.exit(main())
