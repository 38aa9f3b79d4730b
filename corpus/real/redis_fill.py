"""Fills a redis-server (through its unix socket, plain RESP, no client library) with keys of
several value sizes, hashes and lists, then deletes every third string key, so jemalloc holds
small regions in many bins, large extents and freed ones; then churns so that freed slabs come
back as large extents.  Usage: redis_fill.py SOCKET"""
import socket
import sys

SIZES = [8, 30, 100, 250, 700, 2000, 6000, 20000, 50000, 100000]


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def pipeline(sock, cmds):
    """Sends the commands at once and reads one reply line per command (all replies are one
    line: +OK, :N)."""
    sock.sendall(b"".join(cmds))
    want, buf = len(cmds), b""
    while buf.count(b"\r\n") < want:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("redis closed the connection")
        buf += chunk
    bad = [line for line in buf.split(b"\r\n")[:want] if line.startswith(b"-")]
    if bad:
        raise SystemExit("redis error: %r" % bad[0])


def main():
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sys.argv[1])
    n = 4000
    for start in range(0, n, 1000):
        pipeline(sock, [command("SET", "key:%d" % i, bytes([65 + i % 26]) * SIZES[i % len(SIZES)])
                        for i in range(start, start + 1000)])
    pipeline(sock, [command("HSET", "hash:%d" % (i % 50), "field:%d" % i, "value-%d" % i) for i in range(5000)])
    pipeline(sock, [command("RPUSH", "list:%d" % (i % 20), "item-%d" % i * (1 + i % 7)) for i in range(5000)])
    pipeline(sock, [command("DEL", "key:%d" % i) for i in range(0, n, 3)])
    # Churn that reuses freed slabs as large extents of the same length (5 pages: a slab of
    # 2560-byte regions, a 16 KiB large extent plus its cache-oblivious page).
    pipeline(sock, [command("SET", "churn:%d" % i, b"c" * 2500) for i in range(3000)])
    pipeline(sock, [command("DEL", "churn:%d" % i) for i in range(3000)])
    pipeline(sock, [command("SET", "big:%d" % i, b"b" * 15000) for i in range(400)])
    sock.close()


main()
