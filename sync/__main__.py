"""``python -m sync`` runs the ejournal CLI."""

import sys

from sync.cli import main

sys.exit(main())
