/* Unit tests of the tier store (lib/tier): real SQLite index and object
 * files in a temporary directory; no network. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <seaftier/log.h>

#include "tier/codec.h"
#include "tier/tier.h"
#include "tier-testutil.h"
#include "tier/tier-private.h"     /* the connection pool, to make SQLite run out of room */

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define REPO2 "11111111-2222-3333-4444-555555555555"
#define MIB (1024 * 1024)

/* Unlimited (max_size 0, no free-space floor) unless a test sets it. */
static const TuFixtureSpec fixture = {
    .name = "test_tier",
    .ram_cache_size = 8 * MIB,
    .inline_max = 64 * 1024,
};

/* ---- helpers ---- */

static gint64
now_s(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

static gboolean
lookup(SeaftierTier *t, SeaftierObjType type, const char *repo, const char *id,
       SeaftierTierEntry *e)
{
    GError *err = NULL;
    gboolean found = seaftier_tier_lookup(t, type, repo, id, e, &err);
    assert_null(err);
    return found;
}

static int
count_files(const char *path)
{
    int n = 0;
    GDir *d = g_dir_open(path, 0, NULL);
    if (!d)
        return g_file_test(path, G_FILE_TEST_IS_REGULAR) ? 1 : 0;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        char *p = g_build_filename(path, name, NULL);
        n += count_files(p);
        g_free(p);
    }
    g_dir_close(d);
    return n;
}

/* The object file of `id`, or NULL. */
static char *
find_file(TuFixture *fx, SeaftierObjType type, const char *repo, const char *id)
{
    static const char *const types[] = { "commits", "fs", "blocks" };
    char fan[3] = { id[0], id[1], 0 };
    char *dir = g_build_filename(fx->dir, "objects", types[type], repo, fan, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    char *found = NULL;
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        if (strncmp(name, id + 2, 38) == 0)
            found = g_build_filename(dir, name, NULL);
    if (d)
        g_dir_close(d);
    g_free(dir);
    return found;
}

static void
sql(TuFixture *fx, const char *stmt)
{
    tu_sql_exec(fx->dir, stmt);
}

static gint64
sql_int(TuFixture *fx, const char *query)
{
    return tu_sql_int(fx->dir, query);
}

/* ---- tests ---- */

static void
test_round_trip_sizes(void **state)
{
    TuFixture *fx = *state;
    static const gsize sizes[] = { 0, 1, 4096, MIB, 8 * MIB, 8 * MIB + 1 };
    char id[41];
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (int kind = 0; kind < 2; kind++) {
            gsize n = sizes[i];
            unsigned char *data = kind ? tu_text_bytes(n, (guint32)i) : tu_random_bytes(n, (guint32)i);
            tu_make_id((int)(i * 2 + (gsize)kind), id);
            SeaftierObjType type = n > 65536 ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_FS;
            tu_store_ok(fx->tier, type, REPO, id, data, n, SEAFTIER_STATE_DIRTY, TRUE);
            tu_read_expect(fx->tier, type, REPO, id, data, n);

            SeaftierTierEntry e;
            assert_true(lookup(fx->tier, type, REPO, id, &e));
            assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
            assert_int_equal(e.size, n);
            assert_string_equal(e.obj_id, id);
            assert_string_equal(e.repo_id, REPO);
            if (n > 65536) {
                /* a file: pieces, each raw or lz4, and an 8-byte table entry each */
                assert_int_equal(e.codec, SEAFTIER_CODEC_PIECES);
                if (kind == 1)
                    assert_true(e.stored_size < n / 2);
                else
                    assert_int_equal(e.stored_size, n + 8 * ((n + 65535) / 65536));
            } else {
                /* commits and fs objects are stored as they come (test_codec_by_type) */
                assert_int_equal(e.codec, SEAFTIER_CODEC_RAW);
                assert_int_equal(e.stored_size, n);
            }
            char *file = find_file(fx, type, REPO, id);
            if (n > 65536)
                assert_non_null(file);
            else
                assert_null(file);
            g_free(file);
            g_free(data);
        }
    }
    /* From disk, without the RAM tier of the process that stored them. */
    tu_fixture_reopen(fx);
    SeaftierTierStats before;       /* the counts are totals over every opener */
    assert_true(seaftier_tier_stats(fx->tier, &before, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (int kind = 0; kind < 2; kind++) {
            gsize n = sizes[i];
            unsigned char *data = kind ? tu_text_bytes(n, (guint32)i) : tu_random_bytes(n, (guint32)i);
            tu_make_id((int)(i * 2 + (gsize)kind), id);
            SeaftierObjType type = n > 65536 ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_FS;
            tu_read_expect(fx->tier, type, REPO, id, data, n);
            tu_read_expect(fx->tier, type, REPO, id, data, n);
            g_free(data);
        }
    }
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, NULL));
    /* Objects up to inline_max are read from disk once, then from RAM. */
    assert_int_equal(st.disk_hits - before.disk_hits, 6 + 12);
    assert_int_equal(st.ram_hits - before.ram_hits, 6);
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY], 6);
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY], 6);
    assert_int_equal(st.bytes[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY],
                     2 * (MIB + 8 * MIB + 8 * MIB + 1));
    assert_true(st.used_bytes > 0);
    assert_true(st.used_bytes < 2 * (MIB + 8 * MIB + 8 * MIB + 1 + 4096 + 1));
}

/* lz4 is tried for blocks only, never for commits and fs objects (Seafile
 * zlib-compresses fs objects itself; a commit saves less than the codec's
 * quarter), inline or in a file. */
static void
test_codec_by_type(void **state)
{
    TuFixture *fx = *state;
    static const gsize sizes[] = { 4096, 65536, 300 * 1024 };   /* inline, inline, file */
    static const SeaftierObjType types[] = { SEAFTIER_TYPE_COMMITS, SEAFTIER_TYPE_FS,
                                             SEAFTIER_TYPE_BLOCKS };
    char id[41];
    int k = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        gsize n = sizes[i];
        unsigned char *text = tu_text_bytes(n, (guint32)i + 7);
        for (gsize t = 0; t < G_N_ELEMENTS(types); t++) {
            tu_make_id(1000 + k++, id);
            tu_store_ok(fx->tier, types[t], REPO, id, text, n, SEAFTIER_STATE_DIRTY, TRUE);
            SeaftierTierEntry e;
            assert_true(lookup(fx->tier, types[t], REPO, id, &e));
            gsize pieces = (n + 65535) / 65536;
            if (n > 65536)
                assert_int_equal(e.codec, SEAFTIER_CODEC_PIECES);
            if (types[t] != SEAFTIER_TYPE_BLOCKS) {
                if (n <= 65536)
                    assert_int_equal(e.codec, SEAFTIER_CODEC_RAW);
                assert_int_equal(e.stored_size, n <= 65536 ? n : n + 8 * pieces);
            } else {
                if (n <= 65536)
                    assert_int_equal(e.codec, SEAFTIER_CODEC_LZ4);
                assert_true(e.stored_size < n / 2);
            }
            tu_read_expect(fx->tier, types[t], REPO, id, text, n);
        }
        g_free(text);
    }
}

static void
test_restore_same_bytes_is_noop(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    tu_make_id(1, id);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, "first", 5, SEAFTIER_STATE_DIRTY, TRUE);
    SeaftierTierEntry a, b;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &a));
    /* The same bytes again change nothing; nor does a fill of other bytes
     * (a CLEAN store never replaces what the tier holds). */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, "first", 5, SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, "other", 5, SEAFTIER_STATE_CLEAN, FALSE);
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &b));
    assert_int_equal(a.generation, b.generation);
    assert_int_equal(b.state, SEAFTIER_STATE_DIRTY);
    tu_fixture_reopen(fx);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, "first", 5);
    /* A write of other bytes is a new version (Seafile's commit ids do not
     * hash the bytes; its fs backend keeps the last write). */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, "other", 5, SEAFTIER_STATE_DIRTY, TRUE);
    tu_fixture_reopen(fx);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, "other", 5);
    /* Types are separate namespaces. */
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, id, SEAFTIER_TIER_ERROR_NOT_FOUND);

    /* A non-durable dirty store, then a durable one of the same id: the
     * row is made durable (synced) without rewriting the object. */
    tu_make_id(2, id);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "x", 1, SEAFTIER_STATE_DIRTY, FALSE);
    char *q = g_strdup_printf("SELECT synced FROM objects WHERE obj_id = tier_id('%s')", id);
    assert_int_equal(sql_int(fx, q), 0);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "x", 1, SEAFTIER_STATE_DIRTY, TRUE);
    assert_int_equal(sql_int(fx, q), 1);
    g_free(q);
}

static void
test_atime_lazy(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    char q[200];
    tu_make_id(77, id);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "hot", 3, SEAFTIER_STATE_CLEAN, FALSE);
    g_snprintf(q, sizeof(q), "UPDATE objects SET atime = 1000 WHERE obj_id = tier_id('%s')", id);
    sql(fx, q);
    tu_fixture_reopen(fx);
    g_snprintf(q, sizeof(q), "SELECT atime FROM objects WHERE obj_id = tier_id('%s')", id);
    /* Hits (disk, then RAM) do not write the index... */
    for (int i = 0; i < 100; i++)
        tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "hot", 3);
    assert_int_equal(sql_int(fx, q), 1000);
    /* ...the access is recorded later, in one batch (here: at close). */
    tu_fixture_reopen(fx);
    assert_true(sql_int(fx, q) >= now_s() - 5);
    /* 1024 pending accesses are flushed by the background thread. */
    for (int i = 0; i < 1100; i++) {
        tu_make_id(10000 + i, id);
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &i, sizeof(i), SEAFTIER_STATE_CLEAN, FALSE);
    }
    sql(fx, "UPDATE objects SET atime = 1000");
    tu_fixture_reopen(fx);
    for (int i = 0; i < 1100; i++) {
        tu_make_id(10000 + i, id);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &i, sizeof(i));
    }
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (sql_int(fx, "SELECT COUNT(*) FROM objects WHERE atime > 1000") < 1024 &&
           g_get_monotonic_time() < deadline)
        g_usleep(10000);
    assert_true(sql_int(fx, "SELECT COUNT(*) FROM objects WHERE atime > 1000") >= 1024);
}

/* The access-time granularity is 1/64 of the eviction horizon (the oldest
 * clean object's access), at least a minute: in a tier whose oldest clean
 * object was read 128 hours ago, a read of an object recorded an hour ago
 * writes nothing, one recorded three hours ago is written; in a young tier
 * a minute and a half is enough. */
static void
test_atime_granularity(void **state)
{
    TuFixture *fx = *state;
    char recent[41], older[41], oldest[41], q[200];
    tu_make_id(1, recent);
    tu_make_id(2, older);
    tu_make_id(3, oldest);
    const char *ids[] = { recent, older, oldest };
    for (int i = 0; i < 3; i++)
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, ids[i], "abc", 3, SEAFTIER_STATE_CLEAN, FALSE);
    gint64 now = now_s();
    const gint64 ages[] = { 3600, 3 * 3600, 128 * 3600 };
    for (int i = 0; i < 3; i++) {
        g_snprintf(q, sizeof q, "UPDATE objects SET atime = %" G_GINT64_FORMAT
                   " WHERE obj_id = tier_id('%s')", now - ages[i], ids[i]);
        sql(fx, q);
    }
    tu_fixture_reopen(fx);
    gint64 g = seaftier_tier_atime_granularity(fx->tier);
    assert_true(g >= 2 * 3600 - 1 && g <= 2 * 3600 + 5);     /* (a coarse clock) */
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, recent, "abc", 3);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, older, "abc", 3);
    tu_fixture_reopen(fx);      /* (the close writes what is pending) */
    g_snprintf(q, sizeof q, "SELECT atime FROM objects WHERE obj_id = tier_id('%s')", recent);
    assert_int_equal(sql_int(fx, q), now - 3600);
    g_snprintf(q, sizeof q, "SELECT atime FROM objects WHERE obj_id = tier_id('%s')", older);
    assert_true(sql_int(fx, q) >= now - 1);

    now = now_s();
    g_snprintf(q, sizeof q, "UPDATE objects SET atime = %" G_GINT64_FORMAT, now - 600);
    sql(fx, q);
    g_snprintf(q, sizeof q, "UPDATE objects SET atime = %" G_GINT64_FORMAT
               " WHERE obj_id = tier_id('%s')", now - 90, recent);
    sql(fx, q);
    tu_fixture_reopen(fx);
    assert_int_equal(seaftier_tier_atime_granularity(fx->tier), 60);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, recent, "abc", 3);
    tu_fixture_reopen(fx);
    g_snprintf(q, sizeof q, "SELECT atime FROM objects WHERE obj_id = tier_id('%s')", recent);
    assert_true(sql_int(fx, q) >= now - 1);
}

static void
test_delete_semantics(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char never[41], clean[41], unknown[41], bigclean[41];
    tu_make_id(10, never);
    tu_make_id(11, clean);
    tu_make_id(12, unknown);
    tu_make_id(13, bigclean);
    unsigned char *big = tu_random_bytes(200000, 1);

    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, never, "n", 1, SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "c", 1, SEAFTIER_STATE_CLEAN, FALSE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, bigclean, big, 200000, SEAFTIER_STATE_CLEAN,
             FALSE);
    char *file = find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, bigclean);
    assert_non_null(file);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "c", 1);     /* now in RAM too */

    /* Dirty, never uploaded by this row: S3 may hold the id all the same,
     * so the remote delete is recorded too. */
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, never, &err));
    SeaftierTierEntry e;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, never, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, never, SEAFTIER_TIER_ERROR_DELETED);

    /* Clean: local data gone at once (RAM too), remote delete pending. */
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
    assert_true(e.uploaded);
    assert_int_equal(e.stored_size, 0);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, SEAFTIER_TIER_ERROR_DELETED);
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM blobs b JOIN objects o ON o.id = b.id"
                                 " WHERE o.state = 2"), 0);

    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, bigclean, &err));
    assert_false(g_file_test(file, G_FILE_TEST_EXISTS));
    tu_read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, bigclean, SEAFTIER_TIER_ERROR_DELETED);
    g_free(file);

    /* Unknown here: it may be in S3, so a remote delete is recorded. */
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, unknown, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, unknown, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
    /* Deleting twice is harmless. */
    gint64 gen = e.generation;
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, unknown, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, unknown, &e));
    assert_int_equal(e.generation, gen);

    /* CLEAN over DELETED is ignored: a fill never undoes a delete. */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "c", 1, SEAFTIER_STATE_CLEAN, FALSE);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, SEAFTIER_TIER_ERROR_DELETED);
    /* DIRTY over DELETED revives it (and keeps `uploaded`). */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "c", 1, SEAFTIER_STATE_DIRTY, TRUE);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "c", 1);
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
    assert_true(e.uploaded);
    /* So deleting it again records a remote delete. */
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
    /* A big one revived as DIRTY gets a file again. */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, bigclean, big, 200000, SEAFTIER_STATE_DIRTY,
             TRUE);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, bigclean, big, 200000);
    g_free(big);

    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, NULL));
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DELETED], 2);
    assert_int_equal(st.objects[SEAFTIER_TYPE_COMMITS][SEAFTIER_STATE_DELETED], 1);
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY], 1);
    assert_int_equal(st.stored_bytes[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DELETED], 0);
}

/* A clean copy (so S3 holds the id) evicted, then written again: the new
 * dirty row was never uploaded, yet its delete must leave a remote delete,
 * or the S3 copy would survive garbage collection and come back on a read. */
static void
test_delete_after_evict_rewrite(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41];
    tu_make_id(20, id);
    unsigned char *big = tu_random_bytes(100000, 7);
    for (int big_one = 0; big_one < 2; big_one++) {
        SeaftierObjType type = big_one ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_FS;
        const void *data = big_one ? (const void *)big : (const void *)"x";
        gsize len = big_one ? 100000 : 1;
        tu_store_ok(fx->tier, type, REPO, id, data, len, SEAFTIER_STATE_CLEAN, FALSE);
        assert_true(seaftier_tier_evict_one(fx->tier, type, REPO, id, &err));
        /* Evicted: the row stays as REMOTE (S3 holds it), without data. */
        SeaftierTierEntry e;
        assert_true(lookup(fx->tier, type, REPO, id, &e));
        assert_int_equal(e.state, SEAFTIER_STATE_REMOTE);
        assert_int_equal(e.stored_size, 0);
        assert_int_equal(e.size, len);
        assert_true(e.uploaded);
        tu_read_fails(fx->tier, type, REPO, id, SEAFTIER_TIER_ERROR_NOT_FOUND);
        assert_null(find_file(fx, type, REPO, id));
        tu_store_ok(fx->tier, type, REPO, id, data, len, SEAFTIER_STATE_DIRTY, TRUE);
        assert_true(lookup(fx->tier, type, REPO, id, &e));
        assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
        assert_true(e.uploaded);     /* S3 may still hold the same bytes */
        tu_read_expect(fx->tier, type, REPO, id, data, len);
        assert_true(seaftier_tier_delete(fx->tier, type, REPO, id, &err));
        assert_true(lookup(fx->tier, type, REPO, id, &e));
        assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
        assert_int_equal(e.stored_size, 0);
        tu_read_fails(fx->tier, type, REPO, id, SEAFTIER_TIER_ERROR_DELETED);
        GPtrArray *del = seaftier_tier_deleted_batch(fx->tier, (int)type, 10, &err);
        assert_non_null(del);
        assert_int_equal(del->len, 1);
        assert_string_equal(((SeaftierTierEntry *)del->pdata[0])->obj_id, id);
        g_ptr_array_free(del, TRUE);
    }
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM blobs"), 0);
    g_free(big);
}

static guint
batch_len_free(GPtrArray *a)
{
    assert_non_null(a);
    guint n = a->len;
    g_ptr_array_free(a, TRUE);
    return n;
}

/* The query plan of `sql` on the tier's index, one step per line. */
static char *
query_plan(TuFixture *fx, const char *sql)
{
    char *path = g_build_filename(fx->dir, "index.db", NULL);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char *explain = g_strconcat("EXPLAIN QUERY PLAN ", sql, NULL);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, explain, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", explain, sqlite3_errmsg(db));
    GString *plan = g_string_new(NULL);
    while (sqlite3_step(stmt) == SQLITE_ROW)
        g_string_append_printf(plan, "%s\n", (const char *)sqlite3_column_text(stmt, 3));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    g_free(explain);
    g_free(path);
    return g_string_free(plan, FALSE);
}

/* The uploader asks for a batch after every upload: a batch must come from
 * the partial index of its state (rows in that state only), already in
 * order, for every type filter - never from a walk over all rows of a type
 * (objects_key) sorted afterwards. */
static void
test_batches_use_partial_indexes(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    for (int i = 0; i < 20; i++) {     /* rows of every state, so the indexes are not empty */
        tu_make_id(300 + i, id);
        tu_store_ok(fx->tier, (SeaftierObjType)(i % SEAFTIER_N_TYPES), REPO, id, &i, sizeof(i),
                    i % 2 ? SEAFTIER_STATE_DIRTY : SEAFTIER_STATE_CLEAN, FALSE);
    }
    tu_make_id(300, id);
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, NULL));
    static const struct {
        SeaftierState state;
        const char *index;
    } kinds[] = { { SEAFTIER_STATE_DIRTY, "objects_dirty" },
                  { SEAFTIER_STATE_DELETED, "objects_deleted" } };
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (int type = -1; type < SEAFTIER_N_TYPES; type++) {
            char *plan = query_plan(fx, seaftier_tier_batch_sql(kinds[k].state, type, FALSE));
            if (!strstr(plan, kinds[k].index) || strstr(plan, "objects_key") ||
                strstr(plan, "TEMP B-TREE"))
                fail_msg("%s batch of type %d: plan\n%s", seaftier_state_name(kinds[k].state),
                         type, plan);
            g_free(plan);
        }
    }
}

static void
test_dirty_batch(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    GError *err = NULL;
    gint64 future = now_s() + 3600;
    for (int i = 0; i < 10; i++) {
        tu_make_id(100 + i, id);
        tu_store_ok(fx->tier, i % 2 ? SEAFTIER_TYPE_FS : SEAFTIER_TYPE_COMMITS, i < 6 ? REPO : REPO2,
                 id, &i, sizeof(i), SEAFTIER_STATE_DIRTY, TRUE);
    }
    tu_make_id(200, id);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "c", 1, SEAFTIER_STATE_CLEAN, FALSE);
    /* Make creation times distinct and not in insertion order for two. */
    sql(fx, "UPDATE objects SET created = created - 100 + id");
    tu_make_id(109, id);
    char *q = g_strdup_printf("UPDATE objects SET created = created - 1000 WHERE obj_id = tier_id('%s')", id);
    sql(fx, q);
    g_free(q);

    GPtrArray *all = seaftier_tier_dirty_batch(fx->tier, -1, NULL, 100, future, &err);
    assert_non_null(all);
    assert_int_equal(all->len, 10);     /* the clean one is not there */
    SeaftierTierEntry *first = all->pdata[0];
    assert_string_equal(first->obj_id, id);     /* the oldest first */
    for (guint i = 1; i < all->len; i++) {
        SeaftierTierEntry *a = all->pdata[i - 1], *b = all->pdata[i];
        assert_true(a->created <= b->created);
        assert_int_equal(b->state, SEAFTIER_STATE_DIRTY);
    }
    g_ptr_array_free(all, TRUE);

    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, -1, NULL, 3, future, &err)), 3);
    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, SEAFTIER_TYPE_FS, NULL, 100,
                                                              future, &err)), 5);
    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, -1, REPO2, 100, future,
                                                              &err)), 4);
    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, SEAFTIER_TYPE_COMMITS,
                                                              REPO2, 100, future, &err)), 2);
    /* created_before: nothing that recent... and nothing older than all. */
    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, -1, NULL, 100,
                                                              now_s() - 5000, &err)), 0);
    assert_null(seaftier_tier_dirty_batch(fx->tier, -1, "bad-repo", 10, future, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
    g_clear_error(&err);

    /* A failure postpones the object until retry_at. */
    all = seaftier_tier_dirty_batch(fx->tier, -1, NULL, 1, future, &err);
    SeaftierTierEntry e = *(SeaftierTierEntry *)all->pdata[0];
    g_ptr_array_free(all, TRUE);
    assert_true(seaftier_tier_record_failure(fx->tier, &e, "503 SlowDown from bucket b", future,
                                             &err));
    SeaftierTierEntry now;
    assert_true(lookup(fx->tier, e.type, e.repo_id, e.obj_id, &now));
    assert_int_equal(now.attempts, 1);
    assert_int_equal(now.retry_at, future);
    assert_string_equal(now.last_error, "503 SlowDown from bucket b");
    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, -1, NULL, 100, future,
                                                              &err)), 9);
    assert_true(seaftier_tier_record_failure(fx->tier, &e, "again", 0, &err));
    assert_true(lookup(fx->tier, e.type, e.repo_id, e.obj_id, &now));
    assert_int_equal(now.attempts, 2);
    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, -1, NULL, 100, future,
                                                              &err)), 10);
    /* mark_clean resets the failure record. */
    assert_true(seaftier_tier_mark_clean(fx->tier, &e, &err));
    assert_true(lookup(fx->tier, e.type, e.repo_id, e.obj_id, &now));
    assert_int_equal(now.state, SEAFTIER_STATE_CLEAN);
    assert_int_equal(now.attempts, 0);
    assert_string_equal(now.last_error, "");
    assert_true(now.uploaded);
}

static void
test_mark_clean_races(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41], id2[41];
    tu_make_id(300, id);
    tu_make_id(301, id2);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "v1", 2, SEAFTIER_STATE_DIRTY, TRUE);
    SeaftierTierEntry old;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &old));
    /* While "uploading": marked uploaded by a first PUT, deleted, re-written. */
    SeaftierTierEntry up = old;
    assert_true(seaftier_tier_mark_clean(fx->tier, &up, &err));
    SeaftierTierEntry cur;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &cur));
    old = cur;
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &err));
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "v1", 2, SEAFTIER_STATE_DIRTY, TRUE);
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &cur));
    assert_true(cur.generation != old.generation);
    /* A stale upload result does not make the new version clean. */
    assert_true(seaftier_tier_mark_clean(fx->tier, &old, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &cur));
    assert_int_equal(cur.state, SEAFTIER_STATE_DIRTY);
    assert_int_equal(batch_len_free(seaftier_tier_dirty_batch(fx->tier, -1, NULL, 10,
                                                              now_s() + 10, &err)), 1);

    /* Never uploaded, deleted during its PUT: the row went away, so the
     * finished PUT must leave a remote delete behind. */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id2, "v2", 2, SEAFTIER_STATE_DIRTY, TRUE);
    SeaftierTierEntry inflight;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id2, &inflight));
    assert_false(inflight.uploaded);
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, id2, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id2, &cur));
    assert_int_equal(cur.state, SEAFTIER_STATE_DELETED);
    assert_true(seaftier_tier_mark_clean(fx->tier, &inflight, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id2, &cur));
    assert_int_equal(cur.state, SEAFTIER_STATE_DELETED);
    assert_true(cur.uploaded);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, id2, SEAFTIER_TIER_ERROR_DELETED);
}

/* A pending S3 delete recorded for a key without a row, each way with its
 * own columns: a delete of an id the tier never saw (size 0; synced, as a
 * delete commits FULL), and a finished upload of an object whose row went
 * away meanwhile (deleted, the delete carried out and forgotten): the
 * uploaded entry's size, not synced (marks commit without an fsync). Both
 * without a local copy, uploaded (S3 may hold the object), due at once,
 * created and accessed now, of a new generation. */
static void
test_pending_delete_rows(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char never[41], gone[41];
    tu_make_id(310, never);
    tu_make_id(311, gone);
    gint64 before = now_s();
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, never, &err));
    tu_assert_row_columns(fx->dir, SEAFTIER_TYPE_FS, REPO, never,
                          "state 2 size 0 stored_size 0 codec 0 checksum 0 location 0"
                          " uploaded 1 synced 1 attempts 0 retry_at 0 last_error ''");

    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, "in flight", 9, SEAFTIER_STATE_DIRTY, TRUE);
    SeaftierTierEntry inflight, cur;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, &inflight));
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, &cur));
    assert_true(seaftier_tier_forget_deleted(fx->tier, &cur, &err));
    assert_false(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, &cur));
    assert_true(seaftier_tier_mark_clean(fx->tier, &inflight, &err));
    tu_assert_row_columns(fx->dir, SEAFTIER_TYPE_FS, REPO, gone,
                          "state 2 size 9 stored_size 0 codec 0 checksum 0 location 0"
                          " uploaded 1 synced 0 attempts 0 retry_at 0 last_error ''");
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, gone, &cur));
    assert_true(cur.generation != inflight.generation);

    /* The tier's clock is coarse: it may still say the second before. */
    char *q = g_strdup_printf("SELECT count(*) FROM objects WHERE state = 2 AND created = atime"
                              " AND created BETWEEN %" G_GINT64_FORMAT " AND %" G_GINT64_FORMAT,
                              before - 1, now_s());
    assert_int_equal(sql_int(fx, q), 2);
    g_free(q);
    assert_int_equal(batch_len_free(seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_FS, 10,
                                                                &err)), 2);
}

static void
test_deleted_batch(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41];
    for (int i = 0; i < 5; i++) {
        tu_make_id(400 + i, id);
        assert_true(seaftier_tier_delete(fx->tier, i < 3 ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_FS,
                                         REPO, id, &err));
    }
    GPtrArray *b = seaftier_tier_deleted_batch(fx->tier, -1, 100, &err);
    assert_int_equal(b->len, 5);
    g_ptr_array_free(b, TRUE);
    b = seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, 100, &err);
    assert_int_equal(b->len, 3);
    SeaftierTierEntry e0 = *(SeaftierTierEntry *)b->pdata[0];
    SeaftierTierEntry e1 = *(SeaftierTierEntry *)b->pdata[1];
    g_ptr_array_free(b, TRUE);
    assert_int_equal(e0.state, SEAFTIER_STATE_DELETED);

    /* A failed remote delete waits for its retry time. */
    assert_true(seaftier_tier_record_failure(fx->tier, &e1, "timeout", now_s() + 600,
                                             &err));
    assert_int_equal(batch_len_free(seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, 100,
                                                                &err)), 2);
    assert_int_equal(batch_len_free(seaftier_tier_deleted_batch(fx->tier, -1, 1, &err)), 1);

    assert_true(seaftier_tier_forget_deleted(fx->tier, &e0, &err));
    SeaftierTierEntry cur;
    assert_false(lookup(fx->tier, e0.type, e0.repo_id, e0.obj_id, &cur));

    /* Re-written meanwhile: the new row stays. */
    tu_store_ok(fx->tier, e1.type, e1.repo_id, e1.obj_id, "again", 5, SEAFTIER_STATE_DIRTY, TRUE);
    assert_true(seaftier_tier_forget_deleted(fx->tier, &e1, &err));
    assert_true(lookup(fx->tier, e1.type, e1.repo_id, e1.obj_id, &cur));
    assert_int_equal(cur.state, SEAFTIER_STATE_DIRTY);
    tu_read_expect(fx->tier, e1.type, e1.repo_id, e1.obj_id, "again", 5);
}

typedef struct {
    int n;
    unsigned mask_seen;
} CountCtx;

static gboolean
count_cb(const SeaftierTierEntry *e, void *user_data)
{
    CountCtx *c = user_data;
    c->n++;
    c->mask_seen |= 1u << e->state;
    return c->n < 1000;
}

static gboolean
stop_after_two(const SeaftierTierEntry *e, void *user_data)
{
    return ++*(int *)user_data < 2;
}

static void
test_foreach(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41];
    for (int i = 0; i < 1200; i++) {
        tu_make_id(5000 + i, id);
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, i % 3 ? REPO : REPO2, id, &i, sizeof(i),
                 i % 2 ? SEAFTIER_STATE_DIRTY : SEAFTIER_STATE_CLEAN, FALSE);
    }
    CountCtx c = { 0 };
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_FS, NULL, 7, count_cb, &c, &err));
    assert_int_equal(c.n, 1000);        /* stopped by the callback */
    c = (CountCtx){ 0 };
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_FS, REPO2, 7, count_cb, &c, &err));
    assert_int_equal(c.n, 400);
    c = (CountCtx){ 0 };        /* two chunks within one repo */
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_FS, REPO, 7, count_cb, &c, &err));
    assert_int_equal(c.n, 800);
    assert_int_equal(c.mask_seen, (1u << SEAFTIER_STATE_DIRTY) | (1u << SEAFTIER_STATE_CLEAN));
    c = (CountCtx){ 0 };
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_FS, REPO, 1u << SEAFTIER_STATE_DIRTY,
                                      count_cb, &c, &err));
    assert_int_equal(c.n, 400);
    assert_int_equal(c.mask_seen, 1u << SEAFTIER_STATE_DIRTY);
    c = (CountCtx){ 0 };
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_BLOCKS, NULL, 7, count_cb, &c, &err));
    assert_int_equal(c.n, 0);
    int n = 0;
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_FS, NULL, 7, stop_after_two, &n, &err));
    assert_int_equal(n, 2);
    assert_false(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_FS, "x", 7, count_cb, &c, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
    g_clear_error(&err);
}

static void
test_eviction_limits(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    tu_fixture_close(fx);
    fx->cfg.tier.inline_max = 4096;           /* half inline, half files */
    tu_fixture_open(fx);
    char id[41];
    unsigned char *data = tu_random_bytes(8192, 5);
    /* 8 dirty objects of 8 KiB (64 KiB): never evicted. */
    for (int i = 0; i < 8; i++) {
        tu_make_id(600 + i, id);
        data[0] = (unsigned char)i;
        tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, 8192, SEAFTIER_STATE_DIRTY, TRUE);
    }
    /* Clean objects, alternately inline (4 KiB) and files (8 KiB), 40 of them
     * (240 KiB): far above max_size. */
    for (int i = 0; i < 40; i++) {
        tu_make_id(700 + i, id);
        data[0] = (unsigned char)i;
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, i % 2 ? 8192 : 4096,
                 SEAFTIER_STATE_CLEAN, FALSE);
    }
    /* Now limit the tier: high 180 KiB, low 160 KiB. */
    tu_fixture_close(fx);
    fx->cfg.tier.max_size = 200 * 1024;
    tu_fixture_open(fx);
    /* A defined LRU order: object 700+i was last accessed at i. */
    sql(fx, "UPDATE objects SET atime = 1000 + (SELECT COUNT(*) FROM objects o2"
            " WHERE o2.id < objects.id) WHERE state = 0");
    guint64 objects = 0, bytes = 0;
    assert_true(seaftier_tier_evict(fx->tier, &objects, &bytes, &err));
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_true(st.used_bytes <= 160 * 1024);
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY], 8);
    /* Oldest gone, newest kept, a strict LRU boundary in between. */
    gboolean seen_present = FALSE;
    int present = 0;
    for (int i = 0; i < 40; i++) {
        tu_make_id(700 + i, id);
        SeaftierTierEntry e;
        gboolean here = lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &e) &&
                        e.state != SEAFTIER_STATE_REMOTE;
        if (here)
            present++;
        else
            assert_false(seen_present);
        seen_present = seen_present || here;
        char *f = find_file(fx, SEAFTIER_TYPE_FS, REPO, id);
        if (!here)
            assert_null(f);     /* evicted files are removed too */
        g_free(f);
    }
    assert_true(present > 0 && present < 40);
    tu_make_id(739, id);
    SeaftierTierEntry e;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &e));
    /* Evicted ones are gone from RAM too. */
    tu_make_id(700, id);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, id, SEAFTIER_TIER_ERROR_NOT_FOUND);
    for (int i = 0; i < 8; i++) {
        tu_make_id(600 + i, id);
        data[0] = (unsigned char)i;
        tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, 8192);
    }
    /* Below the high watermark nothing happens. */
    assert_true(seaftier_tier_evict(fx->tier, &objects, &bytes, &err));
    assert_int_equal(objects, 0);

    /* Dirty data alone may not exceed max_size: FULL, loudly, nothing lost. */
    int stored = 0;
    gboolean full = FALSE;
    for (int i = 0; i < 40 && !full; i++) {
        tu_make_id(800 + i, id);
        data[0] = (unsigned char)i;
        if (seaftier_tier_store(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, 8192,
                                SEAFTIER_STATE_DIRTY, TRUE, &err)) {
            stored++;
        } else {
            assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL));
            assert_non_null(strstr(err->message, "max_size"));
            g_clear_error(&err);
            full = TRUE;
            assert_false(lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e));
            assert_null(find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, id));
        }
    }
    assert_true(full);
    /* (a file stores its piece table too: 8 bytes per 64 KiB piece) */
    assert_int_equal(stored, (200 * 1024 - 8 * 8200) / 8200);
    assert_true(seaftier_tier_evict(fx->tier, &objects, &bytes, &err));
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY], 8 + stored);
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN], 0);
    g_free(data);
}

static void
test_evict_clean_and_one(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41];
    for (int i = 0; i < 300; i++) {
        tu_make_id(900 + i, id);
        tu_store_ok(fx->tier, i % 2 ? SEAFTIER_TYPE_COMMITS : SEAFTIER_TYPE_FS, i < 200 ? REPO : REPO2,
                 id, &i, sizeof(i), i % 10 ? SEAFTIER_STATE_CLEAN : SEAFTIER_STATE_DIRTY, FALSE);
    }
    guint64 n = 0;
    assert_true(seaftier_tier_evict_clean(fx->tier, REPO2, &n, &err));
    assert_int_equal(n, 90);
    assert_true(seaftier_tier_evict_clean(fx->tier, REPO2, &n, &err));
    assert_int_equal(n, 0);
    tu_make_id(901, id);
    SeaftierTierEntry e;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &e));
    assert_true(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_REMOTE);
    assert_false(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND));
    g_clear_error(&err);
    tu_make_id(900, id);       /* dirty: a no-op */
    assert_true(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &err));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &e));
    /* A repo with more clean objects than one chunk, dirty ones among them. */
    for (int i = 0; i < 700; i++) {
        tu_make_id(20000 + i, id);
        tu_store_ok(fx->tier, i % 2 ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_FS,
                 "22222222-3333-4444-5555-666666666666", id, &i, sizeof(i),
                 i % 7 ? SEAFTIER_STATE_CLEAN : SEAFTIER_STATE_DIRTY, FALSE);
    }
    assert_true(seaftier_tier_evict_clean(fx->tier, "22222222-3333-4444-5555-666666666666", &n,
                                          &err));
    assert_int_equal(n, 600);
    assert_true(seaftier_tier_evict_clean(fx->tier, NULL, &n, &err));
    assert_int_equal(n, 179);
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN] +
                     st.objects[SEAFTIER_TYPE_COMMITS][SEAFTIER_STATE_CLEAN], 0);
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY] +
                     st.objects[SEAFTIER_TYPE_COMMITS][SEAFTIER_STATE_DIRTY] +
                     st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY], 30 + 100);
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_CLEAN], 0);
}

typedef struct {
    int problems;
    GString *text;
} ProblemCtx;

static void
problem_cb(const SeaftierTierEntry *e, const char *problem, void *user_data)
{
    ProblemCtx *c = user_data;
    c->problems++;
    g_string_append_printf(c->text, "%s %s: %s\n", seaftier_state_name(e->state), e->obj_id,
                           problem);
}

static void
flip_file_byte(const char *path, goffset at)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

static void
test_corruption(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char ci[41], di[41], cf[41], df[41], ok_id[41], lost[41];
    tu_make_id(1, ci);
    tu_make_id(2, di);
    tu_make_id(3, cf);
    tu_make_id(4, df);
    tu_make_id(5, ok_id);
    tu_make_id(6, lost);
    unsigned char *small = tu_text_bytes(3000, 1);
    unsigned char *big = tu_random_bytes(300000, 2);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, ci, small, 3000, SEAFTIER_STATE_CLEAN, FALSE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, di, small, 3000, SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, cf, big, 300000, SEAFTIER_STATE_CLEAN, FALSE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, df, big, 300000, SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ok_id, big, 300000, SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, lost, big, 300000, SEAFTIER_STATE_CLEAN, FALSE);
    /* Inline blobs: change one byte inside SQLite. */
    sql(fx, "UPDATE blobs SET data = CAST(substr(data, 1, 100) || 'X' || substr(data, 102)"
            " AS BLOB) WHERE id IN (SELECT id FROM objects WHERE type = 1)");
    char *f = find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, cf);
    flip_file_byte(f, 5000);
    g_free(f);
    f = find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, df);
    flip_file_byte(f, 299999);
    g_free(f);
    f = find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, lost);
    g_unlink(f);
    g_free(f);
    tu_fixture_reopen(fx);     /* no RAM copies */

    /* Corrupt reads never return data. */
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, di, SEAFTIER_TIER_ERROR_CORRUPT);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, df, SEAFTIER_TIER_ERROR_CORRUPT);
    SeaftierTierEntry e;
    /* Dirty ones stay for an operator and keep failing. */
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, di, &e));
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, di, SEAFTIER_TIER_ERROR_CORRUPT);
    /* A clean one read while corrupt is dropped. */
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, ci, SEAFTIER_TIER_ERROR_CORRUPT);
    assert_false(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, ci, &e));
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, ci, SEAFTIER_TIER_ERROR_NOT_FOUND);
    /* A clean row whose file vanished (after a crash): dropped, NOT_FOUND so
     * the caller fetches it again. */
    tu_read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, lost, SEAFTIER_TIER_ERROR_NOT_FOUND);
    assert_false(lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, lost, &e));

    ProblemCtx c = { 0, g_string_new(NULL) };
    guint64 checked = 0, problems = 0;
    assert_true(seaftier_tier_verify(fx->tier, problem_cb, &c, &checked, &problems, &err));
    assert_int_equal(checked, 4);      /* di, cf, df, ok_id */
    assert_int_equal(problems, 3);
    assert_int_equal(c.problems, 3);
    assert_non_null(strstr(c.text->str, cf));
    assert_non_null(strstr(c.text->str, df));
    assert_non_null(strstr(c.text->str, di));
    g_string_free(c.text, TRUE);
    assert_false(lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, cf, &e));    /* clean dropped */
    assert_null(find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, cf));
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, df, &e));     /* dirty kept */
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ok_id, big, 300000);
    /* A dirty object whose file is gone is repaired by a new write of it. */
    f = find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, ok_id);
    g_unlink(f);
    g_free(f);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ok_id, SEAFTIER_TIER_ERROR_CORRUPT);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ok_id, big, 300000, SEAFTIER_STATE_DIRTY, TRUE);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ok_id, big, 300000);
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ok_id, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
    /* Once dropped, a fresh fill works again. */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, cf, big, 300000, SEAFTIER_STATE_CLEAN, FALSE);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, cf, big, 300000);
    g_free(small);
    g_free(big);
}

static void
test_restart_and_child_crash(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    unsigned char *big = tu_random_bytes(100000, 9);
    for (int i = 0; i < 20; i++) {
        tu_make_id(1000 + i, id);
        tu_store_ok(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &i, sizeof(i), SEAFTIER_STATE_DIRTY,
                 TRUE);
    }
    tu_fixture_reopen(fx);
    for (int i = 0; i < 20; i++) {
        tu_make_id(1000 + i, id);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, &i, sizeof(i));
    }

    /* A child process stores durably, reports success, and is killed
     * without closing anything. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        GError *err = NULL;
        SeaftierTier *t = seaftier_tier_open(&fx->cfg, fx->dir, &err);
        char ok = 'y';
        for (int i = 0; t && ok == 'y' && i < 20; i++) {
            char cid[41];
            tu_make_id(2000 + i, cid);
            if (!seaftier_tier_store(t, SEAFTIER_TYPE_BLOCKS, REPO, cid, big, 100000,
                                     SEAFTIER_STATE_DIRTY, TRUE, &err))
                ok = 'n';
            if (!seaftier_tier_store(t, SEAFTIER_TYPE_COMMITS, REPO, cid, cid, 40,
                                     SEAFTIER_STATE_DIRTY, TRUE, &err))
                ok = 'n';
        }
        if (!t)
            ok = 'n';
        if (write(fds[1], &ok, 1) != 1)
            _exit(4);
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    close(fds[1]);
    char verdict = 0;
    assert_int_equal(read(fds[0], &verdict, 1), 1);
    close(fds[0]);
    assert_int_equal(verdict, 'y');
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    /* Its leftover temporary files (none expected) and its objects. */
    tu_fixture_reopen(fx);
    for (int i = 0; i < 20; i++) {
        tu_make_id(2000 + i, id);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, big, 100000);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, id, id, 40);
    }
    g_free(big);
}

/* This process's start time in clock ticks since boot (/proc/self/stat,
 * field 22, counted after the command name's closing parenthesis). */
static guint64
own_start_time(void)
{
    char *text = NULL;
    assert_true(g_file_get_contents("/proc/self/stat", &text, NULL, NULL));
    char **f = g_strsplit(strrchr(text, ')') + 2, " ", 0);
    assert_true(g_strv_length(f) > 19);
    guint64 start = g_ascii_strtoull(f[19], NULL, 10);    /* field 22 */
    g_strfreev(f);
    g_free(text);
    return start;
}

/* The first 16 hex digits of the boot id. */
static char *
own_boot_tag(void)
{
    char *text = NULL;
    assert_true(g_file_get_contents("/proc/sys/kernel/random/boot_id", &text, NULL, NULL));
    GString *tag = g_string_new(NULL);
    for (const char *c = text; *c && tag->len < 16; c++)
        if (g_ascii_isxdigit(*c))
            g_string_append_c(tag, g_ascii_tolower(*c));
    g_free(text);
    return g_string_free(tag, FALSE);
}

static void
test_tmp_cleanup(void **state)
{
    TuFixture *fx = *state;
    /* A temporary file of a process that no longer exists, and one of ours. */
    char *dead = g_build_filename(fx->dir, "tmp", "999999999-0000000000000000.tmp", NULL);
    char *live = g_strdup_printf("%s/tmp/%d-0000000000000001.tmp", fx->dir, (int)getpid());
    assert_true(g_file_set_contents(dead, "x", 1, NULL));
    assert_true(g_file_set_contents(live, "x", 1, NULL));
    /* Names with the writer's start time and boot id: ours, and two that
     * carry our pid but belong to an earlier process (another start time)
     * or to the last boot (another boot id) — what a reboot leaves, with
     * the pid reused since. */
    guint64 start = own_start_time();
    char *boot = own_boot_tag();
    char *mine = g_strdup_printf("%s/tmp/%d-%" G_GUINT64_FORMAT "-%s-0000000000000002.tmp",
                                 fx->dir, (int)getpid(), start, boot);
    char *earlier = g_strdup_printf("%s/tmp/%d-%" G_GUINT64_FORMAT "-%s-0000000000000003.tmp",
                                    fx->dir, (int)getpid(), start + 1, boot);
    char *last_boot = g_strdup_printf("%s/tmp/%d-%" G_GUINT64_FORMAT
                                      "-%s-0000000000000004.tmp", fx->dir, (int)getpid(),
                                      start, boot[0] == 'f' ? "0000000000000000"
                                                            : "ffffffffffffffff");
    assert_true(g_file_set_contents(mine, "x", 1, NULL));
    assert_true(g_file_set_contents(earlier, "x", 1, NULL));
    assert_true(g_file_set_contents(last_boot, "x", 1, NULL));
    tu_fixture_reopen(fx);
    assert_false(g_file_test(dead, G_FILE_TEST_EXISTS));
    assert_true(g_file_test(live, G_FILE_TEST_EXISTS));
    assert_true(g_file_test(mine, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(earlier, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(last_boot, G_FILE_TEST_EXISTS));
    g_unlink(live);
    g_unlink(mine);
    g_free(dead);
    g_free(live);
    g_free(mine);
    g_free(earlier);
    g_free(last_boot);
    g_free(boot);
}

static void
test_two_handles(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    SeaftierTier *other = tu_open_tier(&fx->cfg, fx->dir);
    char id[41], big_id[41];
    tu_make_id(3000, id);
    tu_make_id(3001, big_id);
    unsigned char *big = tu_random_bytes(100000, 3);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "shared", 6, SEAFTIER_STATE_CLEAN, FALSE);
    tu_store_ok(other, SEAFTIER_TYPE_BLOCKS, REPO, big_id, big, 100000, SEAFTIER_STATE_DIRTY, TRUE);
    tu_read_expect(other, SEAFTIER_TYPE_FS, REPO, id, "shared", 6);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, big_id, big, 100000);
    /* Both have it in RAM now; a delete in one is seen by the other. */
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "shared", 6);
    assert_true(seaftier_tier_delete(other, SEAFTIER_TYPE_FS, REPO, id, &err));
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, id, SEAFTIER_TIER_ERROR_DELETED);
    /* A state change in one is seen by the other. */
    SeaftierTierEntry e;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, big_id, &e));
    assert_true(seaftier_tier_mark_clean(fx->tier, &e, &err));
    assert_true(lookup(other, SEAFTIER_TYPE_BLOCKS, REPO, big_id, &e));
    assert_int_equal(e.state, SEAFTIER_STATE_CLEAN);
    /* Eviction in one: the other sees the object gone, not corrupt. */
    tu_read_expect(other, SEAFTIER_TYPE_BLOCKS, REPO, big_id, big, 100000);
    assert_true(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, big_id, &err));
    tu_read_fails(other, SEAFTIER_TYPE_BLOCKS, REPO, big_id, SEAFTIER_TIER_ERROR_NOT_FOUND);
    seaftier_tier_close(other);
    g_free(big);
}

/* Forked children report their result through a pipe rather than their
 * exit status: under valgrind a child's heap still holds what only the
 * parent's other threads referenced, so its leak check at exit finds
 * "definitely lost" blocks and --error-exitcode replaces the status. */
typedef struct {
    pid_t pid;
    int fd;
} Child;

static int child_report_fd = -1;

static void child_exit(int code) __attribute__((noreturn));

static void
child_exit(int code)
{
    unsigned char c = (unsigned char)code;
    if (child_report_fd >= 0 && write(child_report_fd, &c, 1) != 1)
        _exit(100);
    _exit(code);
}

/* Like fork(); in the child, child_exit() reports to the parent. */
static Child
child_fork(void)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    Child c = { fork(), p[0] };
    assert_true(c.pid >= 0);
    if (c.pid == 0) {
        close(p[0]);
        child_report_fd = p[1];
    } else {
        close(p[1]);
    }
    return c;
}

/* The code the child passed to child_exit(), or -1 if it died without one. */
static int
child_wait(Child c)
{
    unsigned char code = 0;
    ssize_t n = read(c.fd, &code, 1);
    close(c.fd);
    int status = 0;
    assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
    return n == 1 ? code : -1;
}

/* TRUE when some process holds SQLite's shared lock on `db` (the range
 * after PENDING_BYTE + 1 that every WAL-mode connection keeps read-locked):
 * F_GETLK sees only other processes' locks, so a child asks. */
static gboolean
shared_lock_held(const char *db)
{
    Child c = child_fork();
    if (c.pid == 0) {
        int fd = open(db, O_RDONLY | O_CLOEXEC);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                            .l_start = 0x40000002, .l_len = 510 };
        if (fd < 0 || fcntl(fd, F_GETLK, &fl) != 0)
            child_exit(2);
        child_exit(fl.l_type != F_UNLCK ? 0 : 1);
    }
    int code = child_wait(c);
    assert_true(code == 0 || code == 1);
    return code == 0;
}

/* Opening a second handle on the same directory in the same process must
 * not drop the POSIX locks of the first one's SQLite connections (closing
 * any fd of index.db would). */
static void
test_second_open_keeps_locks(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    tu_make_id(3100, id);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "locked", 6, SEAFTIER_STATE_CLEAN, FALSE);
    char *db = g_build_filename(fx->dir, "index.db", NULL);
    assert_true(shared_lock_held(db));
    SeaftierTier *other = tu_open_tier(&fx->cfg, fx->dir);
    assert_true(shared_lock_held(db));
    seaftier_tier_close(other);
    assert_true(shared_lock_held(db));
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "locked", 6);
    g_free(db);
}

/* Hits and misses are counted across processes (handles): each adds its
 * counts to the index in the background and at close. */
static void
test_counters_shared(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41], absent[41];
    tu_make_id(3200, id);
    tu_make_id(3201, absent);
    SeaftierTier *reader = tu_open_tier(&fx->cfg, fx->dir);
    tu_store_ok(reader, SEAFTIER_TYPE_FS, REPO, id, "counted", 7, SEAFTIER_STATE_CLEAN, FALSE);
    tu_read_expect(reader, SEAFTIER_TYPE_FS, REPO, id, "counted", 7);      /* RAM */
    tu_read_expect(reader, SEAFTIER_TYPE_FS, REPO, id, "counted", 7);
    tu_read_fails(reader, SEAFTIER_TYPE_FS, REPO, absent, SEAFTIER_TIER_ERROR_NOT_FOUND);
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(reader, &st, &err));
    assert_int_equal(st.ram_hits, 2);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.bytes_read, 14);
    assert_int_equal(st.bytes_written, 7);
    /* Another handle sees them within a few seconds, with no close. */
    gint64 deadline = g_get_monotonic_time() + 3 * COUNTERS_FLUSH_US;
    do {
        assert_true(seaftier_tier_stats(fx->tier, &st, &err));
        if (st.ram_hits == 2)
            break;
        g_usleep(100000);
    } while (g_get_monotonic_time() < deadline);
    assert_int_equal(st.ram_hits, 2);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.bytes_written, 7);
    /* The rest at close; and this handle's own reads add up. */
    tu_read_fails(reader, SEAFTIER_TYPE_FS, REPO, absent, SEAFTIER_TIER_ERROR_NOT_FOUND);
    seaftier_tier_close(reader);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "counted", 7);    /* disk: not in its RAM */
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.ram_hits, 2);
    assert_int_equal(st.disk_hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.bytes_read, 21);
    assert_int_equal(sql_int(fx, "SELECT value FROM counters WHERE name = 'misses'"), 2);
    /* Reopened later: the totals stay. */
    tu_fixture_reopen(fx);
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.ram_hits + st.disk_hits + st.misses, 5);
}

typedef struct {
    TuFixture *fx;
    int thread;
    int count;
    int failures;
} ThreadCtx;

static gpointer
store_thread(gpointer p)
{
    ThreadCtx *c = p;
    for (int i = 0; i < c->count; i++) {
        char id[41];
        int v = c->thread * 100000 + i;
        tu_make_id(v, id);
        GError *err = NULL;
        /* Every fourth one is a block file, the others inline. */
        gsize len = i % 4 == 0 ? 70000 : sizeof(v);
        unsigned char *data = g_malloc0(len);
        memcpy(data, &v, sizeof(v));
        if (!seaftier_tier_store(c->fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, len,
                                 SEAFTIER_STATE_DIRTY, TRUE, &err)) {
            c->failures++;
            g_clear_error(&err);
        }
        g_free(data);
    }
    return NULL;
}

static void
test_concurrent_stores(void **state)
{
    TuFixture *fx = *state;
    ThreadCtx ctx[8];
    GThread *threads[8];
    for (int t = 0; t < 8; t++) {
        ctx[t] = (ThreadCtx){ fx, t, 100, 0 };
        threads[t] = g_thread_new("store", store_thread, &ctx[t]);
    }
    for (int t = 0; t < 8; t++) {
        g_thread_join(threads[t]);
        assert_int_equal(ctx[t].failures, 0);
    }
    tu_fixture_reopen(fx);
    for (int t = 0; t < 8; t++)
        for (int i = 0; i < 100; i++) {
            char id[41];
            int v = t * 100000 + i;
            tu_make_id(v, id);
            gsize len = i % 4 == 0 ? 70000 : sizeof(v);
            unsigned char *data = g_malloc0(len);
            memcpy(data, &v, sizeof(v));
            tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, len);
            g_free(data);
        }
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, NULL));
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY], 800);
}

static gpointer
same_ids_thread(gpointer p)
{
    ThreadCtx *c = p;
    for (int i = 0; i < c->count; i++) {
        char id[41];
        tu_make_id(40000 + i, id);
        gsize len = i % 2 ? 70000 : 100;
        unsigned char *data = g_malloc0(len);
        memcpy(data, &i, sizeof(i));
        GError *err = NULL;
        if (!seaftier_tier_store(c->fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, len,
                                 SEAFTIER_STATE_DIRTY, c->thread % 2 == 0, &err)) {
            c->failures++;
            g_clear_error(&err);
        }
        g_free(data);
    }
    return NULL;
}

static void
test_concurrent_same_ids(void **state)
{
    TuFixture *fx = *state;
    /* Two handles (as two processes would) and 4 threads each, all storing
     * the same 50 objects: one row and at most one file per object. */
    SeaftierTier *other = tu_open_tier(&fx->cfg, fx->dir);
    TuFixture fx2 = *fx;
    fx2.tier = other;
    ThreadCtx ctx[8];
    GThread *threads[8];
    for (int t = 0; t < 8; t++) {
        ctx[t] = (ThreadCtx){ t < 4 ? fx : &fx2, t, 50, 0 };
        threads[t] = g_thread_new("same", same_ids_thread, &ctx[t]);
    }
    for (int t = 0; t < 8; t++) {
        g_thread_join(threads[t]);
        assert_int_equal(ctx[t].failures, 0);
    }
    seaftier_tier_close(other);
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM objects"), 50);
    char *objects = g_build_filename(fx->dir, "objects", NULL);
    assert_int_equal(count_files(objects), 25);
    g_free(objects);
    char *tmp = g_build_filename(fx->dir, "tmp", NULL);
    assert_int_equal(count_files(tmp), 0);
    g_free(tmp);
    for (int i = 0; i < 50; i++) {
        char id[41];
        tu_make_id(40000 + i, id);
        gsize len = i % 2 ? 70000 : 100;
        unsigned char *data = g_malloc0(len);
        memcpy(data, &i, sizeof(i));
        tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, len);
        g_free(data);
    }
}

static void
test_free_space_floor(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41];
    for (int i = 0; i < 20; i++) {
        tu_make_id(50000 + i, id);
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &i, sizeof(i),
                 i < 5 ? SEAFTIER_STATE_DIRTY : SEAFTIER_STATE_CLEAN, TRUE);
    }
    /* A floor no file system can meet: clean objects are evicted first,
     * then the write is refused with FULL; dirty data stays. */
    tu_fixture_close(fx);
    fx->cfg.tier.min_free_space = G_MAXINT64;
    tu_fixture_open(fx);
    tu_make_id(50100, id);
    assert_false(seaftier_tier_store(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "new", 3,
                                     SEAFTIER_STATE_DIRTY, TRUE, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL));
    assert_non_null(strstr(err->message, "min_free_space"));
    g_clear_error(&err);
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN], 0);
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY], 5);
    SeaftierTierEntry e;
    assert_false(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &e));
    for (int i = 0; i < 5; i++) {
        tu_make_id(50000 + i, id);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &i, sizeof(i));
    }
    /* Once the floor is back within reach, writes work again. */
    tu_fixture_close(fx);
    fx->cfg.tier.min_free_space = 0;
    tu_fixture_open(fx);
    tu_make_id(50100, id);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "new", 3, SEAFTIER_STATE_DIRTY, TRUE);
}

/* Makes the index unable to grow from now on, as a full file system does
 * (SQLITE_FULL, "database or disk is full"), on every connection the tier
 * has: a single-threaded test borrows the same ones back. */
static void
cap_index(TuFixture *fx)
{
    SeaftierTier *t = fx->tier;
    GError *err = NULL;
    /* Open a few, so that no operation needs an uncapped new one. */
    TierConn *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = seaftier_tier_conn_get(t, &err);
        assert_non_null(c[i]);
    }
    for (int i = 0; i < 3; i++)
        seaftier_tier_conn_put(t, c[i]);
    g_mutex_lock(&t->pool_lock);
    for (guint i = 0; i < t->pool->len; i++) {
        TierConn *conn = g_ptr_array_index(t->pool, i);
        assert_int_equal(sqlite3_exec(conn->db, "PRAGMA max_page_count = 1", NULL, NULL, NULL),
                         SQLITE_OK);
    }
    g_mutex_unlock(&t->pool_lock);
}

static void
test_disk_full_evicts_clean(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char id[41];
    unsigned char *data = tu_random_bytes(3000, 9);
    for (int i = 0; i < 200; i++) {
        tu_make_id(60000 + i, id);
        data[0] = (unsigned char)i;
        data[1] = (unsigned char)(i >> 8);
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 3000,
                 i < 100 ? SEAFTIER_STATE_CLEAN : SEAFTIER_STATE_DIRTY, TRUE);
    }
    assert_int_equal(sql_int(fx, "PRAGMA freelist_count"), 0);
    cap_index(fx);

    /* No floor: SQLite itself says the disk is full. Clean objects go, the
     * store is retried and succeeds. */
    tu_make_id(60500, id);
    data[0] = 0xee;
    assert_true(seaftier_tier_store(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 3000,
                                    SEAFTIER_STATE_DIRTY, TRUE, &err));
    assert_null(err);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 3000);
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    guint64 clean_left = st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN];
    assert_true(clean_left < 100);
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY], 101);

    /* The uploader marking objects clean needs room in the index too: it
     * must not fail for good while clean objects could make room. */
    GPtrArray *batch = seaftier_tier_dirty_batch(fx->tier, -1, NULL, 1000, now_s() + 10, &err);
    assert_non_null(batch);
    assert_int_equal(batch->len, 101);
    for (guint i = 0; i < batch->len; i++) {
        const SeaftierTierEntry *e = batch->pdata[i];
        if (!seaftier_tier_mark_clean(fx->tier, e, &err))
            fail_msg("mark_clean %u of %u: %s", i, batch->len, err->message);
    }
    g_ptr_array_free(batch, TRUE);
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY], 0);

    /* Dirty data only and no room: FULL, saying so, nothing changed. */
    for (int i = 0; i < 1000; i++) {
        tu_make_id(61000 + i, id);
        data[0] = (unsigned char)i;
        data[2] = 0x55;
        if (!seaftier_tier_store(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 3000,
                                 SEAFTIER_STATE_DIRTY, TRUE, &err))
            break;
    }
    assert_non_null(err);
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL));
    assert_non_null(strstr(err->message, "full"));
    g_clear_error(&err);
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_int_equal(st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN], 0);
    g_free(data);
}

/* Object i's bytes: its length and content follow from i alone, so any
 * process can check any object. */
static unsigned char *
object_bytes(int i, gsize *len)
{
    *len = i % 5 == 0 ? 70000 + (gsize)i : 100 + (gsize)(i % 3000);
    unsigned char *p = g_malloc(*len);
    for (gsize k = 0; k < *len; k++)
        p[k] = (unsigned char)(i * 31 + k * 7 + (k >> 9));
    return p;
}

static void
random_ops(TuFixture *fx, guint32 seed, double seconds)
{
    GError *err = NULL;
    SeaftierTier *t = seaftier_tier_open(&fx->cfg, fx->dir, &err);
    if (!t)
        child_exit(2);
    GRand *r = g_rand_new_with_seed(seed);
    gint64 end = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
    while (g_get_monotonic_time() < end) {
        int i = g_rand_int_range(r, 0, 200), op = g_rand_int_range(r, 0, 100);
        char id[41];
        tu_make_id(90000 + i, id);
        gsize len;
        unsigned char *data = object_bytes(i, &len);
        SeaftierObjType type = SEAFTIER_TYPE_BLOCKS;
        if (op < 40) {
            if (!seaftier_tier_store(t, type, REPO, id, data, len,
                                     op < 25 ? SEAFTIER_STATE_DIRTY : SEAFTIER_STATE_CLEAN,
                                     op % 2 == 0, &err)) {
                if (!g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL))
                    child_exit(3);
                g_clear_error(&err);
            }
        } else if (op < 70) {
            void *got = NULL;
            gsize got_len = 0;
            if (seaftier_tier_read(t, type, REPO, id, &got, &got_len, &err)) {
                if (got_len != len || memcmp(got, data, len) != 0)
                    child_exit(4);   /* wrong bytes served */
                g_free(got);
            } else {
                if (!g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND) &&
                    !g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED))
                    child_exit(5);   /* never CORRUPT without a crash */
                g_clear_error(&err);
            }
        } else if (op < 80) {
            if (!seaftier_tier_delete(t, type, REPO, id, &err))
                child_exit(6);
        } else if (op < 85) {
            if (!seaftier_tier_evict_one(t, type, REPO, id, &err))
                g_clear_error(&err);
        } else if (op < 95) {
            GPtrArray *b = seaftier_tier_dirty_batch(t, -1, NULL, 5, G_MAXINT64, &err);
            for (guint k = 0; b && k < b->len; k++)
                if (!seaftier_tier_mark_clean(t, b->pdata[k], &err))
                    child_exit(7);
            if (b)
                g_ptr_array_free(b, TRUE);
            b = seaftier_tier_deleted_batch(t, -1, 3, &err);
            for (guint k = 0; b && k < b->len; k++)
                if (!seaftier_tier_forget_deleted(t, b->pdata[k], &err))
                    child_exit(8);
            if (b)
                g_ptr_array_free(b, TRUE);
        } else {
            if (!seaftier_tier_evict(t, NULL, NULL, &err))
                child_exit(9);
        }
        g_free(data);
    }
    g_rand_free(r);
    seaftier_tier_close(t);
}

static void
test_processes_consistent(void **state)
{
    TuFixture *fx = *state;
    tu_fixture_close(fx);
    fx->cfg.tier.max_size = 2 * MIB;      /* eviction and FULL both happen */
    tu_fixture_open(fx);
    Child kids[3];
    for (int p = 0; p < 3; p++) {
        kids[p] = child_fork();
        if (kids[p].pid == 0) {
            random_ops(fx, 1000 + (guint32)p, 2.0);
            child_exit(0);
        }
    }
    random_ops(fx, 7, 2.0);                 /* and this process, through its own handle */
    for (int p = 0; p < 3; p++)
        assert_int_equal(child_wait(kids[p]), 0);
    tu_assert_usage_matches_rows(fx->dir);
    /* Inline rows have their blob, nothing else has one. */
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM objects o LEFT JOIN blobs b ON b.id = o.id"
                                 " WHERE o.state IN (0, 1) AND o.location = 0 AND b.id IS NULL"), 0);
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM blobs b LEFT JOIN objects o ON o.id = b.id"
                                 " WHERE o.id IS NULL OR o.state NOT IN (0, 1) OR o.location != 0"), 0);
    /* Rows without local data (DELETED, REMOTE) hold no stored bytes. */
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM objects WHERE state IN (2, 3)"
                                 " AND (stored_size != 0 OR location != 0)"), 0);
    /* Exactly one file per file-backed row, none left over. */
    char *objects = g_build_filename(fx->dir, "objects", NULL);
    assert_int_equal(count_files(objects),
                     sql_int(fx, "SELECT COUNT(*) FROM objects WHERE state IN (0, 1) AND location = 1"));
    g_free(objects);
    char *tmp = g_build_filename(fx->dir, "tmp", NULL);
    assert_int_equal(count_files(tmp), 0);
    g_free(tmp);
    /* Every object still here reads back right, and verify finds nothing. */
    guint64 checked = 0, problems = 0;
    GError *err = NULL;
    assert_true(seaftier_tier_verify(fx->tier, NULL, NULL, &checked, &problems, &err));
    assert_int_equal(problems, 0);
    for (int i = 0; i < 200; i++) {
        char id[41];
        tu_make_id(90000 + i, id);
        SeaftierTierEntry e;
        if (!lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e) ||
            e.state == SEAFTIER_STATE_DELETED || e.state == SEAFTIER_STATE_REMOTE)
            continue;
        gsize len;
        unsigned char *data = object_bytes(i, &len);
        tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, len);
        g_free(data);
    }
    SeaftierTierStats st;
    assert_true(seaftier_tier_stats(fx->tier, &st, &err));
    assert_true(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY] +
                st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_CLEAN] > 0);
}

static void
test_invalid_ids(void **state)
{
    TuFixture *fx = *state;
    static const char *const bad_repos[] = { NULL, "", "../../etc", REPO "/..",
                                             "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6g",
                                             "0ad8b22f/5a1b-4d3c-9a2e-3f1c2b4d5e6f" };
    static const char *const bad_objs[] = { NULL, "", "../../../../../../../../../../../../x",
                                            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
                                            "da39a3ee5e6b4b0d3255bfef95601890afd8070",
                                            "da39a3ee5e6b4b0d3255bfef95601890afd80709 ",
                                            "da39a3ee5e6b4b0d3255bfef95601890afd8070'" };
    const char *good_obj = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    int files_before = count_files(fx->dir);
    gint64 rows_before = sql_int(fx, "SELECT COUNT(*) FROM objects");
    unsigned char *big = tu_random_bytes(100000, 1);
    for (gsize r = 0; r < G_N_ELEMENTS(bad_repos) + 1; r++)
        for (gsize o = 0; o < G_N_ELEMENTS(bad_objs) + 1; o++) {
            const char *repo = r < G_N_ELEMENTS(bad_repos) ? bad_repos[r] : REPO;
            const char *obj = o < G_N_ELEMENTS(bad_objs) ? bad_objs[o] : good_obj;
            if (r == G_N_ELEMENTS(bad_repos) && o == G_N_ELEMENTS(bad_objs))
                continue;
            GError *err = NULL;
            void *d;
            gsize l;
            SeaftierTierEntry e;
            assert_false(seaftier_tier_store(fx->tier, SEAFTIER_TYPE_BLOCKS, repo, obj, big, 100000,
                                             SEAFTIER_STATE_DIRTY, TRUE, &err));
            assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
            g_clear_error(&err);
            assert_false(seaftier_tier_read(fx->tier, SEAFTIER_TYPE_FS, repo, obj, &d, &l, &err));
            assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
            g_clear_error(&err);
            assert_false(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, repo, obj, &err));
            assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
            g_clear_error(&err);
            assert_false(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_FS, repo, obj, &e, &err));
            assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
            g_clear_error(&err);
            assert_false(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_FS, repo, obj, &err));
            assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
            g_clear_error(&err);
        }
    /* A bad type too. */
    GError *err = NULL;
    assert_false(seaftier_tier_store(fx->tier, (SeaftierObjType)7, REPO, good_obj, "x", 1,
                                     SEAFTIER_STATE_DIRTY, TRUE, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
    g_clear_error(&err);
    SeaftierTierEntry e;
    memset(&e, 0, sizeof(e));
    g_strlcpy(e.repo_id, "../x", sizeof(e.repo_id));
    g_strlcpy(e.obj_id, good_obj, sizeof(e.obj_id));
    assert_false(seaftier_tier_mark_clean(fx->tier, &e, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
    g_clear_error(&err);
    assert_int_equal(count_files(fx->dir), files_before);
    assert_int_equal(sql_int(fx, "SELECT COUNT(*) FROM objects"), rows_before);
    g_free(big);
}

static void
test_permissions(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    tu_make_id(1, id);
    unsigned char *big = tu_random_bytes(100000, 1);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, big, 100000, SEAFTIER_STATE_DIRTY, TRUE);
    g_free(big);
    struct stat st;
    assert_int_equal(stat(fx->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *p = g_build_filename(fx->dir, "index.db", NULL);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    g_free(p);
    p = g_build_filename(fx->dir, "index.db-wal", NULL);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    g_free(p);
    p = find_file(fx, SEAFTIER_TYPE_BLOCKS, REPO, id);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *d = g_path_get_dirname(p);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    g_free(d);
    g_free(p);
    assert_int_equal(sql_int(fx, "PRAGMA user_version"), 4);
}

static void
test_nudge(void **state)
{
    TuFixture *fx = *state;
    /* No daemon: harmless. */
    seaftier_tier_nudge(fx->tier);
    char *path = seaftier_tier_nudge_path(fx->tier);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    g_usleep(5000);
    /* A burst sends one datagram per 2 ms at most, not one per call. */
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < 100; i++)
        seaftier_tier_nudge(fx->tier);
    gint64 elapsed = g_get_monotonic_time() - t0;
    char buf[16];
    int got = 0;
    while (recv(fd, buf, sizeof(buf), 0) > 0)
        got++;
    assert_true(got >= 1);
    assert_true(got <= 1 + elapsed / 2000);
    assert_true(got < 100);
    g_usleep(5000);
    seaftier_tier_nudge(fx->tier);
    assert_true(recv(fd, buf, sizeof(buf), 0) == 1);
    close(fd);
    g_unlink(path);
    g_free(path);
}

static void
test_wal_checkpointed(void **state)
{
    TuFixture *fx = *state;
    /* ~32 MiB of pages through the WAL: they must reach the database while
     * the WAL stays bounded. */
    unsigned char *data = tu_random_bytes(4096, 3);
    char id[41];
    for (int i = 0; i < 4000; i++) {
        tu_make_id(70000 + i, id);
        memcpy(data, &i, sizeof(i));
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, 4096, SEAFTIER_STATE_CLEAN, FALSE);
    }
    g_free(data);
    char *db = g_build_filename(fx->dir, "index.db", NULL);
    char *wal = g_build_filename(fx->dir, "index.db-wal", NULL);
    struct stat st_db, st_wal;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        g_usleep(20000);
        assert_int_equal(stat(db, &st_db), 0);
    } while (st_db.st_size < 12 * MIB && g_get_monotonic_time() < deadline);
    assert_true(st_db.st_size >= 12 * MIB);
    /* Bounded: about 4000 pages, whatever went through it. */
    assert_int_equal(stat(wal, &st_wal), 0);
    assert_true(st_wal.st_size < 24 * MIB);
    g_free(db);
    g_free(wal);
    tu_make_id(70000 + 3999, id);
    SeaftierTierEntry e;
    assert_true(lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, id, &e));
}

int
main(void)
{
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        TU_FIXTURE_TEST(test_round_trip_sizes, &fixture),
        TU_FIXTURE_TEST(test_restore_same_bytes_is_noop, &fixture),
        TU_FIXTURE_TEST(test_codec_by_type, &fixture),
        TU_FIXTURE_TEST(test_atime_lazy, &fixture),
        TU_FIXTURE_TEST(test_atime_granularity, &fixture),
        TU_FIXTURE_TEST(test_delete_semantics, &fixture),
        TU_FIXTURE_TEST(test_delete_after_evict_rewrite, &fixture),
        TU_FIXTURE_TEST(test_dirty_batch, &fixture),
        TU_FIXTURE_TEST(test_mark_clean_races, &fixture),
        TU_FIXTURE_TEST(test_pending_delete_rows, &fixture),
        TU_FIXTURE_TEST(test_deleted_batch, &fixture),
        TU_FIXTURE_TEST(test_foreach, &fixture),
        TU_FIXTURE_TEST(test_eviction_limits, &fixture),
        TU_FIXTURE_TEST(test_evict_clean_and_one, &fixture),
        TU_FIXTURE_TEST(test_corruption, &fixture),
        TU_FIXTURE_TEST(test_restart_and_child_crash, &fixture),
        TU_FIXTURE_TEST(test_tmp_cleanup, &fixture),
        TU_FIXTURE_TEST(test_two_handles, &fixture),
        TU_FIXTURE_TEST(test_second_open_keeps_locks, &fixture),
        TU_FIXTURE_TEST(test_counters_shared, &fixture),
        TU_FIXTURE_TEST(test_concurrent_stores, &fixture),
        TU_FIXTURE_TEST(test_concurrent_same_ids, &fixture),
        TU_FIXTURE_TEST(test_free_space_floor, &fixture),
        TU_FIXTURE_TEST(test_disk_full_evicts_clean, &fixture),
        TU_FIXTURE_TEST(test_processes_consistent, &fixture),
        TU_FIXTURE_TEST(test_invalid_ids, &fixture),
        TU_FIXTURE_TEST(test_permissions, &fixture),
        TU_FIXTURE_TEST(test_nudge, &fixture),
        TU_FIXTURE_TEST(test_wal_checkpointed, &fixture),
        TU_FIXTURE_TEST(test_batches_use_partial_indexes, &fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
