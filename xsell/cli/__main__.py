"""``python -m xsell.cli``: the same as the ``xsell`` command."""

import sys

from xsell.cli.main import main

sys.exit(main())
