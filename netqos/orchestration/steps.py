"""Task bodies that are not Spark jobs. Each logs what it did; none reads the clock (data intervals only)."""

from __future__ import annotations

import logging

log = logging.getLogger("netqos.orchestration")


def score_windows(data_interval_start: str, data_interval_end: str) -> str:
    """Placeholder until the model issue lands a champion: says so plainly instead of pretending to score."""
    message = (
        f"no champion model is registered yet (issue 6): qos_windows {data_interval_start} .. {data_interval_end} "
        "are not scored"
    )
    log.info(message)
    return message


def train_models(data_interval_start: str, data_interval_end: str) -> str:
    message = (
        f"model training is not implemented yet (issue 6); would train on {data_interval_start} .. {data_interval_end}"
    )
    log.info(message)
    return message


def nightly_report(day: str) -> str:
    message = f"the nightly report is not implemented yet (issue 7); would report {day}"
    log.info(message)
    return message
