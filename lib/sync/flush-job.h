/*
 * daemon/flush-job.h — "upload every dirty object now": the job behind
 * `seaftier-admin flush`, run inside seaftierd (control socket) or by the
 * admin tool itself when no daemon runs.
 *
 * The job takes a snapshot of the dirty objects matching its filter (type,
 * repo), ignores upload_delay and backoff (an operator asked), and submits
 * each one once to the shared uploader, waiting for keys another request
 * holds. It ends when every snapshot object was tried: progress counts
 * objects now clean (or deleted meanwhile) as done, the rest as failed.
 */
#ifndef SEAFTIERD_FLUSH_JOB_H
#define SEAFTIERD_FLUSH_JOB_H

#include <glib.h>
#include "uploader.h"

typedef struct {
    guint64 total_objects;
    guint64 total_bytes;
    guint64 done_objects;
    guint64 done_bytes;
    guint64 failed_objects;
    gint64 started_us;              /* monotonic */
} SeaftierFlushProgress;

typedef struct {
    int type;                       /* -1: all types */
    const char *repo_id;            /* NULL: all repos */
    /* Per type: a reason not to upload at all (a refused bucket), or NULL. */
    const char *refused[SEAFTIER_N_TYPES];
    /* Set to non-zero (from any thread) to stop submitting. */
    volatile gint *cancel;
    /* Called at most every 200 ms and once at the end, serialized. */
    void (*progress)(const SeaftierFlushProgress *p, void *user_data);
    /* Called for each object that could not be uploaded, serialized. */
    void (*failed)(SeaftierObjType type, const char *repo_id, const char *obj_id,
                   const char *message, void *user_data);
    void *user_data;
} SeaftierFlushOptions;

/* Runs a flush to the end (or until cancelled). FALSE with `error` only when
 * the index cannot be read; upload failures are reported through
 * opts->failed and counted in `result`. */
gboolean seaftier_flush_run(SeaftierTier *tier, SeaftierUploader *up, SeaftierInflight *inflight,
                            const SeaftierFlushOptions *opts, SeaftierFlushProgress *result,
                            GError **error);

#endif
