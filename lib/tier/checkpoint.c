/* lib/tier/checkpoint.c — WAL checkpoints off the commit path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the
 * threshold: a group-commit leader would then copy ~1000 pages into the
 * database and fsync it while every waiting store stalls behind it. Instead
 * a WAL hook on every connection wakes this process's checkpointer thread,
 * which runs PASSIVE checkpoints on its own connection (they never block
 * writers or readers). The WAL is then reused from its start by the next
 * writer, so it stays small and each commit's fsync writes no file-size
 * metadata.
 */
#include "config.h"

#include "tier/tier-private.h"

#define CHECKPOINT_PAGES 1000           /* SQLite's own default threshold */
/* A WAL restarts from its beginning only when a writer finds it entirely
 * checkpointed; under a continuous stream of commits the background thread
 * is always a little behind, so past this size the committer finishes the
 * (by then small) remainder itself and the next commit restarts the WAL. */
#define CHECKPOINT_INLINE_PAGES 4000

static gpointer
checkpoint_main(gpointer data)
{
    SeaftierTier *tier = data;
    TierConn *conn = NULL;
    g_mutex_lock(&tier->ckpt_lock);
    for (;;) {
        while (!tier->ckpt_requested && !tier->ckpt_stop)
            g_cond_wait(&tier->ckpt_cond, &tier->ckpt_lock);
        if (tier->ckpt_stop)
            break;
        tier->ckpt_requested = FALSE;
        g_mutex_unlock(&tier->ckpt_lock);
        GError *err = NULL;
        if (!conn)
            conn = seaftier_tier_conn_get(tier, &err);
        if (conn) {
            int log = 0, done = 0;
            int rc = sqlite3_wal_checkpoint_v2(conn->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                               &done);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY)
                seaftier_debug("checkpoint of %s: %s", tier->db_path, sqlite3_errmsg(conn->db));
        } else {
            seaftier_debug("checkpoint of %s: %s", tier->db_path, err->message);
            g_clear_error(&err);
        }
        g_mutex_lock(&tier->ckpt_lock);
    }
    g_mutex_unlock(&tier->ckpt_lock);
    seaftier_tier_conn_put(tier, conn);
    return NULL;
}

static int
wal_hook(void *data, sqlite3 *db, const char *name, int pages)
{
    SeaftierTier *tier = data;
    if (pages >= CHECKPOINT_INLINE_PAGES) {
        /* FULL waits (busy handler) for a running background checkpoint
         * and for writers, then backfills everything: the next commit
         * restarts the WAL. */
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_FULL, NULL, NULL);
        return SQLITE_OK;
    }
    /* `pages` counts the whole WAL, not what is left to checkpoint: wake
     * the thread once per CHECKPOINT_PAGES new pages, not on every commit
     * (each checkpoint costs two fsyncs). */
    gint64 last = TIER_LOAD(&tier->ckpt_pages);
    if (pages < last)
        TIER_STORE(&tier->ckpt_pages, (gint64)0);     /* the WAL restarted */
    if (pages < CHECKPOINT_PAGES || (pages >= last && pages - last < CHECKPOINT_PAGES))
        return SQLITE_OK;
    TIER_STORE(&tier->ckpt_pages, (gint64)pages);
    g_mutex_lock(&tier->ckpt_lock);
    if (!tier->ckpt_stop) {
        tier->ckpt_requested = TRUE;
        if (!tier->ckpt_thread)
            tier->ckpt_thread = g_thread_new("seaftier-ckpt", checkpoint_main, tier);
        g_cond_signal(&tier->ckpt_cond);
    }
    g_mutex_unlock(&tier->ckpt_lock);
    return SQLITE_OK;
}

void
seaftier_tier_checkpoint_attach(SeaftierTier *tier, sqlite3 *db)
{
    sqlite3_wal_hook(db, wal_hook, tier);
}

void
seaftier_tier_checkpoint_stop(SeaftierTier *tier)
{
    g_mutex_lock(&tier->ckpt_lock);
    tier->ckpt_stop = TRUE;
    g_cond_signal(&tier->ckpt_cond);
    GThread *t = tier->ckpt_thread;
    tier->ckpt_thread = NULL;
    g_mutex_unlock(&tier->ckpt_lock);
    if (t)
        g_thread_join(t);
}
