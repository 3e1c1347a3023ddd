"""`python -m oracle_wms_sim serve ...`."""

import sys

from .cli import main

sys.exit(main())
