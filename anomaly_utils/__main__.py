"""Entry point of ``python -m anomaly_utils``."""

import sys

from .runner import main

sys.exit(main())
