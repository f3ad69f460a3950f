# N HTTP clients connecting at once (non-blocking sockets, one epoll loop):
#   burst.py IP PORT PATH N [TIMEOUT] [EXPECT_BYTES]
# Every client connects at the same moment, sends "GET PATH HTTP/1.0" and reads to EOF.
# A client is served when its response has status 200 (and, given EXPECT_BYTES, a body of
# that size). Prints one JSON line: {"n", "served", "failed", "errors": {why: count},
# "p50", "p99", "max" (seconds from connect() to the last byte, over served clients),
# "wall"}.
import errno
import json
import resource
import select
import socket
import sys
import time


def main(argv):
    ip, port, path, n = argv[0], int(argv[1]), argv[2], int(argv[3])
    timeout = float(argv[4]) if len(argv) > 4 else 60.0
    expect = int(argv[5]) if len(argv) > 5 else None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    req = ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, ip)).encode()
    ep = select.epoll()
    conns = {}
    t0 = time.time()
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((ip, port))
        except OSError as e:
            if e.errno != errno.EINPROGRESS:
                raise
        conns[s.fileno()] = [s, time.time(), False, bytearray()]
        ep.register(s.fileno(), select.EPOLLOUT)
    done = []
    errors = {}

    def finish(fd, why=None):
        s, start, sent, buf = conns.pop(fd)
        ep.unregister(fd)
        s.close()
        if why is None:
            head, _, body = bytes(buf).partition(b"\r\n\r\n")
            ok = head.startswith(b"HTTP/1.") and head.split(b" ", 2)[1] == b"200"
            if ok and (expect is None or len(body) == expect):
                done.append(time.time() - start)
                return
            why = "bad response"
        errors[why] = errors.get(why, 0) + 1

    while conns and time.time() - t0 < timeout:
        for fd, ev in ep.poll(0.5):
            c = conns.get(fd)
            if c is None:
                continue
            s = c[0]
            if not c[2]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    finish(fd, errno.errorcode.get(err, str(err)))
                    continue
                try:
                    s.send(req)
                except OSError as e:
                    finish(fd, errno.errorcode.get(e.errno, str(e.errno)))
                    continue
                c[2] = True
                ep.modify(fd, select.EPOLLIN)
                continue
            try:
                d = s.recv(65536)
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    continue
                finish(fd, errno.errorcode.get(e.errno, str(e.errno)))
                continue
            if d:
                c[3] += d
            else:
                finish(fd)
    for fd in list(conns):
        finish(fd, "timeout")
    done.sort()

    def pct(p):
        return round(done[min(len(done) - 1, int(p * len(done)))], 4) if done else None
    print(json.dumps({"n": n, "served": len(done), "failed": n - len(done), "errors": errors,
                      "p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0),
                      "wall": round(time.time() - t0, 3)}))


if __name__ == "__main__":
    main(sys.argv[1:])
