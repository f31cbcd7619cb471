"""`netqos capture`: the long-running capture agent (rotate, spool, upload to the landing bucket)."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from netqos.cli.capture_settings import add_landing_args, load_settings


def register(sub: Any) -> None:
    p = sub.add_parser("capture", help="capture packets into rotated files and land them in S3/MinIO")
    p.add_argument("-i", "--interface", action="append", help="interface to capture on (repeatable)")
    p.add_argument("-f", "--filter", help="BPF capture filter")
    p.add_argument("-s", "--snaplen", type=int, help="bytes kept per packet")
    p.add_argument("--rotate-seconds", type=int, help="new file every N seconds (aligned to multiples of N)")
    p.add_argument("--rotate-mb", type=int, help="new file after N megabytes")
    p.add_argument("--format", choices=["pcapng", "pcap"], help="file format (default pcapng)")
    p.add_argument("--backend", choices=["dumpcap", "tcpdump", "scapy"], help="capture backend (default dumpcap)")
    p.add_argument("--monitor", action="store_true", default=None, help="802.11 monitor mode (radiotap)")
    p.add_argument("--quota-mb", type=int, help="spool size limit; the oldest files are evicted beyond it")
    p.add_argument("--concurrency", type=int, help="parallel uploads")
    p.add_argument("--no-upload", action="store_true", help="only spool (no landing bucket)")
    p.add_argument("--netns", help=argparse.SUPPRESS)  # tests: run the backend inside this network namespace
    add_landing_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from netqos.capture.agent import Agent
    from netqos.capture.upload import Landing
    from netqos.storage.s3 import s3_client

    settings = load_settings(args)
    if not settings.capture.interfaces:
        raise SystemExit(
            "netqos capture: no interface: pass -i IFACE or set capture.interfaces (NETQOS_CAPTURE__INTERFACES)"
        )
    landing = None
    if not args.no_upload:
        landing = Landing(
            s3_client(settings.s3), settings.s3.landing_bucket, settings.capture.prefix,
            retries=settings.capture.upload_retries,
        )  # fmt: skip
    agent = Agent(settings, landing, netns=args.netns)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logging.getLogger("netqos.capture").info(
        "capturing on %s with %s into %s", ",".join(settings.capture.interfaces), agent.backend.name,
        settings.capture.spool_dir,
    )  # fmt: skip
    return agent.run(stop)
