"""``python -m aiocognito.cli``: the same as the ``aiocognito`` console script."""

import sys

from . import main

sys.exit(main())
