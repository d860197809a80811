#!/usr/bin/env python3
# Writes the seed corpus for fuzz/channel/record_open.cpp: real records sealed independently of the
# C++ code (same construction as tests/unit/channel/kat.py), under the sender secret 00 01 .. 3f.
# Each seed is: chunk-size byte, read-limit byte, then the records. Usage: make_seeds.py OUTDIR
import hmac, hashlib, os, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def expand_label(secret, label, n):
    full = b'twoway v1 ' + label
    info = struct.pack('>H', n) + bytes([len(full)]) + full + b'\x00'
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(secret, t + info + bytes([i]), hashlib.sha512).digest()
        out += t; i += 1
    return out[:n]

class Sender:
    def __init__(self):
        self.secret = bytes(range(64)); self.seq = 0
    def record(self, rtype, payload=b''):
        key = expand_label(self.secret, b'key', 32); iv = expand_label(self.secret, b'iv', 12)
        nonce = bytes(a ^ b for a, b in zip(iv, self.seq.to_bytes(12, 'big')))
        hdr = struct.pack('>I', 1 + len(payload) + 16)
        self.seq += 1
        return hdr + ChaCha20Poly1305(key).encrypt(nonce, bytes([rtype]) + payload, hdr)
    def data(self, p): return self.record(1, p)
    def close(self): return self.record(2)
    def key_update(self):
        r = self.record(3); self.secret = expand_label(self.secret, b'traffic upd', 64); self.seq = 0
        return r

def seeds():
    s = Sender(); yield 'data_close', 0, 0, s.data(b'hello') + s.close()
    s = Sender(); yield 'data_only', 1, 0, s.data(b'no close follows')
    s = Sender(); yield 'close_only', 0, 0, s.close()
    s = Sender(); yield 'update_data_close', 3, 2, s.data(b'before') + s.key_update() + s.data(b'after') + s.close()
    s = Sender(); yield 'two_updates', 0, 0, s.key_update() + s.key_update() + s.data(b'x') + s.close()
    s = Sender(); yield 'empty_data', 5, 0, s.data(b'') + s.data(b'y') + s.close()
    s = Sender(); yield 'many_small', 2, 1, b''.join(s.data(bytes([i]) * i) for i in range(1, 12)) + s.close()
    s = Sender(); yield 'big_record', 0, 200, s.data(bytes(range(256)) * 16) + s.close()
    s = Sender(); yield 'bad_type', 0, 0, s.record(4, b'?') + s.close()
    s = Sender(); yield 'close_payload', 0, 0, s.record(2, b'!')
    s = Sender(); yield 'update_payload', 0, 0, s.record(3, b'!')
    s = Sender(); yield 'after_close', 0, 0, s.data(b'a') + s.close() + s.data(b'b')
    s = Sender(); r = s.data(b'truncated'); yield 'cut_record', 0, 0, r[:-3]
    yield 'huge_length', 0, 0, b'\x00\x01\x00\x12' + bytes(8)
    yield 'tiny_length', 0, 0, b'\x00\x00\x00\x10' + bytes(16)

def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, chunk, read_max, body in seeds():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(bytes([chunk, read_max]) + body)

main()
