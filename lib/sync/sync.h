/*
 * lib/sync/sync.h — the sync engine: the one implementation of the
 * protocol between the tier and its remotes (one per object type).
 * seaftierd (scheduler, housekeeping, flush over its control socket),
 * `seaftier-admin flush`, the backends' write-through and backpressure
 * uploads, and the tests all run it. The protocol is described in
 * lib/sync/README.md; in short:
 *
 *  - an object is marked clean only after the remote confirmed its PUT, and
 *    only if its row is unchanged since it was read (same generation);
 *  - a key never has a PUT and a DELETE in flight at once in one process
 *    (inflight.h), so a DELETE cannot overtake an older PUT of the same key;
 *  - a DELETED row is forgotten only after the remote confirmed the delete;
 *  - a failure is recorded on its row with a retry time from the one
 *    schedule (seaftier_sync_retry_at), by the class of the error
 *    (remote.h); a bucket-wide error is also reported to the observer.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef SEAFTIER_SYNC_H
#define SEAFTIER_SYNC_H

#include <glib.h>
#include "sync/remote.h"
#include "tier/tier.h"

typedef struct SeaftierSync SeaftierSync;

/* What happened to one upload attempt. */
typedef enum {
    SEAFTIER_UPLOAD_SKIPPED,        /* nothing to upload any more (clean, deleted, gone) */
    SEAFTIER_UPLOAD_OK,             /* uploaded and marked clean */
    SEAFTIER_UPLOAD_FAILED,         /* failed; recorded on the row with a retry time */
} SeaftierUploadOutcome;

/* Optional callbacks, called from the engine's threads (or the caller's). */
typedef struct {
    /* After every upload attempt, whoever submitted it. `will_retry` tells
     * a transient failure (retried soon) from a permanent one. */
    void (*upload_done)(SeaftierObjType type, SeaftierUploadOutcome outcome, guint64 bytes,
                        gboolean will_retry, void *user_data);
    /* After each remote delete of one key (ok or failed). */
    void (*delete_done)(SeaftierObjType type, gboolean ok, void *user_data);
    /* When a request failed in a way that concerns the whole bucket (no
     * bucket, wrong secret, access denied): writing to it should stop until
     * a probe passes again, instead of failing every object in turn. */
    void (*bucket_failed)(SeaftierObjType type, const GError *error, void *user_data);
    void *user_data;
} SeaftierSyncObserver;

/* An engine over `tier` and one remote per type (all borrowed: they must
 * outlive the engine), with `concurrency` (>= 1) upload workers, started
 * on the first submitted upload. */
SeaftierSync *seaftier_sync_new(SeaftierTier *tier, SeaftierRemote *const remotes[SEAFTIER_N_TYPES],
                                int concurrency);

/* Waits for every submitted upload, then frees. NULL is a no-op. */
void seaftier_sync_free(SeaftierSync *sync);

/* Sets the callbacks (copied); call before the first request. */
void seaftier_sync_set_observer(SeaftierSync *sync, const SeaftierSyncObserver *observer);

/* The remote of a type (borrowed). */
SeaftierRemote *seaftier_sync_remote(SeaftierSync *sync, SeaftierObjType type);

/* When a failed attempt (the row's `attempts` before it) may be retried:
 * exponential backoff from 5 s up to 15 min for transient errors, from 1 min
 * up to 6 h for the others (an operator has to act; retrying hard only adds
 * load), plus up to 20% jitter. Returns unix seconds. */
gint64 seaftier_sync_retry_at(int attempts, SeaftierRemoteErrorClass cls, gint64 now);

/* ---- uploads of dirty rows (upload.c) ---- */

typedef enum {
    SEAFTIER_SUBMIT_OK,             /* queued; `done` will be called */
    SEAFTIER_SUBMIT_KEY_BUSY,       /* a request for this key is in flight */
    SEAFTIER_SUBMIT_FULL,           /* no free slot (only when !wait) */
    SEAFTIER_SUBMIT_STOPPED,        /* the engine is stopping */
} SeaftierSubmitResult;

/* Called from a worker after the attempt: `ok` when the object is now clean
 * in the remote (or was already gone or clean), else `message` says why. */
typedef void (*SeaftierUploadDoneFunc)(const SeaftierTierEntry *entry, gboolean ok,
                                       const char *message, void *user_data);

/* Queues the upload of `entry` (copied). With `wait`, blocks until a slot is
 * free. `done` may be NULL. */
SeaftierSubmitResult seaftier_sync_submit_upload(SeaftierSync *sync, const SeaftierTierEntry *entry,
                                                 gboolean wait, SeaftierUploadDoneFunc done,
                                                 void *user_data);
/* Uploads running or queued. */
guint seaftier_sync_uploads_active(SeaftierSync *sync);
/* Slots free for a submit without waiting. */
guint seaftier_sync_upload_slots(SeaftierSync *sync);
/* Refuses new submissions (SIGTERM) and wakes submitters blocked in wait. */
void seaftier_sync_stop(SeaftierSync *sync);
/* Waits until no upload runs or the monotonic `deadline_us` passes. TRUE when drained. */
gboolean seaftier_sync_drain(SeaftierSync *sync, gint64 deadline_us);

/* Uploads one object now, outside the tier (write-through, or a write the
 * full tier could not take): the PUT with its metadata, while the key is
 * claimed in flight. The caller decides what the tier keeps afterwards. */
gboolean seaftier_sync_put_now(SeaftierSync *sync, SeaftierObjType type, const char *repo_id,
                               const char *obj_id, const void *data, gsize len, GError **error);

/* ---- flush job (flush-job.c) ---- */

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
    /* Leave out objects whose last failure set a retry time still to come
     * (as seaftierd's own uploads do); an operator's flush tries them all. */
    gboolean respect_backoff;
    /* Set to non-zero (from any thread) to stop submitting. */
    volatile gint *cancel;
    /* Called at most every 200 ms and once at the end, serialized. */
    void (*progress)(const SeaftierFlushProgress *p, void *user_data);
    /* Called for each object that could not be uploaded, serialized. */
    void (*failed)(SeaftierObjType type, const char *repo_id, const char *obj_id,
                   const char *message, void *user_data);
    void *user_data;
} SeaftierFlushOptions;

/* "Upload every dirty object now": takes a snapshot of the dirty objects
 * matching the filter, ignores upload_delay (and backoff unless asked to
 * respect it), submits each once (waiting for keys another request holds)
 * and ends when every one was tried. FALSE with `error` only when the index
 * cannot be read; upload failures go to opts->failed and `result`. */
gboolean seaftier_sync_flush(SeaftierSync *sync, const SeaftierFlushOptions *opts,
                             SeaftierFlushProgress *result, GError **error);

/* ---- remote deletes (delete.c) ---- */

/* Carries up to `limit` due remote deletes of `type` (DELETED rows whose
 * retry time has come) to the remote and forgets the rows it confirmed;
 * keys with a PUT in flight are left for the next pass. *handled counts
 * the rows tried. FALSE only for index errors. */
gboolean seaftier_sync_delete_pass(SeaftierSync *sync, SeaftierObjType type, int limit,
                                   guint *handled, GError **error);

/* Carries every pending remote delete (of `type` when >= 0) now, each once;
 * with `respect_backoff`, those whose retry time is still to come are left.
 * *done and *failed (may be NULL) count the keys. FALSE when any failed
 * (error: the first failure) or the index failed. */
gboolean seaftier_sync_flush_deletes(SeaftierSync *sync, int type, gboolean respect_backoff,
                                     guint64 *done, guint64 *failed, GError **error);

/* Flush of every dirty object and then of every pending delete, respecting
 * backoff (a failed object is retried when seaftierd would retry it). FALSE
 * (error: the first failure) when anything failed. For tools and tests
 * that drain a tier. */
gboolean seaftier_sync_flush_all(SeaftierSync *sync, GError **error);

/* ---- reads (fetch.c) ---- */

/* Reads an object from its remote and checks it against the size and
 * CRC32C recorded at upload (when the remote has them): a mismatch fails
 * with SEAFTIER_REMOTE_ERROR_INTEGRITY naming the object, and the bytes
 * are not returned. */
gboolean seaftier_sync_fetch(SeaftierSync *sync, SeaftierObjType type, const char *repo_id,
                             const char *obj_id, void **data, gsize *len, GError **error);

#endif
