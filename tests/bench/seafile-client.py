#!/usr/bin/env python3
"""seafile-client.py — the client side of the seaf-server bench: talks to a
running seaf-server the way Seahub does (RPC through seaserv for libraries
and access tokens, HTTP to the C file server for the bytes) and times it.

  seafile-client.py libs     THREADS NAME               -> prints one library id a line
  seafile-client.py upload   PORT LIBS_FILE SRC_DIR     -> one JSON line of figures
  seafile-client.py download PORT LIBS_FILE SRC_DIR     -> one JSON line of figures

seaserv finds the server through SEAFILE_CONF_DIR / SEAFILE_CENTRAL_CONF_DIR
(bench-seafile.sh sets them).

One client thread per library (LIBS_FILE has one id a line): every upload is
a commit on its library's head, and parallel uploads into one library collide
there (seaf-server then backs off 0-3 s at random, server/repo-op.c), which
would measure the back-off instead of the storage. The files of SRC_DIR are
dealt round-robin to the threads; thread i uploads its share into library i,
one file per POST to /upload-api/<token>, and downloads it back from
/files/<token>/<name>. Downloads compare every byte with the source file.
Access tokens are fetched before the clock starts (an RPC each, not storage).
"""
import json
import os
import sys
import threading
import time

import requests
from seaserv import seafile_api

USER = 'bench@seaftier.test'
CHUNK = 1 << 20


def read_libs(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def shares(src, nthreads):
    names = sorted(os.listdir(src))
    return [names[i::nthreads] for i in range(nthreads)]


def run_threads(work):
    """Runs work[i]() in thread i; returns the wall time and re-raises the
    first failure."""
    errors = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # reported below, with the thread's error
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(w,)) for w in work]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - t0
    if errors:
        raise errors[0]
    return seconds


def cmd_libs(nthreads, name):
    for i in range(int(nthreads)):
        repo_id = seafile_api.create_repo('%s-%d' % (name, i), '', USER, passwd=None)
        if not repo_id:
            sys.exit('seafile-client: create_repo failed')
        print(repo_id)


def cmd_upload(port, libs_file, src):
    libs = read_libs(libs_file)
    parts = shares(src, len(libs))
    tokens = [seafile_api.get_fileserver_access_token(r, json.dumps({'parent_dir': '/'}),
                                                      'upload', USER, False) for r in libs]
    latencies = []
    nbytes = [0]
    lock = threading.Lock()

    def uploader(i):
        def run():
            url = 'http://127.0.0.1:%s/upload-api/%s?ret-json=1' % (port, tokens[i])
            with requests.Session() as s:
                for name in parts[i]:
                    path = os.path.join(src, name)
                    size = os.path.getsize(path)
                    t0 = time.monotonic()
                    with open(path, 'rb') as f:
                        r = s.post(url, data={'parent_dir': '/'},
                                   files={'file': (name, f, 'application/octet-stream')})
                    dt = time.monotonic() - t0
                    if r.status_code != 200:
                        raise RuntimeError('upload of %s: HTTP %d: %s' % (name, r.status_code,
                                                                          r.text[:200]))
                    got = r.json()
                    if got[0]['name'] != name or got[0]['size'] != size:
                        raise RuntimeError('upload of %s: server answered %r' % (name, got))
                    with lock:
                        latencies.append(dt)
                        nbytes[0] += size
        return run

    seconds = run_threads([uploader(i) for i in range(len(libs))])
    report('upload', seconds, latencies, nbytes[0])


def cmd_download(port, libs_file, src):
    libs = read_libs(libs_file)
    parts = shares(src, len(libs))
    urls = []
    for i, repo_id in enumerate(libs):
        mine = []
        for name in parts[i]:
            obj_id = seafile_api.get_file_id_by_path(repo_id, '/' + name)
            if not obj_id:
                sys.exit('seafile-client: %s is not in library %s' % (name, repo_id))
            token = seafile_api.get_fileserver_access_token(repo_id, obj_id, 'download', USER, False)
            mine.append((name, 'http://127.0.0.1:%s/files/%s/%s' % (port, token, name)))
        urls.append(mine)
    latencies = []
    nbytes = [0]
    lock = threading.Lock()

    def downloader(i):
        def run():
            with requests.Session() as s:
                for name, url in urls[i]:
                    t0 = time.monotonic()
                    got = 0
                    with s.get(url, stream=True) as r, open(os.path.join(src, name), 'rb') as f:
                        if r.status_code != 200:
                            raise RuntimeError('download of %s: HTTP %d' % (name, r.status_code))
                        for chunk in r.iter_content(CHUNK):
                            if f.read(len(chunk)) != chunk:
                                raise RuntimeError('download of %s: bytes differ near offset %d'
                                                   % (name, got))
                            got += len(chunk)
                        if f.read(1):
                            raise RuntimeError('download of %s: short (%d bytes)' % (name, got))
                    dt = time.monotonic() - t0
                    with lock:
                        latencies.append(dt)
                        nbytes[0] += got
        return run

    seconds = run_threads([downloader(i) for i in range(len(libs))])
    report('download', seconds, latencies, nbytes[0])


def report(op, seconds, latencies, nbytes):
    lat = sorted(latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float('nan')

    print(json.dumps({'op': op, 'files': len(lat), 'bytes': nbytes, 'seconds': seconds,
                      'files_per_s': len(lat) / seconds if seconds > 0 else float('nan'),
                      'MBps': nbytes / seconds / 1e6 if seconds > 0 else float('nan'),
                      'p50_ms': pct(0.5), 'p99_ms': pct(0.99)}))


def main(argv):
    cmds = {'libs': (cmd_libs, 2), 'upload': (cmd_upload, 3), 'download': (cmd_download, 3)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) != 2 + cmds[argv[1]][1]:
        sys.exit(__doc__)
    fn, _ = cmds[argv[1]]
    fn(*argv[2:])


if __name__ == '__main__':
    main(sys.argv)
