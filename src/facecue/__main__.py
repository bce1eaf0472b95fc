"""`python -m facecue`: the same command line as `facecue`."""

import sys

from facecue.cli import main

sys.exit(main())
