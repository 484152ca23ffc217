/* lib/flush.c — see flush.h. */
#include "seaftier-build.h"

#include "flush.h"

#include <seaftier/log.h>

#include <string.h>

/* Failed objects are retried by the daemon (or the next flush) after this. */
#define FLUSH_RETRY_DELAY_S 60
#define FLUSH_BATCH 256

typedef struct {
    SeaftierTier *tier;
    SeaftierS3 *const *s3;
    SeaftierFlushProgressFunc progress;
    void *user_data;
    GMutex lock;
    GCond cond;
    guint pending;          /* tasks of the current batch not yet done */
    SeaftierFlushStats stats;
    GError *first_error;    /* first object failure */
    GError *tier_error;     /* the tier itself failed: stop */
} Flush;

static void
flush_done(Flush *fl, const SeaftierTierEntry *entry, GError *err, gboolean tier_failed)
{
    g_mutex_lock(&fl->lock);
    if (fl->progress)
        fl->progress(entry, err, fl->user_data);
    if (err) {
        fl->stats.failed++;
        GError **slot = tier_failed ? &fl->tier_error : &fl->first_error;
        if (!*slot)
            *slot = g_error_copy(err);
    } else {
        fl->stats.objects++;
        fl->stats.bytes += entry->size;
    }
    if (--fl->pending == 0)
        g_cond_signal(&fl->cond);
    g_mutex_unlock(&fl->lock);
}

static void
record_failure(Flush *fl, const SeaftierTierEntry *entry, const GError *err, gboolean *tier_failed,
               GError **tier_err)
{
    gint64 retry_at = g_get_real_time() / G_USEC_PER_SEC + FLUSH_RETRY_DELAY_S;
    if (!seaftier_tier_record_failure(fl->tier, entry, err->message, retry_at, tier_err))
        *tier_failed = TRUE;
}

/* Worker: one object. */
static void
upload_one(gpointer data, gpointer user_data)
{
    SeaftierTierEntry *entry = data;
    Flush *fl = user_data;
    GError *err = NULL, *tier_err = NULL;
    gboolean tier_failed = FALSE;
    void *buf = NULL;
    gsize len = 0;
    char *key = g_strconcat(entry->repo_id, "/", entry->obj_id, NULL);

    if (!seaftier_tier_read(fl->tier, entry->type, entry->repo_id, entry->obj_id, &buf, &len,
                            &err)) {
        /* Deleted or replaced since the batch was read: nothing to upload. */
        if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED) ||
            g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND)) {
            g_clear_error(&err);
        } else {
            g_prefix_error(&err, "reading dirty %s %s from the tier: ",
                           seaftier_type_name(entry->type), key);
            record_failure(fl, entry, err, &tier_failed, &tier_err);
        }
    } else if (!seaftier_s3_put(fl->s3[entry->type], key, buf, len, entry->created, &err)) {
        record_failure(fl, entry, err, &tier_failed, &tier_err);
    } else if (!seaftier_tier_mark_clean(fl->tier, entry, &err)) {
        g_prefix_error(&err, "marking %s %s clean: ", seaftier_type_name(entry->type), key);
        record_failure(fl, entry, err, &tier_failed, &tier_err);
    }
    g_free(buf);
    g_free(key);
    if (tier_failed) {
        g_clear_error(&err);
        err = tier_err;
    }
    flush_done(fl, entry, err, tier_failed);
    if (err)
        g_error_free(err);
}

/* Keeps only the entries not handled before (same row, same generation):
 * a row that stays as it was after being handled would otherwise be
 * returned by every batch and the loop would never end. */
static GPtrArray *
unseen(GHashTable *seen, GPtrArray *batch)
{
    GPtrArray *fresh = g_ptr_array_new();
    for (guint i = 0; i < batch->len; i++) {
        SeaftierTierEntry *e = g_ptr_array_index(batch, i);
        char *id = g_strdup_printf("%d/%s/%s/%" G_GINT64_FORMAT, (int)e->type, e->repo_id,
                                   e->obj_id, e->generation);
        if (g_hash_table_add(seen, id))
            g_ptr_array_add(fresh, e);
    }
    return fresh;
}

static void
flush_init(Flush *fl, SeaftierTier *tier, SeaftierS3 *const *s3,
           SeaftierFlushProgressFunc progress, void *user_data)
{
    memset(fl, 0, sizeof *fl);
    fl->tier = tier;
    fl->s3 = s3;
    fl->progress = progress;
    fl->user_data = user_data;
    g_mutex_init(&fl->lock);
    g_cond_init(&fl->cond);
}

static gboolean
flush_finish(Flush *fl, SeaftierFlushStats *stats, GError **error)
{
    if (stats)
        *stats = fl->stats;
    gboolean ok = !fl->tier_error && !fl->first_error;
    if (fl->tier_error) {
        g_propagate_error(error, fl->tier_error);
        g_clear_error(&fl->first_error);
    } else if (fl->first_error) {
        g_propagate_error(error, fl->first_error);
    }
    g_mutex_clear(&fl->lock);
    g_cond_clear(&fl->cond);
    return ok;
}

gboolean
seaftier_flush_dirty(SeaftierTier *tier, SeaftierS3 *const s3[SEAFTIER_N_TYPES], int type,
                     const char *repo_id, int concurrency, SeaftierFlushProgressFunc progress,
                     void *user_data, SeaftierFlushStats *stats, GError **error)
{
    Flush fl;
    flush_init(&fl, tier, s3, progress, user_data);
    /* Objects written after the start belong to the next flush: without the
     * bound, a busy writer could keep this loop going forever. */
    gint64 started = g_get_real_time() / G_USEC_PER_SEC;
    GThreadPool *pool = g_thread_pool_new(upload_one, &fl, concurrency > 0 ? concurrency : 8,
                                          FALSE, NULL);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (;;) {
        GError *err = NULL;
        GPtrArray *batch = seaftier_tier_dirty_batch(tier, type, repo_id, FLUSH_BATCH, started,
                                                     &err);
        if (!batch) {
            if (!fl.tier_error)
                fl.tier_error = err;
            else
                g_clear_error(&err);
            break;
        }
        GPtrArray *todo = unseen(seen, batch);
        guint n = todo->len;
        if (n == 0) {
            g_ptr_array_free(todo, TRUE);
            g_ptr_array_unref(batch);
            break;
        }
        g_mutex_lock(&fl.lock);
        fl.pending = n;
        g_mutex_unlock(&fl.lock);
        for (guint i = 0; i < n; i++)
            g_thread_pool_push(pool, g_ptr_array_index(todo, i), NULL);
        g_mutex_lock(&fl.lock);
        while (fl.pending > 0)
            g_cond_wait(&fl.cond, &fl.lock);
        gboolean stop = fl.tier_error != NULL;
        g_mutex_unlock(&fl.lock);
        g_ptr_array_free(todo, TRUE);
        g_ptr_array_unref(batch);
        if (stop)
            break;
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    g_hash_table_destroy(seen);
    return flush_finish(&fl, stats, error);
}

/* One DeleteObjects request for the entries of one type; forgets the rows
 * S3 confirmed and records failures on the others. */
static void
delete_group(Flush *fl, GPtrArray *entries, SeaftierObjType type)
{
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < entries->len; i++) {
        SeaftierTierEntry *e = g_ptr_array_index(entries, i);
        g_ptr_array_add(keys, g_strconcat(e->repo_id, "/", e->obj_id, NULL));
    }
    GPtrArray *failed = g_ptr_array_new_with_free_func(g_free);
    GError *err = NULL;
    gboolean ok = seaftier_s3_delete_many(fl->s3[type], (const char *const *)keys->pdata,
                                          keys->len, failed, &err);
    GHashTable *failed_set = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < failed->len; i++)
        g_hash_table_add(failed_set, g_ptr_array_index(failed, i));

    fl->pending = entries->len;
    for (guint i = 0; i < entries->len; i++) {
        SeaftierTierEntry *e = g_ptr_array_index(entries, i);
        const char *key = g_ptr_array_index(keys, i);
        GError *one = NULL, *tier_err = NULL;
        gboolean tier_failed = FALSE;
        if (!ok && (failed->len == 0 || g_hash_table_contains(failed_set, key))) {
            one = err ? g_error_copy(err)
                      : g_error_new(SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_OTHER,
                                    "DeleteObjects of %s failed", key);
            record_failure(fl, e, one, &tier_failed, &tier_err);
        } else if (!seaftier_tier_forget_deleted(fl->tier, e, &one)) {
            tier_failed = TRUE;
        }
        if (tier_failed && tier_err) {
            g_clear_error(&one);
            one = tier_err;
        }
        flush_done(fl, e, one, tier_failed);
        if (one)
            g_error_free(one);
    }
    g_hash_table_destroy(failed_set);
    g_ptr_array_free(failed, TRUE);
    g_ptr_array_free(keys, TRUE);
    g_clear_error(&err);
}

gboolean
seaftier_flush_deleted(SeaftierTier *tier, SeaftierS3 *const s3[SEAFTIER_N_TYPES], int type,
                       SeaftierFlushProgressFunc progress, void *user_data,
                       SeaftierFlushStats *stats, GError **error)
{
    Flush fl;
    flush_init(&fl, tier, s3, progress, user_data);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (;;) {
        GError *err = NULL;
        GPtrArray *batch = seaftier_tier_deleted_batch(tier, type, 1000, &err);
        if (!batch) {
            fl.tier_error = err;
            break;
        }
        GPtrArray *todo = unseen(seen, batch);
        if (todo->len == 0) {
            g_ptr_array_free(todo, TRUE);
            g_ptr_array_unref(batch);
            break;
        }
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            GPtrArray *group = g_ptr_array_new();
            for (guint i = 0; i < todo->len; i++) {
                SeaftierTierEntry *e = g_ptr_array_index(todo, i);
                if ((int)e->type == t)
                    g_ptr_array_add(group, e);
            }
            if (group->len > 0)
                delete_group(&fl, group, (SeaftierObjType)t);
            g_ptr_array_free(group, TRUE);
        }
        g_ptr_array_free(todo, TRUE);
        g_ptr_array_unref(batch);
        if (fl.tier_error)
            break;
    }
    g_hash_table_destroy(seen);
    return flush_finish(&fl, stats, error);
}
