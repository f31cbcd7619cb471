"""spark-submit entry point; the job itself is netqos.jobs.maintenance (importable, tested).

python jobs/spark/maintenance.py [--as-of 2026-11-27T00:00:00+00:00] [--warehouse ./warehouse]
"""

import sys

from netqos.jobs.maintenance import main

if __name__ == "__main__":
    sys.exit(main())
