"""The lab's traffic programs, one role per network namespace: `python -m netqos.lab.traffic ROLE ...`.

    server  bulk TCP (5001), request/response TCP (5002), DNS-like UDP (5353), RTP sink (UDP 5004)
    client  bulk downloads, request/response sessions with think times, DNS-like queries, RTP-like stream
    relay   (router) forwards the RTP-like stream client -> server, adding delay/jitter/drops

Impairments that live in these programs (relay: latency/jitter/loss; server: slow_server) are switched by the
lab runner through a small JSON control file per role, re-read when it changes; the kernel here has no netem,
so user space is the only place to add per-packet delay. Every role prints "ready" once its sockets are bound,
runs for --duration seconds (or until SIGTERM) and uses a seeded RNG, so timings follow the run's seed.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import os
import random
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BULK_PORT, RR_PORT, DNS_PORT, RTP_PORT = 5001, 5002, 5353, 5004
RTP_HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC: 12 bytes
NAMES = ("api", "cdn", "mail", "db", "auth", "img", "static", "search", "video", "chat")
_CHUNK = b"\xa5" * 65536
stop = threading.Event()


class Control:
    """The runner's switches for this role: a JSON object in a file, re-read when its mtime changes."""

    def __init__(self, path: Path | None) -> None:
        self.path, self._mtime = path, 0
        self.values: dict[str, Any] = {}
        if path is not None:
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        assert self.path is not None
        while not stop.is_set():
            try:
                mtime = self.path.stat().st_mtime_ns
                if mtime != self._mtime:
                    self.values, self._mtime = json.loads(self.path.read_text()), mtime
            except (OSError, ValueError):
                pass  # not written yet, or mid-replace: keep the last values
            stop.wait(0.05)

    def get(self, key: str, default: float = 0.0) -> float:
        return float(self.values.get(key, default))


def _loop(fn: Callable[[], None], pause_on_error_s: float = 0.5) -> None:
    """Run fn until stop; network errors (an outage, a reset) are part of the lab, not a reason to quit."""
    while not stop.is_set():
        try:
            fn()
        except OSError:
            stop.wait(pause_on_error_s)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(min(65536, n - len(buf)))
        if not data:
            raise ConnectionError("closed early")
        buf += data
    return bytes(buf)


# -- server ---------------------------------------------------------------------------------------------------


def serve(control: Control) -> None:
    class Bulk(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            # "GET <bytes>\n": a download; the client closes when it has them all.
            line = self.request.makefile("rb").readline(64)
            left = int(line.split()[1])
            while left > 0 and not stop.is_set():
                n = min(left, len(_CHUNK))
                self.request.sendall(_CHUNK[:n])
                left -= n

    class RequestResponse(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            # Request: response size + padding length (8 bytes) + padding. slow_server delays each answer.
            while not stop.is_set():
                head = self.request.recv(8, socket.MSG_WAITALL)
                if len(head) < 8:
                    return
                size, pad = struct.unpack("!II", head)
                _recv_exact(self.request, pad)
                delay = control.get("response_delay_ms") / 1000
                if delay:
                    time.sleep(delay)
                self.request.sendall(_CHUNK[: min(size, len(_CHUNK))])

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    servers = [
        socketserver.ThreadingTCPServer(("0.0.0.0", p), h) for p, h in ((BULK_PORT, Bulk), (RR_PORT, RequestResponse))
    ]
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("0.0.0.0", DNS_PORT))
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("0.0.0.0", RTP_PORT))  # bound, so the stream is not answered with ICMP port unreachable
    for srv in servers:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def answer_dns() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([dns, sink], [], [], 0.2)
            for s in ready:
                data, peer = s.recvfrom(2048)
                if s is dns and len(data) >= 12:
                    # Same id and question, QR=1, one A record pointing into the lab's own range.
                    answer = struct.pack("!HHHHHH", struct.unpack("!H", data[:2])[0], 0x8180, 1, 1, 0, 0)
                    answer += data[12:] + struct.pack("!HHHIH4s", 0xC00C, 1, 1, 60, 4, bytes([10, 203, 255, 1]))
                    dns.sendto(answer, peer)

    threading.Thread(target=answer_dns, daemon=True).start()
    print("ready", flush=True)
    stop.wait()
    for srv in servers:
        srv.shutdown()


# -- client ---------------------------------------------------------------------------------------------------


def client(args: argparse.Namespace, rng: random.Random) -> None:
    server, relay = args.server, args.relay
    seeds = [rng.randrange(1 << 30) for _ in range(4)]  # one RNG per thread: threads interleave freely

    def bulk(r: random.Random) -> None:
        stop.wait(r.expovariate(1 / args.bulk_every))
        size = int(r.uniform(args.bulk_min_mb, args.bulk_max_mb) * 1e6)
        with socket.create_connection((server, BULK_PORT), timeout=5) as s:
            s.settimeout(30)
            s.sendall(b"GET %d\n" % size)
            _recv_exact(s, size)

    def request_response(r: random.Random) -> None:
        with socket.create_connection((server, RR_PORT), timeout=5) as s:
            s.settimeout(10)
            for _ in range(r.randint(args.rr_min, args.rr_max)):
                size, pad = r.randint(200, 20000), r.randint(50, 600)
                s.sendall(struct.pack("!II", size, pad) + _CHUNK[:pad])
                _recv_exact(s, size)
                if stop.wait(r.expovariate(1 / args.rr_think)):
                    return
        stop.wait(r.uniform(0.2, 1.0))

    def dns_queries(r: random.Random) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1.0)
            while not stop.wait(r.expovariate(1 / args.dns_every)):
                qname = b"".join(bytes([len(x)]) + x for x in (r.choice(NAMES).encode(), b"lab", b"netqos")) + b"\0"
                s.sendto(struct.pack("!HHHHHH", r.randrange(65536), 0x0100, 1, 0, 0, 0) + qname + b"\0\x01\0\x01",
                         (server, DNS_PORT))  # fmt: skip
                with contextlib.suppress(TimeoutError):  # a lost query is what the lab is for; the next goes out
                    s.recv(2048)

    def rtp(r: random.Random) -> None:
        # Constant rate, paced on a monotonic schedule (no drift); sent to the relay on the router.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("0.0.0.0", RTP_PORT))
            ssrc, seq, ts = r.randrange(1 << 32), r.randrange(65536), r.randrange(1 << 32)
            interval, samples = 1.0 / args.rtp_pps, 8000 // args.rtp_pps
            payload = bytes(r.randrange(256) for _ in range(args.rtp_payload - RTP_HEADER.size))
            t = time.monotonic()
            while not stop.is_set():
                with contextlib.suppress(OSError):  # link down: the packet is lost, the stream goes on
                    s.sendto(RTP_HEADER.pack(0x80, 0, seq, ts, ssrc) + payload, (relay, RTP_PORT))
                seq, ts = (seq + 1) & 0xFFFF, (ts + samples) & 0xFFFFFFFF
                t += interval
                stop.wait(max(0.0, t - time.monotonic()))

    for fn, seed in zip((bulk, request_response, dns_queries), seeds, strict=False):
        r = random.Random(seed)
        threading.Thread(target=_loop, args=(lambda fn=fn, r=r: fn(r),), daemon=True).start()
    threading.Thread(target=rtp, args=(random.Random(seeds[3]),), daemon=True).start()
    print("ready", flush=True)
    stop.wait()


# -- relay (router) -------------------------------------------------------------------------------------------


def relay(args: argparse.Namespace, control: Control, rng: random.Random) -> None:
    inbound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inbound.bind((args.listen, RTP_PORT))
    outbound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    outbound.bind((args.source, RTP_PORT))
    due: list[tuple[float, int, bytes]] = []  # (send time, arrival order, datagram)
    n = 0
    print("ready", flush=True)
    while not stop.is_set():
        now = time.monotonic()
        while due and due[0][0] <= now:
            with contextlib.suppress(OSError):  # server side down: the relay drops, as a router would
                outbound.sendto(heapq.heappop(due)[2], (args.server, RTP_PORT))
        timeout = min(0.2, max(0.0, due[0][0] - now)) if due else 0.2
        ready, _, _ = select.select([inbound], [], [], timeout)
        if not ready:
            continue
        data = inbound.recv(4096)
        if rng.random() < control.get("drop_probability"):
            continue
        # Jitter as a uniform extra delay per packet: later packets may overtake earlier ones, as on a real path.
        delay = control.get("delay_ms") + rng.uniform(0.0, control.get("jitter_ms"))
        n += 1
        heapq.heappush(due, (time.monotonic() + delay / 1000, n, data))


# -- entry point ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m netqos.lab.traffic")
    p.add_argument("role", choices=["server", "client", "relay"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=3600.0)
    p.add_argument("--control", type=Path, help="JSON control file written by the lab runner")
    p.add_argument("--server", default="")
    p.add_argument("--relay", default="")
    p.add_argument("--listen", default="")
    p.add_argument("--source", default="")
    p.add_argument("--bulk-min-mb", type=float, default=0.5)
    p.add_argument("--bulk-max-mb", type=float, default=2.0)
    p.add_argument("--bulk-every", type=float, default=6.0)
    p.add_argument("--rr-think", type=float, default=0.4)
    p.add_argument("--rr-min", type=int, default=3)
    p.add_argument("--rr-max", type=int, default=12)
    p.add_argument("--dns-every", type=float, default=0.7)
    p.add_argument("--rtp-pps", type=int, default=50)
    p.add_argument("--rtp-payload", type=int, default=172)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    timer = threading.Timer(args.duration, stop.set)
    timer.daemon = True
    timer.start()
    rng = random.Random(f"{args.role}:{args.seed}")
    control = Control(args.control)
    if args.role == "server":
        serve(control)
    elif args.role == "client":
        client(args, rng)
    else:
        relay(args, control, rng)
    os._exit(0)  # daemon threads may sit in blocking socket calls; nothing is left to flush


if __name__ == "__main__":
    sys.exit(main())
