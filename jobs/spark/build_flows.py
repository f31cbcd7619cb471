"""spark-submit entry point; the job itself is netqos.jobs.build_flows (importable, tested).

python jobs/spark/build_flows.py [--warehouse ./warehouse]
spark-submit --jars "$(ls ~/.cache/netqos/jars/*.jar | paste -sd,)" jobs/spark/build_flows.py
"""

import sys

from netqos.jobs.build_flows import main

if __name__ == "__main__":
    sys.exit(main())
