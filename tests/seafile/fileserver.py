"""fileserver.py — what the scripts in tests/seafile/ do through a running seaf-server
(seafile-env.sh's environment): wait for its RPC, upload a file through the file server's
upload API and download one by file id, as Seafile's web and desktop clients do (an access
token from the RPC, then HTTP on port 8082).
"""
import time

import requests
from requests_toolbelt import MultipartEncoder
from seaserv import seafile_api

BASE = "http://127.0.0.1:8082"


def wait_for_rpc():
    """seaf-server's RPC may take a moment after the file server's port opens."""
    for _ in range(30):
        try:
            seafile_api.get_repo_list(0, 1, None)
            return
        except Exception:
            time.sleep(1)
    raise SystemExit("seaf-server's RPC does not answer")


def upload(repo_id, user, parent_dir, name, data, replace=False):
    """POSTs `data` as `name` into `parent_dir` (created when missing) of the library;
    with `replace`, a new version of an existing file. Returns the HTTP response."""
    token = seafile_api.get_fileserver_access_token(repo_id, '{"parent_dir":"/"}', "upload",
                                                    user, False)
    fields = {"parent_dir": "/", "file": (name, data, "application/octet-stream")}
    if parent_dir.strip("/"):
        fields["relative_path"] = parent_dir.strip("/")
    if replace:
        fields["replace"] = "1"
    m = MultipartEncoder(fields=fields)
    return requests.post("%s/upload-api/%s" % (BASE, token), data=m,
                         headers={"Content-Type": m.content_type})


def download(repo_id, user, file_id, name):
    """GETs the file (any version) `file_id` of the library. Returns (status, bytes)."""
    token = seafile_api.get_fileserver_access_token(repo_id, file_id, "download", user, False)
    r = requests.get("%s/files/%s/%s" % (BASE, token, name))
    return r.status_code, r.content
