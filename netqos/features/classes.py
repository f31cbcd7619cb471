"""Service classes (by well-known port of the flow) and DSCP class names (RFC 4594 / RFC 2597 / RFC 3246)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

OTHER, ICMP, L2 = "other", "icmp", "l2"


def service_names(service_ports: Mapping[str, tuple[int, ...]]) -> list[str]:
    """Class names by code: the configured ones, then other, icmp, l2."""
    return [*service_ports, OTHER, ICMP, L2]


def service_codes(
    service_ports: Mapping[str, tuple[int, ...]],
    is_ip: np.ndarray,
    proto: np.ndarray,
    responder_port: np.ndarray,
    initiator_port: np.ndarray,
) -> np.ndarray:
    """Class code per flow. The responder port decides; the initiator port only when the responder's is unknown
    (a flow whose first captured packet came from the server)."""
    names = service_names(service_ports)
    lut = np.full(65536, -1, np.int64)
    for c, ports in reversed(list(enumerate(service_ports.values()))):
        lut[list(ports)] = c
    ported = is_ip & ((proto == 6) | (proto == 17) | (proto == 132))
    by_resp = lut[np.clip(responder_port, 0, 65535)]
    by_init = lut[np.clip(initiator_port, 0, 65535)]
    code = np.where(by_resp >= 0, by_resp, by_init)
    code = np.where(ported & (code >= 0), code, names.index(OTHER))
    code = np.where(is_ip & ((proto == 1) | (proto == 58)), names.index(ICMP), code)
    return np.where(is_ip, code, names.index(L2))


def _dscp_names() -> list[str]:
    names = [f"dscp{v}" for v in range(64)]
    names[0] = "be"
    for cs in range(1, 8):
        names[cs * 8] = f"cs{cs}"
    for af in range(1, 5):
        for drop in range(1, 4):
            names[af * 8 + drop * 2] = f"af{af}{drop}"
    names[44] = "voice-admit"
    names[46] = "ef"
    names[1] = "le"  # RFC 8622 lower effort
    return names


DSCP_NAMES: list[str] = _dscp_names()
