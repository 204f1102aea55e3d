"""Services load the catalog from a registry URL (`--catalog http://HOST:PORT` of a live `aw-events serve
--catalog`), and `publish` without --version writes the catalog's latest version of the type."""
import json
import os
import shutil
import socket
import subprocess
import unittest
import urllib.request

import awtest

CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "catalog")


def sample_data(relative):
    with open(os.path.join(CATALOG, relative)) as f:
        return json.load(f)["sample"]["data"]


def closed_port():
    """A loopback port nothing listens on (bound then released; nobody else binds it in between)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RegistryUrl(unittest.TestCase):
    def setUp(self):
        self.dir = awtest.scratch_dir(self.id().rsplit(".", 1)[-1])
        self.catalog = os.path.join(self.dir, "catalog")
        shutil.copytree(CATALOG, self.catalog)
        self.server = subprocess.Popen([awtest.BIN, "--store", os.path.join(self.dir, "registry.db"), "--catalog",
                                        self.catalog, "serve", "--listen", "127.0.0.1:0"],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = json.loads(self.server.stdout.readline())["listening"]
        self.store = os.path.join(self.dir, "events.db")

    def tearDown(self):
        self.server.terminate()
        self.server.wait(timeout=30)
        self.server.stdout.close()

    def publish(self, catalog, data, *extra, check=True):
        return awtest.run(["--store", self.store, "--catalog", catalog, "publish", "--type", "content.book.published",
                           "--key", "bk-7h2k9q4m", "--data", json.dumps(data), *extra], check=check)

    def published(self):
        _, lines, _ = awtest.run(["--store", self.store, "tail", "--topic", "content", "--from-beginning",
                                  "--idle-exit", "1"])
        return [json.loads(l) for l in lines]

    def test_publish_validates_against_the_registry_and_defaults_to_the_latest_version(self):
        code, lines, _ = self.publish(self.url, sample_data("content/book.published.v2.json"))
        self.assertEqual(code, 0)
        self.assertIn("offset", json.loads(lines[-1]))
        events = self.published()
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["meta"]["version"], "2.0")  # latest minor of the latest major

        # Data breaking the registry's schema is refused, naming the field; nothing is sent.
        bad = dict(sample_data("content/book.published.v2.json"), isbn="12345")
        code, lines, err = self.publish(self.url, bad, check=False)
        self.assertEqual(code, 1)
        refusal = json.loads(lines[-1])
        self.assertEqual(refusal["code"], "schema_violation")
        self.assertIn("/data/isbn", [e["instanceLocation"] for e in refusal["errors"]])
        self.assertEqual(len(self.published()), 1)

        # An explicit --version still wins.
        code, _, _ = self.publish(self.url, sample_data("content/book.published.v1.json"), "--version", "1.1")
        self.assertEqual(code, 0)
        self.assertEqual([e["meta"]["version"] for e in self.published()], ["2.0", "1.1"])

    def test_a_version_registered_later_becomes_the_default(self):
        with open(os.path.join(CATALOG, "content", "book.published.v2.json")) as f:
            entry = json.load(f)
        entry["version"] = "2.1"
        entry["schema"]["properties"]["series"] = {"type": "string"}
        entry["sample"]["meta"]["version"] = "2.1"
        request = urllib.request.Request(self.url + "/v1/catalog/types/content.book.published/versions",
                                         data=json.dumps(entry).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            self.assertEqual(response.status, 201)
        data = dict(sample_data("content/book.published.v2.json"), series="The Long Nights")
        code, _, _ = self.publish(self.url, data)
        self.assertEqual(code, 0)
        self.assertEqual(self.published()[0]["meta"]["version"], "2.1")

    def test_without_catalog_the_default_stays_1_0_and_directory_catalogs_default_too(self):
        code, _, _ = awtest.run(["--store", self.store, "publish", "--type", "content.book.published", "--key", "k",
                                 "--data", json.dumps({"anything": 1})])
        self.assertEqual(code, 0)
        code, _, _ = self.publish(self.catalog, sample_data("content/book.published.v2.json"))
        self.assertEqual(code, 0)
        self.assertEqual([e["meta"]["version"] for e in self.published()], ["1.0", "2.0"])

    def test_envelope_check_takes_the_registry_url(self):
        with open(os.path.join(CATALOG, "content", "book.published.v2.json")) as f:
            sample = json.load(f)["sample"]
        broken = json.loads(json.dumps(sample))
        broken["data"]["format"] = "scroll"
        _, lines, _ = awtest.run(["--catalog", self.url, "envelope", "check"],
                                 stdin=json.dumps(sample) + "\n" + json.dumps(broken) + "\n", check=False)
        results = [json.loads(l) for l in lines]
        self.assertEqual(results[0], {"valid": True})
        self.assertFalse(results[1]["valid"])
        self.assertIn("/data/format", [e["instanceLocation"] for e in results[1]["errors"]])

    def test_unreachable_or_wrong_registry_fails_naming_the_url(self):
        url = f"http://127.0.0.1:{closed_port()}"
        code, lines, err = self.publish(url, sample_data("content/book.published.v2.json"), check=False)
        self.assertEqual(code, 1)
        self.assertIn(url, err)
        self.assertIn("GET /v1/catalog/types", err)
        self.assertIn("cannot connect", err)
        self.assertEqual(self.published() if os.path.exists(self.store) else [], [])

        code, _, err = self.publish(self.url + "/elsewhere", sample_data("content/book.published.v2.json"),
                                    check=False)
        self.assertEqual(code, 1)
        self.assertIn("GET /elsewhere/v1/catalog/types", err)
        self.assertIn("HTTP 404", err)

        code, _, err = self.publish("https://127.0.0.1:1", sample_data("content/book.published.v2.json"), check=False)
        self.assertEqual(code, 1)
        self.assertIn("https is not supported", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
