/* lib/tier/store.c — stores, deletes and listing.
 *
 * A store checks the index first (an id already present is a no-op costing
 * one lookup — for a dirty id written again, plus one read of its copy,
 * which is repaired when missing or damaged), then compresses and checksums
 * outside any lock, writes big objects to their own file, and hands the row
 * to the group committer (commit.c). Non-durable stores are committed with
 * synchronous=NORMAL and their rows marked synced=0; a later durable store of
 * the same dirty id syncs that file and turns into a cheap FULL commit of
 * the flag, so "durable" always means durable without making every store
 * pay an fsync. Fills from S3 carry a ticket (tombstone.c); deletes go
 * through the same committer and always commit with FULL.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"
#include "tier/codec.h"
#include "tier/pieces.h"
#include "tier/crc32c.h"

#include <string.h>

/* Rows per transaction of seaftier_tier_delete_many. */
#define TIER_DELETE_BATCH_MAX 512

static gboolean
check_floor(SeaftierTier *tier, GError **error)
{
    if (tier->min_free_space == 0 || seaftier_tier_fs_free(tier, FALSE) >= tier->min_free_space)
        return TRUE;
    /* Make room from clean objects before refusing anything. */
    GError *err = NULL;
    if (!seaftier_tier_evict(tier, NULL, NULL, &err)) {
        seaftier_warning("eviction for free space in %s failed: %s", tier->dir, err->message);
        g_clear_error(&err);
    }
    guint64 free_bytes = seaftier_tier_fs_free(tier, TRUE);
    if (free_bytes >= tier->min_free_space)
        return TRUE;
    char *f = g_format_size_full(free_bytes, G_FORMAT_SIZE_IEC_UNITS);
    char *m = g_format_size_full(tier->min_free_space, G_FORMAT_SIZE_IEC_UNITS);
    g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL,
                "tier %s is full: its file system has %s free, below min_free_space %s, and no "
                "clean object is left to evict", tier->dir, f, m);
    g_free(f);
    g_free(m);
    return FALSE;
}

/* A full tier is an operator's concern, but a writer retrying in a loop must
 * not flood the log: at most one warning per FULL_WARN_INTERVAL. */
#define FULL_WARN_INTERVAL_US (10 * G_USEC_PER_SEC)

static void
warn_full(SeaftierTier *tier, const char *message)
{
    gint64 now = g_get_monotonic_time();
    gint64 last = TIER_LOAD(&tier->last_full_warning);
    if ((last == 0 || now - last >= FULL_WARN_INTERVAL_US) &&
        __atomic_compare_exchange_n(&tier->last_full_warning, &last, now, FALSE,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        seaftier_warning("%s (writes wait for uploads or go write-through)", message);
}

/* Reads the inline payload of row `rowid` (a copy, g_free'd by the caller);
 * *len = G_MAXSIZE when there is none. */
static gboolean
read_blob(TierConn *conn, gint64 rowid, void **blob, gsize *len, GError **error)
{
    *blob = NULL;
    *len = G_MAXSIZE;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, "SELECT data FROM blobs WHERE id = ?1", error);
    if (!stmt)
        return FALSE;
    sqlite3_bind_int64(stmt, 1, rowid);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *len = (gsize)sqlite3_column_bytes(stmt, 0);
        *blob = g_memdup2(sqlite3_column_blob(stmt, 0), *len ? *len : 1);
    } else if (rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "reading inline data");
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Whether the local copy of a dirty row reads back with its checksum (TRUE),
 * or is missing, damaged or unreadable (FALSE, logged). A rewrite of a dirty
 * object is the one chance to repair it: nobody else holds its bytes; and
 * writing the same bytes again is harmless, so a copy that cannot even be
 * read is rewritten too. */
static gboolean
dirty_copy_intact(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                  const char *obj_id, const TierRow *row, const void *blob, gsize blob_len)
{
    void *data = NULL;
    const char *problem = NULL;
    GError *err = NULL;
    int r = seaftier_tier_load(tier, type, repo_id, obj_id, row, blob, blob_len, &data, &problem,
                               &err);
    g_free(data);
    if (r == 1)
        return TRUE;
    if (r == -2)
        problem = err->message;
    seaftier_warning("dirty %s/%s/%s: local %s was %s%s%s; restored from a new write",
                     seaftier_tier_type_dir(type), repo_id, obj_id,
                     row->location == LOC_FILE ? "file" : "inline copy",
                     r == 0 ? "missing" : r == -2 ? "unreadable" : "damaged",
                     problem ? ": " : "", problem ? problem : "");
    g_clear_error(&err);
    return FALSE;
}

/* A durable store of an id already present as an unsynced dirty row: its
 * file (if any) and its row are made durable; nothing is rewritten. Called
 * after seaftier_tier_commit_prepare(). */
static gboolean
sync_existing(SeaftierTier *tier, SeaftierObjType type, const char *repo_id, const char *obj_id,
              const TierRow *row, gboolean *again, GError **error)
{
    if (row->location == LOC_FILE) {
        char *path = seaftier_tier_file_path(tier, type, repo_id, obj_id, row->generation);
        char *dir = g_path_get_dirname(path);
        GError *err = NULL;
        /* The non-durable store that made the file may also have made its
         * directories: their entries must reach the disk too. */
        gboolean ok = seaftier_tier_fsync_path(path, FALSE, &err) &&
                      seaftier_tier_fsync_path(dir, TRUE, &err) &&
                      seaftier_tier_sync_dir_path(tier, dir, &err);
        /* A file deleted meanwhile is fine: the commit below finds the
         * row gone or changed and does nothing. */
        if (!ok && g_file_test(path, G_FILE_TEST_EXISTS)) {
            g_free(path);
            g_free(dir);
            seaftier_tier_commit_abandon(tier);
            g_propagate_error(error, err);
            return FALSE;
        }
        g_clear_error(&err);
        g_free(path);
        g_free(dir);
    }
    TierCommitEntry e = { 0 };
    e.kind = COMMIT_SYNC;
    e.type = type;
    e.repo_id = repo_id;
    e.obj_id = obj_id;
    e.durable = TRUE;
    e.generation = row->generation;
    gboolean ok = seaftier_tier_commit_entry(tier, &e, error);
    /* Another unsynced copy took the row meanwhile: sync that one. */
    *again = ok && e.stale;
    return ok;
}

/* One attempt. *disk_full is set when it failed with FULL because the file
 * system said so (ENOSPC, SQLITE_FULL), not because of max_size or the
 * free-space floor (which evicted already): making room may help then. */
static gboolean
store_once(SeaftierTier *tier, SeaftierObjType type, const char *repo_id, const char *obj_id,
           const void *data, gsize len, SeaftierState state, gboolean durable,
           const SeaftierTierFillTicket *ticket, gboolean *disk_full, gboolean *again,
           GError **error)
{
    if (state != SEAFTIER_STATE_CLEAN && state != SEAFTIER_STATE_DIRTY) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "cannot store %s/%s/%s as %s", seaftier_tier_type_dir(type), repo_id, obj_id,
                    seaftier_state_name(state));
        return FALSE;
    }
    if (len && !data) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "store of %s/%s/%s without data", seaftier_tier_type_dir(type), repo_id,
                    obj_id);
        return FALSE;
    }

    /* From here on, a group-commit leader may wait for this store. */
    seaftier_tier_commit_prepare(tier);
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn) {
        seaftier_tier_commit_abandon(tier);
        return FALSE;
    }
    TierRow row;
    GError *err = NULL;
    void *blob = NULL;
    gsize blob_len = G_MAXSIZE;
    gboolean found = seaftier_tier_find_row(conn, type, repo_id, obj_id, &row, &err);
    guint32 checksum = seaftier_crc32c(0, data, len);
    /* A write (not a fill) of other bytes under an id the tier holds: Seafile
     * rewrites a commit under the same id when two commits of a library share
     * root, creator, description and second (its commit ids hash those, not
     * the bytes), and its own fs backend keeps the last write. So does the
     * tier: the new bytes become a new dirty version, uploaded again. */
    gboolean new_version = found && state == SEAFTIER_STATE_DIRTY &&
                           (row.state == SEAFTIER_STATE_CLEAN ||
                            row.state == SEAFTIER_STATE_DIRTY) &&
                           (row.size != len || row.checksum != checksum);
    /* A rewrite of a dirty object (not a fill) checks the copy it would
     * otherwise leave as it is. */
    gboolean check = found && !new_version && row.state == SEAFTIER_STATE_DIRTY &&
                     state == SEAFTIER_STATE_DIRTY;
    if (check && row.location == LOC_INLINE)
        read_blob(conn, row.rowid, &blob, &blob_len, &err);
    seaftier_tier_conn_put(tier, conn);
    gboolean intact = TRUE;
    if (!err && check)
        intact = dirty_copy_intact(tier, type, repo_id, obj_id, &row, blob, blob_len);
    g_free(blob);
    if (err) {
        seaftier_tier_commit_abandon(tier);
        g_propagate_error(error, err);
        return FALSE;
    }
    gint64 repair = 0;
    if (new_version) {
        seaftier_info("%s/%s/%s written again with other bytes (%" G_GUINT64_FORMAT " bytes, was %"
                      G_GUINT64_FORMAT "): the new version replaces the %s one",
                      seaftier_tier_type_dir(type), repo_id, obj_id, (guint64)len,
                      (guint64)row.size, seaftier_state_name(row.state));
    } else if (!intact) {
        /* Only a crash (or an operator) damages a dirty object's copy; the
         * writer hands us the very same bytes again: take them, durably,
         * as the copy they replace may have been acknowledged durable. */
        repair = row.generation;
        durable = TRUE;
    } else if (found && (row.state == SEAFTIER_STATE_CLEAN || row.state == SEAFTIER_STATE_DIRTY)) {
        if (!durable || row.state == SEAFTIER_STATE_CLEAN || row.synced) {
            seaftier_tier_commit_abandon(tier);
            return TRUE;
        }
        return sync_existing(tier, type, repo_id, obj_id, &row, again, error);
    }
    if (found && row.state == SEAFTIER_STATE_DELETED && state == SEAFTIER_STATE_CLEAN) {
        seaftier_tier_commit_abandon(tier);
        return TRUE;        /* the delete wins over a fill */
    }
    /* Left: no row, a DELETED row written again, or a REMOTE row (evicted,
     * or seen in S3) that gets a local copy: filled CLEAN, or written DIRTY
     * (uploaded again: the tier does not trust a REMOTE row to hold bytes
     * seaf-server is writing now). */
    if (!check_floor(tier, error)) {
        seaftier_tier_commit_abandon(tier);
        return FALSE;
    }

    guint64 epoch = seaftier_tier_epoch(tier);
    TierCommitEntry e = { 0 };
    e.kind = COMMIT_STORE;
    e.type = type;
    e.repo_id = repo_id;
    e.obj_id = obj_id;
    e.state = state;
    e.durable = durable;
    e.size = len;
    e.checksum = checksum;
    void *encoded = NULL;
    gsize encoded_len = len;
    SeaftierPiecesOut pieces = { 0 };
    e.generation = seaftier_tier_new_generation();
    e.location = len <= tier->inline_max ? LOC_INLINE : LOC_FILE;
    /* Only blocks are compressed. Commits and fs objects are stored as
     * Seafile writes them: it zlib-compresses every fs object of a version-1
     * repo (all repos since Seafile 3.0) itself, and a commit (~500 bytes of
     * JSON, mostly hex ids) saves ~18% with lz4, below the quarter the codec
     * asks for. lz4 could only try and decline on every such write (~0.85 us
     * per 3.3 KB fs object, measured). */
    gboolean compress = tier->compression && type == SEAFTIER_TYPE_BLOCKS;
    if (e.location == LOC_INLINE) {
        e.codec = seaftier_codec_encode(data, len, compress, &encoded, &encoded_len);
        e.stored_size = encoded_len;
        e.blob = encoded ? encoded : data;
    } else {
        /* (a file holds pieces, each raw or lz4: pieces.h) */
        if (!seaftier_pieces_encode(data, len, checksum, compress, &pieces, error)) {
            seaftier_tier_commit_abandon(tier);
            return FALSE;
        }
        e.codec = SEAFTIER_CODEC_PIECES;
        e.stored_size = pieces.file_len - SEAFTIER_FILE_HEADER_LEN;
    }
    e.repair_generation = repair;
    e.new_version_of = new_version ? row.generation : 0;
    e.ticket = ticket;

    char *path = NULL, *dir = NULL;
    gboolean ok = TRUE;
    if (e.location == LOC_FILE) {
        path = seaftier_tier_file_path(tier, type, repo_id, obj_id, e.generation);
        /* Writing (and syncing) a file takes far longer than a leader would
         * wait for it: not announced meanwhile. */
        seaftier_tier_commit_abandon(tier);
        ok = seaftier_tier_file_write(tier, path, pieces.iov, pieces.iov_n, durable, error);
        seaftier_tier_commit_resume(tier);
        dir = g_path_get_dirname(path);
        e.file_dir = dir;
    }
    if (ok)
        ok = seaftier_tier_commit_entry(tier, &e, error);
    else
        seaftier_tier_commit_abandon(tier);
    if (path && (!ok || !e.applied))
        seaftier_tier_file_remove(path);    /* never committed, or another version won */
    if (ok && e.applied && e.replaced_generation) {
        char *old_path = seaftier_tier_file_path(tier, type, repo_id, obj_id,
                                                 e.replaced_generation);
        seaftier_tier_file_remove(old_path);    /* the row names the new copy now */
        g_free(old_path);
    }
    if (ok && e.applied)
        seaftier_tier_count(tier, TIER_BYTES_WRITTEN, len);
    if (ok && e.applied && tier->ram && len <= tier->inline_max)
        seaftier_ram_put(tier->ram, type, repo_id, obj_id, data, len, e.rowid, epoch,
                         seaftier_tier_now());
    if (ok && !e.applied && !found)
        seaftier_debug("%s/%s/%s stored concurrently by another writer",
                       seaftier_tier_type_dir(type), repo_id, obj_id);
    if (!ok && !e.over_limit && g_error_matches(error ? *error : NULL, SEAFTIER_TIER_ERROR,
                                                SEAFTIER_TIER_ERROR_FULL))
        *disk_full = TRUE;
    g_free(encoded);
    seaftier_pieces_out_clear(&pieces);
    g_free(path);
    g_free(dir);
    if (ok)
        seaftier_tier_maybe_evict(tier);
    return ok;
}

/* How often a durable store follows a row that another unsynced copy took
 * over meanwhile, before it gives up. */
#define STORE_ATTEMPTS 4

static gboolean
store_with_room(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                const char *obj_id, const void *data, gsize len, SeaftierState state,
                gboolean durable, const SeaftierTierFillTicket *ticket, GError **error)
{
    if (!seaftier_tier_check_ids(type, repo_id, obj_id, error))
        return FALSE;
    GError *err = NULL;
    gboolean disk_full = FALSE, again = FALSE;
    gboolean ok = FALSE;
    for (int attempt = 0; attempt < STORE_ATTEMPTS; attempt++) {
        again = FALSE;
        ok = store_once(tier, type, repo_id, obj_id, data, len, state, durable, ticket,
                        &disk_full, &again, &err);
        if (!again)
            break;
    }
    if (again) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "durable store of %s/%s/%s: its row kept changing to other unsynced copies",
                    seaftier_tier_type_dir(type), repo_id, obj_id);
        return FALSE;
    }
    if (!ok && disk_full) {
        /* No floor configured (or it is too small): the file system itself
         * ran out. Clean objects can go (S3 has them): make room, retry once. */
        guint64 objects = 0;
        GError *everr = NULL;
        if (!seaftier_tier_evict_for_room(tier, len + TIER_FULL_ROOM, &objects, NULL, &everr)) {
            seaftier_warning("tier %s: no room for %s/%s/%s (%s), and evicting clean objects "
                             "failed: %s", tier->dir, seaftier_tier_type_dir(type), repo_id,
                             obj_id, err->message, everr->message);
            g_error_free(everr);
        } else if (objects) {
            g_clear_error(&err);
            disk_full = FALSE;
            ok = store_once(tier, type, repo_id, obj_id, data, len, state, durable, ticket,
                            &disk_full, &again, &err);
            if (ok && again)
                ok = store_once(tier, type, repo_id, obj_id, data, len, state, durable, ticket,
                                &disk_full, &again, &err);
        }
    }
    if (!ok && g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL))
        warn_full(tier, err->message);
    if (!ok)
        g_propagate_error(error, err);
    return ok;
}

gboolean
seaftier_tier_store(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                    const char *obj_id, const void *data, gsize len, SeaftierState state,
                    gboolean durable, GError **error)
{
    return store_with_room(tier, type, repo_id, obj_id, data, len, state, durable, NULL, error);
}

gboolean
seaftier_tier_store_fill(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                         const char *obj_id, const void *data, gsize len,
                         const SeaftierTierFillTicket *ticket, GError **error)
{
    g_return_val_if_fail(ticket != NULL, FALSE);
    return store_with_room(tier, type, repo_id, obj_id, data, len, SEAFTIER_STATE_CLEAN, FALSE,
                           ticket, error);
}

/* Deletes hand their rows to the group committer like stores: each is
 * durable (its batch commits FULL) before it returns, and concurrent deletes
 * — and a list given at once — share one transaction and one WAL fsync.
 * The DELETED row is what seaftierd sends the S3 DELETE for, so it must be
 * on stable storage first: a row coming back (clean) after a power failure
 * would name an object S3 no longer has. A file goes only after its row. */
static gboolean
delete_entries(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
               const char *const *obj_ids, guint n, GError **error)
{
    TierCommitEntry *entries = g_new0(TierCommitEntry, n);
    TierCommitEntry **queue = g_new(TierCommitEntry *, n);
    for (guint i = 0; i < n; i++) {
        entries[i].kind = COMMIT_DELETE;
        entries[i].type = type;
        entries[i].repo_id = repo_id;
        entries[i].obj_id = obj_ids[i];
        entries[i].state = SEAFTIER_STATE_DELETED;
        entries[i].durable = TRUE;
        queue[i] = &entries[i];
    }
    seaftier_tier_commit_entries(tier, queue, n);
    gboolean ok = TRUE, any_gone = FALSE;
    for (guint i = 0; i < n; i++) {
        TierCommitEntry *e = &entries[i];
        if (e->error) {
            if (ok)
                g_propagate_prefixed_error(error, g_steal_pointer(&e->error),
                                           "cannot delete %s/%s/%s%s: ",
                                           seaftier_tier_type_dir(type), repo_id, obj_ids[i],
                                           n > 1 ? " (and the rest of its batch)" : "");
            g_clear_error(&e->error);
            ok = FALSE;
            continue;
        }
        if (e->data_gone) {
            seaftier_tier_forget_data(tier, type, repo_id, obj_ids[i], e->gone_location,
                                      e->gone_generation);
            any_gone = TRUE;
        }
    }
    if (any_gone)
        seaftier_tier_bump_epoch(tier);
    g_free(queue);
    g_free(entries);
    return ok;
}

gboolean
seaftier_tier_delete(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                     const char *obj_id, GError **error)
{
    if (!seaftier_tier_check_ids(type, repo_id, obj_id, error))
        return FALSE;
    return delete_entries(tier, type, repo_id, &obj_id, 1, error);
}

gboolean
seaftier_tier_delete_many(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                          const char *const *obj_ids, guint n, GError **error)
{
    for (guint i = 0; i < n; i++)
        if (!seaftier_tier_check_ids(type, repo_id, obj_ids[i], error))
            return FALSE;
    /* Bounded transactions: stores queued behind a batch wait for all of it. */
    for (guint done = 0; done < n; done += TIER_DELETE_BATCH_MAX)
        if (!delete_entries(tier, type, repo_id, obj_ids + done,
                            MIN(n - done, TIER_DELETE_BATCH_MAX), error))
            return FALSE;
    return TRUE;
}

gboolean
seaftier_tier_foreach(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                      unsigned state_mask, SeaftierTierFunc func, void *user_data, GError **error)
{
    if (!seaftier_tier_check_type((int)type, error) ||
        (repo_id && !seaftier_tier_check_repo(repo_id, error)))
        return FALSE;
    /* Each chunk seeks past the previous one: in key order (the unique
     * index) within a repo, in rowid order otherwise. */
    const char *sql = repo_id
        ? "SELECT " TIER_ENTRY_COLS " FROM objects WHERE type = ?1 AND repo_id = ?2"
          " AND obj_id > ?5 AND ((1 << state) & ?3) != 0 ORDER BY obj_id LIMIT 512"
        : "SELECT " TIER_ENTRY_COLS " FROM objects WHERE type = ?1"
          " AND ((1 << state) & ?3) != 0 AND id > ?4 ORDER BY id LIMIT 512";
    gint64 last = 0;
    char last_obj[41] = "";
    TierIdKey repo_key, last_key;
    GArray *chunk = g_array_new(FALSE, FALSE, sizeof(SeaftierTierEntry));
    gboolean ok = TRUE, more = TRUE;
    /* Chunks of rows, with no statement open while `func` runs: it may
     * store or delete, and long read transactions would stall checkpoints. */
    while (ok && more) {
        g_array_set_size(chunk, 0);
        TierConn *conn = seaftier_tier_conn_get(tier, error);
        sqlite3_stmt *stmt = conn ? seaftier_tier_stmt(conn, sql, error) : NULL;
        if (!stmt) {
            seaftier_tier_conn_put(tier, conn);
            ok = FALSE;
            break;
        }
        sqlite3_bind_int(stmt, 1, type);
        if (repo_id)
            seaftier_tier_bind_id(stmt, 2, repo_id, &repo_key);
        sqlite3_bind_int64(stmt, 3, state_mask);
        if (repo_id)
            seaftier_tier_bind_id(stmt, 5, last_obj, &last_key);
        else
            sqlite3_bind_int64(stmt, 4, last);
        int rc;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            SeaftierTierEntry e;
            seaftier_tier_entry_from_stmt(stmt, 0, &e);
            last = sqlite3_column_int64(stmt, 15);
            g_array_append_val(chunk, e);
        }
        if (chunk->len)
            memcpy(last_obj, g_array_index(chunk, SeaftierTierEntry, chunk->len - 1).obj_id,
                   sizeof(last_obj));
        if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(error, conn, rc, "listing objects");
            ok = FALSE;
        }
        sqlite3_reset(stmt);
        seaftier_tier_conn_put(tier, conn);
        more = chunk->len == 512;
        for (guint i = 0; ok && i < chunk->len; i++) {
            if (!func(&g_array_index(chunk, SeaftierTierEntry, i), user_data)) {
                more = FALSE;
                break;
            }
        }
    }
    g_array_free(chunk, TRUE);
    return ok;
}
