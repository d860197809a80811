# Independent computation of the record layer's known answers (HKDF-SHA512 expand_label per
# lib/src/crypto/labels.hpp, TLS 1.3 nonce, ChaCha20-Poly1305 from the `cryptography` module).
import hmac, hashlib, struct
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def hkdf_expand(prk, info, n):
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha512).digest()
        out += t; i += 1
    return out[:n]

def expand_label(secret, label, ctx, n):
    full = b'twoway v1 ' + label
    info = struct.pack('>H', n) + bytes([len(full)]) + full + bytes([len(ctx)]) + ctx
    return hkdf_expand(secret, info, n)

def record(secret, seq, rtype, payload):
    key = expand_label(secret, b'key', b'', 32)
    iv = expand_label(secret, b'iv', b'', 12)
    nonce = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, 'big')))
    L = 1 + len(payload) + 16
    hdr = struct.pack('>I', L)
    return hdr + ChaCha20Poly1305(key).encrypt(nonce, bytes([rtype]) + payload, hdr)

S = bytes(range(64))
S1 = expand_label(S, b'traffic upd', b'', 64)
print('key ', expand_label(S, b'key', b'', 32).hex())
print('iv  ', expand_label(S, b'iv', b'', 12).hex())
print('S1  ', S1.hex())
print('r0  ', record(S, 0, 1, b'hello twoway').hex())
print('r1  ', record(S, 1, 3, b'').hex())
print('r2  ', record(S1, 0, 1, b'after update').hex())
print('r3  ', record(S1, 1, 2, b'').hex())
