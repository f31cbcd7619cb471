"""spark-submit entry point; the job itself is netqos.jobs.score_windows (importable, tested).

python jobs/spark/score_windows.py [--warehouse ./warehouse]
spark-submit --jars "$(ls ~/.cache/netqos/jars/*.jar | paste -sd,)" jobs/spark/score_windows.py
"""

import sys

from netqos.jobs.score_windows import main

if __name__ == "__main__":
    sys.exit(main())
