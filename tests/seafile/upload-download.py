#!/usr/bin/python3
"""upload-download.py — through a running seaf-server (seafile-env.sh's environment):
creates a user and a library, uploads COUNT files of SIZE bytes (random content) through
the file server's HTTP upload API (/upload-api/<token>), downloads each back (/files/<token>/
<name>) and compares the bytes. Prints the library id and the timings; exit 1 on a mismatch.

Usage: upload-download.py COUNT SIZE [SIZE...]   (each SIZE: bytes, suffix K or M allowed)
"""
import hashlib
import os
import sys
import time

from seaserv import ccnet_api, seafile_api

from fileserver import download, upload, wait_for_rpc

USER = "seaftier-main@example.com"


def parse_size(text):
    mult = {"K": 1024, "M": 1024 * 1024}.get(text[-1:].upper(), 1)
    return int(text[:-1] if mult > 1 else text) * mult


count = int(sys.argv[1])
sizes = [parse_size(s) for s in sys.argv[2:]] or [8192]
wait_for_rpc()
if not ccnet_api.get_emailuser(USER):
    ccnet_api.add_emailuser(USER, "seaftier-main-password", 0, 1)
repo_id = seafile_api.create_repo("seaftier main job", "", USER, passwd=None)
print("library %s" % repo_id)

files = []
t0 = time.time()
for i in range(count):
    size = sizes[i % len(sizes)]
    data = os.urandom(size)
    name = "file-%04d.bin" % i
    r = upload(repo_id, USER, "/", name, data)
    if r.status_code != 200:
        sys.exit("upload of %s failed: HTTP %d %s" % (name, r.status_code, r.text[:200]))
    files.append((name, hashlib.sha256(data).hexdigest(), size))
t_up = time.time() - t0

t0 = time.time()
bad = 0
for name, digest, size in files:
    file_id = seafile_api.get_file_id_by_path(repo_id, "/" + name)
    status, body = download(repo_id, USER, file_id, name)
    if status != 200 or hashlib.sha256(body).hexdigest() != digest:
        print("MISMATCH: %s (HTTP %d, %d bytes, expected %d)" % (name, status, len(body), size))
        bad += 1
t_down = time.time() - t0
total = sum(s for _, _, s in files)
print("uploaded %d files (%d bytes) in %.2f s, downloaded and compared them in %.2f s: %s" % (
    len(files), total, t_up, t_down, "all equal" if not bad else "%d differ" % bad))
sys.exit(1 if bad else 0)
