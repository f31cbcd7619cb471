"""spark-submit entry point; the job itself is netqos.jobs.parse_pcaps (importable, tested).

python jobs/spark/parse_pcaps.py /captures/*.pcap --sensor edge-1 [--warehouse ./warehouse]
spark-submit --jars "$(ls ~/.cache/netqos/jars/*.jar | paste -sd,)" jobs/spark/parse_pcaps.py ...
"""

import sys

from netqos.jobs.parse_pcaps import main

if __name__ == "__main__":
    sys.exit(main())
