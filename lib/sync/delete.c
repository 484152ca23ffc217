/* daemon/deleter.c — see deleter.h. */
#include "seaftier-build.h"

#include "deleter.h"
#include "env.h"
#include "uploader.h"

#include <seaftier/log.h>
#include <string.h>

static void
delete_failed(SeaftierTier *tier, SeaftierMetrics *metrics, const SeaftierTierEntry *e,
              const char *message, gboolean transient)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gint64 retry_at = seaftier_upload_retry_at(e->attempts, transient, now);
    seaftier_warning("remote delete %s %s/%s failed (attempt %d, retry in %" G_GINT64_FORMAT " s): %s",
                     seaftier_type_name(e->type), e->repo_id, e->obj_id, e->attempts + 1,
                     retry_at - now, message);
    GError *err = NULL;
    if (!seaftier_tier_record_failure(tier, e, message, retry_at, &err)) {
        seaftier_error("remote delete %s %s/%s: cannot record the failure: %s",
                       seaftier_type_name(e->type), e->repo_id, e->obj_id, err->message);
        g_error_free(err);
    }
    if (metrics)
        seaftier_metrics_add(&metrics->deletes_failed, 1);
}

static void
delete_done(SeaftierTier *tier, SeaftierMetrics *metrics, const SeaftierTierEntry *e)
{
    GError *err = NULL;
    if (!seaftier_tier_forget_deleted(tier, e, &err)) {
        /* S3 no longer has it; the row is retried and the next DELETE is a no-op. */
        seaftier_error("remote delete %s %s/%s: deleted in S3 but cannot forget the row: %s",
                       seaftier_type_name(e->type), e->repo_id, e->obj_id, err->message);
        g_error_free(err);
        return;
    }
    seaftier_debug("deleted %s %s/%s in S3", seaftier_type_name(e->type), e->repo_id, e->obj_id);
    if (metrics)
        seaftier_metrics_add(&metrics->deletes_ok, 1);
}

gboolean
seaftier_delete_pass(SeaftierTier *tier, SeaftierS3 *s3, SeaftierObjType type,
                     SeaftierInflight *inflight, SeaftierMetrics *metrics, int limit,
                     guint *handled, GError **error)
{
    *handled = 0;
    GPtrArray *batch = seaftier_tier_deleted_batch(tier, (int)type, limit, error);
    if (!batch)
        return FALSE;
    GPtrArray *claimed = g_ptr_array_new();          /* SeaftierTierEntry*, borrowed */
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < batch->len; i++) {
        SeaftierTierEntry *e = g_ptr_array_index(batch, i);
        if (!seaftier_inflight_claim(inflight, e->type, e->repo_id, e->obj_id,
                                     SEAFTIER_INFLIGHT_DELETE))
            continue;
        g_ptr_array_add(claimed, e);
        g_ptr_array_add(keys, seaftier_env_s3_key(e->repo_id, e->obj_id));
    }

    if (claimed->len == 1) {
        SeaftierTierEntry *e = g_ptr_array_index(claimed, 0);
        GError *err = NULL;
        if (seaftier_s3_delete(s3, g_ptr_array_index(keys, 0), &err)) {
            delete_done(tier, metrics, e);
        } else {
            delete_failed(tier, metrics, e, err->message, seaftier_s3_error_is_transient(err));
            g_error_free(err);
        }
    } else if (claimed->len > 1) {
        GPtrArray *failed = g_ptr_array_new_with_free_func(g_free);
        GError *err = NULL;
        gboolean ok = seaftier_s3_delete_many(s3, (const char *const *)keys->pdata, keys->len,
                                              failed, &err);
        GHashTable *failed_set = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < failed->len; i++)
            g_hash_table_add(failed_set, g_ptr_array_index(failed, i));
        /* A request that failed as a whole reports no keys: all failed. */
        gboolean all_failed = !ok && failed->len == 0;
        for (guint i = 0; i < claimed->len; i++) {
            SeaftierTierEntry *e = g_ptr_array_index(claimed, i);
            const char *key = g_ptr_array_index(keys, i);
            if (all_failed || g_hash_table_contains(failed_set, key))
                delete_failed(tier, metrics, e,
                              err ? err->message : "DeleteObjects reported an error for this key",
                              all_failed ? (err ? seaftier_s3_error_is_transient(err) : TRUE) : TRUE);
            else
                delete_done(tier, metrics, e);
        }
        g_hash_table_destroy(failed_set);
        g_ptr_array_free(failed, TRUE);
        g_clear_error(&err);
    }
    for (guint i = 0; i < claimed->len; i++) {
        SeaftierTierEntry *e = g_ptr_array_index(claimed, i);
        seaftier_inflight_release(inflight, e->type, e->repo_id, e->obj_id);
    }
    *handled = claimed->len;
    g_ptr_array_free(keys, TRUE);
    g_ptr_array_free(claimed, TRUE);
    g_ptr_array_free(batch, TRUE);
    return TRUE;
}
