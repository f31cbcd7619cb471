"""spark-submit entry point of the ingest DAG's Spark task: parse → flows → QoS windows in one session
(netqos.jobs.ingest). Same arguments as parse_pcaps.py.

spark-submit --jars "$(ls ~/.cache/netqos/jars/*.jar | paste -sd,)" jobs/spark/ingest.py s3://netqos-landing/ ...
"""

import sys

from netqos.jobs.ingest import main

if __name__ == "__main__":
    sys.exit(main())
