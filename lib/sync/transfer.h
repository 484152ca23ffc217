/*
 * lib/sync/transfer.h — one object copied into a remote with its id checked
 * and, when asked, read back: what `seaftier-admin migrate` (a storage dir,
 * another bucket, or the same bucket without SSE-C, into the configured
 * buckets) and `seaftier-admin export` (the buckets into a storage dir) do
 * for every object.
 *
 * Order of the checks, which is what makes re-encryption in place safe (the
 * PUT of the encrypted copy replaces the plain object under the same key,
 * atomically in S3): the bytes are checked against the object id BEFORE the
 * PUT, so a wrong body is never written over a good object; the read-back
 * after it compares the stored bytes with the source bytes and checks the
 * id again, so an object is only ever confirmed once the target holds it.
 */
#ifndef SEAFTIER_SYNC_TRANSFER_H
#define SEAFTIER_SYNC_TRANSFER_H

#include "sync/remote.h"
#include "sync/sync.h"

/* Checks `data` against `obj_id` (objid.h), PUTs it to `dst` under
 * "<repo_id>/<obj_id>" with the size/CRC32C metadata and `ctime`, and with
 * `read_back` GETs it again and compares bytes and id. Errors name the
 * object and the remote. */
gboolean seaftier_transfer_put(SeaftierRemote *dst, SeaftierObjType type, const char *repo_id,
                               const char *obj_id, const void *data, gsize len, gint64 ctime,
                               gboolean read_back, GError **error);

/* seaftier_transfer_put into the engine's own remote of `type` (the
 * configured bucket), with the key claimed in the engine's in-flight set for
 * the whole request, as every other PUT of the engine; a bucket-wide error
 * is reported to the observer. */
gboolean seaftier_sync_transfer_in(SeaftierSync *sync, SeaftierObjType type, const char *repo_id,
                                   const char *obj_id, const void *data, gsize len, gint64 ctime,
                                   gboolean read_back, GError **error);

#endif
