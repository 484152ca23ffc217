/* lib/sync/engine.c — see sync.h: the engine's life cycle, the retry
 * schedule, failure records and the direct PUT. */
#include "seaftier-build.h"

#include "sync/sync-private.h"

#include <seaftier/log.h>

SeaftierSync *
seaftier_sync_new(SeaftierTier *tier, SeaftierRemote *const remotes[SEAFTIER_N_TYPES],
                  int concurrency)
{
    SeaftierSync *sync = g_new0(SeaftierSync, 1);
    sync->tier = tier;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        sync->remote[t] = remotes[t];
    sync->inflight = seaftier_inflight_new();
    sync->concurrency = (guint)MAX(concurrency, 1);
    g_mutex_init(&sync->lock);
    g_cond_init(&sync->changed);
    return sync;
}

void
seaftier_sync_free(SeaftierSync *sync)
{
    if (!sync)
        return;
    /* Joins the workers after the queued uploads ran. */
    seaftier_workers_free(sync->workers);
    seaftier_inflight_free(sync->inflight);
    g_cond_clear(&sync->changed);
    g_mutex_clear(&sync->lock);
    g_free(sync);
}

void
seaftier_sync_set_observer(SeaftierSync *sync, const SeaftierSyncObserver *observer)
{
    sync->obs = *observer;
}

SeaftierRemote *
seaftier_sync_remote(SeaftierSync *sync, SeaftierObjType type)
{
    return sync->remote[type];
}

gint64
seaftier_sync_retry_at(int attempts, SeaftierRemoteErrorClass cls, gint64 now)
{
    gboolean transient = cls == SEAFTIER_REMOTE_ERR_TRANSIENT;
    gint64 base = transient ? 5 : 60;
    gint64 cap = transient ? 900 : 6 * 3600;
    gint64 delay = base;
    for (int i = 0; i < attempts && delay < cap; i++)
        delay *= 2;
    delay = MIN(delay, cap);
    delay += g_random_int_range(0, (gint32)(delay / 5 + 1));
    return now + delay;
}

void
sync_record_failure(SeaftierSync *sync, const SeaftierTierEntry *e, const char *what,
                    const char *message, gint64 retry_at)
{
    GError *err = NULL;
    if (!seaftier_tier_record_failure(sync->tier, e, message, retry_at, &err)) {
        seaftier_error("%s %s %s/%s: cannot record the failure: %s", what,
                       seaftier_type_name(e->type), e->repo_id, e->obj_id, err->message);
        g_error_free(err);
    }
}

gboolean
seaftier_sync_put_now(SeaftierSync *sync, SeaftierObjType type, const char *repo_id,
                      const char *obj_id, const void *data, gsize len, GError **error)
{
    /* Wait out a request of this process on the key (a delete pass of the
     * same tier, or an upload of an older copy), then hold it ourselves. */
    while (!seaftier_inflight_claim(sync->inflight, type, repo_id, obj_id,
                                    SEAFTIER_INFLIGHT_PUT))
        seaftier_inflight_wait(sync->inflight, type, repo_id, obj_id,
                               g_get_monotonic_time() + 200000);
    char *key = seaftier_remote_key(repo_id, obj_id);
    SeaftierRemoteMeta meta;
    seaftier_remote_meta_for(&meta, data, len, g_get_real_time() / G_USEC_PER_SEC);
    GError *err = NULL;
    gboolean ok = seaftier_remote_put(sync->remote[type], key, data, len, &meta, &err);
    seaftier_inflight_release(sync->inflight, type, repo_id, obj_id);
    if (!ok) {
        if (seaftier_remote_classify(sync->remote[type], err) == SEAFTIER_REMOTE_ERR_BUCKET &&
            sync->obs.bucket_failed)
            sync->obs.bucket_failed(type, err, sync->obs.user_data);
        g_propagate_error(error, err);
    }
    g_free(key);
    return ok;
}
