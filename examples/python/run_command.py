#!/usr/bin/env python3
"""run_command in Python: examples/run_command.cpp's program (same arguments, output and exit statuses)
on libtwoway's C API (<twoway/twoway.h>) through ctypes, with Python's own sockets.

    run_command.py --key PATH --host-key PATH.pub [--account NAME] [--port N] HOST COMMAND...

The library is found as the dynamic loader finds it (libtwoway.so.0 on LD_LIBRARY_PATH or installed),
or at the path in TWOWAY_LIBRARY. The library never touches the socket: this program moves bytes between
it and three handles (the handshake, then the channel carrying the session protocol).
Exit status: the command's (255 if above 255); 255 with one line on stderr when the connection, the
handshake or the session fails, the server refuses the command or a signal kills it.
"""
import ctypes
import getpass
import os
import socket
import sys

FAILURE = 255
KEY_SIZE = 32
BUFFER = 64 * 1024

# Constants from <twoway/twoway.h>.
OK = 0
E_HOST_KEY_REJECTED = 110
E_AUTH_DENIED = 111
HS_WANT_INPUT, HS_NEED_VERDICT, HS_COMPLETE, HS_FAILED = 0, 1, 2, 3
READ_NEED_MORE, READ_DATA, READ_CLOSED = 0, 1, 2
REQUEST_EXEC = 2
STREAM_ERR = 2
EV_ACCEPTED, EV_REJECTED, EV_DATA, EV_EOF, EV_WINDOW, EV_EXIT_STATUS, EV_EXIT_SIGNAL, EV_CLOSED = range(1, 9)
REJECT_REASONS = {1: "administratively prohibited", 2: "unknown service", 3: "could not start",
                  4: "no pseudo-terminal available", 5: "resource shortage"}


class SessionEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("stream", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_uint8)),
                ("len", ctypes.c_size_t), ("code", ctypes.c_uint32), ("text", ctypes.c_char_p),
                ("core_dumped", ctypes.c_int)]


def load_library():
    lib = ctypes.CDLL(os.environ.get("TWOWAY_LIBRARY", "libtwoway.so.0"))
    # Byte buffers go as void* (bytes objects and ctypes arrays both convert); strings as char*.
    p, sz, u8p, cp = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_char_p
    signatures = {  # name: (result, arguments)
        "twoway_strerror": (ctypes.c_char_p, [ctypes.c_int]),
        "twoway_version": (ctypes.c_char_p, []),
        "twoway_key_load": (ctypes.c_int, [cp, cp, ctypes.POINTER(p)]),
        "twoway_key_free": (None, [p]),
        "twoway_public_key_parse": (ctypes.c_int, [cp, u8p]),
        "twoway_handshake_client_new": (ctypes.c_int, [p, cp, u8p, ctypes.POINTER(p)]),
        "twoway_handshake_free": (None, [p]),
        "twoway_handshake_feed": (ctypes.c_int, [p, u8p, sz]),
        "twoway_handshake_end_of_input": (ctypes.c_int, [p]),
        "twoway_handshake_output": (sz, [p, u8p, sz]),
        "twoway_handshake_next": (ctypes.c_int, [p]),
        "twoway_handshake_error": (ctypes.c_int, [p]),
        "twoway_handshake_peer_key": (ctypes.c_int, [p, u8p]),
        "twoway_handshake_accept": (ctypes.c_int, [p]),
        "twoway_handshake_reject": (ctypes.c_int, [p, cp]),
        "twoway_handshake_finish": (ctypes.c_int, [p, ctypes.POINTER(p)]),
        "twoway_channel_free": (None, [p]),
        "twoway_channel_send": (ctypes.c_int, [p, u8p, sz]),
        "twoway_channel_close": (ctypes.c_int, [p]),
        "twoway_channel_output": (sz, [p, u8p, sz]),
        "twoway_channel_feed": (ctypes.c_int, [p, u8p, sz, ctypes.POINTER(sz)]),
        "twoway_channel_read": (ctypes.c_int, [p, u8p, sz, ctypes.POINTER(sz), ctypes.POINTER(ctypes.c_int)]),
        "twoway_channel_end_of_input": (ctypes.c_int, [p]),
        "twoway_session_start": (ctypes.c_int, [ctypes.c_int, cp, ctypes.POINTER(cp), ctypes.POINTER(p)]),
        "twoway_session_free": (None, [p]),
        "twoway_session_feed": (ctypes.c_int, [p, u8p, sz]),
        "twoway_session_next_event": (ctypes.c_int, [p, ctypes.POINTER(SessionEvent)]),
        "twoway_session_send_eof": (ctypes.c_int, [p]),
        "twoway_session_consumed": (ctypes.c_int, [p, ctypes.c_int, sz]),
        "twoway_session_output": (sz, [p, u8p, sz]),
        "twoway_session_finished": (ctypes.c_int, [p]),
    }
    for name, (restype, argtypes) in signatures.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = restype, argtypes
    return lib


class Failure(Exception):
    """One line for stderr; the program exits with 255."""


class Client:
    def __init__(self, lib):
        self.lib = lib
        self.buf = ctypes.create_string_buffer(BUFFER)

    def error(self, rc):
        return self.lib.twoway_strerror(rc).decode()

    def check(self, rc, what):
        if rc != OK:
            raise Failure("%s: %s" % (what, self.error(rc)))

    def drain(self, take, handle):
        """Every byte a handle holds for sending, taken in BUFFER-sized pieces."""
        out = bytearray()
        while True:
            n = take(handle, self.buf, BUFFER)
            if n == 0:
                return bytes(out)
            out += self.buf.raw[:n]


def handshake(c, sock, key, account, host_key, host_key_path):
    lib = c.lib
    hs = ctypes.c_void_p()
    # Passing the host key also proves to a server in stealth mode that we know it.
    c.check(lib.twoway_handshake_client_new(key, account.encode(), host_key, ctypes.byref(hs)), "handshake")
    try:
        while True:
            ev = lib.twoway_handshake_next(hs)
            sock.sendall(c.drain(lib.twoway_handshake_output, hs))
            if ev == HS_COMPLETE:
                ch = ctypes.c_void_p()
                c.check(lib.twoway_handshake_finish(hs, ctypes.byref(ch)), "handshake")
                return ch
            if ev == HS_FAILED:
                rc = lib.twoway_handshake_error(hs)
                if rc == E_HOST_KEY_REJECTED:
                    raise Failure("Host key verification failed: the server's key is not the one in " + host_key_path)
                if rc == E_AUTH_DENIED:
                    raise Failure("Permission denied (publickey).")
                raise Failure("handshake: " + c.error(rc))
            if ev == HS_NEED_VERDICT:  # the server proved it holds this key: is it the one we expect?
                peer = ctypes.create_string_buffer(KEY_SIZE)
                c.check(lib.twoway_handshake_peer_key(hs, peer), "handshake")
                if peer.raw == host_key:
                    lib.twoway_handshake_accept(hs)
                else:
                    lib.twoway_handshake_reject(hs, None)
                continue
            data = sock.recv(BUFFER)
            if data:
                lib.twoway_handshake_feed(hs, data, len(data))
            else:
                lib.twoway_handshake_end_of_input(hs)
    finally:
        lib.twoway_handshake_free(hs)


def run_session(c, sock, ch, command):
    lib = c.lib
    s = ctypes.c_void_p()
    c.check(lib.twoway_session_start(REQUEST_EXEC, command.encode(), None, ctypes.byref(s)), "session")
    exit_code, error = None, None
    pending = b""  # bytes read from the socket that the channel has not taken yet
    plain = ctypes.create_string_buffer(BUFFER)
    n, kind, used = ctypes.c_size_t(), ctypes.c_int(), ctypes.c_size_t()
    try:
        while True:
            out = c.drain(lib.twoway_session_output, s)
            if out:
                c.check(lib.twoway_channel_send(ch, out, len(out)), "channel")
            sock.sendall(c.drain(lib.twoway_channel_output, ch))
            if lib.twoway_session_finished(s) or error:
                break
            c.check(lib.twoway_channel_read(ch, plain, BUFFER, ctypes.byref(n), ctypes.byref(kind)), "channel")
            if kind.value == READ_CLOSED:
                error = "the server closed the connection before the command ended"
                break
            if kind.value == READ_DATA:
                c.check(lib.twoway_session_feed(s, plain, n.value), "session")
                ev = SessionEvent()
                while lib.twoway_session_next_event(s, ctypes.byref(ev)):
                    # No input from us: end the command's stdin at once, unless the whole session (output,
                    # exit, CLOSE) came with the acceptance and is over already.
                    if ev.type == EV_ACCEPTED and not lib.twoway_session_finished(s):
                        c.check(lib.twoway_session_send_eof(s), "session")
                    elif ev.type == EV_REJECTED:
                        text = ev.text.decode(errors="replace")
                        error = "command refused by the server: %s%s" % (
                            REJECT_REASONS.get(ev.code, "refused"), " (%s)" % text if text else "")
                    elif ev.type == EV_DATA:
                        stream = sys.stdout.buffer if ev.stream != STREAM_ERR else sys.stderr.buffer
                        stream.write(ctypes.string_at(ev.data, ev.len))
                        stream.flush()
                        # Only now may the server send this much more on the stream.
                        c.check(lib.twoway_session_consumed(s, ev.stream, ev.len), "session")
                    elif ev.type == EV_EXIT_STATUS:
                        exit_code = min(ev.code, FAILURE)  # never modulo 256
                    elif ev.type == EV_EXIT_SIGNAL:
                        error = "remote command killed by signal %s%s" % (
                            ev.text.decode(), " (core dumped)" if ev.core_dumped else "")
                continue
            if not pending:
                pending = sock.recv(BUFFER)
                if not pending:
                    c.check(lib.twoway_channel_end_of_input(ch), "read")
                    continue
            c.check(lib.twoway_channel_feed(ch, pending, len(pending), ctypes.byref(used)), "channel")
            pending = pending[used.value:]
        # Both CLOSEs are through (or the server refused): end the channel with its authenticated close.
        if lib.twoway_channel_close(ch) == OK:
            sock.sendall(c.drain(lib.twoway_channel_output, ch))
    finally:
        lib.twoway_session_free(s)
    if error:
        raise Failure(error)
    if exit_code is None:
        raise Failure("the session ended without an exit status")
    return exit_code


def usage():
    sys.stderr.write("usage: run_command --key PATH --host-key PATH.pub [--account NAME] [--port N] HOST COMMAND...\n")
    return 2


def main(argv):
    opts = {"--key": None, "--host-key": None, "--account": getpass.getuser(), "--port": "4422"}
    i = 0
    while i + 1 < len(argv) and argv[i].startswith("--"):
        if argv[i] not in opts:
            return usage()
        opts[argv[i]] = argv[i + 1]
        i += 2
    if opts["--key"] is None or opts["--host-key"] is None or len(argv) - i < 2:
        return usage()
    host, command = argv[i], " ".join(argv[i + 1:])

    lib = load_library()
    c = Client(lib)
    key, ch = ctypes.c_void_p(), None
    try:
        c.check(lib.twoway_key_load(opts["--key"].encode(), None, ctypes.byref(key)), opts["--key"])
        host_key = ctypes.create_string_buffer(KEY_SIZE)
        with open(opts["--host-key"], "rb") as f:
            lines = [l.strip() for l in f if l.strip() and not l.lstrip().startswith(b"#")]
        if not lines:
            raise Failure(opts["--host-key"] + ": no key")
        c.check(lib.twoway_public_key_parse(lines[0], host_key), opts["--host-key"])
        try:
            sock = socket.create_connection((host, int(opts["--port"])))
        except OSError as e:
            raise Failure("connect to %s port %s: %s" % (host, opts["--port"], e.strerror or e))
        with sock:
            ch = handshake(c, sock, key, opts["--account"], host_key.raw, opts["--host-key"])
            return run_session(c, sock, ch, command)
    except Failure as e:
        sys.stderr.write("run_command: %s\n" % e)
        return FAILURE
    except OSError as e:
        sys.stderr.write("run_command: %s\n" % (e.strerror or e))
        return FAILURE
    finally:
        lib.twoway_channel_free(ch)
        lib.twoway_key_free(key)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
