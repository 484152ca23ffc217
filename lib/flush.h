/*
 * lib/flush.h — carry the tier's pending work to S3 from the calling
 * process: upload DIRTY objects and carry out pending remote deletes.
 *
 * For tools and tests that run without seaftierd: the same protocol as the
 * daemon's uploader — an object is marked clean only after S3 confirmed its
 * PUT (and only if its row is unchanged), a DELETED row is forgotten only
 * after S3 confirmed the delete — but without the daemon's in-flight key
 * set. Within one call PUTs and DELETEs never overlap (dirty objects, then
 * deletes); do not run it on a tier whose seaftierd is running, where a
 * DELETE from here could overtake the daemon's PUT of a rewritten object.
 */
#ifndef SEAFTIER_FLUSH_H
#define SEAFTIER_FLUSH_H

#include <glib.h>
#include <seaftier/s3.h>
#include "tier/tier.h"

typedef struct {
    guint64 objects;        /* uploaded (or deleted) */
    guint64 bytes;          /* original bytes uploaded */
    guint64 failed;         /* failures recorded on their rows (retried later) */
} SeaftierFlushStats;

/* Called once per object handled, with `error` NULL on success. Calls are
 * serialized but may come from worker threads. */
typedef void (*SeaftierFlushProgressFunc)(const SeaftierTierEntry *entry, const GError *error,
                                          void *user_data);

/*
 * Uploads every object that is DIRTY when the call starts (of `type` when
 * type >= 0, of `repo_id` when not NULL), `concurrency` PUTs at a time
 * (<= 0: 8), through `s3[type]` for each type, and marks each clean.
 * A failed object gets its failure recorded on its row (attempts, last
 * error, retry in a minute) and the flush goes on with the others.
 * Returns FALSE when any object failed (error: the first failure) or when
 * the tier itself failed.
 */
gboolean seaftier_flush_dirty(SeaftierTier *tier, SeaftierS3 *const s3[SEAFTIER_N_TYPES],
                              int type, const char *repo_id, int concurrency,
                              SeaftierFlushProgressFunc progress, void *user_data,
                              SeaftierFlushStats *stats, GError **error);

/*
 * Carries out every pending remote delete (of `type` when type >= 0) with
 * DeleteObjects and forgets the rows S3 confirmed. Failures are recorded on
 * their rows as above. Returns FALSE when any delete failed.
 */
gboolean seaftier_flush_deleted(SeaftierTier *tier, SeaftierS3 *const s3[SEAFTIER_N_TYPES],
                                int type, SeaftierFlushProgressFunc progress, void *user_data,
                                SeaftierFlushStats *stats, GError **error);

#endif
