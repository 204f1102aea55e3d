"""The WebSocket gateway of `aw-events serve`: authentication (every refusal of the acceptance list), protocol
(subscribe, publish, error frames), limits (message size, masking, connections, subscriptions), heartbeats,
token expiry, and resume with no gap and no duplicate."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import awtest  # noqa: E402
from gateway_wsclient import (Closed, HandshakeRefused, WsClient, claims, envelope, mint,  # noqa: E402
                              subscribe_request)

SECRET = b"0123456789abcdef0123456789abcdef-gateway-test-secret"
ORIGIN = "https://app.example"


class Gateway:
    """`aw-events serve` with the gateway on a fresh embedded store."""

    def __init__(self, name, extra=(), key_args=None, store=None):
        self.dir = awtest.scratch_dir(name)
        self.store = store or os.path.join(self.dir, "events.db")
        if key_args is None:
            secret_file = os.path.join(self.dir, "secret")
            with open(secret_file, "wb") as f:
                f.write(SECRET + b"\n")  # the trailing newline is not part of the key
            key_args = ["--jwt-secret-file", secret_file]
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w+")
        self.proc = subprocess.Popen(
            [awtest.BIN, "--store", self.store, "serve", "--listen", "127.0.0.1:0", *key_args,
             "--jwt-issuer", "test-issuer", "--jwt-audience", "aw-gateway", "--ws-services", "content",
             "--ws-origin", ORIGIN, *extra],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.stderr.seek(0)
            raise AssertionError("serve did not start: " + self.stderr.read())
        self.port = int(json.loads(line)["listening"].rsplit(":", 1)[1])

    def publish(self, type_, key, data):
        _, lines, _ = awtest.run(["--store", self.store, "publish", "--type", type_, "--key", key,
                                  "--data", json.dumps(data)])
        return json.loads(lines[0])

    def log(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        self.proc.terminate()
        code = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.stderr.close()
        return code


def refused_status(port, **kwargs):
    try:
        WsClient(port, **kwargs).close()
    except HandshakeRefused as refused:
        return refused.status
    return 101


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway("gateway-auth")

    @classmethod
    def tearDownClass(cls):
        log = cls.gw.log()
        assert cls.gw.stop() == 0, log
        # Never log a token: no log line may contain any token-shaped part we sent.
        assert "eyJ" not in log, "a token appeared in the log"

    def token(self, **overrides):
        return mint(claims(**overrides), secret=SECRET)

    def test_accepts_valid_token_in_header_and_subprotocol(self):
        c = WsClient(self.gw.port, token=self.token())
        c.close()
        c = WsClient(self.gw.port, token=self.token(), subprotocol_token=True, origin=ORIGIN)
        self.assertEqual(c.headers.get("sec-websocket-protocol"), "bearer")
        c.close()

    def test_refuses_missing_token_with_401(self):
        self.assertEqual(refused_status(self.gw.port), 401)

    def test_refuses_bad_signature(self):
        token = mint(claims(), secret=b"another-secret-of-at-least-thirty-two-bytes")
        self.assertEqual(refused_status(self.gw.port, token=token), 401)
        good = self.token()
        tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        self.assertEqual(refused_status(self.gw.port, token=tampered), 401)

    def test_refuses_alg_none_in_any_letter_case(self):
        for alg in ["none", "None", "NONE", "nOnE"]:
            token = mint(claims(), alg=alg, header={"alg": alg, "typ": "JWT"}, signature=b"")
            self.assertEqual(refused_status(self.gw.port, token=token), 401, alg)
            token = mint(claims(), alg=alg, header={"alg": alg}, signature=b"x" * 32)
            self.assertEqual(refused_status(self.gw.port, token=token), 401, alg)

    def test_refuses_other_algorithm_than_the_keys(self):
        token = mint(claims(), secret=SECRET, header={"alg": "HS512", "typ": "JWT"})
        self.assertEqual(refused_status(self.gw.port, token=token), 401)

    def test_refuses_expired_and_not_yet_valid(self):
        self.assertEqual(refused_status(self.gw.port, token=self.token(ttl=-120)), 401)
        no_exp = claims()
        del no_exp["exp"]
        self.assertEqual(refused_status(self.gw.port, token=mint(no_exp, secret=SECRET)), 401)
        self.assertEqual(refused_status(self.gw.port, token=self.token(nbf=int(time.time()) + 3600)), 401)
        self.assertEqual(refused_status(self.gw.port, token=self.token(iat=int(time.time()) + 3600)), 401)
        # within the 60 s leeway: accepted
        self.assertEqual(refused_status(self.gw.port, token=self.token(nbf=int(time.time()) + 30)), 101)

    def test_refuses_wrong_audience_and_issuer(self):
        self.assertEqual(refused_status(self.gw.port, token=self.token(aud="someone-else")), 401)
        self.assertEqual(refused_status(self.gw.port, token=self.token(aud=["a", "b"])), 401)
        self.assertEqual(refused_status(self.gw.port, token=self.token(aud=["a", "aw-gateway"])), 101)
        self.assertEqual(refused_status(self.gw.port, token=self.token(iss="evil")), 401)
        self.assertEqual(refused_status(self.gw.port, token=self.token(iss=None)), 401)

    def test_refuses_foreign_origin_with_403(self):
        self.assertEqual(refused_status(self.gw.port, token=self.token(), origin="https://evil.example"), 403)
        self.assertEqual(refused_status(self.gw.port, token=self.token(), origin=ORIGIN), 101)

    def test_refuses_bad_grants_with_403(self):
        self.assertEqual(refused_status(self.gw.port, token=self.token(events={"subscribe": ["Content.*"]})), 403)
        self.assertEqual(refused_status(self.gw.port, token=self.token(events={"subscribe": "content.*"})), 403)
        self.assertEqual(refused_status(self.gw.port, token=self.token(events={"read": ["content.*"]})), 403)
        self.assertEqual(refused_status(self.gw.port, token=self.token(events={"subscribe": ["billing.*"]})), 403)
        self.assertEqual(refused_status(self.gw.port, token=self.token(events={})), 403)

    def test_unknown_paths_and_services_get_404(self):
        self.assertEqual(refused_status(self.gw.port, token=self.token(), path="/v1/billing/ws"), 404)
        self.assertEqual(refused_status(self.gw.port, token=self.token(), path="/v1/content/wss"), 404)
        self.assertEqual(refused_status(self.gw.port, token=self.token(), path="/v1/Content/ws"), 404)


class ProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway("gateway-protocol", extra=["--ws-max-subscriptions", "3", "--ws-max-connections-per-ip", "6"])

    @classmethod
    def tearDownClass(cls):
        log = cls.gw.log()
        assert cls.gw.stop() == 0, log

    def connect(self, **overrides):
        return WsClient(self.gw.port, token=mint(claims(**overrides), secret=SECRET))

    def subscribe(self, client, types, **kwargs):
        req = subscribe_request(types, **kwargs)
        client.send_json(req)
        reply = client.recv()
        self.assertEqual(reply["meta"]["correlation_id"], req["meta"]["correlation_id"])
        self.assertEqual(reply["data"]["subscription"], req["meta"]["id"])
        return reply

    def test_event_published_with_cli_reaches_subscriber_within_200ms(self):
        c = self.connect()
        reply = self.subscribe(c, ["content.book.*"])
        self.assertEqual(reply["meta"]["type"], "gateway.subscription.accepted", reply)
        start = time.time()
        receipt = self.gw.publish("content.book.published", "book-1", {"title": "Dune"})
        frame = c.recv()
        elapsed = time.time() - start
        self.assertEqual(frame["meta"]["id"], receipt["id"])
        self.assertEqual(frame["meta"]["type"], "content.book.published")
        self.assertEqual(frame["data"], {"title": "Dune"})
        self.assertEqual(frame["meta"]["_position"]["offset"], receipt["offset"])
        self.assertEqual(frame["meta"]["_position"]["partition"], receipt["partition"])
        self.assertEqual(sorted(frame.keys()), ["data", "meta"])
        print(f"publish (CLI process) -> frame: {elapsed * 1000:.0f} ms")
        c.close()

    def test_filters_by_type_and_key(self):
        c = self.connect()
        self.subscribe(c, ["content.book.published"], keys=["book-7"])
        self.gw.publish("content.book.deleted", "book-7", {})
        self.gw.publish("content.book.published", "book-8", {})
        receipt = self.gw.publish("content.book.published", "book-7", {"n": 1})
        frame = c.recv()
        self.assertEqual(frame["meta"]["id"], receipt["id"])
        c.close()

    def test_subscription_outside_grant_is_rejected(self):
        c = self.connect(events={"subscribe": ["content.book.published"]})
        for types, where in [(["content.book.*"], "/data/types/0"), (["content.*"], "/data/types/0"),
                             (["content.book.published", "content.chapter.added"], "/data/types/1"),
                             (["billing.invoice.paid"], "/data/types/0")]:
            reply = self.subscribe(c, types)
            self.assertEqual(reply["meta"]["type"], "gateway.subscription.rejected", types)
            self.assertEqual(reply["data"]["location"], where)
        reply = self.subscribe(c, ["content.book.published"])
        self.assertEqual(reply["meta"]["type"], "gateway.subscription.accepted")
        c.close()

    def test_malformed_subscriptions_are_rejected_with_location(self):
        c = self.connect()
        cases = [({"types": []}, "/data/types"), ({"types": ["Content.*"]}, "/data/types/0"), ({}, "/data/types"),
                 ({"types": ["content.book.*"], "extra": 1}, "/data/extra"),
                 ({"types": ["content.book.*"], "keys": [1]}, "/data/keys/0"),
                 ({"types": ["content.book.*"], "resume": {"positions": [{"partition": -1, "offset": 0}]}},
                  "/data/resume/positions/0/partition")]
        for data, where in cases:
            req = envelope("gateway.subscription.requested", data)
            c.send_json(req)
            reply = c.recv()
            self.assertEqual(reply["meta"]["type"], "gateway.subscription.rejected", data)
            self.assertEqual(reply["data"]["location"], where, data)
        c.close()

    def test_subscription_limit(self):
        c = self.connect()
        for _ in range(3):
            self.assertEqual(self.subscribe(c, ["content.book.*"])["meta"]["type"], "gateway.subscription.accepted")
        reply = self.subscribe(c, ["content.book.*"])
        self.assertEqual(reply["meta"]["type"], "gateway.subscription.rejected")
        self.assertIn("too many subscriptions", reply["data"]["reason"])
        c.close()

    def test_publish_from_client_keeps_correlation_and_sets_source(self):
        c = self.connect(sub="editor-9")
        self.subscribe(c, ["content.book.*"])
        ev = envelope("content.book.edited", {"op": "insert", "at": 3}, key="book-3", source="spoofed")
        c.send_json(ev)
        got = {}
        while len(got) < 2:  # the ack and the event itself, in either order
            msg = c.recv()
            got[msg["meta"]["type"]] = msg
        ack, frame = got["gateway.publish.accepted"], got["content.book.edited"]
        self.assertEqual(ack["data"]["request_id"], ev["meta"]["id"])
        self.assertEqual(ack["meta"]["correlation_id"], ev["meta"]["correlation_id"])
        self.assertEqual(frame["meta"]["id"], ev["meta"]["id"])
        self.assertEqual(frame["meta"]["source"], "editor-9")
        self.assertEqual(frame["meta"]["correlation_id"], ev["meta"]["correlation_id"])
        self.assertEqual(frame["meta"]["_position"]["offset"], ack["data"]["offset"])
        c.close()

    def test_invalid_publishes_get_error_frames_and_connection_survives(self):
        c = self.connect(events={"subscribe": ["content.*"], "publish": ["content.book.edited"]})
        bad_id = envelope("content.book.edited", {}, key="b")
        bad_id["meta"]["id"] = "not-a-uuid"
        cases = [
            (bad_id, "gateway.message.rejected", "/meta/id"),
            (envelope("content.book.deleted", {}, key="b"), "gateway.publish.rejected", "/meta/type"),
            (envelope("billing.invoice.paid", {}, key="b"), "gateway.publish.rejected", "/meta/type"),
            (envelope("content.book.edited", {}), "gateway.publish.rejected", "/meta/key"),
            ({"meta": envelope("content.book.edited", {})["meta"], "data": [1]}, "gateway.message.rejected", "/data"),
            (envelope("content.book.edited", {}, key="b", _position={"offset": 1}), "gateway.publish.rejected",
             "/meta/_position"),
        ]
        for ev, kind, where in cases:
            c.send_json(ev)
            reply = c.recv()
            self.assertEqual(reply["meta"]["type"], kind, ev)
            self.assertIn(where, [e["instanceLocation"] for e in reply["data"]["errors"]], reply)
        c.send_frame(0x1, b"{not json")
        reply = c.recv()
        self.assertEqual(reply["meta"]["type"], "gateway.message.rejected")
        self.assertEqual(reply["data"]["code"], "invalid_json")
        # still serving this connection
        self.assertEqual(self.subscribe(c, ["content.book.*"])["meta"]["type"], "gateway.subscription.accepted")
        c.close()

    def test_oversize_frame_closes_1009(self):
        c = self.connect()
        c.send_frame(0x1, b"x" * (64 * 1024 + 1))
        self.assertEqual(c.expect_close(), 1009)

    def test_unmasked_client_frame_closes_1002(self):
        c = self.connect()
        c.send_frame(0x1, json.dumps(subscribe_request(["content.*"])).encode(), mask=False)
        self.assertEqual(c.expect_close(), 1002)

    def test_binary_frame_closes_1007(self):
        c = self.connect()
        c.send_frame(0x2, b"\x00\x01")
        self.assertEqual(c.expect_close(), 1007)

    def test_connections_per_ip_limit_gives_429(self):
        clients = []
        try:
            status = 101
            for _ in range(10):
                try:
                    clients.append(self.connect())
                except HandshakeRefused as refused:
                    status = refused.status
                    break
            self.assertEqual(status, 429)
            self.assertLessEqual(len(clients), 6)
        finally:
            for c in clients:
                c.close()
        time.sleep(0.3)
        self.connect().close()  # released again

    def test_resume_replays_missed_events_without_gap_or_duplicate(self):
        c = self.connect()
        accepted = self.subscribe(c, ["content.book.*"])
        since = accepted["data"]["since_ms"]
        seen = {}
        ids = set()
        first = [self.gw.publish("content.book.published", f"book-r{i}", {"i": i}) for i in range(4)]
        for _ in first:
            frame = c.recv()
            pos = frame["meta"]["_position"]
            seen[pos["partition"]] = pos["offset"]
            ids.add(frame["meta"]["id"])
        c.close()
        missed = [self.gw.publish("content.book.published", f"book-r{i}", {"i": i}) for i in range(4, 12)]
        c = self.connect()
        resume = {"positions": [{"partition": p, "offset": o} for p, o in seen.items()], "since_ms": since}
        req = subscribe_request(["content.book.*"], resume=resume)
        c.send_json(req)
        got = []
        resumed = None
        live = None
        while resumed is None or len(got) < len(missed) + 1:
            frame = c.recv()
            kind = frame["meta"]["type"]
            if kind == "gateway.subscription.resumed":
                resumed = frame
                live = self.gw.publish("content.book.published", "book-live", {"live": True})
            elif not kind.startswith("gateway."):
                got.append(frame["meta"]["id"])
        self.assertEqual(resumed["data"]["gaps"], [])
        self.assertEqual(resumed["data"]["replayed"], len(missed))
        self.assertEqual(sorted(got), sorted([m["id"] for m in missed] + [live["id"]]))
        self.assertEqual(len(got), len(set(got)), "duplicate delivery")
        self.assertFalse(ids & set(got), "an event seen before the disconnect came again")
        c.close()

    def test_slow_consumer_is_closed_1013(self):
        gw = Gateway("gateway-slow", extra=["--ws-send-queue", "4"])
        try:
            c = WsClient(gw.port, token=mint(claims(), secret=SECRET), receive_buffer=4096)
            c.send_json(subscribe_request(["content.book.*"]))
            self.assertEqual(c.recv()["meta"]["type"], "gateway.subscription.accepted")
            big = "x" * 16000
            lines = "".join(json.dumps({"key": f"k{i}", "data": {"blob": big}}) + "\n" for i in range(600))
            awtest.run(["--store", gw.store, "publish", "--type", "content.book.published", "--jsonl"], stdin=lines)
            deadline = time.time() + 20
            while "send queue overflow" not in gw.log() and time.time() < deadline:
                time.sleep(0.1)
            self.assertIn("send queue overflow", gw.log())
            self.assertEqual(c.expect_close(timeout=20), 1013)
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_cancel_stops_delivery(self):
        c = self.connect()
        req = subscribe_request(["content.book.*"], keys=["book-c"])
        c.send_json(req)
        c.recv()
        c.send_json(envelope("gateway.subscription.cancelled", {"subscription": req["meta"]["id"]}))
        self.assertEqual(c.recv()["meta"]["type"], "gateway.subscription.cancelled")
        self.gw.publish("content.book.published", "book-c", {})
        c.send_json(subscribe_request(["content.book.deleted"]))
        reply = c.recv()  # the next frame is the reply: the cancelled subscription delivered nothing
        self.assertEqual(reply["meta"]["type"], "gateway.subscription.accepted")
        c.close()


class RestartTest(unittest.TestCase):
    def test_resume_after_gateway_restart_has_no_gap_and_no_duplicate(self):
        gw = Gateway("gateway-restart")
        token = mint(claims(), secret=SECRET)
        c = WsClient(gw.port, token=token)
        c.send_json(subscribe_request(["content.book.*"]))
        since = c.recv()["data"]["since_ms"]
        before = [gw.publish("content.book.published", f"b{i}", {"i": i})["id"] for i in range(6)]
        positions, received = {}, []
        for _ in before:
            frame = c.recv()
            positions[frame["meta"]["_position"]["partition"]] = frame["meta"]["_position"]["offset"]
            received.append(frame["meta"]["id"])
        self.assertEqual(sorted(received), sorted(before))
        self.assertEqual(gw.stop(), 0)
        self.assertIn(c.expect_close(), (1001, 1006))
        # While the gateway is down, more events reach the store.
        store = gw.store
        down = [json.loads(awtest.run(["--store", store, "publish", "--type", "content.book.published", "--key",
                                       f"b{i}", "--data", json.dumps({"i": i})])[1][0])["id"] for i in range(6, 10)]
        gw2 = Gateway("gateway-restart-2", store=store)
        try:
            c = WsClient(gw2.port, token=token)
            resume = {"positions": [{"partition": p, "offset": o} for p, o in positions.items()], "since_ms": since}
            c.send_json(subscribe_request(["content.book.*"], resume=resume))
            got = []
            while True:
                frame = c.recv()
                if frame["meta"]["type"] == "gateway.subscription.resumed":
                    break
                if not frame["meta"]["type"].startswith("gateway."):
                    got.append(frame["meta"]["id"])
            self.assertEqual(sorted(got), sorted(down))
            after = gw2.publish("content.book.published", "b99", {"i": 99})["id"]
            self.assertEqual(c.recv()["meta"]["id"], after)
            c.close()
        finally:
            self.assertEqual(gw2.stop(), 0)


class LivenessTest(unittest.TestCase):
    def test_heartbeat_drops_silent_peer_and_keeps_answering_one(self):
        gw = Gateway("gateway-heartbeat", extra=["--ws-heartbeat-seconds", "1"])
        try:
            token = mint(claims(), secret=SECRET)
            silent = WsClient(gw.port, token=token, auto_pong=False)
            start = time.time()
            code = silent.expect_close(timeout=10)
            self.assertEqual(code, 1006)  # dropped without a closing handshake: it was not answering
            self.assertLess(time.time() - start, 5)
            self.assertGreaterEqual(silent.pings, 2)
            alive = WsClient(gw.port, token=token)
            alive.pump(3.5)  # answers the pings meanwhile
            alive.send_json(subscribe_request(["content.book.*"]))
            alive.recv_type("gateway.subscription.accepted", timeout=5)
            self.assertGreaterEqual(alive.pings, 2)
            alive.close()
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_token_expiry_closes_1008(self):
        gw = Gateway("gateway-expiry", extra=["--jwt-leeway-seconds", "0"])
        try:
            c = WsClient(gw.port, token=mint(claims(ttl=2), secret=SECRET))
            start = time.time()
            self.assertEqual(c.expect_close(timeout=10), 1008)
            self.assertLess(time.time() - start, 4)
        finally:
            self.assertEqual(gw.stop(), 0)


class PublicKeyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = awtest.scratch_dir("gateway-keys")
        cls.rsa = os.path.join(cls.dir, "rsa.pem")
        cls.rsa_pub = os.path.join(cls.dir, "rsa.pub.pem")
        cls.ec = os.path.join(cls.dir, "ec.pem")
        cls.ec_pub = os.path.join(cls.dir, "ec.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", cls.rsa],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", cls.rsa, "-pubout", "-out", cls.rsa_pub], check=True, capture_output=True)
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", cls.ec],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", cls.ec, "-pubout", "-out", cls.ec_pub], check=True, capture_output=True)

    def test_rs256_accepts_signed_and_refuses_hs256_made_with_public_key(self):
        gw = Gateway("gateway-rs256", key_args=["--jwt-public-key-file", self.rsa_pub])
        try:
            self.assertEqual(refused_status(gw.port, token=mint(claims(), pem_key=self.rsa, alg="RS256")), 101)
            with open(self.rsa_pub, "rb") as f:
                public_pem = f.read()
            confused = mint(claims(), secret=public_pem, alg="HS256")
            self.assertEqual(refused_status(gw.port, token=confused), 401)
            confused = mint(claims(), secret=public_pem.rstrip(b"\n"), alg="HS256")
            self.assertEqual(refused_status(gw.port, token=confused), 401)
            self.assertEqual(refused_status(gw.port, token=mint(claims(), pem_key=self.ec, alg="ES256")), 401)
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_es256_accepts_signed_and_refuses_other_keys(self):
        gw = Gateway("gateway-es256", key_args=["--jwt-public-key-file", self.ec_pub])
        try:
            self.assertEqual(refused_status(gw.port, token=mint(claims(), pem_key=self.ec, alg="ES256")), 101)
            self.assertEqual(refused_status(gw.port, token=mint(claims(), pem_key=self.rsa, alg="RS256")), 401)
            with open(self.ec_pub, "rb") as f:
                self.assertEqual(refused_status(gw.port, token=mint(claims(), secret=f.read(), alg="HS256")), 401)
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_bad_configuration_is_a_usage_error(self):
        for args, needle in [
            (["--jwt-public-key-file", self.rsa_pub], "--jwt-issuer"),
            (["--jwt-public-key-file", self.rsa, "--jwt-issuer", "i", "--jwt-audience", "a"], "PEM public key"),
            (["--ws-services", "content"], "--jwt-secret-file"),
        ]:
            code, _, err = awtest.run(["--store", os.path.join(self.dir, "e.db"), "serve", "--listen", "127.0.0.1:0",
                                       *args], check=False, timeout=30)
            self.assertEqual(code, 2, err)
            self.assertIn(needle, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
