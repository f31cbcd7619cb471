"""The nightly QoS report (docs/reports.md): one UTC day of the lake as HTML (charts embedded), CSV and JSON.

collect (Spark → ReportData) → render (HTML/CSV/JSON, no Spark) → publish (local folder, index page, S3 bucket).
"""
