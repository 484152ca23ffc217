/*
 * lib/sync/sync-private.h — the engine's state, shared by its files
 * (engine.c, upload.c, delete.c, flush-job.c, fetch.c). Not for callers.
 */
#ifndef SEAFTIER_SYNC_PRIVATE_H
#define SEAFTIER_SYNC_PRIVATE_H

#include "sync/sync.h"
#include "sync/inflight.h"
#include "sync/workers.h"

struct SeaftierSync {
    SeaftierTier *tier;
    SeaftierRemote *remote[SEAFTIER_N_TYPES];
    SeaftierInflight *inflight;
    SeaftierSyncObserver obs;

    GMutex lock;                    /* guards what follows */
    GCond changed;
    guint concurrency;
    guint active;                   /* uploads submitted, not yet finished */
    gboolean stopping;
    SeaftierWorkers *workers;       /* started by the first submit */
};

/* Records a failed upload or delete on its row (attempts, message, no retry
 * before `retry_at`); a failure to record it is logged, naming `what`
 * ("upload", "remote delete") and the object. */
void sync_record_failure(SeaftierSync *sync, const SeaftierTierEntry *e, const char *what,
                         const char *message, gint64 retry_at);

/* Upload worker (upload.c). */
void sync_upload_one(gpointer data, gpointer user_data);

#endif
