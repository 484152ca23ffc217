/* lib/sync/fetch.c — reads of an object from its remote for the
 * read-through fill (see sync.h), checked against the size and CRC32C
 * recorded when seaftier uploaded it: a truncating or corrupting store or
 * proxy must not put wrong bytes in the tier, where they would then be
 * served as a clean copy. */
#include "seaftier-build.h"

#include "sync/sync-private.h"

gboolean
seaftier_sync_fetch(SeaftierSync *sync, SeaftierObjType type, const char *repo_id,
                    const char *obj_id, void **data, gsize *len, GError **error)
{
    char *key = seaftier_remote_key(repo_id, obj_id);
    SeaftierRemoteMeta meta = { 0 };
    void *buf = NULL;
    gsize n = 0;
    gboolean ok = seaftier_remote_get(sync->remote[type], key, &buf, &n, &meta, error);
    if (ok) {
        char *what = g_strdup_printf("%s object %s in %s", seaftier_type_name(type), key,
                                     seaftier_remote_name(sync->remote[type]));
        ok = seaftier_remote_meta_verify(&meta, buf, n, what, error);
        g_free(what);
    }
    g_free(key);
    if (!ok) {
        g_free(buf);
        return FALSE;
    }
    *data = buf;
    *len = n;
    return TRUE;
}
