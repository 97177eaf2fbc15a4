"""Raw HTTP/1.1 for the tests that need what curl hides: pipelined requests,
held connections, readers that read late. Imported by the tests' inline
Python (sys.path: $RTCS_TOP/tests)."""
import sys


def reply(f):
    """One reply with a Content-Length from a binary file: (head, body)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        b = f.read(1)
        if not b:
            sys.exit("the connection closed after %d bytes of a head" % len(head))
        head += b
    n = int([l.split(b":")[1] for l in head.split(b"\r\n")
             if l.lower().startswith(b"content-length:")][0])
    body = f.read(n)
    if len(body) != n:
        sys.exit("a reply of %d bytes ended after %d" % (n, len(body)))
    return head, body


def read_until(read, marker):
    """What read() gives until marker is in it, or the connection ends."""
    got = b""
    while marker not in got:
        b = read()
        if not b:
            break
        got += b
    return got
