/*
 * daemon/uploader.h — uploads dirty objects to S3 with N requests in flight.
 *
 * A GThreadPool of `concurrency` workers, each doing one synchronous PUT
 * at a time through the (thread-safe) SeaftierS3 client of the object's
 * type. Used by seaftierd's scheduler and by flush jobs (in the daemon and
 * in `seaftier-admin flush` when no daemon runs).
 *
 * Invariants:
 *  - an object is marked clean only after S3 confirmed its PUT, and only if
 *    its row still has the generation that was read (seaftier_tier_mark_clean);
 *  - a key is claimed in the in-flight set for the whole request, so a PUT
 *    and a DELETE of one key never overlap;
 *  - a failure is recorded on the row (attempts, message, retry_at with
 *    exponential backoff), longer for permanent errors, so one bad object or
 *    bucket never blocks the others.
 */
#ifndef SEAFTIERD_UPLOADER_H
#define SEAFTIERD_UPLOADER_H

#include <glib.h>
#include <seaftier/s3.h>
#include "tier/tier.h"
#include "inflight.h"
#include "metrics.h"

typedef struct SeaftierUploader SeaftierUploader;

/* Called from a worker thread after an attempt ended: `ok` when the object
 * is now clean in S3 (or was already gone/clean), else `message` says why.
 * `entry` is the submitted row. */
typedef void (*SeaftierUploadDoneFunc)(const SeaftierTierEntry *entry, gboolean ok,
                                       const char *message, void *user_data);

/* `s3` holds one client per type (borrowed); `metrics` may be NULL. */
SeaftierUploader *seaftier_uploader_new(SeaftierTier *tier, SeaftierS3 *const s3[SEAFTIER_N_TYPES],
                                        SeaftierInflight *inflight, SeaftierMetrics *metrics,
                                        int concurrency);

/* Waits for every submitted upload, then frees. */
void seaftier_uploader_free(SeaftierUploader *up);

/* A hook called (from the worker) after every attempt, whoever submitted it. */
void seaftier_uploader_set_hook(SeaftierUploader *up, void (*hook)(void *), void *user_data);

/* A hook called (from the worker) when a PUT fails in a way that concerns
 * the whole bucket rather than one object (NoSuchBucket, a wrong secret
 * key, access denied): seaftierd stops writing to that bucket until its
 * probe passes again, instead of failing every object in turn. */
typedef void (*SeaftierBucketFailedFunc)(SeaftierObjType type, const GError *error,
                                         void *user_data);
void seaftier_uploader_set_bucket_hook(SeaftierUploader *up, SeaftierBucketFailedFunc hook,
                                       void *user_data);

typedef enum {
    SEAFTIER_SUBMIT_OK,          /* queued; `done` will be called */
    SEAFTIER_SUBMIT_KEY_BUSY,    /* a request for this key is in flight */
    SEAFTIER_SUBMIT_FULL,        /* no free slot (only when !wait) */
    SEAFTIER_SUBMIT_STOPPED,     /* the uploader is stopping */
} SeaftierSubmitResult;

/* Queues the upload of `entry` (copied). With `wait`, blocks until a slot
 * is free. `done` may be NULL. */
SeaftierSubmitResult seaftier_uploader_submit(SeaftierUploader *up, const SeaftierTierEntry *entry,
                                              gboolean wait, SeaftierUploadDoneFunc done,
                                              void *user_data);

/* Uploads running or queued. */
guint seaftier_uploader_active(SeaftierUploader *up);
/* Slots free for submit without waiting. */
guint seaftier_uploader_free_slots(SeaftierUploader *up);

/* Refuses new submissions (SIGTERM) and wakes submitters blocked in wait. */
void seaftier_uploader_stop(SeaftierUploader *up);

/* Waits until no upload runs or the monotonic `deadline_us` passes.
 * TRUE when drained. */
gboolean seaftier_uploader_drain(SeaftierUploader *up, gint64 deadline_us);

/* When a failed attempt may be retried: exponential backoff from `attempts`
 * (the count before this failure), longer for permanent errors, with jitter.
 * Returns unix seconds. */
gint64 seaftier_upload_retry_at(int attempts, gboolean transient, gint64 now);

#endif
