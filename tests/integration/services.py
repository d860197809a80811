"""Plain TCP services the integration tests put behind twowayd's Service lines, running in threads of the
test process: an echo server (every byte comes back, then the end of the stream) and a digest server
(it answers only once its input has ended: the SHA-256 of all it read, then the end of the stream)."""

import hashlib
import socket
import threading


class EchoServer:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        buf = bytearray(1 << 18)
        view = memoryview(buf)
        try:
            while True:
                n = conn.recv_into(buf)
                if n == 0:
                    break
                conn.sendall(view[:n])
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class DigestServer(EchoServer):
    """Reads to the end of its input, then sends the input's SHA-256 in hex and a newline: it sees the
    client's EOF as a half-close, and its answer must still make it back."""

    @staticmethod
    def _echo(conn):
        digest = hashlib.sha256()
        try:
            while True:
                chunk = conn.recv(1 << 18)
                if not chunk:
                    break
                digest.update(chunk)
            conn.sendall(digest.hexdigest().encode() + b"\n")
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            conn.close()


def closed_port():
    """A port on 127.0.0.1 where nothing listens (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
