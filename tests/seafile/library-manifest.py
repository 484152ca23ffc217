#!/usr/bin/python3
"""library-manifest.py — libraries with known contents, made and checked through a running
seaf-server's HTTP API (seafile-env.sh's environment), for tests that move a server's objects
elsewhere (tests/seafile/migrate-roundtrip.sh).

  create MANIFEST   creates a user and two libraries and uploads files through the file server's
                    upload API (/upload-api/<token>): an empty file, 1 byte, a few KiB, files of
                    more than 8 MiB (several blocks), nested directories, one file with the same
                    bytes in both libraries, and a file replaced twice (three versions). Writes
                    what it made (every version's file id and SHA-256, the directories, the commit
                    history) to MANIFEST (JSON).
  add MANIFEST TAG  uploads a few more files (a new nested directory, a new version of an old
                    file) into both libraries and records them in MANIFEST.
  check MANIFEST    downloads every file and every recorded older version (/files/<token>/) and
                    compares SHA-256s, walks every library's directory tree and compares it with
                    MANIFEST, and compares the commit history and each file's revisions.

Every problem is printed on its own line naming the library and path (or commit); check exits
1 if there is any. Random contents: each run uploads different bytes.
"""
import hashlib
import json
import os
import sys

from seaserv import ccnet_api, seafile_api

from fileserver import download, upload, wait_for_rpc

USER = "seaftier-migrate@example.com"
MIB = 1024 * 1024


def put(lib, path, data, replace=False):
    """Uploads `data` as `path` (parents created), records the new version."""
    parent, name = os.path.split(path)
    r = upload(lib["id"], USER, parent, name, data, replace)
    if r.status_code != 200:
        sys.exit("upload of %s:%s failed: HTTP %d %s" % (lib["name"], path, r.status_code,
                                                        r.text[:200]))
    file_id = seafile_api.get_file_id_by_path(lib["id"], path)
    if not file_id:
        sys.exit("upload of %s:%s: the server has no file there afterwards" % (lib["name"], path))
    versions = lib["files"].setdefault(path, [])
    if not replace and versions:
        sys.exit("%s:%s uploaded twice without replace" % (lib["name"], path))
    versions.append({"id": file_id, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    d = parent
    while d != "/":
        if d not in lib["dirs"]:
            lib["dirs"].append(d)
        d = os.path.dirname(d)


def record_history(lib):
    lib["commits"] = [c.id for c in seafile_api.get_commit_list(lib["id"], 0, 1000)]


def create(manifest_path):
    if not ccnet_api.get_emailuser(USER):
        ccnet_api.add_emailuser(USER, "seaftier-migrate-password", 0, 1)
    shared = os.urandom(5000)
    libs = []
    for name in ("migrate-a", "migrate-b"):
        lib = {"name": name, "id": seafile_api.create_repo(name, "", USER, passwd=None),
               "files": {}, "dirs": []}
        libs.append(lib)
    a, b = libs
    put(a, "/empty.txt", b"")
    put(a, "/one-byte.bin", os.urandom(1))
    put(a, "/docs/notes.txt", os.urandom(3 * 1024))
    put(a, "/docs/deep/er/still/deeper.bin", os.urandom(7 * 1024 + 3))
    put(a, "/big/nine-mib.bin", os.urandom(9 * MIB + 123))
    put(a, "/shared.bin", shared)
    for _ in range(2):          # three versions of one file
        put(a, "/docs/notes.txt", os.urandom(4 * 1024 + 17), replace=True)
    put(b, "/shared.bin", shared)
    put(b, "/photos/2024/img-1.raw", os.urandom(17 * MIB + 5))
    put(b, "/photos/2024/img-2.raw", os.urandom(64 * 1024))
    put(b, "/readme.md", os.urandom(900))
    put(b, "/readme.md", os.urandom(1100), replace=True)
    for lib in libs:
        record_history(lib)
    with open(manifest_path, "w") as f:
        json.dump({"user": USER, "libraries": libs}, f, indent=1)
    total = sum(v["size"] for lib in libs for vs in lib["files"].values() for v in vs)
    print("created %d libraries, %d files, %d versions, %d bytes" % (
        len(libs), sum(len(lib["files"]) for lib in libs),
        sum(len(vs) for lib in libs for vs in lib["files"].values()), total))


def add(manifest_path, tag):
    with open(manifest_path) as f:
        manifest = json.load(f)
    for lib in manifest["libraries"]:
        put(lib, "/added-%s/sub/small.bin" % tag, os.urandom(2 * 1024 + 1))
        put(lib, "/added-%s/empty-too.txt" % tag, b"")
        put(lib, "/added-%s/over-8-mib.bin" % tag, os.urandom(8 * MIB + 1))
        old = sorted(p for p in lib["files"] if not p.startswith("/added-"))[-1]
        put(lib, old, os.urandom(3000), replace=True)
        record_history(lib)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
    print("added files tagged %s to %d libraries" % (tag, len(manifest["libraries"])))


def walk(lib, path, files, dirs, problems):
    entries = seafile_api.list_dir_by_path(lib["id"], path)
    if entries is None:
        problems.append("%s: cannot list directory %s" % (lib["name"], path))
        return
    for e in entries:
        child = os.path.join(path, e.obj_name)
        if e.mode & 0o170000 == 0o040000:
            dirs.add(child)
            walk(lib, child, files, dirs, problems)
        else:
            files[child] = e.obj_id


def check(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    problems = []
    checked = versions = 0
    for lib in manifest["libraries"]:
        name = lib["name"]
        if not seafile_api.get_repo(lib["id"]):
            problems.append("%s: library %s is missing" % (name, lib["id"]))
            continue
        history = [c.id for c in seafile_api.get_commit_list(lib["id"], 0, 1000)]
        if history != lib["commits"]:
            problems.append("%s: commit history differs: %d commits %s, expected %d %s" % (
                name, len(history), history[:3], len(lib["commits"]), lib["commits"][:3]))
        files, dirs = {}, set()
        walk(lib, "/", files, dirs, problems)
        if set(files) != set(lib["files"]):
            problems.append("%s: files differ: unexpected %s, missing %s" % (
                name, sorted(set(files) - set(lib["files"])), sorted(set(lib["files"]) - set(files))))
        if dirs != set(lib["dirs"]):
            problems.append("%s: directories differ: unexpected %s, missing %s" % (
                name, sorted(dirs - set(lib["dirs"])), sorted(set(lib["dirs"]) - dirs)))
        for path, vs in sorted(lib["files"].items()):
            if files.get(path, vs[-1]["id"]) != vs[-1]["id"]:
                problems.append("%s:%s: file id %s, expected %s" % (name, path, files[path],
                                                                    vs[-1]["id"]))
            if len(vs) > 1:
                revs = seafile_api.get_file_revisions(lib["id"], None, path, 100)
                rev_ids = {c.rev_file_id for c in revs if getattr(c, "rev_file_id", None)}
                if rev_ids != {v["id"] for v in vs}:
                    problems.append("%s:%s: revisions %s, expected %s" % (
                        name, path, sorted(rev_ids), sorted(v["id"] for v in vs)))
            for n, v in enumerate(vs):
                status, body = download(lib["id"], USER, v["id"], os.path.basename(path))
                digest = hashlib.sha256(body).hexdigest()
                if status != 200 or digest != v["sha256"]:
                    problems.append("%s:%s version %d (file id %s): HTTP %d, %d bytes, sha256 %s; "
                                    "expected %d bytes, sha256 %s" % (
                                        name, path, n + 1, v["id"], status, len(body), digest,
                                        v["size"], v["sha256"]))
                versions += 1
            checked += 1
    for p in problems:
        print("MISMATCH: " + p)
    print("checked %d libraries, %d files, %d versions downloaded: %s" % (
        len(manifest["libraries"]), checked, versions,
        "all equal" if not problems else "%d problems" % len(problems)))
    return 1 if problems else 0


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("create", "add", "check") or \
            (sys.argv[1] == "add") != (len(sys.argv) == 4):
        sys.exit("usage: library-manifest.py create|check MANIFEST | add MANIFEST TAG")
    wait_for_rpc()
    if sys.argv[1] == "create":
        create(sys.argv[2])
    elif sys.argv[1] == "add":
        add(sys.argv[2], sys.argv[3])
    else:
        sys.exit(check(sys.argv[2]))


if __name__ == "__main__":
    main()
