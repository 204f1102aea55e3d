"""The catalog commands of DESIGN.md §5: validate, envelope check --catalog, catalog check, catalog export,
and publish refusing what the catalog does not allow."""
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import awtest

CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "catalog")

VALID_META = {"id": "0b6f2a4e-9c1d-4f3a-8b2e-5d6c7a8b9c0d", "type": "search.index.updated", "version": "1.0",
              "timestamp": "2023-06-15T14:22:31.123Z", "correlation_id": "req-1", "source": "search",
              "trace_context": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}}
VALID_DATA = {"index": "books", "batch_id": "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b", "documents": ["bk-1"],
              "took_ms": 3, "completed_at": "2024-06-01T08:00:01.730Z"}


def event(meta=None, data=None):
    return json.dumps({"meta": {**VALID_META, **(meta or {})}, "data": VALID_DATA if data is None else data})


class CatalogCli(unittest.TestCase):
    def setUp(self):
        self.dir = awtest.scratch_dir(self.id().rsplit(".", 1)[-1])
        self.globals = ["--store", os.path.join(self.dir, "events.db")]

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # validate

    def test_validate_reports_each_instance_in_the_basic_format(self):
        schema = self.write("s.json", json.dumps({"type": "object", "required": ["n"],
                                                  "properties": {"n": {"type": "integer", "minimum": 1},
                                                                 "at": {"type": "string", "format": "date"}}}))
        stdin = '{"n":2}\n{"n":0}\nnot json\n{"n":1,"at":"2024-02-30"}\n'
        code, lines, _ = awtest.run(["validate", "--schema", schema], stdin=stdin, check=False)
        self.assertEqual(code, 1)
        results = [json.loads(l) for l in lines]
        self.assertEqual(results[0], {"valid": True})
        self.assertEqual(results[1]["errors"], [{"instanceLocation": "/n", "keywordLocation": "/properties/n/minimum",
                                                 "error": results[1]["errors"][0]["error"]}])
        self.assertFalse(results[2]["valid"])
        self.assertEqual(results[3], {"valid": True}, "format is an annotation unless --format-assertion")
        code, lines, _ = awtest.run(["validate", "--schema", schema, "--format-assertion"],
                                    stdin='{"n":1,"at":"2024-02-30"}\n', check=False)
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(lines[0])["errors"][0]["instanceLocation"], "/at")
        code, lines, _ = awtest.run(["validate", "--schema", schema], stdin='{"n":5}\n')
        self.assertEqual((code, [json.loads(l) for l in lines]), (0, [{"valid": True}]))

    def test_validate_draft_comes_from_schema_then_option(self):
        # In draft 7 "items" as an array is positional; 2020-12 rejects it as a schema (prefixItems instead).
        tuple_schema = self.write("t.json", json.dumps({"items": [{"type": "integer"}]}))
        code, lines, _ = awtest.run(["validate", "--schema", tuple_schema, "--draft", "7"], stdin='["x"]\n', check=False)
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(lines[0])["errors"][0]["instanceLocation"], "/0")
        code, _, err = awtest.run(["validate", "--schema", tuple_schema], stdin='["x"]\n', check=False)
        self.assertEqual(code, 2, "2020-12 default: an array is not a valid 'items'")
        declared = self.write("d.json", json.dumps({"$schema": "http://json-schema.org/draft-07/schema#",
                                                    "items": [{"type": "integer"}]}))
        code, _, _ = awtest.run(["validate", "--schema", declared, "--draft", "2020-12"], stdin='["x"]\n', check=False)
        self.assertEqual(code, 1, "$schema wins over --draft")

    def test_validate_usage_errors_exit_2_with_a_clear_message(self):
        bad = self.write("bad.json", '{"type": "strin"}')
        code, _, err = awtest.run(["validate", "--schema", bad], stdin="{}\n", check=False)
        self.assertEqual(code, 2)
        self.assertIn("bad.json", err)
        self.assertIn("not a valid JSON Schema", err)
        code, _, err = awtest.run(["validate", "--schema", os.path.join(self.dir, "missing.json")], stdin="", check=False)
        self.assertEqual(code, 2)
        self.assertIn("cannot open", err)
        notjson = self.write("nj.json", "{")
        self.assertEqual(awtest.run(["validate", "--schema", notjson], stdin="", check=False)[0], 2)
        self.assertEqual(awtest.run(["validate"], stdin="", check=False)[0], 2)
        ok = self.write("ok.json", "{}")
        self.assertEqual(awtest.run(["validate", "--schema", ok, "--draft", "4"], stdin="", check=False)[0], 2)

    # envelope check --catalog

    def test_envelope_check_with_catalog_checks_data_under_data(self):
        stdin = "\n".join([
            event(),
            event(data={**VALID_DATA, "took_ms": -1, "index": "magazines"}),
            event(meta={"type": "search.index.dropped"}),
            event(meta={"version": "4.0"}),
            event(meta={"id": "nope"}),
        ]) + "\n"
        code, lines, _ = awtest.run(["envelope", "check", "--catalog", CATALOG], stdin=stdin, check=False)
        self.assertEqual(code, 1)
        results = [json.loads(l) for l in lines]
        self.assertEqual(results[0], {"valid": True})
        self.assertEqual(sorted(e["instanceLocation"] for e in results[1]["errors"]), ["/data/index", "/data/took_ms"])
        self.assertEqual([e["instanceLocation"] for e in results[2]["errors"]], ["/meta/type"])
        self.assertEqual([e["instanceLocation"] for e in results[3]["errors"]], ["/meta/version"])
        self.assertEqual([e["instanceLocation"] for e in results[4]["errors"]], ["/meta/id"])
        # Without the catalog only the envelope rules apply.
        code, lines, _ = awtest.run(["envelope", "check"], stdin=stdin, check=False)
        self.assertEqual([json.loads(l)["valid"] for l in lines], [True, True, True, True, False])
        # The environment variable works like the option.
        proc = subprocess.run([awtest.BIN, "envelope", "check"], input=event(meta={"type": "search.index.dropped"}) + "\n",
                              capture_output=True, text=True, env={**os.environ, "AW_EVENTS_CATALOG": CATALOG})
        self.assertEqual(proc.returncode, 1)

    def test_envelope_check_with_a_broken_catalog_is_a_usage_error(self):
        broken = self.broken_copy()
        code, _, err = awtest.run(["envelope", "check", "--catalog", broken], stdin=event() + "\n", check=False)
        self.assertEqual(code, 2)
        self.assertIn("search/index.updated.v1.json", err)

    # catalog check

    def broken_copy(self):
        target = os.path.join(self.dir, "catalog")
        shutil.copytree(CATALOG, target)
        path = os.path.join(target, "search", "index.updated.v1.json")
        with open(path) as f:
            doc = json.load(f)
        doc["sample"]["data"]["took_ms"] = "fast"
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        return target

    def test_catalog_check_passes_on_the_shipped_catalog(self):
        for mode in ["BACKWARD", "BACKWARD_TRANSITIVE", "none"]:
            code, lines, _ = awtest.run(["--catalog", CATALOG, "catalog", "check", "--compatibility", mode])
            self.assertEqual(code, 0)
            self.assertEqual(len(lines), 1)
            self.assertTrue(json.loads(lines[0])["valid"])

    def test_catalog_check_reports_precise_problems_in_a_broken_copy(self):
        target = self.broken_copy()
        book = os.path.join(target, "content", "book.published.v1.json")
        with open(book) as f:
            doc = json.load(f)
        doc["schema"]["required"].append("series")                        # required property added in 1.1
        doc["schema"]["properties"]["genres"]["items"]["enum"].remove("poetry")  # enum narrowed
        doc["schema"]["properties"]["title"]["maxLength"] = 100           # range narrowed
        doc["schema"]["properties"]["language"]["type"] = "null"          # type narrowed (sample breaks too)
        doc["schema"]["required"].remove("isbn")                          # required property removed
        doc["sample"]["data"]["language"] = None
        with open(book, "w") as f:
            json.dump(doc, f, indent=2)
        code, lines, _ = awtest.run(["--catalog", target, "catalog", "check"], check=False)
        self.assertEqual(code, 1)
        results = [json.loads(l) for l in lines]
        summary = results.pop()
        self.assertFalse(summary["valid"])
        self.assertEqual(summary["problems"], len(results))
        found = {(r["file"], r["location"], r["rule"]) for r in results}
        self.assertIn(("search/index.updated.v1.json", "/sample/data/took_ms", "sample"), found)
        book_file = "content/book.published.v1.json"
        for location, rule in [("/schema/required", "compatibility/required_property_renamed"),
                               ("/schema/properties/genres/items/enum", "compatibility/enum_narrowed"),
                               ("/schema/properties/title/maxLength", "compatibility/range_narrowed"),
                               ("/schema/properties/language/type", "compatibility/type_narrowed")]:
            self.assertIn((book_file, location, rule), found)
        compat = [r for r in results if r["rule"].startswith("compatibility/")]
        self.assertTrue(all(r["version"] == "1.1" and r["against"] == "1.0" and r["type"] == "content.book.published"
                            for r in compat), compat)
        renamed = [r for r in compat if r["rule"] == "compatibility/required_property_renamed"][0]
        self.assertIn('"isbn"', renamed["message"])
        self.assertIn('"series"', renamed["message"])

    def test_catalog_check_usage_errors(self):
        self.assertEqual(awtest.run(["catalog", "check"], check=False)[0], 2)
        self.assertEqual(awtest.run(["--catalog", CATALOG, "catalog", "check", "--compatibility", "SIDEWAYS"],
                                    check=False)[0], 2)
        code, lines, _ = awtest.run(["--catalog", os.path.join(self.dir, "none"), "catalog", "check"], check=False)
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(lines[0])["rule"], "io")

    # publish --catalog

    def test_publish_with_catalog_refuses_unknown_types_and_bad_data(self):
        publish = self.globals + ["--catalog", CATALOG, "publish", "--key", "b-1"]
        code, lines, err = awtest.run(publish + ["--type", "search.index.dropped", "--data", json.dumps(VALID_DATA)],
                                      check=False)
        self.assertEqual(code, 1)
        refusal = json.loads(lines[0])
        self.assertEqual(refusal["code"], "unknown_event_type")
        self.assertEqual(refusal["errors"][0]["instanceLocation"], "/meta/type")
        code, lines, err = awtest.run(publish + ["--type", "search.index.updated",
                                                 "--data", json.dumps({**VALID_DATA, "documents": []})], check=False)
        self.assertEqual(code, 1)
        refusal = json.loads(lines[0])
        self.assertEqual(refusal["code"], "schema_violation")
        self.assertEqual(refusal["errors"][0]["instanceLocation"], "/data/documents")
        self.assertIn("/data/documents", err)
        # Nothing reached the store; a valid event does.
        _, tailed, _ = awtest.run(self.globals + ["tail", "--topic", "search", "--from-beginning", "--idle-exit", "1"])
        self.assertEqual(tailed, [])
        _, lines, _ = awtest.run(publish + ["--type", "search.index.updated", "--data", json.dumps(VALID_DATA)])
        self.assertEqual(json.loads(lines[0])["topic"], "search")
        # --jsonl: each line is checked on its own.
        stdin = json.dumps({"key": "a", "data": VALID_DATA}) + "\n" + json.dumps({"key": "b", "data": {"index": "x"}}) + "\n"
        code, lines, _ = awtest.run(self.globals + ["--catalog", CATALOG, "publish", "--type", "search.index.updated",
                                                    "--jsonl"], stdin=stdin, check=False)
        self.assertEqual(code, 1)
        self.assertIn("id", json.loads(lines[0]))
        self.assertEqual(json.loads(lines[1])["error"]["code"], "schema_violation")

    def test_publish_without_catalog_warns_that_schemas_are_not_checked(self):
        _, _, err = awtest.run(self.globals + ["publish", "--type", "search.index.dropped", "--key", "k",
                                               "--data", "{}"])
        self.assertIn("schemas are not checked", err)

    # catalog export

    def export(self):
        code, lines, _ = awtest.run(["--catalog", CATALOG, "catalog", "export", "--format", "asyncapi"])
        self.assertEqual(len(lines), 1)
        return lines[0]

    def test_catalog_export_is_an_asyncapi_3_document_with_the_topics(self):
        doc = json.loads(self.export())
        self.assertEqual(doc["asyncapi"], "3.0.0")
        self.assertEqual(sorted(doc["channels"]), ["collaboration", "content", "search", "subscription", "user"])
        self.assertFalse(any(c.endswith(".deadletter") for c in doc["channels"]))
        content = doc["channels"]["content"]
        self.assertEqual(content["address"], "content")
        self.assertEqual(sorted(content["messages"]), ["content.book.published.v1", "content.book.published.v2",
                                                       "content.chapter.updated.v1"])
        send = doc["operations"]["content.send.content"]
        self.assertEqual(send["action"], "send")
        self.assertEqual(send["channel"], {"$ref": "#/channels/content"})
        receive = doc["operations"]["search.receive.content"]
        self.assertEqual(receive["action"], "receive")
        message = doc["components"]["messages"]["content.book.published.v1"]
        self.assertEqual(message["x-aw-version"], "1.1")
        self.assertEqual(message["examples"][0]["payload"]["meta"]["type"], "content.book.published")
        self.assertIn("series", message["payload"]["properties"]["data"]["properties"])
        self.assertEqual(message["x-aw-deprecated"]["date"], "2025-01-31")
        # Each example validates against its own payload schema (with our validator, format assertion on).
        for name, message in doc["components"]["messages"].items():
            payload = json.loads(json.dumps(message["payload"]))
            payload["properties"]["meta"] = doc["components"]["schemas"]["envelope_meta"]
            schema = self.write(name + ".schema.json", json.dumps(payload))
            code, lines, _ = awtest.run(["validate", "--schema", schema, "--format-assertion"],
                                        stdin=json.dumps(message["examples"][0]["payload"]) + "\n", check=False)
            self.assertEqual(json.loads(lines[0]), {"valid": True}, name)
        self.assertEqual(awtest.run(["--catalog", CATALOG, "catalog", "export", "--format", "openapi"],
                                    check=False)[0], 2)

    def test_catalog_export_validates_against_the_asyncapi_3_schema(self):
        schema = asyncapi_schema(os.path.join(awtest.SCRATCH, "asyncapi-specs"))
        if schema is None:
            self.skipTest("npm cannot fetch @asyncapi/specs here (offline?): AsyncAPI schema check skipped")
        document = self.export()
        code, lines, _ = awtest.run(["validate", "--schema", schema], stdin=document + "\n", check=False)
        self.assertEqual(json.loads(lines[0]), {"valid": True})
        self.assertEqual(code, 0)
        # The check has teeth: a wrong operation action is rejected.
        broken = json.loads(document)
        broken["operations"]["content.send.content"]["action"] = "publish"
        code, lines, _ = awtest.run(["validate", "--schema", schema], stdin=json.dumps(broken) + "\n", check=False)
        self.assertEqual(code, 1)
        self.assertTrue(any("/operations/content.send.content" in e["instanceLocation"]
                            for e in json.loads(lines[0])["errors"]))

    # catalog docs

    def test_catalog_docs_writes_an_offline_site(self):
        out = os.path.join(self.dir, "site")
        code, lines, _ = awtest.run(["--catalog", CATALOG, "catalog", "docs", "--out", out])
        self.assertEqual(code, 0)
        self.assertEqual(json.loads(lines[-1]), {"written": out, "types": 9})
        with open(os.path.join(out, "index.html")) as f:
            index = f.read()
        self.assertTrue(index.startswith("<!DOCTYPE html>"))
        for page in ["content.book.published.v1.html", "content.book.published.v2.html", "user.account.created.v1.html"]:
            self.assertIn('href="%s"' % page, index)
            self.assertTrue(os.path.exists(os.path.join(out, page)), page)
        self.assertIn('<input id="search"', index)
        self.assertNotIn('src="http', index)
        self.assertNotIn('href="http', index)
        # Usage errors: no catalog (2); an output path that cannot be a directory (1, naming it).
        self.assertEqual(awtest.run(["catalog", "docs", "--out", out], check=False)[0], 2)
        self.assertEqual(awtest.run(["--catalog", CATALOG, "catalog", "docs"], check=False)[0], 2)
        blocker = self.write("blocker", "a file, not a directory")
        code, _, err = awtest.run(["--catalog", CATALOG, "catalog", "docs", "--out", os.path.join(blocker, "site")],
                                  check=False)
        self.assertEqual(code, 1)
        self.assertIn(os.path.join(blocker, "site"), err)


def asyncapi_schema(cache):
    """schemas/3.0.0.json of npm @asyncapi/specs (major 6), fetched once into the build tree; None when npm cannot."""
    path = os.path.join(cache, "package", "schemas", "3.0.0.json")
    if os.path.exists(path):
        return path
    if shutil.which("npm") is None:
        return None
    os.makedirs(cache, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=cache) as work:
            proc = subprocess.run(["npm", "pack", "@asyncapi/specs@6", "--silent", "--pack-destination", work],
                                  capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                return None
            tarballs = [f for f in os.listdir(work) if f.endswith(".tgz")]
            if not tarballs:
                return None
            with tarfile.open(os.path.join(work, tarballs[0])) as tar:
                member = tar.getmember("package/schemas/3.0.0.json")
                tar.extractall(cache, members=[member])
    except (subprocess.TimeoutExpired, OSError, KeyError, tarfile.TarError):
        return None
    return path if os.path.exists(path) else None


if __name__ == "__main__":
    unittest.main()
