#!/usr/bin/env python3
#
# hold.py - open client connections that each send one request head and
# then wait, for tests/bench/memory.sh.
#
#	hold.py [--warm] PORT [HEAD_BYTES]
#
# Reads commands on stdin, one a line, and answers each on stdout:
#	open N	open connections until N are open; answers "open N"
#	stat	answers "stat OPEN ANSWERED" (connections the server answered
#		or closed: a held call should get neither)
#	quit	closes everything and exits
# Every connection sends the same SDK-like GET head (Authorization: Bearer,
# User-Agent, Accept, Host, X-Request-Id as the Genesys Node SDK sends them),
# padded to HEAD_BYTES (default 200) with the request id's own bytes, and
# reads nothing until the server answers.  One thread and one selector over
# every socket.
#
# --warm: each connection first makes one call that is answered at once,
# GET /__warm with X-Weir-Max-Wait: warm (weir answers 400, nginx's bench
# configuration 204), reads the answer whole, and only then sends the head
# that waits: the waiting call is a kept-alive connection's second, as an
# SDK's are once its connections are open.

import selectors
import socket
import sys
import uuid

args = sys.argv[1:]
warm = args[:1] == ["--warm"]
if warm:
    args = args[1:]
port = int(args[0])
head_bytes = int(args[1]) if len(args) > 1 else 200
token = "tok-bench-1"


def head():
    rid = str(uuid.uuid4())
    base = ("GET /api/v2/users/me HTTP/1.1\r\n"
            "Host: 127.0.0.1:%d\r\n"
            "Authorization: Bearer %s\r\n"
            "User-Agent: PureCloud SDK/js\r\n"
            "Accept: application/json\r\n"
            "X-Request-Id: %s\r\n"
            "\r\n") % (port, token, rid)
    pad = head_bytes - len(base)
    if pad > 0:
        # a longer User-Agent, as an SDK with its versions would send
        base = base.replace("SDK/js",
                            "SDK/js" + "v" * pad, 1)
    return base.encode()


sel = selectors.DefaultSelector()
socks = []
answered = 0


def poll(timeout):
    global answered
    for key, _ in sel.select(timeout):
        if key.data == "stdin":
            continue
        s = key.fileobj
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if key.data is None:
            answered += 1
            sel.modify(s, selectors.EVENT_READ, "answered")
            if data:
                sys.stderr.write("hold.py: answered: %r\n" % data[:300])
        if not data:
            sel.unregister(s)
            s.close()


def warm_up(s):
    s.sendall(("GET /__warm HTTP/1.1\r\n"
               "Host: 127.0.0.1:%d\r\n"
               "Authorization: Bearer %s\r\n"
               "X-Weir-Max-Wait: warm\r\n"
               "\r\n" % (port, token)).encode())
    got = b""
    while b"\r\n\r\n" not in got:
        data = s.recv(65536)
        if not data:
            raise SystemExit("hold.py: closed during the first call")
        got += data
    head, _, body = got.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        if name.strip().lower() == b"connection" and \
                value.strip().lower() == b"close":
            raise SystemExit("hold.py: the first call closes: %r" % head)
    while len(body) < length:
        data = s.recv(65536)
        if not data:
            raise SystemExit("hold.py: closed during the first call")
        body += data


def open_to(n):
    while len(socks) < n:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if warm:
            warm_up(s)
        s.sendall(head())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, None)
        socks.append(s)
        if len(socks) % 200 == 0:
            poll(0)		# let nothing pile up unread


def main():
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    while True:
        for key, _ in sel.select(1.0):
            if key.data != "stdin":
                continue
            line = sys.stdin.readline()
            if not line:
                return
            cmd = line.split()
            if not cmd:
                continue
            if cmd[0] == "open":
                open_to(int(cmd[1]))
                print("open %d" % len(socks), flush=True)
            elif cmd[0] == "stat":
                print("stat %d %d" % (len(socks), answered), flush=True)
            elif cmd[0] == "quit":
                return
        poll(0)


if __name__ == "__main__":
    main()
