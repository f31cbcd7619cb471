"""spark-submit entry point; the job itself is netqos.jobs.train_models (importable, tested).

python jobs/spark/train_models.py [--warehouse ./warehouse]
spark-submit --jars "$(ls ~/.cache/netqos/jars/*.jar | paste -sd,)" jobs/spark/train_models.py
"""

import sys

from netqos.jobs.train_models import main

if __name__ == "__main__":
    sys.exit(main())
