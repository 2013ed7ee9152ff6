import os
import sys

# `python -m conclint` puts the working directory first on sys.path; a linted tree's
# own `libcst.py` or `pathspec.py` must never be imported in place of ours.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from conclint.cli import main

raise SystemExit(main())
