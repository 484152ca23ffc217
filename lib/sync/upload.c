/* lib/sync/upload.c — uploads of dirty rows (see sync.h): a fixed set of
 * worker threads, each doing one synchronous PUT at a time through the
 * remote of the object's type. A key is claimed in the in-flight set for
 * the whole request and released after the index was updated. */
#include "seaftier-build.h"

#include "sync/sync-private.h"

#include <seaftier/log.h>

typedef struct {
    SeaftierTierEntry entry;
    SeaftierUploadDoneFunc done;
    void *user_data;
} UploadJob;

static void
finish_job(SeaftierSync *sync, UploadJob *job, SeaftierUploadOutcome outcome, guint64 bytes,
           gboolean will_retry, const char *message)
{
    const SeaftierTierEntry *e = &job->entry;
    seaftier_inflight_release(sync->inflight, e->type, e->repo_id, e->obj_id);
    if (job->done)
        job->done(e, outcome != SEAFTIER_UPLOAD_FAILED, message, job->user_data);
    /* Before the count drops: once seaftier_sync_drain() saw it reach zero,
     * no callback runs any more and the observer's data may go. */
    if (sync->obs.upload_done)
        sync->obs.upload_done(e->type, outcome, bytes, will_retry, sync->obs.user_data);
    g_free(job);
    g_mutex_lock(&sync->lock);
    sync->active--;
    g_cond_broadcast(&sync->changed);
    g_mutex_unlock(&sync->lock);
}

/* The row's data could not be read: a corrupt copy needs an operator, other
 * local errors may pass. */
static void
local_read_failed(SeaftierSync *sync, UploadJob *job, GError *err)
{
    const SeaftierTierEntry *e = &job->entry;
    char *msg = g_strdup_printf("cannot read the local copy: %s", err->message);
    seaftier_error("upload %s %s/%s: %s", seaftier_type_name(e->type), e->repo_id, e->obj_id, msg);
    SeaftierRemoteErrorClass cls =
        g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_CORRUPT)
            ? SEAFTIER_REMOTE_ERR_PERMANENT : SEAFTIER_REMOTE_ERR_TRANSIENT;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    sync_record_failure(sync, e, "upload", msg, seaftier_sync_retry_at(e->attempts, cls, now));
    finish_job(sync, job, SEAFTIER_UPLOAD_FAILED, 0, cls == SEAFTIER_REMOTE_ERR_TRANSIENT, msg);
    g_free(msg);
}

/* In the remote but still dirty here: a later pass uploads it again, which
 * is harmless for content-addressed objects. The tier has already evicted
 * clean objects if its disk was full; what is left needs an operator, and
 * a backoff keeps this from turning into a loop of re-uploads. */
static void
mark_clean_failed(SeaftierSync *sync, UploadJob *job, GError *merr)
{
    const SeaftierTierEntry *e = &job->entry;
    gboolean full = g_error_matches(merr, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL);
    char *msg = g_strdup_printf("uploaded, but cannot mark it clean: %s", merr->message);
    seaftier_error("upload %s %s/%s: %s%s", seaftier_type_name(e->type), e->repo_id, e->obj_id, msg,
                   full ? " — the tier's disk is full: free space on it or set "
                          "[tier] min_free_space; uploads retry with a backoff" : "");
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    sync_record_failure(sync, e, "upload", msg,
                        seaftier_sync_retry_at(e->attempts, SEAFTIER_REMOTE_ERR_TRANSIENT, now));
    finish_job(sync, job, SEAFTIER_UPLOAD_FAILED, 0, TRUE, msg);
    g_free(msg);
}

static void
put_failed(SeaftierSync *sync, UploadJob *job, GError *err)
{
    const SeaftierTierEntry *e = &job->entry;
    const char *tname = seaftier_type_name(e->type);
    SeaftierRemoteErrorClass cls = seaftier_remote_classify(sync->remote[e->type], err);
    gboolean transient = cls == SEAFTIER_REMOTE_ERR_TRANSIENT;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gint64 retry_at = seaftier_sync_retry_at(e->attempts, cls, now);
    if (cls == SEAFTIER_REMOTE_ERR_BUCKET && sync->obs.bucket_failed)
        sync->obs.bucket_failed(e->type, err, sync->obs.user_data);
    if (transient)
        seaftier_warning("upload %s %s/%s failed (attempt %d, retry in %" G_GINT64_FORMAT " s): %s",
                         tname, e->repo_id, e->obj_id, e->attempts + 1, retry_at - now,
                         err->message);
    else
        seaftier_error("upload %s %s/%s failed permanently (attempt %d, next try in %"
                       G_GINT64_FORMAT " s): %s", tname, e->repo_id, e->obj_id, e->attempts + 1,
                       retry_at - now, err->message);
    sync_record_failure(sync, e, "upload", err->message, retry_at);
    finish_job(sync, job, SEAFTIER_UPLOAD_FAILED, 0, TRUE, err->message);
}

void
sync_upload_one(gpointer data, gpointer user_data)
{
    UploadJob *job = data;
    SeaftierSync *sync = user_data;
    const SeaftierTierEntry *e = &job->entry;
    GError *err = NULL;

    /* The row was read before the claim: another upload may have finished
     * it in between (the batch was stale), or it was re-written. Only what
     * is dirty now is uploaded, each time once. */
    SeaftierTierEntry now_row;
    if (!seaftier_tier_lookup(sync->tier, e->type, e->repo_id, e->obj_id, &now_row, &err) ||
        now_row.state != SEAFTIER_STATE_DIRTY) {
        if (err) {
            seaftier_warning("upload %s %s/%s: cannot read its index row: %s",
                             seaftier_type_name(e->type), e->repo_id, e->obj_id, err->message);
            g_clear_error(&err);
            finish_job(sync, job, SEAFTIER_UPLOAD_FAILED, 0, TRUE, "cannot read the index row");
            return;
        }
        finish_job(sync, job, SEAFTIER_UPLOAD_SKIPPED, 0, FALSE, NULL);
        return;
    }
    job->entry = now_row;

    void *buf = NULL;
    gsize len = 0;
    if (!seaftier_tier_read(sync->tier, e->type, e->repo_id, e->obj_id, &buf, &len, &err)) {
        if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND) ||
            g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED)) {
            /* Deleted while queued: nothing to upload; the delete path owns it now. */
            seaftier_debug("upload %s %s/%s skipped: %s", seaftier_type_name(e->type), e->repo_id,
                           e->obj_id, err->message);
            g_error_free(err);
            finish_job(sync, job, SEAFTIER_UPLOAD_SKIPPED, 0, FALSE, NULL);
            return;
        }
        local_read_failed(sync, job, err);
        g_error_free(err);
        return;
    }

    char *key = seaftier_remote_key(e->repo_id, e->obj_id);
    SeaftierRemoteMeta meta;
    seaftier_remote_meta_for(&meta, buf, len, e->created);
    gboolean ok = seaftier_remote_put(sync->remote[e->type], key, buf, len, &meta, &err);
    g_free(buf);
    g_free(key);
    if (!ok) {
        put_failed(sync, job, err);
        g_error_free(err);
        return;
    }
    if (!seaftier_tier_mark_clean(sync->tier, e, &err)) {
        mark_clean_failed(sync, job, err);
        g_error_free(err);
        return;
    }
    seaftier_debug("uploaded %s %s/%s (%zu bytes)", seaftier_type_name(e->type), e->repo_id,
                   e->obj_id, len);
    finish_job(sync, job, SEAFTIER_UPLOAD_OK, len, FALSE, NULL);
}

SeaftierSubmitResult
seaftier_sync_submit_upload(SeaftierSync *sync, const SeaftierTierEntry *entry, gboolean wait,
                            SeaftierUploadDoneFunc done, void *user_data)
{
    g_mutex_lock(&sync->lock);
    while (!sync->stopping && sync->active >= sync->concurrency) {
        if (!wait) {
            g_mutex_unlock(&sync->lock);
            return SEAFTIER_SUBMIT_FULL;
        }
        g_cond_wait(&sync->changed, &sync->lock);
    }
    if (sync->stopping) {
        g_mutex_unlock(&sync->lock);
        return SEAFTIER_SUBMIT_STOPPED;
    }
    if (!seaftier_inflight_claim(sync->inflight, entry->type, entry->repo_id, entry->obj_id,
                                 SEAFTIER_INFLIGHT_PUT)) {
        g_mutex_unlock(&sync->lock);
        return SEAFTIER_SUBMIT_KEY_BUSY;
    }
    sync->active++;
    if (!sync->workers)
        sync->workers = seaftier_workers_new("seaftier-upload", sync_upload_one, sync,
                                             (int)sync->concurrency);
    g_mutex_unlock(&sync->lock);

    UploadJob *job = g_new0(UploadJob, 1);
    job->entry = *entry;
    job->done = done;
    job->user_data = user_data;
    seaftier_workers_push(sync->workers, job);
    return SEAFTIER_SUBMIT_OK;
}

guint
seaftier_sync_uploads_active(SeaftierSync *sync)
{
    g_mutex_lock(&sync->lock);
    guint n = sync->active;
    g_mutex_unlock(&sync->lock);
    return n;
}

guint
seaftier_sync_upload_slots(SeaftierSync *sync)
{
    g_mutex_lock(&sync->lock);
    guint n = sync->stopping || sync->active >= sync->concurrency ? 0
                                                                  : sync->concurrency - sync->active;
    g_mutex_unlock(&sync->lock);
    return n;
}

void
seaftier_sync_stop(SeaftierSync *sync)
{
    g_mutex_lock(&sync->lock);
    sync->stopping = TRUE;
    g_cond_broadcast(&sync->changed);
    g_mutex_unlock(&sync->lock);
}

gboolean
seaftier_sync_drain(SeaftierSync *sync, gint64 deadline_us)
{
    g_mutex_lock(&sync->lock);
    while (sync->active > 0) {
        if (!g_cond_wait_until(&sync->changed, &sync->lock, deadline_us))
            break;
    }
    gboolean drained = sync->active == 0;
    g_mutex_unlock(&sync->lock);
    return drained;
}
