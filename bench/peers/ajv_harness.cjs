// Ajv 8 + ajv-formats peer of `aw-events bench validate`: same schema, same instances, same loop as the
// other harnesses. Usage: node ajv_harness.cjs AJV_PREFIX SCHEMA_FILE INSTANCES_FILE SECONDS
// AJV_PREFIX is the npm --prefix where `npm install ajv@8 ajv-formats@3` ran (never inside the repo).
// Prints one JSON line: ns per instance for validation alone (over already-parsed objects) and for parsing.
'use strict';
const fs = require('fs');
const path = require('path');

const [, , prefix, schemaFile, instancesFile, secondsArg] = process.argv;
if (!prefix || !schemaFile || !instancesFile) {
  console.error('usage: node ajv_harness.cjs AJV_PREFIX SCHEMA_FILE INSTANCES_FILE [SECONDS]');
  process.exit(2);
}
const seconds = Number(secondsArg || '1');
const load = (name) => require(path.join(path.resolve(prefix), 'node_modules', name));
const Ajv2020 = load('ajv/dist/2020').default;
const formats = load('ajv-formats');
const addFormats = formats.default || formats;
const ajvVersion = load('ajv/package.json').version;

const ajv = new Ajv2020({ allErrors: false });
addFormats(ajv);  // "full" mode: date-time, uuid, ... are assertions, as with aw-events' format_assertion
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
const texts = fs.readFileSync(instancesFile, 'utf8').split('\n').filter((l) => l.length > 0);

// CPU time of this process (user + system), not wall time: on a shared machine wall time mostly measures
// the other processes. The C++ subjects use their thread's CPU time the same way.
const now = () => { const u = process.cpuUsage(); return BigInt(u.user + u.system) * 1000n; };
// Parsing, measured apart (JSON.parse of every instance), rounds until `seconds` / 4 passed.
let docs = [];
let parseRounds = 0;
let t0 = now();
const parseBudget = BigInt(Math.round((seconds / 4) * 1e9));
do {
  docs = texts.map((t) => JSON.parse(t));
  ++parseRounds;
} while (now() - t0 < parseBudget);
const parseNs = Number(now() - t0) / (parseRounds * texts.length);

let valid = 0;
for (const d of docs) if (validate(d)) ++valid;
// Warm-up so that V8 has optimised the generated validator before the measured loop.
t0 = now();
while (now() - t0 < BigInt(Math.round(0.3e9))) for (const d of docs) validate(d);

let rounds = 0;
let sink = 0;
const budget = BigInt(Math.round(seconds * 1e9));
t0 = now();
do {
  for (let i = 0; i < docs.length; ++i) if (validate(docs[i])) ++sink;
  ++rounds;
} while (now() - t0 < budget);
const ns = Number(now() - t0) / (rounds * docs.length);
if (sink !== valid * rounds) throw new Error('validation results changed between rounds');

console.log(JSON.stringify({
  subject: 'ajv', version: `ajv ${ajvVersion} + ajv-formats (node ${process.versions.node})`,
  instances: docs.length, valid, rounds,
  validate_ns_per_instance: Number(ns.toFixed(1)), parse_ns_per_instance: Number(parseNs.toFixed(1)),
}));
