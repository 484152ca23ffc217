/* daemon/uploader.c — see uploader.h. */
#include "config.h"

#include "uploader.h"
#include "env.h"
#include "workers.h"

#include <seaftier/log.h>

struct SeaftierUploader {
    SeaftierTier *tier;
    SeaftierS3 *s3[SEAFTIER_N_TYPES];
    SeaftierInflight *inflight;
    SeaftierMetrics *metrics;
    SeaftierWorkers *workers;
    guint concurrency;

    GMutex lock;
    GCond changed;
    guint active;               /* submitted, not yet finished */
    gboolean stopping;

    void (*hook)(void *);
    void *hook_data;
    SeaftierBucketFailedFunc bucket_hook;
    void *bucket_hook_data;
};

typedef struct {
    SeaftierTierEntry entry;
    SeaftierUploadDoneFunc done;
    void *user_data;
} UploadJob;

gint64
seaftier_upload_retry_at(int attempts, gboolean transient, gint64 now)
{
    /* Transient: 5 s doubling up to 15 min, so an outage clears quickly once
     * S3 is back. Permanent (403, no bucket, SSE-C refused): 1 min doubling
     * up to 6 h — an operator has to act, retrying hard only adds load. */
    gint64 base = transient ? 5 : 60;
    gint64 cap = transient ? 900 : 6 * 3600;
    gint64 delay = base;
    for (int i = 0; i < attempts && delay < cap; i++)
        delay *= 2;
    delay = MIN(delay, cap);
    delay += g_random_int_range(0, (gint32)(delay / 5 + 1));
    return now + delay;
}

static void
finish_job(SeaftierUploader *up, UploadJob *job, gboolean ok, const char *message)
{
    const SeaftierTierEntry *e = &job->entry;
    seaftier_inflight_release(up->inflight, e->type, e->repo_id, e->obj_id);
    if (job->done)
        job->done(e, ok, message, job->user_data);
    g_mutex_lock(&up->lock);
    up->active--;
    g_cond_broadcast(&up->changed);
    g_mutex_unlock(&up->lock);
    if (up->hook)
        up->hook(up->hook_data);
    g_free(job);
}

static void
upload_one(gpointer data, gpointer user_data)
{
    UploadJob *job = data;
    SeaftierUploader *up = user_data;
    const SeaftierTierEntry *e = &job->entry;
    const char *tname = seaftier_type_name(e->type);
    void *buf = NULL;
    gsize len = 0;
    GError *err = NULL;

    /* The row was read before the claim: another upload may have finished
     * it in between (the batch was stale), or it was re-written. Only what
     * is dirty now is uploaded, each time once. */
    SeaftierTierEntry now_row;
    if (!seaftier_tier_lookup(up->tier, e->type, e->repo_id, e->obj_id, &now_row, &err) ||
        now_row.state != SEAFTIER_STATE_DIRTY) {
        if (err) {
            seaftier_warning("upload %s %s/%s: cannot read its index row: %s", tname, e->repo_id,
                             e->obj_id, err->message);
            g_clear_error(&err);
            finish_job(up, job, FALSE, "cannot read the index row");
            return;
        }
        finish_job(up, job, TRUE, NULL);
        return;
    }
    job->entry = now_row;

    if (!seaftier_tier_read(up->tier, e->type, e->repo_id, e->obj_id, &buf, &len, &err)) {
        if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND) ||
            g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED)) {
            /* Deleted while queued: nothing to upload; the deleter owns it now. */
            seaftier_debug("upload %s %s/%s skipped: %s", tname, e->repo_id, e->obj_id, err->message);
            g_error_free(err);
            finish_job(up, job, TRUE, NULL);
            return;
        }
        char *msg = g_strdup_printf("cannot read the local copy: %s", err->message);
        seaftier_error("upload %s %s/%s: %s", tname, e->repo_id, e->obj_id, msg);
        gboolean transient = !g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT);
        g_clear_error(&err);
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        if (!seaftier_tier_record_failure(up->tier, e, msg,
                                          seaftier_upload_retry_at(e->attempts, transient, now), &err)) {
            seaftier_error("upload %s %s/%s: cannot record the failure: %s", tname, e->repo_id,
                           e->obj_id, err->message);
            g_clear_error(&err);
        }
        seaftier_metrics_upload_done(up->metrics, 0, FALSE, transient);
        finish_job(up, job, FALSE, msg);
        g_free(msg);
        return;
    }

    char *key = seaftier_env_s3_key(e->repo_id, e->obj_id);
    gboolean ok = seaftier_s3_put(up->s3[e->type], key, buf, len, e->created, &err);
    g_free(buf);
    g_free(key);
    if (ok) {
        GError *merr = NULL;
        if (!seaftier_tier_mark_clean(up->tier, e, &merr)) {
            /* In S3 but still dirty here: a later pass uploads it again,
             * which is harmless for content-addressed objects. The tier has
             * already evicted clean objects if its disk was full; what is
             * left needs an operator, and a backoff keeps this from turning
             * into a loop of re-uploads (recording it may fail likewise). */
            gboolean full = g_error_matches(merr, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL);
            char *msg = g_strdup_printf("uploaded, but cannot mark it clean: %s", merr->message);
            seaftier_error("upload %s %s/%s: %s%s", tname, e->repo_id, e->obj_id, msg,
                           full ? " — the tier's disk is full: free space on it or set "
                                  "[tier] min_free_space; uploads retry with a backoff" : "");
            g_error_free(merr);
            gint64 now = g_get_real_time() / G_USEC_PER_SEC;
            if (!seaftier_tier_record_failure(up->tier, e, msg,
                                              seaftier_upload_retry_at(e->attempts, TRUE, now),
                                              &merr)) {
                seaftier_warning("upload %s %s/%s: cannot record the failure either: %s", tname,
                                 e->repo_id, e->obj_id, merr->message);
                g_clear_error(&merr);
            }
            seaftier_metrics_upload_done(up->metrics, 0, FALSE, TRUE);
            finish_job(up, job, FALSE, msg);
            g_free(msg);
            return;
        }
        seaftier_debug("uploaded %s %s/%s (%zu bytes)", tname, e->repo_id, e->obj_id, len);
        seaftier_metrics_upload_done(up->metrics, len, TRUE, FALSE);
        finish_job(up, job, TRUE, NULL);
        return;
    }

    gboolean transient = seaftier_s3_error_is_transient(err);
    gboolean bucket_wide = g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NO_SUCH_BUCKET) ||
                           g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SIGNATURE) ||
                           g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_ACCESS_DENIED) ||
                           /* the server stores plaintext: no further object may go there */
                           g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gint64 retry_at = seaftier_upload_retry_at(e->attempts, transient, now);
    if (bucket_wide && up->bucket_hook)
        up->bucket_hook(e->type, err, up->bucket_hook_data);
    char *msg = g_strdup(err->message);
    g_clear_error(&err);
    if (transient)
        seaftier_warning("upload %s %s/%s failed (attempt %d, retry in %" G_GINT64_FORMAT " s): %s",
                         tname, e->repo_id, e->obj_id, e->attempts + 1, retry_at - now, msg);
    else
        seaftier_error("upload %s %s/%s failed permanently (attempt %d, next try in %" G_GINT64_FORMAT
                       " s): %s", tname, e->repo_id, e->obj_id, e->attempts + 1, retry_at - now, msg);
    if (!seaftier_tier_record_failure(up->tier, e, msg, retry_at, &err)) {
        seaftier_error("upload %s %s/%s: cannot record the failure: %s", tname, e->repo_id,
                       e->obj_id, err->message);
        g_clear_error(&err);
    }
    seaftier_metrics_upload_done(up->metrics, 0, FALSE, TRUE);
    finish_job(up, job, FALSE, msg);
    g_free(msg);
}

SeaftierUploader *
seaftier_uploader_new(SeaftierTier *tier, SeaftierS3 *const s3[SEAFTIER_N_TYPES],
                      SeaftierInflight *inflight, SeaftierMetrics *metrics, int concurrency)
{
    SeaftierUploader *up = g_new0(SeaftierUploader, 1);
    up->tier = tier;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        up->s3[t] = s3[t];
    up->inflight = inflight;
    up->metrics = metrics;
    up->concurrency = (guint)MAX(concurrency, 1);
    g_mutex_init(&up->lock);
    g_cond_init(&up->changed);
    up->workers = seaftier_workers_new("seaftier-upload", upload_one, up, (int)up->concurrency);
    return up;
}

void
seaftier_uploader_free(SeaftierUploader *up)
{
    if (!up)
        return;
    seaftier_workers_free(up->workers);
    g_cond_clear(&up->changed);
    g_mutex_clear(&up->lock);
    g_free(up);
}

void
seaftier_uploader_set_hook(SeaftierUploader *up, void (*hook)(void *), void *user_data)
{
    up->hook = hook;
    up->hook_data = user_data;
}

void
seaftier_uploader_set_bucket_hook(SeaftierUploader *up, SeaftierBucketFailedFunc hook,
                                  void *user_data)
{
    up->bucket_hook = hook;
    up->bucket_hook_data = user_data;
}

SeaftierSubmitResult
seaftier_uploader_submit(SeaftierUploader *up, const SeaftierTierEntry *entry, gboolean wait,
                         SeaftierUploadDoneFunc done, void *user_data)
{
    g_mutex_lock(&up->lock);
    while (!up->stopping && up->active >= up->concurrency) {
        if (!wait) {
            g_mutex_unlock(&up->lock);
            return SEAFTIER_SUBMIT_FULL;
        }
        g_cond_wait(&up->changed, &up->lock);
    }
    if (up->stopping) {
        g_mutex_unlock(&up->lock);
        return SEAFTIER_SUBMIT_STOPPED;
    }
    if (!seaftier_inflight_claim(up->inflight, entry->type, entry->repo_id, entry->obj_id,
                                 SEAFTIER_INFLIGHT_PUT)) {
        g_mutex_unlock(&up->lock);
        return SEAFTIER_SUBMIT_KEY_BUSY;
    }
    up->active++;
    g_mutex_unlock(&up->lock);

    UploadJob *job = g_new0(UploadJob, 1);
    job->entry = *entry;
    job->done = done;
    job->user_data = user_data;
    seaftier_workers_push(up->workers, job);
    return SEAFTIER_SUBMIT_OK;
}

guint
seaftier_uploader_active(SeaftierUploader *up)
{
    g_mutex_lock(&up->lock);
    guint n = up->active;
    g_mutex_unlock(&up->lock);
    return n;
}

guint
seaftier_uploader_free_slots(SeaftierUploader *up)
{
    g_mutex_lock(&up->lock);
    guint n = up->stopping || up->active >= up->concurrency ? 0 : up->concurrency - up->active;
    g_mutex_unlock(&up->lock);
    return n;
}

void
seaftier_uploader_stop(SeaftierUploader *up)
{
    g_mutex_lock(&up->lock);
    up->stopping = TRUE;
    g_cond_broadcast(&up->changed);
    g_mutex_unlock(&up->lock);
}

gboolean
seaftier_uploader_drain(SeaftierUploader *up, gint64 deadline_us)
{
    g_mutex_lock(&up->lock);
    while (up->active > 0) {
        if (!g_cond_wait_until(&up->changed, &up->lock, deadline_us))
            break;
    }
    gboolean drained = up->active == 0;
    g_mutex_unlock(&up->lock);
    return drained;
}
