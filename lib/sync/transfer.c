/* lib/sync/transfer.c — see transfer.h. */
#include "seaftier-build.h"

#include "sync/transfer.h"
#include "sync/objid.h"
#include "sync/sync-private.h"

#include <string.h>

static gboolean
read_back_matches(SeaftierRemote *dst, SeaftierObjType type, const char *key, const char *obj_id,
                  const void *data, gsize len, GError **error)
{
    void *back = NULL;
    gsize back_len = 0;
    SeaftierRemoteMeta meta;
    GError *err = NULL;
    if (!seaftier_remote_get(dst, key, &back, &back_len, &meta, &err)) {
        g_set_error(error, err->domain, err->code, "%s %s: read back from %s failed: %s",
                    seaftier_type_name(type), key, seaftier_remote_name(dst), err->message);
        g_error_free(err);
        return FALSE;
    }
    gboolean ok = TRUE;
    if (back_len != len || memcmp(back, data, len) != 0) {
        g_set_error(error, SEAFTIER_REMOTE_ERROR, SEAFTIER_REMOTE_ERROR_INTEGRITY,
                    "%s %s: read back from %s differs from the source (%" G_GSIZE_FORMAT
                    " bytes, source %" G_GSIZE_FORMAT ")", seaftier_type_name(type), key,
                    seaftier_remote_name(dst), back_len, len);
        ok = FALSE;
    } else {
        char *what = g_strdup_printf("%s %s", seaftier_type_name(type), key);
        ok = seaftier_remote_meta_verify(&meta, back, back_len, what, error) &&
             seaftier_obj_id_check(type, obj_id, back, back_len, error);
        g_free(what);
    }
    g_free(back);
    return ok;
}

gboolean
seaftier_transfer_put(SeaftierRemote *dst, SeaftierObjType type, const char *repo_id,
                      const char *obj_id, const void *data, gsize len, gint64 ctime,
                      gboolean read_back, GError **error)
{
    /* Before the PUT: with the same key, a wrong body would replace a good
     * object (re-encryption in place). */
    if (!seaftier_obj_id_check(type, obj_id, data, len, error))
        return FALSE;
    char *key = seaftier_remote_key(repo_id, obj_id);
    SeaftierRemoteMeta meta;
    seaftier_remote_meta_for(&meta, data, len, ctime);
    GError *err = NULL;
    gboolean ok = seaftier_remote_put(dst, key, data, len, &meta, &err);
    if (!ok) {
        g_set_error(error, err->domain, err->code, "%s %s: PUT to %s failed: %s (%s)",
                    seaftier_type_name(type), key, seaftier_remote_name(dst), err->message,
                    seaftier_remote_advice(dst, err, "PUT"));
        g_error_free(err);
    } else if (read_back) {
        ok = read_back_matches(dst, type, key, obj_id, data, len, error);
    }
    g_free(key);
    return ok;
}

gboolean
seaftier_sync_transfer_in(SeaftierSync *sync, SeaftierObjType type, const char *repo_id,
                          const char *obj_id, const void *data, gsize len, gint64 ctime,
                          gboolean read_back, GError **error)
{
    while (!seaftier_inflight_claim(sync->inflight, type, repo_id, obj_id,
                                    SEAFTIER_INFLIGHT_PUT))
        seaftier_inflight_wait(sync->inflight, type, repo_id, obj_id,
                               g_get_monotonic_time() + 200000);
    GError *err = NULL;
    gboolean ok = seaftier_transfer_put(sync->remote[type], type, repo_id, obj_id, data, len,
                                        ctime, read_back, &err);
    seaftier_inflight_release(sync->inflight, type, repo_id, obj_id);
    if (!ok) {
        if (err->domain != SEAFTIER_OBJ_ID_ERROR &&
            seaftier_remote_classify(sync->remote[type], err) == SEAFTIER_REMOTE_ERR_BUCKET &&
            sync->obs.bucket_failed)
            sync->obs.bucket_failed(type, err, sync->obs.user_data);
        g_propagate_error(error, err);
    }
    return ok;
}
