"""spark-submit entry point; the job itself is netqos.jobs.alerts (importable, tested).

python jobs/spark/alerts.py [--since 2026-11-27T10:00:00Z] [--until ...] [--run-id R] [--dry-run] [--warehouse W]
spark-submit --jars "$(ls ~/.cache/netqos/jars/*.jar | paste -sd,)" jobs/spark/alerts.py --since ... --run-id ...
"""

import sys

from netqos.jobs.alerts import main

if __name__ == "__main__":
    sys.exit(main())
