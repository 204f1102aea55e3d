"""Helpers for the tests on the real 3-node cluster started by tools/kafka-cluster (CTest fixture)."""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
import awtest  # noqa: E402,F401  (re-exported helpers: run, check_envelope, partition_for, ...)

TOOL = os.environ.get("KAFKA_CLUSTER_TOOL", os.path.join(os.path.dirname(__file__), "..", "..", "tools", "kafka-cluster"))
CATALOG = os.environ.get("AW_EXAMPLES_CATALOG", os.path.join(os.path.dirname(__file__), "..", "..", "examples", "catalog"))


def jar_dir():
    """The libs/ directory of the jar cache tools/kafka-cluster fills (same defaults as the tool)."""
    version = os.environ.get("AW_KAFKA_VERSION", "4.4.0")
    cache = os.environ.get("AW_KAFKA_CACHE", os.path.expanduser(f"~/.cache/aw-events/kafka-{version}"))
    libs = os.path.join(cache, "libs")
    if not glob.glob(os.path.join(libs, "kafka-clients-*.jar")):
        raise AssertionError(f"no Kafka jars in {libs} (tools/kafka-cluster start fetches them)")
    return libs


def cluster(*args, check=True, timeout=300):
    proc = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kafka-cluster {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
    return proc.stdout.strip()


def bootstrap():
    return cluster("bootstrap")


def metadata(topic=None):
    args = ["kcat", "-b", bootstrap(), "-L", "-J", "-m", "5"]
    if topic:
        args += ["-t", topic]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise AssertionError(f"kcat -L failed: {proc.stderr}")
    return json.loads(proc.stdout)


def partitions_of(topic):
    for t in metadata(topic)["topics"]:
        if t["topic"] == topic and not t.get("error"):
            return t["partitions"]
    return []


def wait_topic(topic, partitions, timeout=60):
    """Waits until `topic` has `partitions` partitions, each with a leader and a full ISR."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        parts = partitions_of(topic)
        if len(parts) == partitions and all(p.get("leader", -1) >= 0 and len(p.get("isrs", [])) == 3 for p in parts):
            return parts
        time.sleep(0.5)
    raise AssertionError(f"{topic}: not {partitions} healthy partitions within {timeout}s: {partitions_of(topic)}")


def wait_full_isr(topic, timeout=120):
    """Waits until every partition of `topic` has all 3 replicas in sync (after a node came back)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        parts = partitions_of(topic)
        if parts and all(len(p.get("isrs", [])) == 3 and p.get("leader", -1) >= 0 for p in parts):
            return
        time.sleep(0.5)
    raise AssertionError(f"{topic}: ISR not back to 3 within {timeout}s: {partitions_of(topic)}")


def create_topic(topic, partitions=3):
    """Creates an RF 3 topic with min.insync.replicas 2 through the cluster's own TopicCommand."""
    proc = subprocess.run(["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", jar_dir() + "/*",
                           "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap(), "--create",
                           "--topic", topic, "--partitions", str(partitions), "--replication-factor", "3",
                           "--config", "min.insync.replicas=2"], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"creating {topic} failed: {proc.stderr}{proc.stdout}")
    return wait_topic(topic, partitions)


def kcat_read(topic, count, timeout=60):
    """Reads `count` records of `topic` from the beginning with kcat (librdkafka, an independent client)."""
    proc = subprocess.run(["kcat", "-b", bootstrap(), "-C", "-t", topic, "-o", "beginning", "-c", str(count), "-e", "-J",
                           "-q"], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"kcat -C failed: {proc.stderr}")
    out = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        msg = json.loads(line)
        flat = msg.get("headers") or []
        headers = dict(zip(flat[0::2], flat[1::2]))
        out.append((json.loads(msg["payload"]), headers, msg["key"], msg["partition"], msg["offset"]))
    return out


def venv_python():
    """A venv in the build tree with confluent-kafka (pip, PyPI); None with a SKIP line when pip fails."""
    venv = os.environ.get("AW_KAFKA_VENV", os.path.join(awtest.SCRATCH, "venv"))
    python = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, ".confluent-kafka-ok")
    if os.path.exists(marker):
        return python
    if not os.path.exists(python):
        proc = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"SKIP: python3 -m venv failed (install python3-venv): {proc.stderr.strip()}")
            return None
    proc = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "confluent-kafka"],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        print(f"SKIP: pip install confluent-kafka failed: {proc.stderr.strip()[-2000:]}")
        return None
    open(marker, "w").close()
    return python
