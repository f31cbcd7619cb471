"""Alerts on QoS KPIs and model anomalies: decisions (engine), texts (messages), delivery (notifiers).

The Spark job is netqos.jobs.alerts; the rows land in the Delta table `alerts`; docs/alerts.md explains it all.
"""
