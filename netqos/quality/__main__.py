"""python -m netqos.quality [DIR]: regenerate expectations/*.json from the TableSpecs and quality/rules.py."""

import sys
from pathlib import Path

from netqos.quality.suites import EXPECTATIONS_DIR, write_suites

for path in write_suites(Path(sys.argv[1]) if len(sys.argv) > 1 else EXPECTATIONS_DIR):
    print(path)
