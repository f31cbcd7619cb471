"""Metrics (Prometheus text / Pushgateway / HTTP) and structured logs for the jobs and the capture agent.

docs/observability.md: what is exported, where it goes in each deployment, and the Grafana dashboards that read it.
"""
