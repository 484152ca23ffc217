/*
 * lib/sync/remote-fs.h — Seafile's own fs layout as a remote: one object
 * type's directory of a `storage` dir (seafile-data/storage/<type>), holding
 * <repo_id>/<obj_id[0:2]>/<obj_id[2:]> files of raw object bytes, exactly
 * as seaf-server's fs backend writes them.
 *
 * Read-only (a migration source: get/head/list; everything else fails), or
 * writable (an export target: put writes a temporary file in the object's
 * directory, fsyncs it and renames it into place, so a killed export never
 * leaves a partial object under its real name). No metadata is stored; a
 * get reports the file's mtime as the object's ctime.
 *
 * Errors are G_FILE_ERROR naming the file; NOENT is NOT_FOUND, the rest
 * PERMANENT.
 */
#ifndef SEAFTIER_SYNC_REMOTE_FS_H
#define SEAFTIER_SYNC_REMOTE_FS_H

#include "sync/remote.h"

/* `dir` is the type's directory (e.g. /srv/seafile-data/storage/blocks).
 * Read-only: it must exist. Writable: it is created when missing. */
SeaftierRemote *seaftier_remote_fs_new(const char *dir, gboolean writable, GError **error);

#endif
