#!/usr/bin/env python3
"""faultproxy.py -- an HTTP/1.1 proxy for the torture tests that sits on
127.0.0.1 in front of the real S3 server and injects faults.

The client is configured to talk to the proxy's port with path-style
requests; the proxy forwards each request byte for byte (the Host header
included, so V2/V4 signatures stay valid) and decides per request, with
probability --rate, to inject one of --faults:

  500          answer 500 InternalError itself (request not forwarded)
  503          answer 503 SlowDown itself (request not forwarded)
  reset        read the request, then reset the connection (not forwarded)
  reset-after  forward the request, read the answer, then reset the
               connection: the server did the work, the client never hears
  stall        forward, send the headers and half of the body, stall
               --stall-seconds, then reset
  slow         wait --slow-seconds, then forward normally

--xml-mode truncated|garbage|empty|wrongroot rewrites every XML response
body (with probability --xml-rate) to test the client's parsers against
hostile answers.

--body-mode truncate|flip rewrites the body of every successful GET of an
object (not XML), with probability --body-rate: truncate keeps the first
half, flip inverts one byte in the middle. Content-Length is set to match,
so only a check of the bytes themselves (the size and CRC32C seaftier
records at upload) can notice.

After every request the counters go to --stats ("name value" lines,
replaced atomically) and one line per request to --log:
"<ms since start> <method> <target> <fault> <status>".
Only the standard library is used.
"""
import argparse
import asyncio
import os
import random
import signal
import socket
import struct
import sys
import time

ERROR_BODY = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
              '<Message>{msg} (injected by faultproxy)</Message>'
              '<RequestId>faultproxy</RequestId></Error>')


class Stats:
    def __init__(self, path, log_path):
        self.path = path
        self.counters = {"requests": 0, "faults": 0, "forwarded": 0, "xml_rewritten": 0,
                         "connections": 0}
        self.log = open(log_path, "a", buffering=1) if log_path else None
        self.t0 = time.monotonic()

    def bump(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    def record(self, method, target, fault, status):
        if self.log:
            self.log.write("%.1f %s %s %s %s\n" % ((time.monotonic() - self.t0) * 1000.0,
                                                   method, target, fault or "-", status))
        self.flush()

    def flush(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            for k in sorted(self.counters):
                f.write("%s %d\n" % (k, self.counters[k]))
        os.replace(tmp, self.path)


class Message:
    """One HTTP message: the head as raw bytes plus the parsed parts."""

    def __init__(self, head):
        self.head = head
        lines = head.split(b"\r\n")
        self.start = lines[0].decode("latin-1")
        self.headers = []
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(b":")
            self.headers.append((k.decode("latin-1").strip().lower(), v.decode("latin-1").strip()))

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > 65536:
        raise ValueError("head too long")
    return Message(head)


async def read_body(reader, msg, no_body=False):
    """Returns (raw bytes as sent, decoded body, until_close)."""
    if no_body:
        return b"", b"", False
    te = (msg.header("transfer-encoding") or "").lower()
    if "chunked" in te:
        raw = bytearray()
        body = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:
                    trailer = await reader.readuntil(b"\r\n")
                    raw += trailer
                    if trailer == b"\r\n":
                        return bytes(raw), bytes(body), False
            chunk = await reader.readexactly(size + 2)
            raw += chunk
            body += chunk[:-2]
    cl = msg.header("content-length")
    if cl is not None:
        data = await reader.readexactly(int(cl))
        return data, data, False
    if msg.start.startswith("HTTP/"):
        data = await reader.read()          # until the server closes
        return data, data, True
    return b"", b"", False


def rst_close(writer):
    """Closes with a TCP reset (SO_LINGER 0), as a crashed peer would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.close()


def rewrite_xml(mode, body, rnd):
    if mode == "truncated":
        return body[: max(1, len(body) // 2)]
    if mode == "garbage":
        return bytes(rnd.getrandbits(8) for _ in range(max(16, len(body) // 3)))
    if mode == "empty":
        return b""
    if mode == "wrongroot":
        return b'<?xml version="1.0"?><Surprise><Key>a</Key></Surprise>'
    return body


def rewrite_object(mode, body):
    if mode == "truncate":
        return body[: len(body) // 2]
    if mode == "flip" and body:
        mid = len(body) // 2
        return body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1:]
    return body


def replace_body(head_msg, body):
    """The response head with Content-Length set to len(body), no chunking."""
    lines = [head_msg.start.encode("latin-1")]
    for k, v in head_msg.headers:
        if k in ("content-length", "transfer-encoding"):
            continue
        lines.append(("%s: %s" % (k, v)).encode("latin-1"))
    lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n"


class Proxy:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.faults = [f for f in args.faults.split(",") if f] if args.faults else []
        self.stats = Stats(args.stats, args.log)

    def pick_fault(self):
        if self.faults and self.rnd.random() < self.args.rate:
            return self.rnd.choice(self.faults)
        return None

    async def answer(self, writer, status, reason, code, msg):
        body = ERROR_BODY.format(code=code, msg=msg).encode()
        writer.write(("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\n"
                      "Content-Length: %d\r\nConnection: keep-alive\r\n\r\n"
                      % (status, reason, len(body))).encode() + body)
        await writer.drain()

    async def handle(self, creader, cwriter):
        self.stats.bump("connections")
        up = None
        try:
            while True:
                try:
                    req = await read_head(creader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                raw_body, _, _ = await read_body(creader, req)
                method, target = (req.start.split(" ") + ["", ""])[:2]
                self.stats.bump("requests")
                fault = self.pick_fault()
                if fault:
                    self.stats.bump("faults")
                    self.stats.bump("fault_" + fault)
                # each request is recorded before its answer goes out, so a
                # client that got the answer finds it in the log
                if fault == "500":
                    self.stats.record(method, target, fault, 500)
                    await self.answer(cwriter, 500, "Internal Server Error", "InternalError",
                                      "We encountered an internal error. Please try again.")
                    continue
                if fault == "503":
                    self.stats.record(method, target, fault, 503)
                    await self.answer(cwriter, 503, "Slow Down", "SlowDown",
                                      "Please reduce your request rate.")
                    continue
                if fault == "reset":
                    self.stats.record(method, target, fault, "reset")
                    rst_close(cwriter)
                    return
                if fault == "slow":
                    await asyncio.sleep(self.args.slow_seconds * (0.5 + self.rnd.random()))

                if up is None:
                    up = await asyncio.open_connection(self.args.upstream_host,
                                                       self.args.upstream_port)
                ureader, uwriter = up
                uwriter.write(req.head + raw_body)
                await uwriter.drain()
                while True:
                    resp = await read_head(ureader)
                    if not resp.start.split(" ")[1].startswith("1"):
                        break
                status = int(resp.start.split(" ")[1])
                no_body = method == "HEAD" or status in (204, 304)
                raw, body, until_close = await read_body(ureader, resp, no_body)
                self.stats.bump("forwarded")
                if until_close:
                    up = None

                if fault == "reset-after":
                    self.stats.record(method, target, fault, "reset")
                    rst_close(cwriter)
                    return
                head = resp.head
                ctype = (resp.header("content-type") or "").lower()
                if (self.args.xml_mode and body and ("xml" in ctype or body.lstrip().startswith(b"<?xml"))
                        and self.rnd.random() < self.args.xml_rate):
                    body = rewrite_xml(self.args.xml_mode, body, self.rnd)
                    raw = body
                    head = replace_body(resp, body)
                    self.stats.bump("xml_rewritten")
                elif (self.args.body_mode and method == "GET" and status == 200 and body
                      and "xml" not in ctype and self.rnd.random() < self.args.body_rate):
                    body = rewrite_object(self.args.body_mode, body)
                    raw = body
                    head = replace_body(resp, body)
                    self.stats.bump("body_rewritten")
                if fault == "stall":
                    # mid-body; with no body to cut, mid-head
                    cwriter.write(head + raw[: len(raw) // 2] if raw else head[: len(head) // 2])
                    await cwriter.drain()
                    self.stats.record(method, target, fault, "stall")
                    await asyncio.sleep(self.args.stall_seconds)
                    rst_close(cwriter)
                    return
                self.stats.record(method, target, fault, status)
                cwriter.write(head + raw)
                await cwriter.drain()
                if until_close:
                    cwriter.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, OSError,
                asyncio.CancelledError):
            return
        finally:
            if up is not None:
                up[1].close()
            if not cwriter.is_closing():
                cwriter.close()


async def main():
    ap = argparse.ArgumentParser(description="fault-injecting proxy for the torture tests")
    ap.add_argument("--upstream-host", default="127.0.0.1")
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--port", type=int, default=0, help="listen port (0: any free one)")
    ap.add_argument("--port-file", help="write the listen port here")
    ap.add_argument("--stats")
    ap.add_argument("--log")
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--faults", default="500,503,reset,reset-after,stall,slow")
    ap.add_argument("--stall-seconds", type=float, default=3.0)
    ap.add_argument("--slow-seconds", type=float, default=0.4)
    ap.add_argument("--xml-mode", choices=["truncated", "garbage", "empty", "wrongroot"])
    ap.add_argument("--xml-rate", type=float, default=1.0)
    ap.add_argument("--body-mode", choices=["truncate", "flip"])
    ap.add_argument("--body-rate", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    proxy.stats.flush()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    else:
        print(port, flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    await stop
    proxy.stats.flush()
    # exit at once: connections stalled on purpose need no goodbye
    os._exit(0)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
