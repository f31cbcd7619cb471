"""netqos: batch analytics and MLOps for network traffic and QoS anomaly detection."""

__version__ = "0.1.0"
