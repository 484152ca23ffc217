/* lib/sync/flush-job.c — "upload every dirty object now" (see sync.h): the
 * job behind `seaftier-admin flush`, run inside seaftierd (control socket)
 * or by the admin tool itself when no daemon runs, and by tests draining a
 * tier. It submits each object of its snapshot once to the engine's
 * uploads; progress counts objects now clean (or deleted meanwhile) as
 * done, the rest as failed. */
#include "seaftier-build.h"

#include "sync/sync-private.h"

#include <seaftier/log.h>

typedef struct {
    guint8 type;
    char repo_id[37];
    char obj_id[41];
    guint64 size;
} FlushItem;

typedef struct {
    const SeaftierFlushOptions *opts;
    GMutex lock;
    GCond changed;
    guint outstanding;
    SeaftierFlushProgress p;
    gint64 last_report_us;
} FlushJob;

typedef struct {
    GArray *items;
    gint64 due_by;          /* skip rows whose retry time is later; G_MAXINT64: none */
} Collect;

static gboolean
collect_dirty(const SeaftierTierEntry *e, void *user_data)
{
    Collect *c = user_data;
    if (e->retry_at > c->due_by)
        return TRUE;
    GArray *items = c->items;
    FlushItem it = { 0 };
    it.type = (guint8)e->type;
    g_strlcpy(it.repo_id, e->repo_id, sizeof it.repo_id);
    g_strlcpy(it.obj_id, e->obj_id, sizeof it.obj_id);
    it.size = e->size;
    g_array_append_val(items, it);
    return TRUE;
}

/* Called with job->lock held. */
static void
report_locked(FlushJob *job, gboolean force)
{
    gint64 now = g_get_monotonic_time();
    if (!job->opts->progress || (!force && now - job->last_report_us < 200000))
        return;
    job->last_report_us = now;
    job->opts->progress(&job->p, job->opts->user_data);
}

static void
item_finished(FlushJob *job, SeaftierObjType type, const char *repo_id, const char *obj_id,
              guint64 size, gboolean ok, const char *message)
{
    g_mutex_lock(&job->lock);
    if (ok) {
        job->p.done_objects++;
        job->p.done_bytes += size;
    } else {
        job->p.failed_objects++;
        if (job->opts->failed)
            job->opts->failed(type, repo_id, obj_id, message ? message : "upload failed",
                              job->opts->user_data);
    }
    report_locked(job, FALSE);
    g_mutex_unlock(&job->lock);
}

static void
upload_done(const SeaftierTierEntry *e, gboolean ok, const char *message, void *user_data)
{
    FlushJob *job = user_data;
    item_finished(job, e->type, e->repo_id, e->obj_id, e->size, ok, message);
    g_mutex_lock(&job->lock);
    job->outstanding--;
    g_cond_broadcast(&job->changed);
    g_mutex_unlock(&job->lock);
}

static gboolean
cancelled(const SeaftierFlushOptions *opts)
{
    return opts->cancel && g_atomic_int_get(opts->cancel);
}

gboolean
seaftier_sync_flush(SeaftierSync *sync, const SeaftierFlushOptions *opts,
                    SeaftierFlushProgress *result, GError **error)
{
    SeaftierTier *tier = sync->tier;
    SeaftierInflight *inflight = sync->inflight;
    GArray *items = g_array_new(FALSE, FALSE, sizeof(FlushItem));
    Collect collect = { items, opts->respect_backoff ? g_get_real_time() / G_USEC_PER_SEC
                                                     : G_MAXINT64 };
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (opts->type >= 0 && opts->type != t)
            continue;
        if (!seaftier_tier_foreach(tier, (SeaftierObjType)t, opts->repo_id,
                                   1u << SEAFTIER_STATE_DIRTY, collect_dirty, &collect, error)) {
            g_array_free(items, TRUE);
            return FALSE;
        }
    }

    FlushJob job = { .opts = opts };
    g_mutex_init(&job.lock);
    g_cond_init(&job.changed);
    job.p.started_us = g_get_monotonic_time();
    job.p.total_objects = items->len;
    for (guint i = 0; i < items->len; i++)
        job.p.total_bytes += g_array_index(items, FlushItem, i).size;
    g_mutex_lock(&job.lock);
    report_locked(&job, TRUE);
    g_mutex_unlock(&job.lock);

    for (guint i = 0; i < items->len && !cancelled(opts); i++) {
        const FlushItem *it = &g_array_index(items, FlushItem, i);
        SeaftierObjType type = (SeaftierObjType)it->type;
        if (opts->refused[type]) {
            item_finished(&job, type, it->repo_id, it->obj_id, it->size, FALSE, opts->refused[type]);
            continue;
        }
        for (;;) {
            /* Wait out a request another submitter holds (the scheduler's
             * PUT or a DELETE), then look again: it may be clean by now. */
            while (!seaftier_inflight_wait(inflight, type, it->repo_id, it->obj_id,
                                           g_get_monotonic_time() + 200000)) {
                if (cancelled(opts))
                    break;
            }
            if (cancelled(opts))
                break;
            SeaftierTierEntry e;
            GError *err = NULL;
            if (!seaftier_tier_lookup(tier, type, it->repo_id, it->obj_id, &e, &err)) {
                if (err) {
                    item_finished(&job, type, it->repo_id, it->obj_id, it->size, FALSE, err->message);
                    g_error_free(err);
                } else {
                    item_finished(&job, type, it->repo_id, it->obj_id, it->size, TRUE, NULL);
                }
                break;
            }
            if (e.state != SEAFTIER_STATE_DIRTY) {
                item_finished(&job, type, it->repo_id, it->obj_id, it->size, TRUE, NULL);
                break;
            }
            g_mutex_lock(&job.lock);
            job.outstanding++;
            g_mutex_unlock(&job.lock);
            SeaftierSubmitResult r = seaftier_sync_submit_upload(sync, &e, TRUE, upload_done, &job);
            if (r == SEAFTIER_SUBMIT_OK)
                break;
            g_mutex_lock(&job.lock);
            job.outstanding--;
            g_mutex_unlock(&job.lock);
            if (r == SEAFTIER_SUBMIT_STOPPED) {
                item_finished(&job, type, it->repo_id, it->obj_id, it->size, FALSE,
                              "not uploaded: seaftierd is shutting down");
                break;
            }
            /* KEY_BUSY: someone claimed it between the wait and the submit. */
        }
    }

    g_mutex_lock(&job.lock);
    while (job.outstanding > 0) {
        if (!g_cond_wait_until(&job.changed, &job.lock, g_get_monotonic_time() + 200000))
            report_locked(&job, FALSE);
    }
    report_locked(&job, TRUE);
    if (result)
        *result = job.p;
    g_mutex_unlock(&job.lock);
    g_cond_clear(&job.changed);
    g_mutex_clear(&job.lock);
    g_array_free(items, TRUE);
    return TRUE;
}

typedef struct {
    GError *first;
} FirstFailure;

static void
note_failure(SeaftierObjType type, const char *repo_id, const char *obj_id, const char *message,
             void *user_data)
{
    FirstFailure *ff = user_data;
    if (!ff->first)
        ff->first = g_error_new(SEAFTIER_REMOTE_ERROR, SEAFTIER_REMOTE_ERROR_PARTIAL,
                                "upload of %s %s/%s: %s", seaftier_type_name(type), repo_id,
                                obj_id, message);
}

gboolean
seaftier_sync_flush_all(SeaftierSync *sync, GError **error)
{
    FirstFailure ff = { NULL };
    SeaftierFlushOptions opts = { .type = -1, .respect_backoff = TRUE, .failed = note_failure,
                                  .user_data = &ff };
    SeaftierFlushProgress p;
    if (!seaftier_sync_flush(sync, &opts, &p, error))
        return FALSE;
    GError *derr = NULL;
    gboolean deletes_ok = seaftier_sync_flush_deletes(sync, -1, TRUE, NULL, NULL, &derr);
    if (ff.first) {
        g_propagate_error(error, ff.first);
        g_clear_error(&derr);
        return FALSE;
    }
    if (!deletes_ok) {
        g_propagate_error(error, derr);
        return FALSE;
    }
    return TRUE;
}
