"""spark-submit entry point; the job itself is netqos.jobs.qos_windows (importable, tested).

python jobs/spark/qos_windows.py [--warehouse ./warehouse]
spark-submit --jars "$(ls ~/.cache/netqos/jars/*.jar | paste -sd,)" jobs/spark/qos_windows.py
"""

import sys

from netqos.jobs.qos_windows import main

if __name__ == "__main__":
    sys.exit(main())
