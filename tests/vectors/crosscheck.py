#!/usr/bin/python3
"""Independent cross-check of the published twoway test vectors against docs/PROTOCOL.md.

Written from PROTOCOL.md alone (sections 4, 4.1.1, 4.1.2, 5, 6, 7.3, 9, 13 and 15), without reading
libtwoway: from the fixed inputs of docs/test-vectors/handshake.json (seeds, randoms, X25519 secrets,
the host_key_mac stand-in, account, exporter label and context, record data, the second host key and
the ACCEPT window of the HOSTKEYS vector) it recomputes every other
field of every vector and compares it with the file; for docs/test-vectors/ed25519.json it runs the
strict Ed25519 verification of PROTOCOL.md 7.3, implemented here on Python integers after RFC 8032,
and requires it to accept exactly the `valid` case. It also reports what lenient verifiers (OpenSSL's,
through `cryptography`, and two textbook variants) make of each case, for information.

Usage: crosscheck.py handshake.json ed25519.json
Prints one line per vector and field group; exits 1 on any mismatch, 2 on a usage or input error.

Primitives: Debian's python3-cryptography (X25519, Ed25519 signing and a reference verify,
ChaCha20-Poly1305) and the standard library (SHA-512, HMAC). What those lack (the Ed25519 -> X25519
public-key map, the signing scalar, point arithmetic for the strict check) is written out here from
RFC 7748 and RFC 8032. This is test code, never shipped.
"""

import hashlib
import hmac
import json
import sys

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

# ---------------------------------------------------------------------------------------------------
# Encoding helpers (PROTOCOL.md 1.1)


def u8(n):
    return n.to_bytes(1, "big")


def u16(n):
    return n.to_bytes(2, "big")


def u24(n):
    return n.to_bytes(3, "big")


def u32(n):
    return n.to_bytes(4, "big")


def u64(n):
    return n.to_bytes(8, "big")


def string(b):
    """SSH string (RFC 4251): u32 length | bytes."""
    return u32(len(b)) + b


def sha512(x):
    return hashlib.sha512(x).digest()


def hmac512(k, m):
    return hmac.new(k, m, hashlib.sha512).digest()


# ---------------------------------------------------------------------------------------------------
# Key schedule (PROTOCOL.md 6.1, 6.2, 6.4)

ZERO64 = bytes(64)


def hkdf_extract(salt, ikm):
    return hmac512(salt, ikm)


def hkdf_expand(prk, info, length):
    assert length <= 255 * 64
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac512(prk, t + info + u8(i))
        out += t
        i += 1
    return out[:length]


def expand_label(secret, label, context, length):
    full = b"twoway v1 " + label
    assert len(full) <= 255 and len(context) <= 255
    info = u16(length) + u8(len(full)) + full + u8(len(context)) + context
    return hkdf_expand(secret, info, length)


def exporter(exporter_secret, label, context, length):
    return expand_label(expand_label(exporter_secret, label, b"", 64), b"exporter", sha512(context),
                        length)


# ---------------------------------------------------------------------------------------------------
# AEAD framing (PROTOCOL.md 4.6, 9.1, 9.2)


def traffic_key_iv(secret):
    return expand_label(secret, b"key", b"", 32), expand_label(secret, b"iv", b"", 12)


def nonce_for(iv, seq):
    pad = bytes(4) + u64(seq)
    return bytes(a ^ b for a, b in zip(iv, pad))


def seal_handshake(msg_type, secret, seq, plaintext):
    """Messages 3-5: header (type, u24 length of the ciphertext) as additional data."""
    key, iv = traffic_key_iv(secret)
    header = u8(msg_type) + u24(len(plaintext) + 16)
    return header + ChaCha20Poly1305(key).encrypt(nonce_for(iv, seq), plaintext, header)


def open_handshake(message, secret, seq):
    """The receiver's side of seal_handshake; None when the body does not open (decrypt_failed)."""
    key, iv = traffic_key_iv(secret)
    header, body = message[:4], message[4:]
    if int.from_bytes(header[1:4], "big") != len(body):
        return None
    try:
        return ChaCha20Poly1305(key).decrypt(nonce_for(iv, seq), body, header)
    except InvalidTag:
        return None


def seal_record(secret, seq, rec_type, payload):
    """9.2: u32 L | AEAD(key, nonce, ad = the 4 bytes of L, u8 type | payload)."""
    key, iv = traffic_key_iv(secret)
    plaintext = u8(rec_type) + payload
    length = u32(len(plaintext) + 16)
    return length + ChaCha20Poly1305(key).encrypt(nonce_for(iv, seq), plaintext, length)


# ---------------------------------------------------------------------------------------------------
# Curve25519 / Ed25519 arithmetic on Python integers (RFC 7748, RFC 8032 5.1 and 6)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def inv(x):
    return pow(x, P - 2, P)


def recover_x(y, sign):
    """RFC 8032 5.1.3 step 2-4; None if there is no such x."""
    if y >= P:
        return None
    x2 = (y * y - 1) * inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


# Points in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z (RFC 8032 section 6).
IDENTITY = (0, 1, 1, 0)
GY = 4 * inv(5) % P
GX = recover_x(GY, 0)
BASE = (GX, GY, 1, GX * GY % P)


def point_add(p1, p2):
    A = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P
    B = (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    C = 2 * p1[3] * p2[3] * D % P
    Dd = 2 * p1[2] * p2[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def point_mul(s, pt):
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = point_add(q, pt)
        pt = point_add(pt, pt)
        s >>= 1
    return q


def point_neg(pt):
    return ((P - pt[0]) % P, pt[1], pt[2], (P - pt[3]) % P)


def point_equal(p1, p2):
    return ((p1[0] * p2[2] - p2[0] * p1[2]) % P == 0
            and (p1[1] * p2[2] - p2[1] * p1[2]) % P == 0)


def point_encode(pt):
    zi = inv(pt[2])
    x, y = pt[0] * zi % P, pt[1] * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def point_decode(b, reduce_y=False):
    """RFC 8032 5.1.3. reduce_y=True models a lenient decoder that takes y mod p."""
    v = int.from_bytes(b, "little")
    sign, y = v >> 255, v & ((1 << 255) - 1)
    if reduce_y:
        y %= P
    x = recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def secret_expand(seed):
    """RFC 8032 5.1.5 steps 1-2: the signing scalar s (clamped) and the nonce prefix."""
    h = sha512(seed)
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(seed):
    return point_encode(point_mul(secret_expand(seed)[0], BASE))


def ed25519_sign(seed, msg):
    """RFC 8032 5.1.6, on integers (checked against cryptography's signer below)."""
    a, prefix = secret_expand(seed)
    pk = point_encode(point_mul(a, BASE))
    r = int.from_bytes(sha512(prefix + msg), "little") % L
    R = point_encode(point_mul(r, BASE))
    k = int.from_bytes(sha512(R + pk + msg), "little") % L
    return R + ((r + k * a) % L).to_bytes(32, "little")


def ed25519_pk_to_x25519(pk):
    """RFC 7748 4.1: u = (1 + y) / (1 - y) mod p, after checking the key as PROTOCOL.md 4.1.1 says
    (canonical, not small order, decodes, in the prime-order subgroup). None when the key has no X25519
    form."""
    if not a_is_canonical(pk) or is_small_order_encoding(pk):
        return None
    point = point_decode(pk)
    if point is None or not point_equal(point_mul(L, point), IDENTITY):
        return None
    y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
    u = (1 + y) * inv(1 - y) % P
    return u.to_bytes(32, "little")


# PROTOCOL.md 7.3 step 2: the seven encodings (sign bit cleared) of the eight-torsion points' y.
SMALL_ORDER_HEX = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]
SMALL_ORDER = [bytes.fromhex(h) for h in SMALL_ORDER_HEX]


def is_small_order_encoding(b):
    return (b[:31] + bytes([b[31] & 0x7F])) in SMALL_ORDER


def a_is_canonical(b):
    return (int.from_bytes(b, "little") & ((1 << 255) - 1)) < P


def verify_strict(pk, msg, sig):
    """PROTOCOL.md 7.3. Returns None when the signature is accepted, else the failed check."""
    if len(pk) != 32 or len(sig) != 64:
        return "length"
    R, S = sig[:32], int.from_bytes(sig[32:], "little")
    if S >= L:
        return "7.3-1 S >= L"
    if not a_is_canonical(pk):
        return "7.3-2 A non-canonical"
    if is_small_order_encoding(pk):
        return "7.3-2 A small order"
    if is_small_order_encoding(R):
        return "7.3-3 R small order"
    A = point_decode(pk)
    if A is None:  # not on the curve (5.1.7 step 1: decoding fails)
        return "A does not decode"
    k = int.from_bytes(sha512(R + pk + msg), "little") % L
    check = point_add(point_mul(S, BASE), point_neg(point_mul(k, A)))
    if point_encode(check) != R:
        return "7.3-4 [S]B - [k]A != R (bytes)"
    return None


def verify_lenient(pk, msg, sig, cofactored, check_s, reduce_y):
    """Textbook lenient variants, for the report only: decode R and A (optionally y mod p), no
    small-order checks, compare points (optionally multiplied by the cofactor 8)."""
    R_b, S = sig[:32], int.from_bytes(sig[32:], "little")
    if check_s and S >= L:
        return False
    A = point_decode(pk, reduce_y)
    R = point_decode(R_b, reduce_y)
    if A is None or R is None:
        return False
    k = int.from_bytes(sha512(R_b + pk + msg), "little") % L
    lhs = point_mul(S, BASE)
    rhs = point_add(R, point_mul(k, A))
    if cofactored:
        lhs, rhs = point_mul(8, lhs), point_mul(8, rhs)
    return point_equal(lhs, rhs)


def verify_openssl(pk, msg, sig):
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


# ---------------------------------------------------------------------------------------------------
# Checking machinery


class Checker:
    def __init__(self):
        self.failures = 0
        self.lines = 0

    def group(self, vector, name, expected, computed):
        """expected: the file's dict; computed: {field: bytes or str}. One line per group."""
        bad = []
        for field, value in computed.items():
            if field not in expected:
                bad.append(f"{field}: missing from the file")
                continue
            got = value.hex() if isinstance(value, (bytes, bytearray)) else value
            if got != expected[field]:
                bad.append(f"{field}: file {expected[field]} != computed {got}")
        self.lines += 1
        fields = ", ".join(computed)
        if bad:
            self.failures += 1
            print(f"FAIL {vector}: {name} ({fields})")
            for b in bad:
                print(f"     {b}")
        else:
            print(f"ok   {vector}: {name} ({fields})")

    def fact(self, vector, name, ok, detail=""):
        """A derived property that is not a field (a refusal, an equality of two computations)."""
        self.lines += 1
        if ok:
            print(f"ok   {vector}: {name}{' (' + detail + ')' if detail else ''}")
        else:
            self.failures += 1
            print(f"FAIL {vector}: {name}{' (' + detail + ')' if detail else ''}")

    def coverage(self, vector, data, inputs, checked):
        """Every field of the file is either an input or was recomputed (no field goes unchecked)."""
        unknown = sorted(set(data) - set(inputs) - set(checked))
        self.fact(vector, "every field is an input or recomputed", not unknown,
                  f"{len(inputs)} inputs, {len(set(checked))} recomputed"
                  + (f"; unchecked: {', '.join(unknown)}" if unknown else ""))


def hexin(v, f):
    return bytes.fromhex(v[f])


def identity_blob(pk):
    return string(b"ssh-ed25519") + string(pk)


def signature_blob(sig):
    return string(b"ssh-ed25519") + string(sig)


def x25519(secret, u):
    return X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(u))


def x25519_base(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(seed, msg):
    """Ed25519 with cryptography, cross-checked against the integer implementation above."""
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(msg)
    assert sig == ed25519_sign(seed, msg), "cryptography and RFC 8032 integer signer disagree"
    return sig


def client_hello(client_random, share, mac16, host_keys=False, password=False, auth_retry=False):
    """4.1: one version (0x0001), one suite (0x0001), one X25519 share, host_key_mac last; with
    host_keys (4.1.2), its empty extension 0x0003 before host_key_mac; with password (4.8), its empty
    extension 0x0004 after host_keys and before host_key_mac; with auth_retry (4.1.3), its empty
    extension 0x0005 after those and before host_key_mac."""
    ext = ((u16(0x0003) + u16(0) if host_keys else b"") + (u16(0x0004) + u16(0) if password else b"")
           + (u16(0x0005) + u16(0) if auth_retry else b"")
           + u16(0x0002) + u16(16) + mac16)
    body = (u8(1) + u16(0x0001) + u8(1) + u16(0x0001) + client_random
            + u8(1) + u16(0x0001) + u16(len(share)) + share
            + u16(len(ext)) + ext)
    return u8(0x01) + u24(len(body)) + body


def server_hello(server_random, share):
    body = u16(0x0001) + u16(0x0001) + server_random + u16(len(share)) + share
    return u8(0x02) + u24(len(body)) + body


def host_key_mac(shared, server_identity, hello_without_mac):
    stealth_secret = hkdf_extract(ZERO64, shared)
    key = expand_label(stealth_secret, b"host key mac", sha512(server_identity), 32)
    return stealth_secret, key, hmac512(key, hello_without_mac)[:16]


# ---------------------------------------------------------------------------------------------------
# handshake.json


def certificate(nonce, pk, serial, cert_type, key_id, principal, valid_after, valid_before, extensions,
                ca_seed):
    """4.7: an ssh-ed25519-cert-v01@openssh.com blob (OpenSSH PROTOCOL.certkeys) with one principal, no
    critical options, the given extensions field contents and an empty reserved field, signed by the CA.
    Returns (blob, signature blob)."""
    signed = (string(b"ssh-ed25519-cert-v01@openssh.com") + string(nonce) + string(pk) + u64(serial)
              + u32(cert_type) + string(key_id) + string(string(principal)) + u64(valid_after)
              + u64(valid_before) + string(b"") + string(extensions) + string(b"")
              + string(identity_blob(ed25519_public(ca_seed))))
    sig_blob = signature_blob(sign(ca_seed, signed))
    return signed + string(sig_blob), sig_blob


def read_certificate(blob, role_type):
    """The receiver's reading of a certificate identity (4.7): structure, CA signature (strict, 7.3),
    type for the role; returns (error, certified key)."""
    def take_string(b, i):
        if i + 4 > len(b):
            raise ValueError("short")
        n = int.from_bytes(b[i:i + 4], "big")
        if i + 4 + n > len(b):
            raise ValueError("short")
        return b[i + 4:i + 4 + n], i + 4 + n
    try:
        i = 0
        name, i = take_string(blob, i)
        if name != b"ssh-ed25519-cert-v01@openssh.com":
            return "unsupported_key_type", None
        _nonce, i = take_string(blob, i)
        pk, i = take_string(blob, i)
        i += 8
        cert_type = int.from_bytes(blob[i:i + 4], "big")
        i += 4
        _key_id, i = take_string(blob, i)
        _principals, i = take_string(blob, i)
        i += 16
        _crit, i = take_string(blob, i)
        _ext, i = take_string(blob, i)
        _res, i = take_string(blob, i)
        ca, i = take_string(blob, i)
        signed_end = i
        sig, i = take_string(blob, i)
        if i != len(blob):
            return "malformed", None
    except ValueError:
        return "malformed", None
    if ca[:4 + 11] != string(b"ssh-ed25519") or len(ca) != 51:
        return "unsupported_key_type", None
    if sig[:4 + 11] != string(b"ssh-ed25519") or len(sig) != 83:
        return "malformed", None
    if verify_strict(ca[19:], blob[:signed_end], sig[19:]) is not None:
        return "bad_signature", None
    if len(pk) != 32 or cert_type not in (1, 2):
        return "malformed", None
    if cert_type != role_type:
        return "wrong_certificate_type", None
    return "none", pk


def check_handshake(c, vectors):
    expected_names = ["success", "server_signature_by_wrong_key", "client_denied",
                      "stealth_host_key_mac", "client_certificate", "server_certificate", "hostkeys", "password",
                      "auth_retry"]
    c.fact("handshake.json", "holds exactly the nine vectors of section 13",
           sorted(vectors) == sorted(expected_names), ", ".join(vectors))

    # ---- success ----------------------------------------------------------------------------------
    name = "success"
    v = vectors[name]
    inputs = ["client_ed25519_seed", "server_ed25519_seed", "account_text", "client_random",
              "client_x25519_secret", "server_random", "server_x25519_secret", "client_decoy_mac",
              "exporter_label_text", "exporter_context_text", "client_first_record_data_text",
              "server_first_record_data_text"]
    checked = []

    def grp(title, d):
        checked.extend(d)
        c.group(name, title, v, d)

    client_seed, server_seed = hexin(v, "client_ed25519_seed"), hexin(v, "server_ed25519_seed")
    account = v["account_text"].encode()
    client_random, server_random = hexin(v, "client_random"), hexin(v, "server_random")
    cx_secret, sx_secret = hexin(v, "client_x25519_secret"), hexin(v, "server_x25519_secret")
    decoy = hexin(v, "client_decoy_mac")

    client_pk, server_pk = ed25519_public(client_seed), ed25519_public(server_seed)
    assert client_pk == Ed25519PrivateKey.from_private_bytes(client_seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    client_id, server_id = identity_blob(client_pk), identity_blob(server_pk)
    grp("identity blobs (4.7) from the seeds",
        {"client_identity_blob": client_id, "server_identity_blob": server_id})

    cx_share, sx_share = x25519_base(cx_secret), x25519_base(sx_secret)
    grp("X25519 shares (4.1, 4.2)", {"client_x25519_share": cx_share, "server_x25519_share": sx_share})

    ch = client_hello(client_random, cx_share, decoy)
    sh = server_hello(server_random, sx_share)
    grp("clear messages (4.1 with the decoy host_key_mac, 4.2)", {"client_hello": ch, "server_hello": sh})

    dh = x25519(cx_secret, sx_share)
    c.fact(name, "dh is the same from both ends", dh == x25519(sx_secret, cx_share))
    early = hkdf_extract(ZERO64, ZERO64)
    hs_salt = expand_label(early, b"derived", b"", 64)
    hs = hkdf_extract(hs_salt, dh)
    T = ch + sh
    h_hello = sha512(T)
    c_hs = expand_label(hs, b"c hs traffic", h_hello, 64)
    s_hs = expand_label(hs, b"s hs traffic", h_hello, 64)
    ms_salt = expand_label(hs, b"derived", b"", 64)
    master = hkdf_extract(ms_salt, ZERO64)
    grp("handshake key schedule (6.2)", {
        "x25519_shared_secret": dh, "early_secret": early, "handshake_salt": hs_salt,
        "handshake_secret": hs, "transcript_hash_hello": h_hello,
        "client_handshake_traffic_secret": c_hs, "server_handshake_traffic_secret": s_hs,
        "master_salt": ms_salt, "master_secret": master})
    c_key, c_iv = traffic_key_iv(c_hs)
    s_key, s_iv = traffic_key_iv(s_hs)
    grp("handshake keys and IVs (4.6)", {
        "client_handshake_key": c_key, "client_handshake_iv": c_iv,
        "server_handshake_key": s_key, "server_handshake_iv": s_iv})

    # server_auth (4.3), transcript checkpoints (5), payload (6.5), Finished (6.6); no banner
    T += string(server_id) + string(b"")
    h_server_sig = sha512(T)
    server_payload = b"twoway v1 server sig" + b"\x00" + h_server_sig
    server_sig_blob = signature_blob(sign(server_seed, server_payload))
    T += string(server_sig_blob)
    h_server_fin = sha512(T)
    s_fin_key = expand_label(s_hs, b"finished", b"", 64)
    s_fin = hmac512(s_fin_key, h_server_fin)
    T += s_fin
    sa_plain = string(server_id) + string(b"") + string(server_sig_blob) + s_fin
    sa = seal_handshake(0x03, s_hs, 0, sa_plain)
    c.fact(name, "server_auth plaintext is transcript part 3", T == ch + sh + sa_plain)
    grp("server_auth (4.3, 5, 6.5, 6.6, 4.6 seq 0)", {
        "transcript_hash_server_signature": h_server_sig, "server_signature_payload": server_payload,
        "transcript_hash_server_finished": h_server_fin, "server_finished_key": s_fin_key,
        "server_finished": s_fin, "server_auth_plaintext": sa_plain, "server_auth": sa})
    # the client side: open, verify strictly, check Finished
    opened = open_handshake(hexin(v, "server_auth"), s_hs, 0)
    c.fact(name, "client opens server_auth, strict signature and Finished pass",
           opened is not None and opened == sa_plain and verify_strict(server_pk, server_payload, server_sig_blob[19:]) is None
           and hmac.compare_digest(hmac512(s_fin_key, h_server_fin), opened[-64:]))

    # client_auth (4.4)
    T += string(account) + string(client_id)
    h_client_sig = sha512(T)
    client_payload = b"twoway v1 client sig" + b"\x00" + h_client_sig
    client_sig_blob = signature_blob(sign(client_seed, client_payload))
    T += string(client_sig_blob)
    h_client_fin = sha512(T)
    c_fin_key = expand_label(c_hs, b"finished", b"", 64)
    c_fin = hmac512(c_fin_key, h_client_fin)
    T += c_fin
    ca_plain = string(account) + string(client_id) + string(client_sig_blob) + c_fin
    ca = seal_handshake(0x04, c_hs, 0, ca_plain)
    c.fact(name, "client_auth plaintext is transcript part 4", T == ch + sh + sa_plain + ca_plain)
    grp("client_auth (4.4, 5, 6.5, 6.6, 4.6 seq 0)", {
        "transcript_hash_client_signature": h_client_sig, "client_signature_payload": client_payload,
        "transcript_hash_client_finished": h_client_fin, "client_finished_key": c_fin_key,
        "client_finished": c_fin, "client_auth_plaintext": ca_plain, "client_auth": ca})
    opened = open_handshake(hexin(v, "client_auth"), c_hs, 0)
    c.fact(name, "server opens client_auth, strict signature and Finished pass",
           opened is not None and opened == ca_plain and verify_strict(client_pk, client_payload, client_sig_blob[19:]) is None)

    # application secrets (6.2), exporter (6.4), verdict (4.5)
    h_app = sha512(T)
    c_ap = expand_label(master, b"c ap traffic", h_app, 64)
    s_ap = expand_label(master, b"s ap traffic", h_app, 64)
    exp_secret = expand_label(master, b"exp master", h_app, 64)
    session_id = expand_label(master, b"session id", h_app, 32)
    grp("application secrets, exporter secret, session id (6.2, 6.3)", {
        "transcript_hash_application": h_app, "client_application_traffic_secret": c_ap,
        "server_application_traffic_secret": s_ap, "exporter_secret": exp_secret,
        "session_id": session_id})
    grp("server_verdict accepted (4.5, seq 1)", {"server_verdict": seal_handshake(0x05, s_hs, 1, b"\x00")})
    grp("exporter (6.4, L = 32)", {"exporter_output_32": exporter(
        exp_secret, v["exporter_label_text"].encode(), v["exporter_context_text"].encode(), 32)})
    ca_key, ca_iv = traffic_key_iv(c_ap)
    sa_key, sa_iv = traffic_key_iv(s_ap)
    grp("application keys and IVs (9.1)", {
        "client_application_key": ca_key, "client_application_iv": ca_iv,
        "server_application_key": sa_key, "server_application_iv": sa_iv})
    grp("first data records (9.2, type 0x01, seq 0)", {
        "client_first_record": seal_record(c_ap, 0, 0x01, v["client_first_record_data_text"].encode()),
        "server_first_record": seal_record(s_ap, 0, 0x01, v["server_first_record_data_text"].encode())})
    c.coverage(name, v, inputs, checked)

    # The other vectors reuse success's inputs and values computed above (their inputs_text).

    # ---- server_signature_by_wrong_key -------------------------------------------------------------
    name = "server_signature_by_wrong_key"
    v = vectors[name]
    inputs = ["inputs_text", "wrong_signer_ed25519_seed"]
    checked = []
    grp("clear messages as in success", {"client_hello": ch, "server_hello": sh})
    wrong_seed = hexin(v, "wrong_signer_ed25519_seed")
    wrong_blob = signature_blob(sign(wrong_seed, server_payload))
    Tw = ch + sh + string(server_id) + string(b"") + string(wrong_blob)
    h_fin_w = sha512(Tw)
    fin_w = hmac512(s_fin_key, h_fin_w)
    plain_w = string(server_id) + string(b"") + string(wrong_blob) + fin_w
    grp("server_auth signed by the wrong key, correct Finished (4.3, 6.6, 4.6)", {
        "server_signature_blob": wrong_blob, "transcript_hash_server_finished": h_fin_w,
        "server_finished": fin_w, "server_auth_plaintext": plain_w,
        "server_auth": seal_handshake(0x03, s_hs, 0, plain_w)})
    # the client: opens it, the strict check refuses the signature, although the Finished would pass
    opened = open_handshake(hexin(v, "server_auth"), s_hs, 0)
    if opened is None:
        sig_verdict, fin_ok, error = "not opened", False, "decrypt_failed"
    else:
        sig_verdict = verify_strict(server_pk, server_payload,
                                    opened[4 + 51 + 4 + 4 + 19:4 + 51 + 4 + 4 + 83])
        fin_ok = hmac.compare_digest(hmac512(s_fin_key, sha512(ch + sh + opened[:-64])), opened[-64:])
        error = "bad_signature" if sig_verdict is not None else ("bad_finished" if not fin_ok else "none")
    checked.append("expected_error")
    c.group(name, "client outcome (7.1 step 3: signature before Finished)", v,
            {"expected_error": error})
    c.fact(name, "the Finished alone would pass", fin_ok, f"strict verify: {sig_verdict}")
    c.coverage(name, v, inputs, checked)

    # ---- client_denied ------------------------------------------------------------------------------
    name = "client_denied"
    v = vectors[name]
    inputs = ["inputs_text"]
    checked = []
    grp("server_verdict denied (4.5, server handshake key, seq 1)", {
        "server_verdict_plaintext": b"\x01", "server_verdict": seal_handshake(0x05, s_hs, 1, b"\x01")})
    plain = open_handshake(hexin(v, "server_verdict"), s_hs, 1)
    outcome = ("decrypt_failed" if plain is None
               else {b"\x00": "none", b"\x01": "auth_denied"}.get(plain, "malformed"))
    checked.append("expected_error")
    c.group(name, "client outcome (7.1 step 6)", v, {"expected_error": outcome})
    c.coverage(name, v, inputs, checked)

    # ---- stealth_host_key_mac ----------------------------------------------------------------------
    name = "stealth_host_key_mac"
    v = vectors[name]
    inputs = ["inputs_text"]
    checked = []
    server_x = ed25519_pk_to_x25519(server_pk)
    shared_client = x25519(cx_secret, server_x)
    s_scalar = secret_expand(server_seed)[0].to_bytes(32, "little")
    shared_server = x25519(s_scalar, cx_share)
    c.fact(name, "shared is the same from both ends (client secret x server_x = s x client share)",
           shared_client == shared_server)
    # the client knows the key: no third draw; the MAC covers everything before it
    covered = client_hello(client_random, cx_share, bytes(16))[:-16]
    st_secret, hkm_key, mac = host_key_mac(shared_client, server_id, covered)
    grp("host_key_mac derivation (4.1.1)", {
        "server_x25519_form": server_x, "stealth_shared_secret": shared_client,
        "stealth_secret": st_secret, "host_key_mac_key": hkm_key, "host_key_mac": mac})
    grp("client_hello with the proof, server_hello as in success", {
        "client_hello": covered + mac, "server_hello": server_hello(server_random, sx_share)})

    # the stealth server's check (7.2 step 1), on the file's client_hellos
    def stealth_server(hello):
        share = hello[4 + 1 + 2 + 1 + 2 + 32 + 1 + 4:4 + 1 + 2 + 1 + 2 + 32 + 1 + 4 + 32]
        shared = x25519(s_scalar, share)
        expect = host_key_mac(shared, server_id, hello[:-16])[2]
        return "none" if hmac.compare_digest(expect, hello[-16:]) else "host_key_mac_invalid"

    proved = stealth_server(hexin(v, "client_hello"))
    decoyed = stealth_server(hexin(vectors["success"], "client_hello"))
    checked += ["expected_error", "success_client_hello_expected_error"]
    c.group(name, "stealth server outcomes (7.2 step 1)", v, {
        "expected_error": proved, "success_client_hello_expected_error": decoyed})
    c.coverage(name, v, inputs, checked)

    # The rest of a session from a server_auth plaintext on (4.4, 5, 6.5, 6.6, 6.2): the client's
    # identity blob given; returns the fields of the client's side and the session id.
    def client_side(sa_plain_x, client_identity):
        t = ch + sh + sa_plain_x + string(account) + string(client_identity)
        h_sig = sha512(t)
        payload = b"twoway v1 client sig" + b"\x00" + h_sig
        sig_blob = signature_blob(sign(client_seed, payload))
        t += string(sig_blob)
        h_fin = sha512(t)
        fin = hmac512(c_fin_key, h_fin)
        plain = string(account) + string(client_identity) + string(sig_blob) + fin
        h_app_x = sha512(ch + sh + sa_plain_x + plain)
        return {
            "transcript_hash_client_signature": h_sig, "client_signature_payload": payload,
            "transcript_hash_client_finished": h_fin, "client_finished": fin,
            "client_auth_plaintext": plain, "client_auth": seal_handshake(0x04, c_hs, 0, plain),
            "transcript_hash_application": h_app_x,
            "session_id": expand_label(master, b"session id", h_app_x, 32)}

    # ---- client_certificate ------------------------------------------------------------------------
    name = "client_certificate"
    v = vectors[name]
    inputs = ["inputs_text", "user_ca_ed25519_seed", "client_certificate_nonce",
              "client_certificate_serial", "client_certificate_key_id_text",
              "client_certificate_principal_text", "client_certificate_valid_after",
              "client_certificate_valid_before", "client_certificate_extensions"]
    checked = []
    user_ca = hexin(v, "user_ca_ed25519_seed")
    cert, cert_sig = certificate(
        hexin(v, "client_certificate_nonce"), client_pk,
        int.from_bytes(hexin(v, "client_certificate_serial"), "big"), 1,
        v["client_certificate_key_id_text"].encode(), v["client_certificate_principal_text"].encode(),
        int.from_bytes(hexin(v, "client_certificate_valid_after"), "big"),
        int.from_bytes(hexin(v, "client_certificate_valid_before"), "big"),
        hexin(v, "client_certificate_extensions"), user_ca)
    grp("the user certificate (4.7)", {
        "user_ca_identity_blob": identity_blob(ed25519_public(user_ca)),
        "client_certificate_signature_blob": cert_sig, "client_identity_blob": cert})
    grp("client_auth with the certificate as identity (4.4, 5, 6.5, 6.6) and the session id",
        client_side(sa_plain, cert))
    # the server's reading: the certificate verifies under its CA, is a user certificate, and the client
    # signature verifies under the certified key
    err, certified = read_certificate(hexin(v, "client_identity_blob"), 1)
    if err == "none":
        opened = open_handshake(hexin(v, "client_auth"), c_hs, 0)
        if opened is None:
            err = "decrypt_failed"
        elif certified != client_pk or verify_strict(
                certified, hexin(v, "client_signature_payload"), opened[-64 - 64:-64]) is not None:
            err = "bad_signature"
    checked.append("expected_error")
    c.group(name, "server outcome (7.2 step 2 with 4.7)", v, {"expected_error": err})
    c.fact(name, "the same certificate read as a server's identity is wrong_certificate_type",
           read_certificate(cert, 2)[0] == "wrong_certificate_type")
    flipped = bytearray(cert)
    flipped[-1] ^= 1
    c.fact(name, "one flipped byte of the CA signature is bad_signature",
           read_certificate(bytes(flipped), 1)[0] == "bad_signature")
    c.coverage(name, v, inputs, checked)

    # ---- server_certificate ------------------------------------------------------------------------
    name = "server_certificate"
    v = vectors[name]
    inputs = ["inputs_text", "host_ca_ed25519_seed", "server_certificate_nonce",
              "server_certificate_serial", "server_certificate_key_id_text",
              "server_certificate_principal_text", "server_certificate_valid_after",
              "server_certificate_valid_before", "server_banner"]
    checked = []
    host_ca = hexin(v, "host_ca_ed25519_seed")
    cert, cert_sig = certificate(
        hexin(v, "server_certificate_nonce"), server_pk,
        int.from_bytes(hexin(v, "server_certificate_serial"), "big"), 2,
        v["server_certificate_key_id_text"].encode(), v["server_certificate_principal_text"].encode(),
        int.from_bytes(hexin(v, "server_certificate_valid_after"), "big"),
        int.from_bytes(hexin(v, "server_certificate_valid_before"), "big"), b"", host_ca)
    grp("the host certificate (4.7)", {
        "host_ca_identity_blob": identity_blob(ed25519_public(host_ca)),
        "server_certificate_signature_blob": cert_sig, "server_identity_blob": cert})
    banner = hexin(v, "server_banner")
    t = ch + sh + string(cert) + string(banner)
    h_sig = sha512(t)
    payload = b"twoway v1 server sig" + b"\x00" + h_sig
    sig_blob = signature_blob(sign(server_seed, payload))
    t += string(sig_blob)
    h_fin = sha512(t)
    fin = hmac512(s_fin_key, h_fin)
    plain = string(cert) + string(banner) + string(sig_blob) + fin
    grp("server_auth with the certificate and the banner (4.3, 5, 6.5, 6.6, 4.6)", {
        "transcript_hash_server_signature": h_sig, "server_signature_payload": payload,
        "transcript_hash_server_finished": h_fin, "server_finished": fin,
        "server_auth_plaintext": plain, "server_auth": seal_handshake(0x03, s_hs, 0, plain)})
    grp("client_auth after it (4.4, 5) and the session id", client_side(plain, client_id))
    err, certified = read_certificate(hexin(v, "server_identity_blob"), 2)
    if err == "none":
        opened = open_handshake(hexin(v, "server_auth"), s_hs, 0)
        if opened is None:
            err = "decrypt_failed"
        elif certified != server_pk or verify_strict(certified, payload, opened[-64 - 64:-64]) is not None:
            err = "bad_signature"
        elif not hmac.compare_digest(hmac512(s_fin_key, h_fin), opened[-64:]):
            err = "bad_finished"
    checked.append("expected_error")
    c.group(name, "client outcome (7.1 step 3 with 4.7)", v, {"expected_error": err})
    c.fact(name, "the same certificate read as a client's identity is wrong_certificate_type",
           read_certificate(cert, 1)[0] == "wrong_certificate_type")
    c.fact(name, "host_key_mac stays keyed by the plain key: the stealth vector's proof is unchanged",
           host_key_mac(shared_client, server_id, covered)[2]
           == hexin(vectors["stealth_host_key_mac"], "host_key_mac"))
    c.coverage(name, v, inputs, checked)

    # ---- hostkeys ----------------------------------------------------------------------------------
    # 4.1.2, 6.5 and 15 (HOSTKEYS, Host key rotation): the client knows the server key and sends
    # host_keys; the server answers the request with ACCEPT and HOSTKEYS for its two keys.
    name = "hostkeys"
    v = vectors[name]
    inputs = ["inputs_text", "second_host_ed25519_seed", "accept_window"]
    checked = []
    second_seed = hexin(v, "second_host_ed25519_seed")
    second_id = identity_blob(ed25519_public(second_seed))
    grp("the second host key's blob (4.7)", {"second_host_identity_blob": second_id})
    covered_k = client_hello(client_random, cx_share, bytes(16), host_keys=True)[:-16]
    mac_k = host_key_mac(shared_client, server_id, covered_k)[2]
    hello_k = covered_k + mac_k
    grp("client_hello with host_keys and the host_key_mac proof (4.1, 4.1.1, 4.1.2)", {
        "host_key_mac": mac_k, "client_hello": hello_k, "server_hello": sh})
    c.fact(name, "client_hello is 105 bytes (4.1)", len(hello_k) == 105)
    # the handshake of success over this client_hello (5, 6.2, 6.5, 6.6, 4.6)
    h_hello_k = sha512(hello_k + sh)
    c_hs_k = expand_label(hs, b"c hs traffic", h_hello_k, 64)
    s_hs_k = expand_label(hs, b"s hs traffic", h_hello_k, 64)
    t = hello_k + sh + string(server_id) + string(b"")
    sig_k = signature_blob(sign(server_seed, b"twoway v1 server sig" + b"\x00" + sha512(t)))
    t += string(sig_k)
    t += hmac512(expand_label(s_hs_k, b"finished", b"", 64), sha512(t))
    sa_plain_k = t[len(hello_k + sh):]
    t += string(account) + string(client_id)
    sig_k = signature_blob(sign(client_seed, b"twoway v1 client sig" + b"\x00" + sha512(t)))
    t += string(sig_k)
    t += hmac512(expand_label(c_hs_k, b"finished", b"", 64), sha512(t))
    ca_plain_k = t[len(hello_k + sh + sa_plain_k):]
    h_app_k = sha512(t)
    s_ap_k = expand_label(master, b"s ap traffic", h_app_k, 64)
    session_id_k = expand_label(master, b"session id", h_app_k, 32)
    grp("the handshake after this client_hello (5, 6.2, 4.3-4.6) and its session id (6.3)", {
        "transcript_hash_hello": h_hello_k, "client_handshake_traffic_secret": c_hs_k,
        "server_handshake_traffic_secret": s_hs_k, "server_auth_plaintext": sa_plain_k,
        "server_auth": seal_handshake(0x03, s_hs_k, 0, sa_plain_k),
        "client_auth_plaintext": ca_plain_k, "client_auth": seal_handshake(0x04, c_hs_k, 0, ca_plain_k),
        "server_verdict": seal_handshake(0x05, s_hs_k, 1, b"\x00"),
        "transcript_hash_application": h_app_k, "server_application_traffic_secret": s_ap_k,
        "session_id": session_id_k})

    # 6.5: "twoway v1 host key proof" | 0x00 | SHA-512(session_id | string key), signed by that key
    def proof_payload(sid, key_blob):
        return b"twoway v1 host key proof" + b"\x00" + sha512(sid + string(key_blob))

    payload_1, payload_2 = proof_payload(session_id_k, server_id), proof_payload(session_id_k, second_id)
    proof_1 = signature_blob(sign(server_seed, payload_1))
    proof_2 = signature_blob(sign(second_seed, payload_2))
    grp("host key proofs (6.5) of both keys", {
        "server_host_key_proof_payload": payload_1, "server_host_key_proof_blob": proof_1,
        "second_host_key_proof_payload": payload_2, "second_host_key_proof_blob": proof_2})
    c.fact(name, "a host key proof payload is 89 bytes (6.5)", len(payload_1) == len(payload_2) == 89)

    # 15, Framing: u8 type | u32 length | body; ACCEPT (0x03) u32 window; HOSTKEYS (0x1a) u8 count, then
    # string key | string signature per key
    def frame(msg_type, body):
        return u8(msg_type) + u32(len(body)) + body

    accept = frame(0x03, hexin(v, "accept_window"))
    hostkeys = frame(0x1a, u8(2) + string(server_id) + string(proof_1) + string(second_id) + string(proof_2))
    sap_key, sap_iv = traffic_key_iv(s_ap_k)
    grp("ACCEPT and HOSTKEYS (15) in the server's first data record (9.1, 9.2, seq 0)", {
        "accept_frame": accept, "hostkeys_frame": hostkeys,
        "server_application_key": sap_key, "server_application_iv": sap_iv,
        "server_first_record": seal_record(s_ap_k, 0, 0x01, accept + hostkeys)})

    # the client's side: open the file's record, read the two frames, check every proof strictly (7.3)
    # for this session's id, and for success's session id (the proofs of one session are no other's)
    def client_reads(record, sid):
        length = int.from_bytes(record[:4], "big")
        key, iv = traffic_key_iv(s_ap_k)
        try:
            plain = ChaCha20Poly1305(key).decrypt(nonce_for(iv, 0), record[4:4 + length], record[:4])
        except InvalidTag:
            return "decrypt_failed"
        if len(record) != 4 + length or plain[0] != 0x01:
            return "malformed"
        data = plain[1:]
        first_len = int.from_bytes(data[1:5], "big")
        if data[0] != 0x03 or first_len != 4:
            return "unexpected_message"
        data = data[5 + first_len:]
        if data[0] != 0x1a or int.from_bytes(data[1:5], "big") != len(data) - 5:
            return "unexpected_message"
        body, count, keys = data[5:], data[5], []
        i = 1
        for _ in range(count):
            key_blob = body[i + 4:i + 4 + int.from_bytes(body[i:i + 4], "big")]
            i += 4 + len(key_blob)
            sig = body[i + 4:i + 4 + int.from_bytes(body[i:i + 4], "big")]
            i += 4 + len(sig)
            if key_blob[:15] != string(b"ssh-ed25519") or sig[:15] != string(b"ssh-ed25519"):
                return "malformed"
            if verify_strict(key_blob[19:], proof_payload(sid, key_blob), sig[19:]) is not None:
                return "bad_signature"
            keys.append(key_blob)
        if i != len(body) or not 1 <= count <= 16:
            return "malformed"
        return "none" if keys == [server_id, second_id] else "wrong keys"

    record = hexin(v, "server_first_record")
    checked += ["expected_error", "success_session_id_expected_error"]
    c.group(name, "client outcome: the proofs for this session, then for success's (15)", v, {
        "expected_error": client_reads(record, session_id_k),
        "success_session_id_expected_error": client_reads(record, session_id)})
    c.coverage(name, v, inputs, checked)

    # ---- password ----------------------------------------------------------------------------------
    # 4.8 (revision 5): password mode. Python's cryptography has no ristretto255 (nor Argon2id in
    # Debian 12's version), so OPAQUE's own values (registration, ke1, ke2, ke3, opaque_session_key) are
    # taken from the file, and only what twoway adds around them is recomputed here: client_hello with
    # the password extension, the transcript and its checkpoints (5), the OPAQUE context (4.8), the three
    # messages' layout and encryption (4.6, 4.8), the master secret from the OPAQUE session key (6.2),
    # and the application secrets. That the OPAQUE values are right for this context is checked by the
    # C++ generator (lib/src/opaque, tested against RFC 9807's vectors), not here.
    name = "password"
    v = vectors[name]
    inputs = ["inputs_text", "password_text", "oprf_seed", "ake_seed", "server_opaque_public_key",
              "registration_blind_wide", "envelope_nonce", "registration_request", "registration_response",
              "registration_record", "login_blind_wide", "client_nonce", "client_keyshare_seed",
              "masking_nonce", "server_nonce", "server_keyshare_seed", "ke1", "ke2", "ke3",
              "opaque_session_key", "ksf", "ksf_ops", "ksf_mem_kib"]
    checked = []
    covered_p = client_hello(client_random, cx_share, bytes(16), password=True)[:-16]
    hello_p = covered_p + decoy
    grp("client_hello with password (0x0004) before the decoy host_key_mac (4.1, 4.8)", {
        "client_hello": hello_p, "server_hello": sh})
    c.fact(name, "client_hello is 105 bytes", len(hello_p) == 105)
    h_hello_p = sha512(hello_p + sh)
    c_hs_p = expand_label(hs, b"c hs traffic", h_hello_p, 64)
    s_hs_p = expand_label(hs, b"s hs traffic", h_hello_p, 64)
    t = hello_p + sh + string(server_id) + string(b"")
    sig_p = signature_blob(sign(server_seed, b"twoway v1 server sig" + b"\x00" + sha512(t)))
    t += string(sig_p)
    t += hmac512(expand_label(s_hs_p, b"finished", b"", 64), sha512(t))
    sa_plain_p = t[len(hello_p + sh):]
    grp("server_auth, unchanged by password mode (4.3)", {
        "server_auth_plaintext": sa_plain_p, "server_auth": seal_handshake(0x03, s_hs_p, 0, sa_plain_p)})
    # client_password: string account | KE1; H_pw_context is T through the account (5)
    t += string(account)
    h_pw = sha512(t)
    context = b"twoway v1 opaque" + b"\x00" + h_pw
    ke1, ke2, ke3 = hexin(v, "ke1"), hexin(v, "ke2"), hexin(v, "ke3")
    c.fact(name, "KE1, KE2, KE3 are 96, 320, 64 bytes (4.8)", (len(ke1), len(ke2), len(ke3)) == (96, 320, 64))
    t += ke1
    cp_plain = string(account) + ke1
    grp("client_password (4.8: client handshake key, seq 0), H_pw_context and the OPAQUE context", {
        "transcript_hash_password_context": h_pw, "opaque_context": context,
        "client_password_plaintext": cp_plain, "client_password": seal_handshake(0x06, c_hs_p, 0, cp_plain)})
    c.fact(name, "the OPAQUE context is 81 bytes (4.8)", len(context) == 81)
    # server_password: u8 ksf | u32 ops | u32 mem_kib | KE2 (server handshake key, seq 1)
    sp_plain = hexin(v, "ksf") + hexin(v, "ksf_ops") + hexin(v, "ksf_mem_kib") + ke2
    t += sp_plain
    grp("server_password (4.8: server handshake key, seq 1)", {
        "server_password_plaintext": sp_plain, "server_password": seal_handshake(0x07, s_hs_p, 1, sp_plain)})
    c.fact(name, "ksf is Argon2id (0x01) within the client's limits (4.8)",
           hexin(v, "ksf") == b"\x01" and 1 <= int.from_bytes(hexin(v, "ksf_ops"), "big") <= 16
           and 8 <= int.from_bytes(hexin(v, "ksf_mem_kib"), "big") <= 1 << 20)
    # client_password_finish: KE3 | finished over H_client_finished (T through KE3)
    t += ke3
    h_cf = sha512(t)
    cf = hmac512(expand_label(c_hs_p, b"finished", b"", 64), h_cf)
    t += cf
    cf_plain = ke3 + cf
    grp("client_password_finish (4.8: client handshake key, seq 1; 6.6)", {
        "transcript_hash_client_finished": h_cf, "client_finished": cf,
        "client_password_finish_plaintext": cf_plain,
        "client_password_finish": seal_handshake(0x08, c_hs_p, 1, cf_plain)})
    # 6.2: master_secret = HKDF-Extract(ms_salt, opaque_session_key); H_app through finished
    master_p = hkdf_extract(ms_salt, hexin(v, "opaque_session_key"))
    h_app_p = sha512(t)
    grp("password mode's master secret (6.2) and application secrets, server_verdict at seq 2 (4.6)", {
        "master_secret": master_p, "transcript_hash_application": h_app_p,
        "client_application_traffic_secret": expand_label(master_p, b"c ap traffic", h_app_p, 64),
        "server_application_traffic_secret": expand_label(master_p, b"s ap traffic", h_app_p, 64),
        "session_id": expand_label(master_p, b"session id", h_app_p, 32),
        "server_verdict": seal_handshake(0x05, s_hs_p, 2, b"\x00"),
        "expected_error": "none"})
    c.coverage(name, v, inputs, checked)

    # ---- auth_retry -------------------------------------------------------------------------------
    # 4.1.3, 4.5, 4.6, 5 and 7 (steps 6r, 3r): the client sends auth_retry; the server answers its
    # first client_auth (success's key) with retry (02, seq 1); the second client_auth (another key,
    # seq 1) covers the transcript with the first one in it; the server accepts it (00, seq 2).
    name = "auth_retry"
    v = vectors[name]
    inputs = ["inputs_text", "second_client_ed25519_seed"]
    checked = []
    second_seed = hexin(v, "second_client_ed25519_seed")
    second_id = identity_blob(ed25519_public(second_seed))
    grp("the second client key's blob (4.7)", {"second_client_identity_blob": second_id})
    hello_r = client_hello(client_random, cx_share, decoy, auth_retry=True)
    grp("client_hello with auth_retry and the decoy host_key_mac (4.1, 4.1.3)",
        {"client_hello": hello_r, "server_hello": sh})
    c.fact(name, "client_hello is 105 bytes", len(hello_r) == 105)
    h_hello_r = sha512(hello_r + sh)
    c_hs_r = expand_label(hs, b"c hs traffic", h_hello_r, 64)
    s_hs_r = expand_label(hs, b"s hs traffic", h_hello_r, 64)
    t = hello_r + sh + string(server_id) + string(b"")
    sig_r = signature_blob(sign(server_seed, b"twoway v1 server sig" + b"\x00" + sha512(t)))
    t += string(sig_r)
    t += hmac512(expand_label(s_hs_r, b"finished", b"", 64), sha512(t))
    sa_plain_r = t[len(hello_r + sh):]
    grp("the handshake secrets and server_auth over this client_hello (5, 6.2, 4.3)", {
        "transcript_hash_hello": h_hello_r, "client_handshake_traffic_secret": c_hs_r,
        "server_handshake_traffic_secret": s_hs_r, "server_auth_plaintext": sa_plain_r,
        "server_auth": seal_handshake(0x03, s_hs_r, 0, sa_plain_r)})

    def client_auth(seed, identity, prefix):
        """4.4 over the transcript `prefix`: returns H_client_sig, H_client_finished, the plaintext."""
        tt = prefix + string(account) + string(identity)
        h_sig = sha512(tt)
        tt += string(signature_blob(sign(seed, b"twoway v1 client sig" + b"\x00" + h_sig)))
        h_fin = sha512(tt)
        tt += hmac512(expand_label(c_hs_r, b"finished", b"", 64), h_fin)
        return h_sig, h_fin, tt[len(prefix):]

    h_sig_1, h_fin_1, ca_1 = client_auth(client_seed, client_id, t)
    t += ca_1
    grp("the first client_auth (4.4, seq 0) and the retry verdict (4.5: 02, seq 1)", {
        "first_transcript_hash_client_signature": h_sig_1, "first_transcript_hash_client_finished": h_fin_1,
        "first_client_auth_plaintext": ca_1, "first_client_auth": seal_handshake(0x04, c_hs_r, 0, ca_1),
        "retry_verdict": seal_handshake(0x05, s_hs_r, 1, b"\x02")})
    h_sig_2, h_fin_2, ca_2 = client_auth(second_seed, second_id, t)
    t += ca_2
    grp("the second client_auth over T with the first in it (5; seq 1) and the acceptance (seq 2)", {
        "second_transcript_hash_client_signature": h_sig_2, "second_transcript_hash_client_finished": h_fin_2,
        "second_client_auth_plaintext": ca_2, "second_client_auth": seal_handshake(0x04, c_hs_r, 1, ca_2),
        "server_verdict": seal_handshake(0x05, s_hs_r, 2, b"\x00")})
    h_app_r = sha512(t)
    grp("H_app after the last client_auth, the application secrets and the session id (6.2)", {
        "transcript_hash_application": h_app_r,
        "client_application_traffic_secret": expand_label(master, b"c ap traffic", h_app_r, 64),
        "server_application_traffic_secret": expand_label(master, b"s ap traffic", h_app_r, 64),
        "session_id": expand_label(master, b"session id", h_app_r, 32),
        "expected_error": "none"})
    c.coverage(name, v, inputs, checked)


# ---------------------------------------------------------------------------------------------------
# ed25519.json


def check_ed25519(c, cases):
    # 7.3's list is exactly the y-encodings of the eight-torsion points (and their non-canonical
    # forms y + p that fit in 255 bits): recomputed here from a point of order 8.
    torsion = set()
    for y in range(2, 2**16):  # find one point of order 8: [L]Q for a Q on the curve
        x = recover_x(y, 0)
        if x is None:
            continue
        q = point_mul(L, (x, y, 1, x * y % P))
        if not point_equal(point_mul(4, q), IDENTITY):
            break
    for i in range(8):
        enc = point_encode(point_mul(i, q))
        yv = int.from_bytes(enc, "little") & ((1 << 255) - 1)
        torsion.add(yv)
        if yv + P < 2**255:
            torsion.add(yv + P)
    listed = {int.from_bytes(b, "little") for b in SMALL_ORDER}
    c.fact("ed25519.json", "7.3's seven encodings are the eight-torsion y's (with y + p)",
           torsion == listed, f"{len(torsion)} computed, {len(listed)} listed")

    order = ["valid", "small_order_public_key", "order_8_public_key", "small_order_public_key_honest_r",
             "order_8_public_key_honest_r", "small_order_r", "non_canonical_r", "non_canonical_public_key",
             "s_not_reduced"]
    c.fact("ed25519.json", "holds exactly the nine cases of section 13",
           sorted(cases) == sorted(order), ", ".join(cases))
    # Each case rebuilt from its description (section 13 and its why_text): only the choice of the
    # order-8 point is an input (section 13 does not say which of the four).
    message = b"twoway v1 server sig" + b"\x00" + bytes(range(64))
    server_seed = bytes(range(0x20, 0x40))  # the server key of success
    valid_pk = ed25519_public(server_seed)
    a = secret_expand(server_seed)[0]
    ident = SMALL_ORDER[1]
    p_plus_1 = (P + 1).to_bytes(32, "little")

    def s_k_a(R, pk):  # S = k * a mod L, with k over that R
        k = int.from_bytes(sha512(R + pk + message), "little") % L
        return (k * a % L).to_bytes(32, "little")

    valid_sig = sign(server_seed, message)
    order8_pk = hexin(cases["order_8_public_key"], "public_key")
    order8_pt = point_decode(order8_pk)
    c.fact("ed25519.json", "order_8_public_key: the key is a point of order exactly 8",
           order8_pt is not None and point_equal(point_mul(8, order8_pt), IDENTITY)
           and not point_equal(point_mul(4, order8_pt), IDENTITY))
    def honest_r(a_enc):  # R = [r]B, S = r, the smallest r >= 1 with [k]A the identity
        a_pt = point_decode(a_enc)
        for r in range(1, 10000):
            R = point_encode(point_mul(r, BASE))
            k = int.from_bytes(sha512(R + a_enc + message), "little") % L
            if point_equal(point_mul(k, a_pt), IDENTITY):
                return R + r.to_bytes(32, "little")
        raise ValueError("no r found")

    built = {
        "valid": (valid_pk, valid_sig),
        "small_order_public_key_honest_r": (ident, honest_r(ident)),
        "order_8_public_key_honest_r": (order8_pk, honest_r(order8_pk)),
        "small_order_public_key": (ident, ident + bytes(32)),
        "order_8_public_key": (order8_pk, ident + bytes(32)),
        "small_order_r": (valid_pk, ident + s_k_a(ident, valid_pk)),
        "non_canonical_r": (valid_pk, p_plus_1 + s_k_a(p_plus_1, valid_pk)),
        "non_canonical_public_key": (p_plus_1, ident + bytes(32)),
        "s_not_reduced": (valid_pk, valid_sig[:32]
                          + (int.from_bytes(valid_sig[32:], "little") + L).to_bytes(32, "little")),
    }
    print("     case                       strict (7.3)                  OpenSSL  RFC8032-cof  loose")
    report = []
    for name in order:
        v = cases[name]
        pk, msg, sig = hexin(v, "public_key"), hexin(v, "message"), hexin(v, "signature")
        strict = verify_strict(pk, msg, sig)  # on the file's bytes
        openssl = verify_openssl(pk, msg, sig)
        rfc_cof = verify_lenient(pk, msg, sig, cofactored=True, check_s=True, reduce_y=False)
        loose = verify_lenient(pk, msg, sig, cofactored=True, check_s=False, reduce_y=True)
        print(f"     {name:26} {('accept' if strict is None else 'refuse: ' + strict):29} "
              f"{'accept' if openssl else 'refuse':8} {'accept' if rfc_cof else 'refuse':12} "
              f"{'accept' if loose else 'refuse'}")
        report.append((name, openssl))
        c.group("ed25519.json", f"{name}: rebuilt case and strict verdict", v, {
            "public_key": built[name][0], "message": message, "signature": built[name][1],
            "expected_error": "none" if strict is None else "bad_signature"})
        if name == "valid":
            c.fact("ed25519.json", "valid: OpenSSL accepts it too", openssl)
        else:
            # the case is what its why_text says: a lenient verifier accepts it
            c.fact("ed25519.json", f"{name}: the textbook lenient verifier accepts it", loose)
        c.coverage(f"ed25519.json {name}", v, ["why_text"],
                   ["public_key", "message", "signature", "expected_error"])
    ablation(c, cases, message)
    return report


def verify_without(pk, msg, sig, skip):
    """verify_strict with some of its checks left out (for the ablation report)."""
    R, S = sig[:32], int.from_bytes(sig[32:], "little")
    if "S < L" not in skip and S >= L:
        return False
    if "A canonical" not in skip and not a_is_canonical(pk):
        return False
    if "A not small" not in skip and is_small_order_encoding(pk):
        return False
    if "R not small" not in skip and is_small_order_encoding(R):
        return False
    A = point_decode(pk, reduce_y=True)
    if A is None:
        return False
    k = int.from_bytes(sha512(R + pk + msg), "little") % L
    check = point_add(point_mul(S, BASE), point_neg(point_mul(k, A)))
    if "R bytes" in skip:  # decode R (y mod p) and compare points instead of bytes
        Rp = point_decode(R, reduce_y=True)
        return Rp is not None and point_equal(Rp, check)
    return point_encode(check) == R


def ablation(c, cases, message):
    """Which cases catch a verifier that leaves out one check of 7.3 (information, not a failure)."""
    for skip in ["S < L", "A canonical", "A not small", "R not small", "R bytes",
                 "A canonical+A not small"]:
        accepted = [n for n, v in cases.items() if n != "valid" and verify_without(
            hexin(v, "public_key"), hexin(v, "message"), hexin(v, "signature"), skip.split("+"))]
        print(f"info ed25519.json: without '{skip}' a verifier accepts: "
              f"{', '.join(accepted) or 'none of the cases (no case isolates this check)'}")


def main(argv):
    if len(argv) != 3:
        print("usage: crosscheck.py handshake.json ed25519.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            handshake = json.load(f)
        with open(argv[2]) as f:
            ed = json.load(f)
    except (OSError, ValueError) as e:
        print(f"crosscheck: cannot read the vectors: {e}", file=sys.stderr)
        return 2
    c = Checker()
    for check, data in [(check_handshake, handshake), (check_ed25519, ed)]:
        try:
            check(c, data)
        except Exception as e:  # a malformed file or a primitive refusing its input: a failure
            c.failures += 1
            print(f"FAIL {check.__name__}: {type(e).__name__}: {e}")
    print(f"crosscheck: {c.lines} checks, {c.failures} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
