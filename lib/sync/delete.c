/* lib/sync/delete.c — remote deletes (see sync.h): DELETED rows left by
 * delete / remove_block / remove_store are carried to the remote in
 * DeleteObjects batches, then forgotten. A never-uploaded object has no
 * DELETED row (the tier forgets it at once), so it costs no request. */
#include "seaftier-build.h"

#include "sync/sync-private.h"

#include <seaftier/log.h>

#define FLUSH_DELETE_BATCH 1000

static void
delete_failed(SeaftierSync *sync, const SeaftierTierEntry *e, const char *message,
              SeaftierRemoteErrorClass cls)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gint64 retry_at = seaftier_sync_retry_at(e->attempts, cls, now);
    seaftier_warning("remote delete %s %s/%s failed (attempt %d, retry in %" G_GINT64_FORMAT " s): %s",
                     seaftier_type_name(e->type), e->repo_id, e->obj_id, e->attempts + 1,
                     retry_at - now, message);
    sync_record_failure(sync, e, "remote delete", message, retry_at);
    if (sync->obs.delete_done)
        sync->obs.delete_done(e->type, FALSE, sync->obs.user_data);
}

static gboolean
delete_done(SeaftierSync *sync, const SeaftierTierEntry *e, GError **error)
{
    GError *err = NULL;
    if (!seaftier_tier_forget_deleted(sync->tier, e, &err)) {
        /* The remote no longer has it; the row is retried and the next
         * delete is a no-op. */
        seaftier_error("remote delete %s %s/%s: deleted remotely but cannot forget the row: %s",
                       seaftier_type_name(e->type), e->repo_id, e->obj_id, err->message);
        g_propagate_error(error, err);
        return FALSE;
    }
    seaftier_debug("deleted %s %s/%s remotely", seaftier_type_name(e->type), e->repo_id, e->obj_id);
    if (sync->obs.delete_done)
        sync->obs.delete_done(e->type, TRUE, sync->obs.user_data);
    return TRUE;
}

/* Claims the entries' keys (skipping those with a request in flight) and
 * deletes them in one request to the remote of `type`. Counts the keys
 * confirmed and failed; keeps the first failure in *first_error. */
static guint
delete_claimed(SeaftierSync *sync, SeaftierObjType type, GPtrArray *entries, guint64 *done,
               guint64 *failed_count, GError **first_error)
{
    SeaftierRemote *remote = sync->remote[type];
    GPtrArray *claimed = g_ptr_array_new();          /* SeaftierTierEntry*, borrowed */
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < entries->len; i++) {
        SeaftierTierEntry *e = g_ptr_array_index(entries, i);
        if (e->type != type ||
            !seaftier_inflight_claim(sync->inflight, e->type, e->repo_id, e->obj_id,
                                     SEAFTIER_INFLIGHT_DELETE))
            continue;
        g_ptr_array_add(claimed, e);
        g_ptr_array_add(keys, seaftier_remote_key(e->repo_id, e->obj_id));
    }
    if (claimed->len > 0) {
        GPtrArray *failed = g_ptr_array_new_with_free_func(g_free);
        GError *err = NULL;
        gboolean ok = seaftier_remote_delete_many(remote, (const char *const *)keys->pdata,
                                                  keys->len, failed, &err);
        GHashTable *failed_set = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < failed->len; i++)
            g_hash_table_add(failed_set, g_ptr_array_index(failed, i));
        /* A request that failed as a whole reports no keys: all failed. */
        gboolean all_failed = !ok && failed->len == 0;
        SeaftierRemoteErrorClass cls = all_failed && err
                                           ? seaftier_remote_classify(remote, err)
                                           : SEAFTIER_REMOTE_ERR_TRANSIENT;
        if (cls == SEAFTIER_REMOTE_ERR_BUCKET && sync->obs.bucket_failed)
            sync->obs.bucket_failed(type, err, sync->obs.user_data);
        for (guint i = 0; i < claimed->len; i++) {
            SeaftierTierEntry *e = g_ptr_array_index(claimed, i);
            const char *key = g_ptr_array_index(keys, i);
            if (all_failed || g_hash_table_contains(failed_set, key)) {
                const char *msg = all_failed && err ? err->message
                                                    : "DeleteObjects reported an error for this key";
                delete_failed(sync, e, msg, cls);
                if (failed_count)
                    (*failed_count)++;
                if (first_error && !*first_error) {
                    *first_error = all_failed && err
                                       ? g_error_copy(err)
                                       : g_error_new(SEAFTIER_REMOTE_ERROR,
                                                     SEAFTIER_REMOTE_ERROR_PARTIAL, "%s", msg);
                    g_prefix_error(first_error, "remote delete of %s %s: ",
                                   seaftier_type_name(type), key);
                }
            } else {
                GError *ferr = NULL;
                if (delete_done(sync, e, &ferr)) {
                    if (done)
                        (*done)++;
                } else {
                    if (failed_count)
                        (*failed_count)++;
                    if (first_error && !*first_error)
                        *first_error = ferr;
                    else
                        g_error_free(ferr);
                }
            }
        }
        g_hash_table_destroy(failed_set);
        g_ptr_array_free(failed, TRUE);
        g_clear_error(&err);
    }
    for (guint i = 0; i < claimed->len; i++) {
        SeaftierTierEntry *e = g_ptr_array_index(claimed, i);
        seaftier_inflight_release(sync->inflight, e->type, e->repo_id, e->obj_id);
    }
    guint n = claimed->len;
    g_ptr_array_free(keys, TRUE);
    g_ptr_array_free(claimed, TRUE);
    return n;
}

gboolean
seaftier_sync_delete_pass(SeaftierSync *sync, SeaftierObjType type, int limit, guint *handled,
                          GError **error)
{
    *handled = 0;
    GPtrArray *batch = seaftier_tier_deleted_batch(sync->tier, (int)type, limit, error);
    if (!batch)
        return FALSE;
    *handled = delete_claimed(sync, type, batch, NULL, NULL, NULL);
    g_ptr_array_free(batch, TRUE);
    return TRUE;
}

typedef struct {
    GPtrArray *rows;
    gint64 due_by;          /* skip rows whose retry time is later; G_MAXINT64: none */
} Collect;

static gboolean
collect_entry(const SeaftierTierEntry *e, void *user_data)
{
    Collect *c = user_data;
    if (e->retry_at <= c->due_by)
        g_ptr_array_add(c->rows, g_memdup2(e, sizeof *e));
    return TRUE;
}

gboolean
seaftier_sync_flush_deletes(SeaftierSync *sync, int type, gboolean respect_backoff,
                            guint64 *done, guint64 *failed, GError **error)
{
    guint64 n_done = 0, n_failed = 0;
    GError *first = NULL;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (type >= 0 && type != t)
            continue;
        /* A snapshot: each row is tried once. */
        GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
        Collect c = { rows, respect_backoff ? g_get_real_time() / G_USEC_PER_SEC : G_MAXINT64 };
        if (!seaftier_tier_foreach(sync->tier, (SeaftierObjType)t, NULL,
                                   1u << SEAFTIER_STATE_DELETED, collect_entry, &c, error)) {
            g_ptr_array_free(rows, TRUE);
            g_clear_error(&first);
            return FALSE;
        }
        for (guint i = 0; i < rows->len; i += FLUSH_DELETE_BATCH) {
            GPtrArray *slice = g_ptr_array_new();
            for (guint j = i; j < rows->len && j < i + FLUSH_DELETE_BATCH; j++) {
                SeaftierTierEntry *e = g_ptr_array_index(rows, j);
                /* Wait out an upload of this process on the key. */
                seaftier_inflight_wait(sync->inflight, e->type, e->repo_id, e->obj_id, G_MAXINT64);
                g_ptr_array_add(slice, e);
            }
            delete_claimed(sync, (SeaftierObjType)t, slice, &n_done, &n_failed, &first);
            g_ptr_array_free(slice, TRUE);
        }
        g_ptr_array_free(rows, TRUE);
    }
    if (done)
        *done = n_done;
    if (failed)
        *failed = n_failed;
    if (first) {
        g_propagate_error(error, first);
        return FALSE;
    }
    return TRUE;
}
