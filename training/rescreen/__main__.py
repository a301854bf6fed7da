"""Entry point: `spark-submit training/rescreen/__main__.py ...`, `python -m training.rescreen`.

The job's functions are imported from the package, never defined here: Spark pickles
functions of `__main__` by value, which would give each task its own empty model holder.
"""

import sys

from training.rescreen.cli import main

if __name__ == "__main__":
    sys.exit(main())
