"""`netqos inspect`: from an anomaly, a flow id or a time range to the packets behind it (docs/inspect.md).

lake.py      which packets (Spark over packets / tcp_analysis / flows / anomalies / ingest_ledger)
fetch.py     the raw captures from the landing zone (local or S3), sha256-verified, S3 downloads cached
cut.py       a pcap of exactly those frames (records copied byte for byte), merged in time order
dissect.py   tshark: summary lines or the full tree, and an application-protocol label per flow
drilldown.py the steps after the lake: fetch, cut, label, the flow table
"""
