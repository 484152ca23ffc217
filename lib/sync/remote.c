/* lib/sync/remote.c — see remote.h: the key builder, the metadata the engine
 * records and checks, and the dispatchers. */
#include "seaftier-build.h"

#include "sync/remote.h"
#include "tier/crc32c.h"

G_DEFINE_QUARK(seaftier-remote-error-quark, seaftier_remote_error)

char *
seaftier_remote_key(const char *repo_id, const char *obj_id)
{
    return g_strconcat(repo_id, "/", obj_id, NULL);
}

void
seaftier_remote_meta_for(SeaftierRemoteMeta *meta, const void *data, gsize len, gint64 ctime)
{
    meta->ctime = ctime;
    meta->has_size = TRUE;
    meta->size = len;
    meta->has_crc32c = TRUE;
    meta->crc32c = seaftier_crc32c(0, data, len);
}

gboolean
seaftier_remote_meta_verify(const SeaftierRemoteMeta *meta, const void *data, gsize len,
                            const char *what, GError **error)
{
    if (meta->has_size && meta->size != len) {
        g_set_error(error, SEAFTIER_REMOTE_ERROR, SEAFTIER_REMOTE_ERROR_INTEGRITY,
                    "%s: read %" G_GSIZE_FORMAT " bytes but the object was stored with %"
                    G_GUINT64_FORMAT " (x-amz-meta-seaftier-size): the store or a proxy "
                    "truncated or altered it", what, len, meta->size);
        return FALSE;
    }
    if (meta->has_crc32c) {
        guint32 crc = seaftier_crc32c(0, data, len);
        if (crc != meta->crc32c) {
            g_set_error(error, SEAFTIER_REMOTE_ERROR, SEAFTIER_REMOTE_ERROR_INTEGRITY,
                        "%s: CRC32C of the bytes read is %08x but the object was stored with "
                        "%08x (x-amz-meta-seaftier-crc32c): the store or a proxy altered it",
                        what, crc, meta->crc32c);
            return FALSE;
        }
    }
    return TRUE;
}

SeaftierRemoteErrorClass
seaftier_remote_classify(SeaftierRemote *r, const GError *error)
{
    if (!error || error->domain == SEAFTIER_REMOTE_ERROR)
        return SEAFTIER_REMOTE_ERR_TRANSIENT;
    if (r)
        return r->ops->classify(error);
    return SEAFTIER_REMOTE_ERR_TRANSIENT;
}

gboolean
seaftier_remote_put(SeaftierRemote *r, const char *key, const void *data, gsize len,
                    const SeaftierRemoteMeta *meta, GError **error)
{
    return r->ops->put(r, key, data, len, meta, error);
}

gboolean
seaftier_remote_get(SeaftierRemote *r, const char *key, void **data, gsize *len,
                    SeaftierRemoteMeta *meta, GError **error)
{
    return r->ops->get(r, key, data, len, meta, error);
}

gboolean
seaftier_remote_head(SeaftierRemote *r, const char *key, SeaftierRemoteInfo *info, GError **error)
{
    return r->ops->head(r, key, info, error);
}

gboolean
seaftier_remote_delete_many(SeaftierRemote *r, const char *const *keys, guint n_keys,
                            GPtrArray *failed, GError **error)
{
    return r->ops->delete_many(r, keys, n_keys, failed, error);
}

gboolean
seaftier_remote_list(SeaftierRemote *r, const char *prefix, SeaftierRemoteListFunc func,
                     void *user_data, GError **error)
{
    return r->ops->list(r, prefix, func, user_data, error);
}

gboolean
seaftier_remote_copy(SeaftierRemote *r, const char *src_key, const char *dst_key, GError **error)
{
    return r->ops->copy(r, src_key, dst_key, error);
}

gboolean
seaftier_remote_prove_storage(SeaftierRemote *r, const char *key, GError **error)
{
    return r->ops->prove_storage(r, key, error);
}

gboolean
seaftier_remote_failed_put_stored(SeaftierRemote *r, const GError *error)
{
    return r->ops->failed_put_stored(error);
}

const char *
seaftier_remote_advice(SeaftierRemote *r, const GError *error, const char *op)
{
    return r->ops->advice(r, error, op);
}

const char *
seaftier_remote_name(SeaftierRemote *r)
{
    return r->ops->name(r);
}

void
seaftier_remote_free(SeaftierRemote *r)
{
    if (r)
        r->ops->free(r);
}
