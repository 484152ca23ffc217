/* Unit tests of what the tier's index knows about S3 (lib/tier/remote.c and
 * the REMOTE state): evicted rows kept as REMOTE, fills and writes over
 * them, deletes of them, rows remembered from a HEAD or a listing under a
 * fill ticket, the completeness flag, and the in-place upgrade of an index
 * made by schema 1. Real SQLite index in a temporary directory; no network. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>

#include <glib/gstdio.h>

#include <seaftier/log.h>

#include "tier/crc32c.h"
#include "tier/tier.h"
#include "tier-testutil.h"

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define BUCKET "seaftier-fs"

#define FIXTURE_FIELDS \
    .name = "test_tier_remote", .ram_cache_size = 1024 * 1024, .inline_max = 4096
static const TuFixtureSpec fixture = { FIXTURE_FIELDS };
/* Without an open tier: the upgrade test makes its index first. */
static const TuFixtureSpec fixture_closed = { FIXTURE_FIELDS, .closed = TRUE };

static void
store_ok(SeaftierTier *t, SeaftierObjType type, const char *id, const void *data, gsize len,
         SeaftierState st)
{
    tu_store_ok(t, type, REPO, id, data, len, st, st == SEAFTIER_STATE_DIRTY);
}

static void
read_expect(SeaftierTier *t, SeaftierObjType type, const char *id, const void *data, gsize len)
{
    tu_read_expect(t, type, REPO, id, data, len);
}

static void
read_fails(SeaftierTier *t, SeaftierObjType type, const char *id, int code)
{
    tu_read_fails(t, type, REPO, id, code);
}

/* The row's state, or -1 when there is none. */
static int
state_of(SeaftierTier *t, SeaftierObjType type, const char *id, SeaftierTierEntry *e)
{
    SeaftierTierEntry tmp;
    GError *err = NULL;
    gboolean found = seaftier_tier_lookup(t, type, REPO, id, e ? e : &tmp, &err);
    assert_null(err);
    return found ? (int)(e ? e : &tmp)->state : -1;
}

static gint64
sql_int(TuFixture *fx, const char *sql)
{
    return tu_sql_int(fx->dir, sql);
}

/* ---- tests ---- */

/* Eviction keeps a REMOTE row: no data (file and inline bytes gone, not
 * counted in used bytes), its size kept; reads answer NOT_FOUND (a miss). */
static void
test_evict_keeps_remote_row(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char small_id[41], big_id[41];
    tu_make_id(1, small_id);
    tu_make_id(2, big_id);
    unsigned char big[10000];
    for (gsize i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)g_random_int();
    store_ok(fx->tier, SEAFTIER_TYPE_FS, small_id, "small", 5, SEAFTIER_STATE_CLEAN);
    store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, big_id, big, sizeof(big), SEAFTIER_STATE_CLEAN);
    guint64 n = 0;
    assert_true(seaftier_tier_evict_clean(fx->tier, NULL, &n, &err));
    assert_int_equal(n, 2);

    SeaftierTierEntry e;
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_FS, small_id, &e), SEAFTIER_STATE_REMOTE);
    assert_int_equal(e.size, 5);
    assert_int_equal(e.stored_size, 0);
    assert_true(e.uploaded);
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, big_id, &e), SEAFTIER_STATE_REMOTE);
    assert_int_equal(e.size, sizeof(big));
    read_fails(fx->tier, SEAFTIER_TYPE_FS, small_id, SEAFTIER_TIER_ERROR_NOT_FOUND);
    read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, big_id, SEAFTIER_TIER_ERROR_NOT_FOUND);
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM blobs"), 0);

    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.used_bytes, 0);
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_REMOTE], 1);
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_REMOTE], 1);
    assert_int_equal(st.bytes[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_REMOTE], sizeof(big));
    assert_int_equal(st.stored_bytes[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_REMOTE], 0);
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_CLEAN], 0);
    tu_assert_usage_matches_rows(fx->dir);

    /* Evicting again finds nothing to do; evict_one says there is no copy. */
    assert_true(seaftier_tier_evict_clean(fx->tier, NULL, &n, &err));
    assert_int_equal(n, 0);
    assert_false(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_FS, REPO, small_id, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND));
    g_clear_error(&err);
    /* Integrity checks pass over rows without data. */
    guint64 checked = 0, problems = 0;
    assert_true(seaftier_tier_verify(fx->tier, NULL, NULL, &checked, &problems, &err));
    assert_int_equal(problems, 0);
    /* Nothing to upload, nothing to delete remotely. */
    GPtrArray *b = seaftier_tier_dirty_batch(fx->tier, -1, NULL, 10, G_MAXINT64, &err);
    assert_int_equal(b->len, 0);
    g_ptr_array_free(b, TRUE);
    b = seaftier_tier_deleted_batch(fx->tier, -1, 10, &err);
    assert_int_equal(b->len, 0);
    g_ptr_array_free(b, TRUE);
}

/* A fill over a REMOTE row makes it CLEAN again; a write makes it DIRTY (to
 * be uploaded); a delete makes it DELETED (the remote delete is carried). */
static void
test_fill_write_delete_over_remote(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char a[41], b[41], c[41];
    tu_make_id(10, a);
    tu_make_id(11, b);
    tu_make_id(12, c);
    store_ok(fx->tier, SEAFTIER_TYPE_FS, a, "aaaa", 4, SEAFTIER_STATE_CLEAN);
    store_ok(fx->tier, SEAFTIER_TYPE_FS, b, "bbbb", 4, SEAFTIER_STATE_CLEAN);
    store_ok(fx->tier, SEAFTIER_TYPE_FS, c, "cccc", 4, SEAFTIER_STATE_CLEAN);
    guint64 n = 0;
    assert_true(seaftier_tier_evict_clean(fx->tier, NULL, &n, &err));
    assert_int_equal(n, 3);

    SeaftierTierFillTicket ticket;
    assert_true(seaftier_tier_fill_ticket(fx->tier, &ticket, &err));
    assert_true(seaftier_tier_store_fill(fx->tier, SEAFTIER_TYPE_FS, REPO, a, "aaaa", 4, &ticket,
                                         &err));
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_FS, a, NULL), SEAFTIER_STATE_CLEAN);
    read_expect(fx->tier, SEAFTIER_TYPE_FS, a, "aaaa", 4);

    store_ok(fx->tier, SEAFTIER_TYPE_FS, b, "bbbb", 4, SEAFTIER_STATE_DIRTY);
    SeaftierTierEntry e;
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_FS, b, &e), SEAFTIER_STATE_DIRTY);
    assert_true(e.uploaded);
    read_expect(fx->tier, SEAFTIER_TYPE_FS, b, "bbbb", 4);
    GPtrArray *batch = seaftier_tier_dirty_batch(fx->tier, -1, NULL, 10, G_MAXINT64, &err);
    assert_int_equal(batch->len, 1);
    assert_string_equal(((SeaftierTierEntry *)batch->pdata[0])->obj_id, b);
    g_ptr_array_free(batch, TRUE);

    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, c, &err));
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_FS, c, NULL), SEAFTIER_STATE_DELETED);
    read_fails(fx->tier, SEAFTIER_TYPE_FS, c, SEAFTIER_TIER_ERROR_DELETED);
    batch = seaftier_tier_deleted_batch(fx->tier, -1, 10, &err);
    assert_int_equal(batch->len, 1);
    assert_string_equal(((SeaftierTierEntry *)batch->pdata[0])->obj_id, c);
    g_ptr_array_free(batch, TRUE);
    tu_assert_usage_matches_rows(fx->dir);
}

/* Rows remembered from a HEAD or a listing: inserted only where there is no
 * row, and never for a key whose delete was carried out and forgotten after
 * the ticket (the listing saw it before it went). */
static void
test_remember_remote(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char ids[5][41];
    for (int i = 0; i < 5; i++)
        tu_make_id(20 + i, ids[i]);
    store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[0], "dirty", 5, SEAFTIER_STATE_DIRTY);
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ids[1], &err));

    /* ids[2] is deleted and the delete forgotten after the ticket was taken. */
    SeaftierTierFillTicket ticket;
    assert_true(seaftier_tier_fill_ticket(fx->tier, &ticket, &err));
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ids[2], &err));
    SeaftierTierEntry e;
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[2], &e), SEAFTIER_STATE_DELETED);
    assert_true(seaftier_tier_forget_deleted(fx->tier, &e, &err));
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[2], NULL), -1);

    SeaftierTierRemoteObject listing[5];
    for (int i = 0; i < 5; i++)
        listing[i] = (SeaftierTierRemoteObject){ .repo_id = REPO, .obj_id = ids[i],
                                                 .size = 1000 + (guint64)i };
    guint added = 99;
    assert_true(seaftier_tier_remember_remote_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, listing, 5,
                                                    &ticket, &added, &err));
    assert_null(err);
    assert_int_equal(added, 2);     /* ids[3] and ids[4] */
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[0], NULL), SEAFTIER_STATE_DIRTY);
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[1], NULL),
                     SEAFTIER_STATE_DELETED);
    /* ids[2]: its delete is pending again — S3 must end without it, whether
     * the listing (or a PUT) came before or after the DELETE. */
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[2], &e), SEAFTIER_STATE_DELETED);
    assert_true(e.uploaded);
    GPtrArray *due = seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, 100, &err);
    assert_non_null(due);
    gboolean queued = FALSE;
    for (guint i = 0; i < due->len; i++)
        queued |= strcmp(((SeaftierTierEntry *)g_ptr_array_index(due, i))->obj_id, ids[2]) == 0;
    assert_true(queued);
    g_ptr_array_free(due, TRUE);
    assert_true(seaftier_tier_forget_deleted(fx->tier, &e, &err));
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[3], &e), SEAFTIER_STATE_REMOTE);
    assert_int_equal(e.size, 1003);
    assert_int_equal(e.stored_size, 0);
    read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[3], SEAFTIER_TIER_ERROR_NOT_FOUND);

    /* A fresh ticket: ids[2] may be remembered now (seen after the delete). */
    assert_true(seaftier_tier_fill_ticket(fx->tier, &ticket, &err));
    assert_true(seaftier_tier_remember_remote(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ids[2], 7,
                                              &ticket, &err));
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[2], NULL),
                     SEAFTIER_STATE_REMOTE);
    /* Remembering again changes nothing. */
    assert_true(seaftier_tier_remember_remote_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, listing, 5,
                                                    &ticket, &added, &err));
    assert_int_equal(added, 0);

    /* A bad id in a batch: nothing of it is recorded. */
    char other[41];
    tu_make_id(30, other);
    SeaftierTierRemoteObject bad[2] = { { REPO, other, 1 }, { REPO, "../../etc/passwd", 1 } };
    assert_false(seaftier_tier_remember_remote_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, bad, 2,
                                                     &ticket, &added, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
    g_clear_error(&err);
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, other, NULL), -1);
    tu_assert_usage_matches_rows(fx->dir);
}

/* A listing (or a HEAD) under a ticket older than the forgotten delete of
 * its key records that delete again only where the key has no row: a key
 * written again since keeps its row. The pending delete has no local copy,
 * size 0 (not the listing's size), `uploaded` set, is synced and due at once. */
static void
test_remember_after_forgotten_delete(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char again[41], gone[41];
    tu_make_id(50, again);
    tu_make_id(51, gone);
    SeaftierTierFillTicket ticket;
    assert_true(seaftier_tier_fill_ticket(fx->tier, &ticket, &err));
    const char *ids[] = { again, gone };
    for (int i = 0; i < 2; i++) {
        SeaftierTierEntry e;
        store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[i], "old bytes", 9, SEAFTIER_STATE_DIRTY);
        assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ids[i], &err));
        assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, ids[i], &e),
                         SEAFTIER_STATE_DELETED);
        assert_true(seaftier_tier_forget_deleted(fx->tier, &e, &err));
    }
    store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, again, "new bytes", 9, SEAFTIER_STATE_DIRTY);

    SeaftierTierRemoteObject listing[2] = { { REPO, again, 1000 }, { REPO, gone, 1000 } };
    guint added = 99;
    assert_true(seaftier_tier_remember_remote_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, listing, 2,
                                                    &ticket, &added, &err));
    assert_null(err);
    assert_int_equal(added, 0);
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_BLOCKS, again, NULL), SEAFTIER_STATE_DIRTY);
    read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, again, "new bytes", 9);
    tu_assert_row_columns(fx->dir, SEAFTIER_TYPE_BLOCKS, REPO, gone,
                          "state 2 size 0 stored_size 0 codec 0 checksum 0 location 0"
                          " uploaded 1 synced 1 attempts 0 retry_at 0 last_error ''");
    GPtrArray *due = seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, 10, &err);
    assert_non_null(due);
    assert_int_equal(due->len, 1);
    assert_string_equal(((SeaftierTierEntry *)due->pdata[0])->obj_id, gone);
    g_ptr_array_free(due, TRUE);
    tu_assert_usage_matches_rows(fx->dir);
}

/* The completeness flag: per type, names its bucket, survives a reopen, is
 * seen by another handle, and can be taken back. */
static void
test_complete_flag(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    gboolean complete = TRUE;
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, &complete, &err));
    assert_false(complete);
    assert_true(seaftier_tier_set_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, TRUE, &err));
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, &complete, &err));
    assert_true(complete);
    /* Another type, another bucket: not complete. */
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_BLOCKS, BUCKET, &complete,
                                          &err));
    assert_false(complete);
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_FS, "another-bucket",
                                          &complete, &err));
    assert_false(complete);
    /* A second handle (another process would be the same) sees it. */
    SeaftierTier *second = tu_open_tier(&fx->cfg, fx->dir);
    assert_true(seaftier_tier_is_complete(second, SEAFTIER_TYPE_FS, BUCKET, &complete, &err));
    assert_true(complete);
    seaftier_tier_close(second);
    tu_fixture_reopen(fx);
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, &complete, &err));
    assert_true(complete);
    /* Taken back: this handle forgets it at once, a new one reads it. */
    assert_true(seaftier_tier_set_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, FALSE, &err));
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, &complete, &err));
    assert_false(complete);
    tu_fixture_reopen(fx);
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, &complete, &err));
    assert_false(complete);
    assert_false(seaftier_tier_is_complete(fx->tier, (SeaftierObjType)7, BUCKET, &complete,
                                           &err));
    g_clear_error(&err);

    /* Notes. */
    char *v = (char *)0x1;
    assert_true(seaftier_tier_meta_get(fx->tier, "import/fs", &v, &err));
    assert_null(v);
    assert_true(seaftier_tier_meta_set(fx->tier, "import/fs", "after-this-key", &err));
    assert_true(seaftier_tier_meta_set(fx->tier, "import/fs", "after-that-key", &err));
    tu_fixture_reopen(fx);
    assert_true(seaftier_tier_meta_get(fx->tier, "import/fs", &v, &err));
    assert_string_equal(v, "after-that-key");
    g_free(v);
    assert_true(seaftier_tier_meta_set(fx->tier, "import/fs", NULL, &err));
    assert_true(seaftier_tier_meta_get(fx->tier, "import/fs", &v, &err));
    assert_null(v);
}

/* The index schema 1 (as the previous version of the tier created it,
 * counters and tombstones included): the upgrade test's fixture. */
static const char *const schema_v1_fixture =
    "CREATE TABLE objects ("
    " id INTEGER PRIMARY KEY,"
    " type INTEGER NOT NULL,"
    " repo_id TEXT NOT NULL,"
    " obj_id TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " stored_size INTEGER NOT NULL,"
    " codec INTEGER NOT NULL,"
    " checksum INTEGER NOT NULL,"
    " location INTEGER NOT NULL,"        /* 0 inline (blobs), 1 file */
    " created INTEGER NOT NULL,"
    " atime INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " retry_at INTEGER NOT NULL DEFAULT 0,"
    " generation INTEGER NOT NULL,"
    " uploaded INTEGER NOT NULL DEFAULT 0,"
    " synced INTEGER NOT NULL DEFAULT 1,"  /* committed with synchronous=FULL */
    " last_error TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX objects_key ON objects(type, repo_id, obj_id);"
    "CREATE INDEX objects_dirty ON objects(created) WHERE state = 1;"
    "CREATE INDEX objects_lru ON objects(atime) WHERE state = 0;"
    "CREATE INDEX objects_deleted ON objects(retry_at) WHERE state = 2;"
    "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE usage ("
    " type INTEGER NOT NULL, state INTEGER NOT NULL,"
    " objects INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " stored_bytes INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (type, state));"
    "INSERT INTO usage (type, state) VALUES (0,0),(0,1),(0,2),(1,0),(1,1),(1,2),(2,0),(2,1),(2,2);"
    "CREATE TRIGGER objects_ins AFTER INSERT ON objects BEGIN"
    " UPDATE usage SET objects = objects + 1, bytes = bytes + NEW.size,"
    "  stored_bytes = stored_bytes + NEW.stored_size WHERE type = NEW.type AND state = NEW.state;"
    " END;"
    "CREATE TRIGGER objects_del AFTER DELETE ON objects BEGIN"
    " UPDATE usage SET objects = objects - 1, bytes = bytes - OLD.size,"
    "  stored_bytes = stored_bytes - OLD.stored_size WHERE type = OLD.type AND state = OLD.state;"
    " DELETE FROM blobs WHERE id = OLD.id;"
    " END;"
    "CREATE TRIGGER objects_upd AFTER UPDATE OF type, state, size, stored_size ON objects BEGIN"
    " UPDATE usage SET objects = objects - 1, bytes = bytes - OLD.size,"
    "  stored_bytes = stored_bytes - OLD.stored_size WHERE type = OLD.type AND state = OLD.state;"
    " UPDATE usage SET objects = objects + 1, bytes = bytes + NEW.size,"
    "  stored_bytes = stored_bytes + NEW.stored_size WHERE type = NEW.type AND state = NEW.state;"
    " END;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE tombstones (seq INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER NOT NULL,"
    " repo_id TEXT NOT NULL, obj_id TEXT NOT NULL, forgotten INTEGER NOT NULL);"
    "CREATE INDEX tombstones_key ON tombstones(type, repo_id, obj_id, seq);"
    "CREATE INDEX tombstones_age ON tombstones(forgotten);"
    "PRAGMA user_version=1;";

static void
exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* Inserts an inline row (raw codec) with its blob, as schema-1 code did. */
static void
v1_insert(sqlite3 *db, int type, const char *id, int state, const char *data)
{
    gsize len = data ? strlen(data) : 0;
    char *sql = g_strdup_printf(
        "INSERT INTO objects (type, repo_id, obj_id, state, size, stored_size, codec, checksum,"
        " location, created, atime, generation, uploaded, synced)"
        " VALUES (%d, '%s', '%s', %d, %zu, %zu, 0, %u, 0, 1000, 1000, %d, %d, 1)",
        type, REPO, id, state, len, len, data ? seaftier_crc32c(0, data, len) : 0u,
        1 + type, state == SEAFTIER_STATE_CLEAN || state == SEAFTIER_STATE_DELETED);
    exec_ok(db, sql);
    g_free(sql);
    if (!data)
        return;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO blobs (id, data) VALUES"
                                            " (last_insert_rowid(), ?1)", -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(stmt, 1, data, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
}

/* An index made by schema-1 code is upgraded in place when the tier opens:
 * its rows keep working, the REMOTE state is counted, the meta table is
 * there; an index of a newer schema is refused. */
static void
test_upgrade_from_v1(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char clean[41], dirty[41], deleted[41];
    tu_make_id(40, clean);
    tu_make_id(41, dirty);
    tu_make_id(42, deleted);
    char *path = g_build_filename(fx->dir, "index.db", NULL);
    g_mkdir_with_parents(fx->dir, 0700);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA journal_mode=WAL");
    exec_ok(db, "BEGIN");
    exec_ok(db, schema_v1_fixture);
    v1_insert(db, SEAFTIER_TYPE_FS, clean, SEAFTIER_STATE_CLEAN, "clean bytes");
    v1_insert(db, SEAFTIER_TYPE_COMMITS, dirty, SEAFTIER_STATE_DIRTY, "dirty bytes");
    v1_insert(db, SEAFTIER_TYPE_BLOCKS, deleted, SEAFTIER_STATE_DELETED, NULL);
    exec_ok(db, "COMMIT");
    sqlite3_close(db);

    tu_fixture_open(fx);
    assert_int_equal(sql_int(fx, "PRAGMA user_version"), 4);
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM usage"), 12);
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM meta"), 0);
    read_expect(fx->tier, SEAFTIER_TYPE_FS, clean, "clean bytes", 11);
    read_expect(fx->tier, SEAFTIER_TYPE_COMMITS, dirty, "dirty bytes", 11);
    read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, deleted, SEAFTIER_TIER_ERROR_DELETED);
    /* ... and on to schema 4: every id is binary now. */
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM objects WHERE typeof(obj_id) != 'blob'"
                                 " OR typeof(repo_id) != 'blob'"), 0);
    /* An upgraded index evicts to REMOTE rows and keeps its usage exact. */
    guint64 n = 0;
    assert_true(seaftier_tier_evict_clean(fx->tier, NULL, &n, &err));
    assert_int_equal(n, 1);
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_FS, clean, NULL), SEAFTIER_STATE_REMOTE);
    tu_assert_usage_matches_rows(fx->dir);
    /* An upgraded index is never taken for complete: old evictions dropped rows. */
    gboolean complete = TRUE;
    assert_true(seaftier_tier_is_complete(fx->tier, SEAFTIER_TYPE_FS, BUCKET, &complete, &err));
    assert_false(complete);
    /* Opening it again is no upgrade at all. */
    tu_fixture_reopen(fx);
    assert_int_equal(sql_int(fx, "PRAGMA user_version"), 4);
    assert_int_equal(state_of(fx->tier, SEAFTIER_TYPE_COMMITS, dirty, NULL), SEAFTIER_STATE_DIRTY);
    tu_fixture_close(fx);

    /* A schema this code does not know: refused, with the reason. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA user_version=5");
    sqlite3_close(db);
    assert_null(seaftier_tier_open(&fx->cfg, fx->dir, &err));
    assert_non_null(strstr(err->message, "schema version 5"));
    g_clear_error(&err);
    g_free(path);
}

int
main(void)
{
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        TU_FIXTURE_TEST(test_evict_keeps_remote_row, &fixture),
        TU_FIXTURE_TEST(test_fill_write_delete_over_remote, &fixture),
        TU_FIXTURE_TEST(test_remember_remote, &fixture),
        TU_FIXTURE_TEST(test_remember_after_forgotten_delete, &fixture),
        TU_FIXTURE_TEST(test_complete_flag, &fixture),
        TU_FIXTURE_TEST(test_upgrade_from_v1, &fixture_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
