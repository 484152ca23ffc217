/* lib/tier/tombstone.c — fill tickets and the tombstones they are checked
 * against.
 *
 * A read-through fill GETs an object from S3 and then stores it CLEAN. If,
 * between the two, the object is deleted, seaftierd sends the S3 DELETE and
 * forgets the DELETED row, a plain CLEAN store would bring the object back:
 * the tier would call it present while S3 has nothing, and a later write of
 * the same id would be taken for a no-op. So a fill takes a ticket before
 * its GET (the sequence number of the last forgotten delete) and its store
 * is refused when a delete of that key was forgotten after the ticket; a
 * delete still pending is seen as the DELETED row itself.
 *
 * Tombstones are rows of `tombstones` written in the transaction that
 * forgets a DELETED row; the sequence (AUTOINCREMENT) never goes back, so a
 * ticket compares with every later forget. They are pruned after
 * TOMBSTONE_KEEP_S; a ticket older than half of that is refused outright,
 * so no tombstone it would have needed can have been pruned yet.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

/* How long a forgotten delete is remembered. */
#define TOMBSTONE_KEEP_S (2 * 3600)
/* A ticket is good for this long (a GET is bounded by the S3 timeouts). */
#define TICKET_MAX_AGE_S (TOMBSTONE_KEEP_S / 2)

gboolean
seaftier_tier_fill_ticket(SeaftierTier *tier, SeaftierTierFillTicket *ticket, GError **error)
{
    ticket->taken = seaftier_tier_now();
    ticket->seq = 0;
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT seq FROM sqlite_sequence WHERE name = 'tombstones'", error);
    gboolean ok = stmt != NULL;
    if (stmt) {
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW)
            ticket->seq = sqlite3_column_int64(stmt, 0);
        else if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(error, conn, rc, "taking a fill ticket");
            ok = FALSE;
        }
        sqlite3_reset(stmt);
    }
    seaftier_tier_conn_put(tier, conn);
    return ok;
}

gboolean
seaftier_tier_tombstone_add(TierConn *conn, SeaftierObjType type, const char *repo_id,
                            const char *obj_id, GError **error)
{
    gint64 now = seaftier_tier_now();
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "INSERT INTO tombstones (type, repo_id, obj_id, forgotten) VALUES (?1, ?2, ?3, ?4)",
        error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int(stmt, 1, type);
    sqlite3_bind_text(stmt, 2, repo_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, obj_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, now);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "recording a forgotten delete");
        return FALSE;
    }
    stmt = seaftier_tier_stmt(conn, "DELETE FROM tombstones WHERE forgotten < ?1", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, now - TOMBSTONE_KEEP_S);
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "pruning forgotten deletes");
        return FALSE;
    }
    return TRUE;
}

gboolean
seaftier_tier_ticket_expired(const SeaftierTierFillTicket *ticket)
{
    gint64 age = seaftier_tier_now() - ticket->taken;
    return age > TICKET_MAX_AGE_S || age < -TICKET_MAX_AGE_S;
}

int
seaftier_tier_ticket_valid(TierConn *conn, const SeaftierTierFillTicket *ticket,
                           SeaftierObjType type, const char *repo_id, const char *obj_id,
                           GError **error)
{
    if (seaftier_tier_ticket_expired(ticket))
        return 0;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn,
        "SELECT 1 FROM tombstones WHERE type = ?1 AND repo_id = ?2 AND obj_id = ?3 AND seq > ?4"
        " LIMIT 1", error);
    if (!stmt)
        return -1;
    sqlite3_bind_int(stmt, 1, type);
    sqlite3_bind_text(stmt, 2, repo_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, obj_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, ticket->seq);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "checking a fill ticket");
        return -1;
    }
    return 1;
}
