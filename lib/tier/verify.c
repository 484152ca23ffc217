/* lib/tier/verify.c — a full check of the tier: SQLite's integrity_check,
 * every local copy's CRC32C, and object files no row names (left by a crash
 * between rename and commit; removed once older than an in-flight store
 * could be). Rows are read in rowid chunks so no long transaction blocks
 * writers' checkpoints while gigabytes are being checked.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define VERIFY_CHUNK 64
/* A file younger than this may belong to a store that has not committed. */
#define ORPHAN_MIN_AGE_S 600

typedef struct {
    SeaftierTierEntry entry;
    TierRow row;
    void *blob;
    gsize blob_len;         /* G_MAXSIZE: no blob row */
} VerifyItem;

static void
report(SeaftierTierProblemFunc func, void *user_data, const SeaftierTierEntry *e,
       const char *problem, guint64 *problems)
{
    (*problems)++;
    if (func)
        func(e, problem, user_data);
}

static gboolean
integrity(SeaftierTier *tier, SeaftierTierProblemFunc func, void *user_data, guint64 *problems,
          GError **error)
{
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return FALSE;
    sqlite3_stmt *stmt = seaftier_tier_stmt(conn, "PRAGMA integrity_check", error);
    gboolean ok = stmt != NULL;
    int rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *msg = (const char *)sqlite3_column_text(stmt, 0);
        if (msg && strcmp(msg, "ok") != 0) {
            SeaftierTierEntry none = { 0 };
            char *p = g_strdup_printf("index integrity: %s", msg);
            seaftier_error("tier %s: %s", tier->dir, p);
            report(func, user_data, &none, p, problems);
            g_free(p);
        }
    }
    if (ok && rc != SQLITE_DONE) {
        seaftier_tier_sql_error(error, conn, rc, "integrity check");
        ok = FALSE;
    }
    if (stmt)
        sqlite3_reset(stmt);
    seaftier_tier_conn_put(tier, conn);
    return ok;
}

/* Does a row name this file? */
static gboolean
file_known(TierConn *conn, int type, const char *repo_id, const char *obj_id, gint64 generation,
           GError **error)
{
    TierRow row;
    gboolean found = seaftier_tier_find_row(conn, type, repo_id, obj_id, &row, error);
    return found && row.location == LOC_FILE && row.generation == generation &&
           row.state != SEAFTIER_STATE_DELETED;
}

static void
scan_orphans(SeaftierTier *tier, guint64 *problems, GError **error)
{
    TierConn *conn = seaftier_tier_conn_get(tier, error);
    if (!conn)
        return;
    gint64 now = seaftier_tier_now();
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        char *tdir = g_build_filename(tier->objects_dir, seaftier_tier_type_dir(t), NULL);
        GDir *repos = g_dir_open(tdir, 0, NULL);
        const char *repo;
        while (repos && (repo = g_dir_read_name(repos))) {
            if (!seaftier_valid_repo_id(repo))
                continue;
            char *rdir = g_build_filename(tdir, repo, NULL);
            GDir *fans = g_dir_open(rdir, 0, NULL);
            const char *fan;
            while (fans && (fan = g_dir_read_name(fans))) {
                char *fdir = g_build_filename(rdir, fan, NULL);
                GDir *files = g_dir_open(fdir, 0, NULL);
                const char *name;
                while (files && (name = g_dir_read_name(files))) {
                    char obj[41];
                    const char *dot = strchr(name, '.');
                    if (strlen(fan) != 2 || !dot || dot - name != 38)
                        continue;
                    memcpy(obj, fan, 2);
                    memcpy(obj + 2, name, 38);
                    obj[40] = '\0';
                    gint64 gen = (gint64)g_ascii_strtoull(dot + 1, NULL, 16);
                    if (!seaftier_valid_obj_id(obj))
                        continue;
                    GError *err = NULL;
                    if (file_known(conn, t, repo, obj, gen, &err) || err) {
                        g_clear_error(&err);
                        continue;
                    }
                    char *path = g_build_filename(fdir, name, NULL);
                    struct stat st;
                    if (stat(path, &st) == 0 && now - (gint64)st.st_mtime > ORPHAN_MIN_AGE_S) {
                        seaftier_warning("removing object file no index row names: %s", path);
                        seaftier_tier_file_remove(path);
                        (*problems)++;
                    }
                    g_free(path);
                }
                if (files)
                    g_dir_close(files);
                g_free(fdir);
            }
            if (fans)
                g_dir_close(fans);
            g_free(rdir);
        }
        if (repos)
            g_dir_close(repos);
        g_free(tdir);
    }
    seaftier_tier_conn_put(tier, conn);
}

gboolean
seaftier_tier_verify(SeaftierTier *tier, SeaftierTierProblemFunc func, void *user_data,
                     guint64 *checked, guint64 *problems, GError **error)
{
    guint64 n_checked = 0, n_problems = 0;
    if (!integrity(tier, func, user_data, &n_problems, error))
        return FALSE;

    gint64 last = 0;
    gboolean ok = TRUE, more = TRUE;
    GArray *items = g_array_new(FALSE, TRUE, sizeof(VerifyItem));
    while (ok && more) {
        g_array_set_size(items, 0);
        TierConn *conn = seaftier_tier_conn_get(tier, error);
        sqlite3_stmt *stmt = conn ? seaftier_tier_stmt(conn,
            "SELECT " TIER_ENTRY_COLS_O ", o.synced, b.data FROM objects o LEFT JOIN blobs b"
            " ON b.id = o.id WHERE o.id > ?1 AND o.state IN (0, 1) ORDER BY o.id LIMIT 64",
            error) : NULL;
        if (!stmt) {
            seaftier_tier_conn_put(tier, conn);
            ok = FALSE;
            break;
        }
        sqlite3_bind_int64(stmt, 1, last);
        int rc;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            VerifyItem it = { 0 };
            seaftier_tier_entry_from_stmt(stmt, 0, &it.entry);
            it.row.rowid = sqlite3_column_int64(stmt, 15);
            it.row.location = sqlite3_column_int(stmt, 16);
            it.row.synced = sqlite3_column_int(stmt, 17) != 0;
            it.row.state = it.entry.state;
            it.row.size = it.entry.size;
            it.row.stored_size = it.entry.stored_size;
            it.row.codec = it.entry.codec;
            it.row.checksum = it.entry.checksum;
            it.row.generation = it.entry.generation;
            it.row.atime = it.entry.atime;
            it.row.uploaded = it.entry.uploaded;
            it.blob_len = G_MAXSIZE;
            if (sqlite3_column_type(stmt, 18) != SQLITE_NULL) {
                it.blob_len = (gsize)sqlite3_column_bytes(stmt, 18);
                it.blob = g_memdup2(sqlite3_column_blob(stmt, 18), it.blob_len);
            }
            last = it.row.rowid;
            g_array_append_val(items, it);
        }
        if (rc != SQLITE_DONE) {
            seaftier_tier_sql_error(error, conn, rc, "listing objects to verify");
            ok = FALSE;
        }
        sqlite3_reset(stmt);
        seaftier_tier_conn_put(tier, conn);
        more = items->len == VERIFY_CHUNK;

        for (guint i = 0; i < items->len; i++) {
            VerifyItem *it = &g_array_index(items, VerifyItem, i);
            SeaftierTierEntry *e = &it->entry;
            const char *problem = NULL;
            void *data = NULL;
            GError *err = NULL;
            int r = ok ? seaftier_tier_load(tier, e->type, e->repo_id, e->obj_id, &it->row,
                                            it->blob, it->blob_len, &data, &problem, &err) : 1;
            g_free(data);
            g_free(it->blob);
            if (r == 1)
                n_checked++;
            else if (r == -2) {
                g_propagate_error(error, err);
                ok = FALSE;
            } else {
                if (r == 0 && it->row.location == LOC_FILE) {
                    /* Evicted or deleted since we listed it? Then no problem. */
                    SeaftierTierEntry now;
                    GError *lerr = NULL;
                    if (!seaftier_tier_lookup(tier, e->type, e->repo_id, e->obj_id, &now, &lerr) ||
                        now.generation != e->generation || now.state != e->state) {
                        g_clear_error(&lerr);
                        continue;
                    }
                }
                n_checked++;
                char *msg = g_strdup_printf("%s %s", r == 0 ? "missing" : "corrupt",
                                            problem ? problem : "");
                report(func, user_data, e, msg, &n_problems);
                g_free(msg);
                GError *ignored = NULL;
                seaftier_tier_bad_copy(tier, e->type, e->repo_id, e->obj_id, &it->row, r == 0,
                                       problem, &ignored);
                g_clear_error(&ignored);
            }
        }
    }
    g_array_free(items, TRUE);
    if (ok)
        scan_orphans(tier, &n_problems, NULL);
    if (checked)
        *checked = n_checked;
    if (problems)
        *problems = n_problems;
    return ok;
}
