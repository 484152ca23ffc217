/* lib/tier/atime.c — lazy access times.
 *
 * Reads never write the index: an access is noted in memory (only when the
 * recorded time is ATIME_GRANULARITY_S old) and the pending times are
 * written in one transaction by the background thread (evict.c) or before
 * an eviction, which is the only thing they steer. This file calls nothing
 * of the background thread: the reader that notes an access is told when a
 * flush is due and asks for it itself.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

void
seaftier_tier_atime_flush(SeaftierTier *tier)
{
    g_mutex_lock(&tier->atime_lock);
    GHashTable *pending = tier->atime_pending;
    tier->atime_pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    tier->atime_last_flush = g_get_monotonic_time();
    g_mutex_unlock(&tier->atime_lock);
    if (g_hash_table_size(pending) == 0) {
        g_hash_table_destroy(pending);
        return;
    }

    GError *err = NULL;
    TierConn *conn = seaftier_tier_conn_get(tier, &err);
    gboolean ok = conn && seaftier_tier_begin(conn, FALSE, &err);
    sqlite3_stmt *stmt = ok ? seaftier_tier_stmt(conn,
        "UPDATE objects SET atime = ?2 WHERE id = ?1 AND atime < ?2", &err) : NULL;
    ok = stmt != NULL;
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, pending);
    while (ok && g_hash_table_iter_next(&it, &key, &value)) {
        sqlite3_bind_int64(stmt, 1, *(gint64 *)key);
        sqlite3_bind_int64(stmt, 2, GPOINTER_TO_SIZE(value));
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(&err, conn, rc, "updating access times");
            ok = FALSE;
        }
    }
    if (ok)
        ok = seaftier_tier_commit(conn, &err);
    if (!ok) {
        /* Access times only steer eviction; losing a batch is harmless. */
        seaftier_debug("access times not recorded: %s", err ? err->message : "?");
        if (conn)
            seaftier_tier_rollback(conn);
        g_clear_error(&err);
    }
    seaftier_tier_conn_put(tier, conn);
    g_hash_table_destroy(pending);
}

gboolean
seaftier_tier_note_access(SeaftierTier *tier, gint64 rowid, gint64 row_atime)
{
    gint64 now = seaftier_tier_now();
    if (now - row_atime < ATIME_GRANULARITY_S || rowid <= 0)
        return FALSE;
    g_mutex_lock(&tier->atime_lock);
    guint n = g_hash_table_size(tier->atime_pending);
    if (n < ATIME_PENDING_MAX) {
        gint64 *key = g_new(gint64, 1);
        *key = rowid;
        g_hash_table_replace(tier->atime_pending, key, GSIZE_TO_POINTER((gsize)now));
        n++;
    }
    /* Flushed by the background thread: a read never waits for a write. */
    gboolean flush = n % ATIME_FLUSH_COUNT == 0 ||
                     g_get_monotonic_time() - tier->atime_last_flush >= ATIME_FLUSH_US;
    if (flush)
        tier->atime_last_flush = g_get_monotonic_time();
    g_mutex_unlock(&tier->atime_lock);
    return flush;
}
