#!/usr/bin/python3
"""check-s3.py — after seafile-server's suite ran on the tier and seaftierd drained:
what the suite left is in S3, and what it deleted is gone.

Checks (each printed as PASS/FAIL, with object counts per bucket):
  1. per bucket, the keys in S3 are exactly the tier's live objects (clean, none dirty):
     nothing left is missing from S3, nothing the tier dropped lingers there;
  2. no key in S3 belongs to a library seaf-server no longer has (Repo, RepoTrash,
     VirtualRepo of seafile.db): deleted libraries are gone from every bucket;
  3. every object seaftierd reports as deleted in S3 ("deleted TYPE REPO/OBJ in S3",
     its debug log) is absent from S3 and from the tier's live set;
  4. a sample of each bucket read back from S3 with the SSE-C key (curl, SigV4), byte for
     byte equal to what libseaftier's backends return from the tier (tier-cat); a block's
     bytes also hash (SHA-1) to its id.
Talks to S3 with curl only (independent of the S3 client under test).
Usage: check-s3.py DATA_DIR ADMIN TIER_CAT SEAFTIERD_LOG [SAMPLE]   (env: RGW_* of ensure-rgw.sh)
"""
import configparser
import hashlib
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET
import json
import base64

TYPES = [("commits", "commit_object_backend"), ("fs", "fs_object_backend"), ("blocks", "block_backend")]
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

data_dir, admin, tier_cat, daemon_log = sys.argv[1:5]
sample_n = int(sys.argv[5]) if len(sys.argv) > 5 else 20
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


def s3(method, path, out=None, extra=()):
    cmd = ["curl", "-sS", "--fail-with-body", "--cacert", env["RGW_CA_BUNDLE"], "-X", method,
           "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
           "--aws-sigv4", "aws:amz:us-east-1:s3",
           "--user", env["RGW_ACCESS_KEY"] + ":" + env["RGW_SECRET_KEY"],
           env["RGW_SSL_ENDPOINT"] + path]
    cmd += list(extra)
    if out:
        cmd += ["-o", out]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("%s %s: %s %s" % (method, path, r.stderr.decode().strip(),
                                             r.stdout.decode()[:300]))
    return r.stdout


def list_keys(bucket):
    keys, token = [], None
    while True:
        q = "list-type=2&max-keys=1000"
        if token:
            q += "&continuation-token=" + urllib.parse.quote(token, safe="")
        root = ET.fromstring(s3("GET", "/%s?%s" % (bucket, q)))
        keys += [c.find(NS + "Key").text for c in root.findall(NS + "Contents")]
        if root.findtext(NS + "IsTruncated") != "true":
            return keys
        token = root.findtext(NS + "NextContinuationToken")


def sse_headers():
    k = sse_key.encode()
    return ["-H", "x-amz-server-side-encryption-customer-algorithm: AES256",
            "-H", "x-amz-server-side-encryption-customer-key: " + base64.b64encode(k).decode(),
            "-H", "x-amz-server-side-encryption-customer-key-MD5: " +
            base64.b64encode(hashlib.md5(k).digest()).decode()]


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
    check("%s: every object the suite left is in S3, and nothing else" % t,
          not missing and not extra and len(in_s3[t]) > 0,
          "%d in S3, %d missing, %d extra" % (len(in_s3[t]), len(missing), len(extra)))

db = sqlite3.connect(os.path.join(seaf_dir, "seafile.db"))
repos = set()
for table, col in (("Repo", "repo_id"), ("RepoTrash", "repo_id"), ("VirtualRepo", "repo_id"),
                   ("VirtualRepo", "origin_repo")):
    repos |= {r[0] for r in db.execute("SELECT %s FROM %s" % (col, table))}
for t, _ in TYPES:
    orphans = {k.split("/")[0] for k in in_s3[t]} - repos
    check("%s: no key of a deleted library is left in S3" % t, not orphans,
          "%d libraries in S3, %d of them deleted%s" % (
              len({k.split("/")[0] for k in in_s3[t]}), len(orphans),
              (": " + ", ".join(sorted(orphans)[:3])) if orphans else ""))

deleted = {t: set() for t, _ in TYPES}
pat = re.compile(r"deleted (commits|fs|blocks) ([0-9a-f-]{36}/[0-9a-f]{40}) in S3")
with open(daemon_log, errors="replace") as f:
    for line in f:
        m = pat.search(line)
        if m:
            deleted[m.group(1)].add(m.group(2))
for t, _ in TYPES:
    # an id deleted and later written again (same content) is live again: not a leftover
    leftover = {k for k in deleted[t] & in_s3[t] if k not in live[t]}
    check("%s: objects seaftierd deleted are gone from S3" % t, not leftover,
          "%d remote deletes carried, %d still in S3" % (len(deleted[t]), len(leftover)))
print("remote deletes carried by seaftierd: " +
      ", ".join("%s %d" % (t, len(deleted[t])) for t, _ in TYPES))

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
            s3_file = os.path.join(tmp, "s3-" + k.replace("/", "-"))
            s3("GET", "/%s/%s" % (bucket, k), out=s3_file, extra=sse_headers())
            with open(s3_file, "rb") as f:
                s3_bytes = f.read()
            tier_file = os.path.join(tdir, "%s-%s" % (t, k.split("/")[1]))
            if os.path.exists(tier_file):
                with open(tier_file, "rb") as f:
                    same += f.read() == s3_bytes
            if t == "blocks":
                hashed += hashlib.sha1(s3_bytes).hexdigest() == k.split("/")[1]
        check("%s: %d sampled objects read back from S3 with the SSE-C key equal the tier's bytes" % (t, n),
              n > 0 and same == n and (t != "blocks" or hashed == n) and r.returncode == 0,
              "%d equal%s" % (same, ", %d hash to their id" % hashed if t == "blocks" else ""))

print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
sys.exit(0 if all(results) else 1)
