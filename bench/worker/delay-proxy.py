"""A TCP proxy that adds a fixed sub-millisecond delay to every chunk, each way: the worker
bench's injected Redis round trip (bench/worker/delay-proxy.ts starts it; docs/benchmarks.md).

    python3 bench/worker/delay-proxy.py UPSTREAM_HOST UPSTREAM_PORT ROUND_TRIP_US

Listens on a free loopback port and prints `listening PORT`. Each chunk read from one side is
written to the other ROUND_TRIP_US / 2 microseconds after it was read (two threads per
connection, one per direction). Why not Toxiproxy: its latency toxic takes whole milliseconds
(a uniform latency - jitter .. latency + jitter - 1 ms; 0 ± 1 never waits), and its bandwidth
toxic, whose waits are computed in µs, still measured 1.1 ms or more per PING at every rate
tried; no setting gave a 0.3-0.5 ms p50 (bench/worker/rtt-calibrate.ts prints them). Sleeping here would overshoot too (time.sleep of 150 µs took about 270 µs under load), so
the last 200 µs of each wait are spun on perf_counter: precise, and a few hundred ms of one core
per (b) round. TLS passes through untouched (bytes only).
"""
import socket
import sys
import threading
import time

SPIN_S = 0.0002  # the part of each wait that is spun instead of slept


def wait_until(deadline: float) -> None:
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        if left > SPIN_S + 0.0001:
            time.sleep(left - SPIN_S)


def pipe(src: socket.socket, dst: socket.socket, one_way_s: float) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            wait_until(time.perf_counter() + one_way_s)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main() -> None:
    host, port, round_trip_us = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    one_way_s = round_trip_us / 2 / 1e6
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    print(f"listening {server.getsockname()[1]}", flush=True)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection((host, port))
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(a, b, one_way_s), daemon=True).start()


if __name__ == "__main__":
    main()
