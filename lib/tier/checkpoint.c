/* lib/tier/checkpoint.c — WAL checkpoints, kept off the group commit.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the
 * threshold: a group-commit leader would then copy ~1000 pages into the
 * database and fsync it while every store of its batch, and every store
 * queued behind it, waits. Here the WAL hook only records the WAL size; the
 * checkpoint (PASSIVE: it never blocks readers or writers) is run by the
 * thread whose commit crossed a 1000-page step, after the leader has
 * released its batch — one caller pays, and the next batch commits
 * meanwhile. A WAL only restarts from its beginning when a writer finds it
 * entirely checkpointed, which a continuous stream of commits can prevent;
 * so past 4000 pages the leader checkpoints before releasing its batch (no
 * other batch of this process commits meanwhile), which bounds the WAL.
 *
 * Every checkpoint runs while a second connection (the guard) holds the
 * index's write lock, so no commit of any process can restart the WAL while
 * it runs. SQLite 3.7.0 to 3.51.2 (Debian 12 ships 3.40) can lose pages of a
 * committed transaction when a commit restarts the WAL just as a checkpoint
 * starts that follows a complete one (the "WAL-reset bug", fixed in 3.51.3,
 * 3.50.7 and 3.44.6); checkpoints by several connections and processes, as
 * here, are its condition. Writers wait for the checkpoint's copy and fsync
 * (once per 1000 WAL pages); with a fixed SQLite no guard is taken.
 *
 * This file only decides and runs checkpoints on connections it is given;
 * it never takes one from the pool (db.c calls here, not the reverse).
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#define CHECKPOINT_PAGES 1000           /* SQLite's own default threshold */
#define CHECKPOINT_URGENT_PAGES 4000

static int
wal_hook(void *data, sqlite3 *db, const char *name, int pages)
{
    SeaftierTier *tier = data;
    TIER_STORE(&tier->wal_pages, (gint64)pages);
    seaftier_tier_note_commit(tier, pages);
    return SQLITE_OK;
}

void
seaftier_tier_checkpoint_attach(SeaftierTier *tier, sqlite3 *db)
{
    sqlite3_wal_hook(db, wal_hook, tier);
}

gboolean
seaftier_tier_checkpoint_needs_guard(void)
{
    int v = sqlite3_libversion_number();
    gboolean fixed = v >= 3051003 || (v >= 3050007 && v < 3051000) ||
                     (v >= 3044006 && v < 3045000);
    return !fixed;
}

void
seaftier_tier_checkpoint_run(SeaftierTier *tier, TierConn *conn, TierConn *guard)
{
    /* The guard's BEGIN IMMEDIATE takes the index's write lock (waiting for
     * the writer of the moment through its busy handler) and changes
     * nothing; the checkpoint is skipped when the lock cannot be had. */
    if (guard && sqlite3_exec(guard->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        seaftier_debug("checkpoint of %s skipped: %s", tier->db_path, sqlite3_errmsg(guard->db));
        return;
    }
    int rc = sqlite3_wal_checkpoint_v2(conn->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        seaftier_debug("checkpoint of %s: %s", tier->db_path, sqlite3_errmsg(conn->db));
    if (guard && sqlite3_exec(guard->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        sqlite3_exec(guard->db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
seaftier_tier_checkpoint_due(SeaftierTier *tier, gboolean urgent_only)
{
    gint64 pages = TIER_LOAD(&tier->wal_pages);
    gint64 last = TIER_LOAD(&tier->ckpt_pages);
    if (pages < last) {
        TIER_STORE(&tier->ckpt_pages, (gint64)0);   /* the WAL restarted */
        last = 0;
    }
    if (pages >= CHECKPOINT_URGENT_PAGES)
        return TRUE;
    /* Once per CHECKPOINT_PAGES new pages, not after every commit: each
     * checkpoint costs two fsyncs. The step is claimed by one caller. */
    return !urgent_only && pages >= CHECKPOINT_PAGES && pages - last >= CHECKPOINT_PAGES &&
           __atomic_compare_exchange_n(&tier->ckpt_pages, &last, pages, FALSE, __ATOMIC_RELAXED,
                                       __ATOMIC_RELAXED);
}
