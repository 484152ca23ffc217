#!/usr/bin/python3
"""check-s3.py — after seafile-server's suite ran on the tier and seaftierd drained:
what the suite left is in S3, and what it deleted is gone.

STAGE "suite" (after the suite, before any full GC) runs checks 1 and 4; STAGE "gc" (after a
full seafserv-gc) runs 1, 2 and 3. Each is printed as PASS/FAIL, with object counts per bucket:
  1. per bucket, the keys in S3 are exactly the tier's live objects (clean, none dirty):
     nothing left is missing from S3, nothing the tier dropped lingers there;
  2. no key in S3 belongs to a library seaf-server no longer has (Repo, RepoTrash,
     VirtualRepo of seafile.db): after the full seafserv-gc run the runner does, deleted
     libraries are gone from every bucket;
  3. seaftierd carried remote deletes ("deleted TYPE REPO/OBJ remotely" in its debug log),
     and every object it deleted is absent from S3 and from the tier's live set;
  4. a sample of each bucket read back from S3 with the SSE-C key (SigV4), byte for
     byte equal to what libseaftier's backends return from the tier (tier-cat); a block's
     bytes also hash (SHA-1) to its id.
Talks to S3 through its own SigV4 code (independent of the S3 client under test).
Usage: check-s3.py suite|gc DATA_DIR ADMIN TIER_CAT SEAFTIERD_LOG [SAMPLE]   (env: RGW_* of ensure-rgw.sh)
       check-s3.py --stock DATA_DIR
The second form is check 2 for the stock run, on its fs backend (seafile-data/storage), so
the two runs can be compared.
"""
import base64
import configparser
import datetime
import hashlib
import hmac
import http.client
import os
import random
import re
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET
import json

TYPES = [("commits", "commit_object_backend"), ("fs", "fs_object_backend"), ("blocks", "block_backend")]
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

def live_libraries(seaf_dir):
    """Libraries seaf-server still has (a deleted one is in none of these tables once
    seafserv-gc removed it from GarbageRepos)."""
    db = sqlite3.connect(os.path.join(seaf_dir, "seafile.db"))
    repos = set()
    for table, col in (("Repo", "repo_id"), ("RepoTrash", "repo_id"), ("VirtualRepo", "repo_id"),
                       ("VirtualRepo", "origin_repo")):
        repos |= {r[0] for r in db.execute("SELECT %s FROM %s" % (col, table))}
    db.close()
    return repos


if sys.argv[1] == "--stock":
    seaf_dir = os.path.join(sys.argv[2], "seafile-data")
    repos, bad = live_libraries(seaf_dir), 0
    for t, _ in TYPES:
        d = os.path.join(seaf_dir, "storage", t)
        stores = set(os.listdir(d)) if os.path.isdir(d) else set()
        orphans = stores - repos
        bad += bool(orphans)
        print("%s: stock fs backend: %d libraries in storage/%s, %d of them deleted" % (
            "PASS" if not orphans else "FAIL", len(stores), t, len(orphans)))
    print("%d passed, %d failed" % (len(TYPES) - bad, bad))
    sys.exit(1 if bad else 0)

stage, data_dir, admin, tier_cat, daemon_log = sys.argv[1:6]
sample_n = int(sys.argv[6]) if len(sys.argv) > 6 else 20
after_suite = stage == "suite"
conf_dir = os.path.join(data_dir, "conf")
seaf_dir = os.path.join(data_dir, "seafile-data")
conf = configparser.ConfigParser(interpolation=None, strict=False)
conf.read(os.path.join(conf_dir, "seafile.conf"))
sse_key = conf["block_backend"]["sse_c_key"]
env = os.environ
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%s: %s%s" % ("PASS" if ok else "FAIL", name, (" — " + detail) if detail else ""))


def s3(method, path, query=(), headers=None):
    """One SigV4 request (UNSIGNED-PAYLOAD, https) to the test RGW; returns the body.
    Signed here rather than by curl: curl 7.88 orders x-amz-...-customer-key-MD5 before
    ...-customer-key in SignedHeaders, which S3 rejects."""
    ep = urllib.parse.urlsplit(env["RGW_SSL_ENDPOINT"])
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    h = {"host": ep.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    h.update({k.lower(): v for k, v in (headers or {}).items()})
    uri = urllib.parse.quote(path, safe="/-_.~")
    q = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                 for k, v in sorted(query))
    names = sorted(h)
    creq = "\n".join([method, uri, q, "".join("%s:%s\n" % (k, h[k].strip()) for k in names),
                      ";".join(names), "UNSIGNED-PAYLOAD"])
    scope = "%s/us-east-1/s3/aws4_request" % day
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + env["RGW_SECRET_KEY"]).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        env["RGW_ACCESS_KEY"], scope, ";".join(names), sig)
    conn = http.client.HTTPSConnection(ep.hostname, ep.port,
                                       context=ssl.create_default_context(cafile=env["RGW_CA_BUNDLE"]))
    conn.request(method, uri + ("?" + q if q else ""), headers=h)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    if r.status != 200:
        raise RuntimeError("%s %s: HTTP %d %s" % (method, path, r.status, body[:300]))
    return body


def list_keys(bucket):
    keys, token = [], None
    while True:
        q = [("list-type", "2"), ("max-keys", "1000")]
        if token:
            q.append(("continuation-token", token))
        root = ET.fromstring(s3("GET", "/" + bucket, q))
        keys += [c.find(NS + "Key").text for c in root.findall(NS + "Contents")]
        if root.findtext(NS + "IsTruncated") != "true":
            return keys
        token = root.findtext(NS + "NextContinuationToken")


def sse_headers():
    k = sse_key.encode()
    return {"x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": base64.b64encode(k).decode(),
            "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(k).digest()).decode()}


def admin_ls(state=None):
    cmd = [admin, "ls", "--json", "-c", conf_dir, "-d", seaf_dir]
    if state:
        cmd += ["--state", state]
    return json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout)


rows = admin_ls()
live = {t: set() for t, _ in TYPES}
dirty = 0
for r in rows:
    if r["state"] in ("clean", "dirty"):
        live[r["type"]].add(r["repo_id"] + "/" + r["obj_id"])
    dirty += r["state"] == "dirty"
pending_deletes = sum(1 for r in rows if r["state"] == "deleted")
check("the tier is drained", dirty == 0 and pending_deletes == 0,
      "%d dirty, %d remote deletes pending" % (dirty, pending_deletes))

in_s3 = {}
print("\n%-8s %-48s %10s %10s %8s %8s" % ("type", "bucket", "S3 keys", "tier live", "missing", "extra"))
for t, sec in TYPES:
    bucket = conf[sec]["bucket"]
    in_s3[t] = set(list_keys(bucket))
    missing, extra = live[t] - in_s3[t], in_s3[t] - live[t]
    print("%-8s %-48s %10d %10d %8d %8d" % (t, bucket, len(in_s3[t]), len(live[t]), len(missing), len(extra)))
    for k in sorted(missing)[:5]:
        print("  missing in S3: %s" % k)
    for k in sorted(extra)[:5]:
        print("  in S3, not live in the tier: %s" % k)
print()
for t, sec in TYPES:
    missing, extra = live[t] - in_s3[t], in_s3[t] - live[t]
    check("%s: every object the %s left is in S3, and nothing else" % (t, "suite" if after_suite else "GC"),
          not missing and not extra and (len(in_s3[t]) > 0 or not after_suite),
          "%d in S3, %d missing, %d extra" % (len(in_s3[t]), len(missing), len(extra)))

repos = live_libraries(seaf_dir)
for t, _ in ([] if after_suite else TYPES):
    orphans = {k.split("/")[0] for k in in_s3[t]} - repos
    check("%s: no key of a deleted library is left in S3" % t, not orphans,
          "%d libraries in S3, %d of them deleted%s" % (
              len({k.split("/")[0] for k in in_s3[t]}), len(orphans),
              (": " + ", ".join(sorted(orphans)[:3])) if orphans else ""))

deleted = {t: set() for t, _ in TYPES}
pat = re.compile(r"deleted (commits|fs|blocks) ([0-9a-f-]{36}/[0-9a-f]{40}) (?:in S3|remotely)")
with open(daemon_log, errors="replace") as f:
    for line in f:
        m = pat.search(line)
        if m:
            deleted[m.group(1)].add(m.group(2))
for t, _ in ([] if after_suite else TYPES):
    # an id deleted and later written again (same content) is live again: not a leftover
    leftover = {k for k in deleted[t] & in_s3[t] if k not in live[t]}
    check("%s: objects seaftierd deleted are gone from S3" % t, not leftover,
          "%d remote deletes carried, %d still in S3" % (len(deleted[t]), len(leftover)))
if not after_suite:
    # test_gc and the full GC delete objects one by one: seaftierd must have carried some
    check("seaftierd carried the remote deletes of the suite and the GC",
          sum(len(v) for v in deleted.values()) > 0,
          ", ".join("%s %d" % (t, len(deleted[t])) for t, _ in TYPES))


def check_samples():
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        picks = []
        for t, _ in TYPES:
            keys = sorted(in_s3[t] & live[t])
            picks += [(t, k) for k in rng.sample(keys, min(sample_n, len(keys)))]
        lst = "".join("%s %s %s\n" % (t, k.split("/")[0], k.split("/")[1]) for t, k in picks)
        tdir = os.path.join(tmp, "tier")
        os.mkdir(tdir)
        r = subprocess.run([tier_cat, conf_dir, seaf_dir, tdir], input=lst.encode())
        for t, sec in TYPES:
            bucket = conf[sec]["bucket"]
            n = same = hashed = 0
            for tt, k in picks:
                if tt != t:
                    continue
                n += 1
                s3_bytes = s3("GET", "/%s/%s" % (bucket, k), headers=sse_headers())
                # per library: the same commit id names other bytes in another library
                tier_file = os.path.join(tdir, "%s-%s" % (t, k.replace("/", "-")))
                if os.path.exists(tier_file):
                    with open(tier_file, "rb") as f:
                        tier_bytes = f.read()
                    same += tier_bytes == s3_bytes
                    if tier_bytes != s3_bytes:
                        print("  %s %s: S3 holds %d bytes, the tier %d" % (t, k, len(s3_bytes),
                                                                          len(tier_bytes)))
                if t == "blocks":
                    hashed += hashlib.sha1(s3_bytes).hexdigest() == k.split("/")[1]
            check("%s: %d sampled objects read back from S3 with the SSE-C key equal the tier's bytes"
                  % (t, n), n > 0 and same == n and (t != "blocks" or hashed == n) and r.returncode == 0,
                  "%d equal%s" % (same, ", %d hash to their id" % hashed if t == "blocks" else ""))


if after_suite:
    check_samples()
print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
sys.exit(0 if all(results) else 1)
