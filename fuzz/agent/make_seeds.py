#!/usr/bin/env python3
# Writes the seed corpus for fuzz/agent/agent_reply.cpp: reply bodies (type byte and payload, without
# the u32 length) captured from a real OpenSSH ssh-agent, plus a few handcrafted edge cases. The agent
# runs as our child (ssh-agent -D -a <tmp>/sock) with throwaway keys made by ssh-keygen: Ed25519, RSA,
# ECDSA and an Ed25519 user certificate; it is killed at the end, whatever happens.
# Usage: make_seeds.py OUTDIR (fuzz/corpus/agent_reply). Needs ssh-agent, ssh-add, ssh-keygen.
import os, socket, struct, subprocess, sys, tempfile, time

def string(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack('>I', len(b)) + b

class Agent:
    def __init__(self, sock):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(sock)

    def _exactly(self, n):
        out = b''
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise RuntimeError('agent closed the connection')
            out += chunk
        return out

    def request(self, body):
        self.s.sendall(struct.pack('>I', len(body)) + body)
        (n,) = struct.unpack('>I', self._exactly(4))
        return self._exactly(n)

def identities(agent):
    reply = agent.request(bytes([11]))
    assert reply[0] == 12, reply[:1]
    (count,) = struct.unpack('>I', reply[1:5])
    at, out = 5, []
    for _ in range(count):
        (n,) = struct.unpack('>I', reply[at:at + 4]); blob = reply[at + 4:at + 4 + n]; at += 4 + n
        (n,) = struct.unpack('>I', reply[at:at + 4]); comment = reply[at + 4:at + 4 + n]; at += 4 + n
        out.append((blob, comment))
    return reply, out

def blob_type(blob):
    (n,) = struct.unpack('>I', blob[:4])
    return blob[4:4 + n].decode()

def captured(tmp):
    sock = os.path.join(tmp, 'sock')
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    keygen = lambda t, name, *extra: run('ssh-keygen', '-q', '-t', t, *extra, '-N', '', '-C', name + ' seed key',
                                         '-f', os.path.join(tmp, name))
    keygen('ed25519', 'ed')
    keygen('ed25519', 'other')
    keygen('rsa', 'rsa', '-b', '2048')
    keygen('ecdsa', 'ecdsa')
    keygen('ed25519', 'ca')
    run('ssh-keygen', '-q', '-s', os.path.join(tmp, 'ca'), '-I', 'seed cert', '-n', 'alice',
        os.path.join(tmp, 'ed.pub'))
    agent = subprocess.Popen(['ssh-agent', '-D', '-a', sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        env = dict(os.environ, SSH_AUTH_SOCK=sock)
        a = Agent(sock)
        empty, _ = identities(a)
        yield 'identities_empty', empty
        subprocess.run(['ssh-add', os.path.join(tmp, 'other')], env=env, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        one, _ = identities(a)
        yield 'identities_one_ed25519', one
        # ed brings ed-cert.pub along.
        subprocess.run(['ssh-add', os.path.join(tmp, 'rsa'), os.path.join(tmp, 'ecdsa'), os.path.join(tmp, 'ed')],
                       env=env, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        mixed, ids = identities(a)
        yield 'identities_mixed', mixed
        data = b'twoway v1 client sig\x00' + bytes(range(64))
        for blob, _ in ids:
            t = blob_type(blob)
            flags = 4 if t == 'ssh-rsa' else 0  # SSH_AGENT_RSA_SHA2_512
            yield 'sign_' + t.split('@')[0].replace('-', '_'), a.request(bytes([13]) + string(blob) + string(data) +
                                                                          struct.pack('>I', flags))
        unknown = string('ssh-ed25519') + string(bytes(32))
        yield 'sign_unknown_key_failure', a.request(bytes([13]) + string(unknown) + string(data) + struct.pack('>I', 0))
        # ssh-agent 9.2 checks only the lengths of an Ed25519 private key it is given: this all-zero
        # key gets the success reply add_identity() expects.
        yield 'add_identity_success', a.request(bytes([17]) + string('ssh-ed25519') + string(bytes(32)) +
                                                string(bytes(64)) + string('zero key'))
    finally:
        agent.kill()
        agent.wait()

def handcrafted(mixed):
    ed_blob = string('ssh-ed25519') + string(bytes(range(32)))
    one = lambda blob, comment: bytes([12]) + struct.pack('>I', 1) + string(blob) + string(comment)
    yield 'edge_count_2049', bytes([12]) + struct.pack('>I', 2049) + bytes(8 * 2049)
    yield 'edge_count_2048', bytes([12]) + struct.pack('>I', 2048) + bytes(8 * 2048)
    yield 'edge_count_huge', bytes([12]) + struct.pack('>I', 0xffffffff) + bytes(16)
    yield 'edge_trailing_byte', mixed + b'\x00'
    yield 'edge_truncated', mixed[:len(mixed) // 2]
    yield 'edge_comment_nul', one(ed_blob, b'a\x00b')
    yield 'edge_blob_too_long', bytes([12]) + struct.pack('>I', 1) + struct.pack('>I', 256 * 1024 + 1) + bytes(8)
    yield 'edge_ed25519_short_key', one(string('ssh-ed25519') + string(bytes(31)), 'short')
    yield 'edge_binary_type', one(string(b'\x00\xff') + string(b'x'), 'binary')
    yield 'edge_ssh2_failure', bytes([30])
    sig = lambda n: bytes([14]) + string(string('ssh-ed25519') + string(bytes(n)))
    yield 'edge_sig_63', sig(63)
    yield 'edge_sig_65', sig(65)
    yield 'edge_sig_trailing_inner', bytes([14]) + string(string('ssh-ed25519') + string(bytes(64)) + b'\x00')

def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = dict(captured(tmp))
    seeds.update(handcrafted(seeds['identities_mixed']))
    seen = set()
    for name, body in sorted(seeds.items()):
        if body in seen:  # an Ed25519 certificate signs as its key does: the same bytes
            continue
        seen.add(body)
        with open(os.path.join(outdir, name), 'wb') as f:
            f.write(body)
        print(f'{name}: {len(body)} bytes')

if __name__ == '__main__':
    main()
