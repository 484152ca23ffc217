/*
 * tests/unit/test_tier_snapshot.c — disk hits keep a SQLite read snapshot
 * open while no commit happened anywhere (lib/tier/tier.c): what a hit
 * answers must always be what a fresh transaction would answer, the WAL
 * must stay bounded while hits and commits interleave, and an idle snapshot
 * must be let go. Two tier handles on one directory stand for two
 * processes (they share the index and the mapped commit sequence, nothing
 * else). Real SQLite index in a temporary directory; no network.
 */
#include "seaftier-build.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include <seaftier/log.h>

#include "tier/tier.h"
#include "tier-testutil.h"
#include "tier/tier-private.h"     /* the snapshot's state */

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define MIB (1024 * 1024)

/* fx->tier writes (stores and deletes); fx->second reads, with the RAM tier
 * off as the writer's: every read is a disk hit. */
static const TuFixtureSpec fixture = {
    .name = "test_tier_snapshot",
    .ram_cache_size = 0,
    .inline_max = 64 * 1024,
    .second_handle = TRUE,
};

static void
store_ok(SeaftierTier *t, const char *id, const void *data, gsize len, gboolean durable)
{
    tu_store_ok(t, SEAFTIER_TYPE_FS, REPO, id, data, len, SEAFTIER_STATE_DIRTY, durable);
}

static void
read_expect(SeaftierTier *t, const char *id, const void *data, gsize len)
{
    tu_read_expect(t, SEAFTIER_TYPE_FS, REPO, id, data, len);
}

static void
read_fails(SeaftierTier *t, const char *id, int code)
{
    tu_read_fails(t, SEAFTIER_TYPE_FS, REPO, id, code);
}

static gboolean
snapshot_open(SeaftierTier *t)
{
    g_mutex_lock(&t->snap_lock);
    gboolean open = t->snap_open;
    g_mutex_unlock(&t->snap_lock);
    return open;
}

/* Every commit of the other handle is seen by the very next hit: a new
 * object, a delete, a new version, a non-durable store, and a large object
 * (a file) as well as inline ones. */
static void
test_hits_see_every_commit(void **state)
{
    TuFixture *fx = *state;
    SeaftierTier *writer = fx->tier, *reader = fx->second;
    char a[41], b[41], big[41];
    tu_make_id(1, a);
    tu_make_id(2, b);
    tu_make_id(3, big);
    store_ok(writer, a, "first bytes", 11, TRUE);
    read_expect(reader, a, "first bytes", 11);
    read_expect(reader, a, "first bytes", 11);      /* served by the kept snapshot */

    /* A new object, stored without durability (a NORMAL commit). */
    read_fails(reader, b, SEAFTIER_TIER_ERROR_NOT_FOUND);
    store_ok(writer, b, "other bytes", 11, FALSE);
    read_expect(reader, b, "other bytes", 11);

    /* Another version of `a` (last write wins). */
    store_ok(writer, a, "second version", 14, TRUE);
    read_expect(reader, a, "second version", 14);

    /* A delete: never hidden by the snapshot. */
    GError *err = NULL;
    assert_true(seaftier_tier_delete(writer, SEAFTIER_TYPE_FS, REPO, a, &err));
    read_fails(reader, a, SEAFTIER_TIER_ERROR_DELETED);

    /* A file-backed object, then its delete. */
    gsize n = 100 * 1024;
    unsigned char *data = g_malloc(n);
    for (gsize i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7919 >> 3);
    store_ok(writer, big, data, n, TRUE);
    read_expect(reader, big, data, n);
    assert_true(seaftier_tier_delete(writer, SEAFTIER_TYPE_FS, REPO, big, &err));
    read_fails(reader, big, SEAFTIER_TIER_ERROR_DELETED);
    g_free(data);

    /* The reader's own writes too. */
    store_ok(reader, a, "third version", 13, FALSE);
    read_expect(reader, a, "third version", 13);
}

/* Hits interleaved with a stream of commits (~32 MiB through the WAL): the
 * snapshot is dropped while the WAL is long, so checkpoints bring it back
 * and the WAL restarts. */
static void
test_wal_bounded_under_hits(void **state)
{
    TuFixture *fx = *state;
    SeaftierTier *writer = fx->tier, *reader = fx->second;
    unsigned char data[4096];
    for (gsize i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)g_random_int();
    int zero = 0;
    memcpy(data, &zero, sizeof(zero));
    char id[41], first[41];
    tu_make_id(100000, first);
    store_ok(writer, first, data, sizeof data, FALSE);
    for (int i = 1; i < 4000; i++) {
        tu_make_id(100000 + i, id);
        memcpy(data, &i, sizeof(i));
        store_ok(writer, id, data, sizeof data, FALSE);
        /* (the stored bytes of `first` had i = 0 there) */
        memcpy(data, &zero, sizeof(zero));
        read_expect(reader, first, data, sizeof data);
    }
    char *wal = g_build_filename(fx->dir, "index.db-wal", NULL);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    /* Bounded as without readers: about 4000 pages, not all 32 MiB. */
    if (st.st_size >= 24 * MIB)
        fail_msg("the WAL grew to %lld bytes while hits kept snapshots", (long long)st.st_size);
    g_free(wal);
}

/* A snapshot nobody uses any more is ended by the background thread: a
 * checkpoint that must wait for every reader (TRUNCATE) then completes. */
static void
test_idle_snapshot_released(void **state)
{
    TuFixture *fx = *state;
    SeaftierTier *writer = fx->tier, *reader = fx->second;
    char a[41], b[41];
    tu_make_id(7, a);
    tu_make_id(8, b);
    store_ok(writer, a, "bytes", 5, TRUE);
    read_expect(reader, a, "bytes", 5);
    /* A commit after the snapshot began: the snapshot now pins the WAL.
     * (It may already be over when this thread is slow, e.g. under
     * valgrind: the point is that it never stays.) */
    store_ok(writer, b, "more", 4, TRUE);

    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (snapshot_open(reader) && g_get_monotonic_time() < deadline)
        g_usleep(10000);
    assert_false(snapshot_open(reader));

    char *path = g_build_filename(fx->dir, "index.db", NULL);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    /* Waits out a transaction of a background thread (counters, access
     * times); a snapshot held for ever would still make it busy. */
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 0);     /* not busy: no reader held it */
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    g_free(path);
    read_expect(reader, b, "more", 4);
}

/* Schema 3 is schema 2's tables plus the commit-sequence promise: an index
 * of version 2 (text ids) is taken to 3 and on to 4 at open and its rows
 * read as before; version 2 code refuses a version 3 index (it knows only
 * up to 2). */
static void
test_upgrade_from_v2(void **state)
{
    TuFixture *fx = *state;
    char a[41];
    tu_make_id(9, a);
    store_ok(fx->tier, a, "kept bytes", 10, TRUE);
    assert_int_equal(tu_sql_int(fx->dir, "PRAGMA user_version"), 4);
    tu_fixture_close(fx);
    /* Back to what version 2 wrote: ids as text. */
    tu_sql_exec(fx->dir, "UPDATE objects SET repo_id = tier_id_text(repo_id),"
                         " obj_id = tier_id_text(obj_id); PRAGMA user_version=2");
    assert_int_equal(tu_sql_int(fx->dir, "PRAGMA user_version"), 2);
    tu_fixture_open(fx);
    assert_int_equal(tu_sql_int(fx->dir, "PRAGMA user_version"), 4);
    read_expect(fx->second, a, "kept bytes", 10);
}

int
main(void)
{
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        TU_FIXTURE_TEST(test_hits_see_every_commit, &fixture),
        TU_FIXTURE_TEST(test_wal_bounded_under_hits, &fixture),
        TU_FIXTURE_TEST(test_idle_snapshot_released, &fixture),
        TU_FIXTURE_TEST(test_upgrade_from_v2, &fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
