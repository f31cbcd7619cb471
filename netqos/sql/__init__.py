"""Spark SQL access to the netqos catalog: `netqos sql` queries, the project's `spark-sql` shell and the Spark Thrift
Server for JDBC/BI tools (docs/queries.md). Nothing here starts Spark at import."""
