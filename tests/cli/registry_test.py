"""The catalog registry API of `serve --catalog DIR`: read, register compatible versions, refuse the rest."""
import json
import os
import shutil
import subprocess
import unittest
import urllib.error
import urllib.request

import awtest

CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "catalog")


class Registry(unittest.TestCase):
    def setUp(self):
        self.dir = awtest.scratch_dir(self.id().rsplit(".", 1)[-1])
        self.catalog = os.path.join(self.dir, "catalog")
        shutil.copytree(CATALOG, self.catalog)
        self.start()

    def start(self):
        self.proc = subprocess.Popen([awtest.BIN, "--store", os.path.join(self.dir, "events.db"), "--catalog",
                                      self.catalog, "serve", "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = json.loads(self.proc.stdout.readline())["listening"]

    def stop(self):
        self.proc.terminate()
        self.assertEqual(self.proc.wait(timeout=30), 0)
        self.proc.stdout.close()

    def tearDown(self):
        if self.proc.poll() is None:
            self.stop()

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_lists_types_and_serves_each_version(self):
        status, body = self.call("GET", "/v1/catalog/types")
        self.assertEqual(status, 200)
        types = {(t["type"], t["major"]): t for t in body["types"]}
        self.assertIn(("content.book.published", 1), types)
        self.assertEqual(types[("content.book.published", 1)]["versions"], ["1.0", "1.1"])
        status, v10 = self.call("GET", "/v1/catalog/types/content.book.published/versions/1.0")
        self.assertEqual((status, v10["version"]), (200, "1.0"))
        self.assertIn("properties", v10["schema"])
        self.assertNotIn("sample", v10)
        status, v11 = self.call("GET", "/v1/catalog/types/content.book.published/versions/1.1")
        self.assertEqual(v11["sample"]["meta"]["version"], "1.1")
        self.assertEqual(self.call("GET", "/v1/catalog/types/content.book.published/versions/1.9")[0], 404)
        self.assertEqual(self.call("GET", "/v1/catalog/types/nope.nope.nope/versions/1.0")[0], 404)

    def schema_11(self):
        return self.call("GET", "/v1/catalog/types/content.book.published/versions/1.1")[1]

    def test_registers_a_compatible_minor_and_keeps_it_across_restarts(self):
        current = self.schema_11()
        schema = current["schema"]
        schema["properties"]["audience"] = {"type": "string", "enum": ["adult", "young_adult", "children"]}
        sample = current["sample"]
        sample["meta"]["version"] = "1.2"
        status, body = self.call("POST", "/v1/catalog/types/content.book.published/versions",
                                 {"version": "1.2", "schema": schema, "sample": sample})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.call("GET", "/v1/catalog/types/content.book.published/versions/1.2")[0], 200)
        _, _, _ = awtest.run(["--catalog", self.catalog, "catalog", "check"])  # the directory still checks clean
        self.stop()
        self.start()
        status, types = self.call("GET", "/v1/catalog/types")
        versions = [t["versions"] for t in types["types"] if t["type"] == "content.book.published" and t["major"] == 1]
        self.assertEqual(versions, [["1.0", "1.1", "1.2"]])

    def test_refuses_an_incompatible_minor_with_the_reasons(self):
        current = self.schema_11()
        schema = current["schema"]
        schema["required"] = schema.get("required", []) + ["audience"]
        schema["properties"]["audience"] = {"type": "string"}
        sample = current["sample"]
        sample["meta"]["version"] = "1.2"
        sample["data"]["audience"] = "adult"
        status, body = self.call("POST", "/v1/catalog/types/content.book.published/versions",
                                 {"version": "1.2", "schema": schema, "sample": sample})
        self.assertEqual(status, 409, body)
        self.assertTrue(any("required" in e["rule"] for e in body["errors"]), body)
        self.assertEqual(self.call("GET", "/v1/catalog/types/content.book.published/versions/1.2")[0], 404)

    def test_refuses_invalid_entries_and_versions_that_are_not_newer(self):
        status, body = self.call("POST", "/v1/catalog/types/content.book.published/versions",
                                 {"version": "1.2", "schema": {"type": 12}})
        self.assertEqual(status, 422, body)
        status, body = self.call("POST", "/v1/catalog/types/content.book.published/versions",
                                 {"version": "1.1", "schema": {}})
        self.assertEqual(status, 409, body)
        self.assertIn("not newer", body["error"])
        request = urllib.request.Request(self.url + "/v1/catalog/types/content.book.published/versions",
                                         data=b"not json", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(request, timeout=30)
        self.assertEqual(bad.exception.code, 400)


if __name__ == "__main__":
    unittest.main(verbosity=2)
