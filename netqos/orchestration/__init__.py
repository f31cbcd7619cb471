"""What the Airflow DAGs call: shared DAG arguments, Spark job tasks and task bodies. Imported at DAG parse time,
so nothing here may import Spark, pandas, NumPy or GX at module level."""
