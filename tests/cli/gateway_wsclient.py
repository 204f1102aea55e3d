"""A small, deliberately low-level WebSocket client and JWT minting for the gateway tests (standard library and
the openssl program only), so that tests can also send what a well-behaved library never would: unmasked frames,
oversize frames, forged tokens."""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import subprocess
import time
import uuid


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(claims, secret=None, pem_key=None, alg="HS256", header=None, signature=None):
    """A compact JWS. HS256 with `secret` (bytes); RS256/ES256 with the private key file `pem_key` (openssl)."""
    head = header if header is not None else {"alg": alg, "typ": "JWT"}
    signing_input = (b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    if signature is not None:
        sig = signature
    elif alg == "HS256":
        sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    elif alg in ("RS256", "ES256"):
        der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem_key], input=signing_input,
                             capture_output=True, check=True).stdout
        sig = der if alg == "RS256" else der_to_raw_ecdsa(der)
    else:
        sig = b""
    return signing_input.decode() + "." + b64url(sig)


def der_to_raw_ecdsa(der):
    """DER ECDSA-Sig-Value -> R || S (32 bytes each), as JWS wants."""
    assert der[0] == 0x30
    pos = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[pos] == 0x02
        length = der[pos + 1]
        value = der[pos + 2:pos + 2 + length].lstrip(b"\x00")
        out += value.rjust(32, b"\x00")
        pos += 2 + length
    return out


def claims(iss="test-issuer", aud="aw-gateway", sub="editor-1", ttl=300, events=None, **extra):
    now = int(time.time())
    c = {"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + ttl,
         "events": events if events is not None else {"subscribe": ["content.book.*"], "publish": ["content.book.*"]}}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


class HandshakeRefused(Exception):
    def __init__(self, status, headers, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.headers, self.body = status, headers, body


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason}")
        self.code, self.reason = code, reason


class WsClient:
    def __init__(self, port, path="/v1/content/ws", token=None, subprotocol_token=False, origin=None, timeout=10,
                 auto_pong=True, receive_buffer=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:  # a small window makes a slow consumer quickly
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.auto_pong = auto_pong
        self.pings = 0
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if token is not None and subprotocol_token:
            lines.append(f"Sec-WebSocket-Protocol: bearer, {token}")
        elif token is not None:
            lines.append(f"Authorization: Bearer {token}")
        if origin:
            lines.append(f"Origin: {origin}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise HandshakeRefused(0, {}, "connection closed during handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip() for h in header_lines}
        if self.status != 101:
            length = int(self.headers.get("content-length", "0"))
            while len(self.buf) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
            self.sock.close()
            raise HandshakeRefused(self.status, self.headers, self.buf[:length].decode(errors="replace"))
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        assert self.headers.get("sec-websocket-accept") == accept.decode(), self.headers

    # --- frames ---
    def send_frame(self, opcode, payload, mask=True, fin=True):
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        mask_bit = 0x80 if mask else 0
        if n < 126:
            head += bytes([mask_bit | n])
        elif n < 65536:
            head += bytes([mask_bit | 126]) + struct.pack("!H", n)
        else:
            head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
        if mask:
            m = os.urandom(4)
            payload = bytes(b ^ m[i % 4] for i, b in enumerate(payload))
            head += m
        self.sock.sendall(head + payload)

    def send_json(self, obj):
        self.send_frame(0x1, json.dumps(obj).encode())

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                self.sock.close()
                raise Closed(1006, "connection dropped")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        b0, b1 = self._read_exact(2)
        opcode, n = b0 & 0x0F, b1 & 0x7F
        self.last_fin = bool(b0 & 0x80)
        assert not (b1 & 0x80), "server frames must not be masked"
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        return opcode, self._read_exact(n)

    def recv(self, timeout=10):
        """Next text message as JSON; answers pings; raises Closed on a close frame or a dropped connection."""
        deadline = time.time() + timeout
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise TimeoutError("no message within the timeout")
            self.sock.settimeout(remaining)
            opcode, payload = self.recv_frame()
            if opcode == 0x9:
                self.pings += 1
                if self.auto_pong:
                    self.send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                try:
                    self.send_frame(0x8, payload[:2])
                except OSError:
                    pass
                self.sock.close()
                raise Closed(code, payload[2:].decode(errors="replace"))
            if opcode == 0x1:
                while not self.last_fin:  # a fragmented message: continuation frames follow
                    more_opcode, more = self.recv_frame()
                    assert more_opcode == 0x0, more_opcode
                    payload += more
                return json.loads(payload)

    def recv_type(self, wanted, timeout=10):
        """Skips frames until one of type `wanted` (returns it)."""
        deadline = time.time() + timeout
        while True:
            msg = self.recv(max(0.1, deadline - time.time()))
            if msg["meta"]["type"] == wanted:
                return msg

    def pump(self, seconds):
        """Reads (answering pings) for `seconds`; returns the messages received."""
        got = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                got.append(self.recv(max(0.05, deadline - time.time())))
            except (TimeoutError, socket.timeout):
                pass
        return got

    def expect_close(self, timeout=10):
        deadline = time.time() + timeout
        try:
            while True:
                self.recv(max(0.1, deadline - time.time()))
        except Closed as closed:
            return closed.code

    def close(self):
        try:
            self.send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def envelope(type_, data, **meta_extra):
    meta = {"id": str(uuid.uuid4()), "type": type_, "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z",
            "correlation_id": str(uuid.uuid4()), "source": "browser",
            "trace_context": {"trace_id": os.urandom(16).hex(), "span_id": os.urandom(8).hex()}}
    meta.update(meta_extra)
    return {"meta": meta, "data": data}


def subscribe_request(types, keys=None, resume=None):
    data = {"types": types}
    if keys is not None:
        data["keys"] = keys
    if resume is not None:
        data["resume"] = resume
    return envelope("gateway.subscription.requested", data)
