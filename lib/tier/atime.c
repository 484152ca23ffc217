/* lib/tier/atime.c — lazy access times.
 *
 * Reads never write the index: an access is noted in memory (only when the
 * recorded time is older than the granularity) and the pending times are
 * written in one transaction by the background thread (evict.c) or before
 * an eviction, which is the only thing they steer. This file calls nothing
 * of the background thread: the reader that notes an access is told when a
 * flush is due and asks for it itself.
 *
 * The granularity follows the eviction horizon H (now minus the oldest
 * clean object's access time, what eviction takes next): H / 64, at least
 * a minute, at most a day. A recorded time is then at most H / 64 behind the
 * last access, so no object read within the horizon's last 63/64 is
 * mistaken for the oldest; and a tier that keeps weeks of objects rewrites
 * a hot object's row every few hours, not every minute — each such write a
 * random page of an index that may hold tens of millions of rows.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

gint64
seaftier_tier_atime_granularity(SeaftierTier *tier)
{
    gint64 g = TIER_LOAD(&tier->atime_granularity_s);
    return g > 0 ? g : ATIME_GRANULARITY_MIN_S;
}

void
seaftier_tier_atime_horizon_refresh(SeaftierTier *tier)
{
    g_mutex_lock(&tier->atime_lock);
    tier->atime_horizon_checked = g_get_monotonic_time();
    g_mutex_unlock(&tier->atime_lock);
    TierConn *conn = seaftier_tier_conn_get(tier, NULL);
    sqlite3_stmt *stmt = conn ? seaftier_tier_stmt(conn,
        "SELECT min(atime) FROM objects WHERE state = 0", NULL) : NULL;
    if (stmt) {
        int rc = sqlite3_step(stmt);
        gint64 oldest = rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL
                            ? sqlite3_column_int64(stmt, 0) : -1;
        sqlite3_reset(stmt);
        gint64 g = oldest < 0 ? ATIME_GRANULARITY_MIN_S
                              : (seaftier_tier_now() - oldest) / ATIME_HORIZON_FRACTION;
        /* (kept as it was on an error) */
        if (rc == SQLITE_ROW)
            TIER_STORE(&tier->atime_granularity_s,
                       CLAMP(g, ATIME_GRANULARITY_MIN_S, ATIME_GRANULARITY_MAX_S));
    }
    seaftier_tier_conn_put(tier, conn);
}

void
seaftier_tier_atime_flush(SeaftierTier *tier)
{
    g_mutex_lock(&tier->atime_lock);
    GHashTable *pending = tier->atime_pending;
    tier->atime_pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    tier->atime_last_flush = g_get_monotonic_time();
    gboolean refresh =
        tier->atime_last_flush - tier->atime_horizon_checked >= ATIME_HORIZON_REFRESH_US;
    g_mutex_unlock(&tier->atime_lock);
    if (refresh)
        seaftier_tier_atime_horizon_refresh(tier);
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
    if (now - row_atime < seaftier_tier_atime_granularity(tier) || rowid <= 0)
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
