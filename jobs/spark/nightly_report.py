"""spark-submit entry point; the job itself is netqos.jobs.nightly_report (importable, tested).

python jobs/spark/nightly_report.py --date 2026-11-26 [--sensor S] [--warehouse ./warehouse]
"""

import sys

from netqos.jobs.nightly_report import main

if __name__ == "__main__":
    sys.exit(main())
