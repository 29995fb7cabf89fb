"""``python -m sync`` runs the ejournal CLI."""

import sys

from sync.cli.main import main

sys.exit(main())
