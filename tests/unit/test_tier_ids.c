/* Unit tests of ids as the index stores them (lib/tier/dbid.c, schema 4):
 * the encoding of canonical and other ids and its round trip through SQLite,
 * ids the tier's checks accept that are not canonical (an uppercase repo id)
 * stored, looked up and listed unchanged, rows with odd ids listed with
 * exactly their strings, and the in-place upgrade of a schema-3 index (text
 * ids) with rows in every state and a tombstone. Real SQLite, no network. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>

#include <seaftier/log.h>

#include "tier/tier.h"
#include "tier/tier-private.h"     /* the id codec under test */
#include "tier-testutil.h"

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define REPO_UPPER "0AD8B22F-5A1B-4D3C-9A2E-3F1C2B4D5E6F"

static const TuFixtureSpec fixture = {
    .name = "test_tier_ids",
    .ram_cache_size = 0,        /* every read goes through the index */
    .inline_max = 4096,
};

/* An id and the number of bytes the index stores it in (0: as text). */
typedef struct {
    const char *id;
    int binary_len;
} IdCase;

static const IdCase id_cases[] = {
    { "0123456789abcdef0123456789abcdef01234567", 20 },   /* object id */
    { "ffffffffffffffffffffffffffffffffffffffff", 20 },
    { "0000000000000000000000000000000000000000", 20 },
    { REPO, 16 },                                           /* repo id */
    { "0123456789ABCDEF0123456789abcdef01234567", 0 },    /* uppercase hex */
    { "0123456789abcdef0123456789abcdef0123456", 0 },     /* 39 */
    { "0123456789abcdef0123456789abcdef012345678", 0 },   /* 41 */
    { "0123456789abcdef0123456789abcdef0123456g", 0 },    /* not hex: each */
    { "/123456789abcdef0123456789abcdef01234567", 0 },    /* neighbour of */
    { "0123456789abcdef0123456789abcdef0123456:", 0 },    /* a digit range */
    { "0123456789abcdef0123`56789abcdef01234567", 0 },
    { "0123456789abcdef0123456789abcdeG01234567", 0 },
    { "0123456789abcdef01234567\xc3\xa9" "abcdef01234567", 0 },  /* bytes >= 0x80 */
    { "\xff\xff\xff\xff\xff\xff\xff\xff" "89abcdef0123456789abcdef01234567", 0 },
    { "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6g", 0 },         /* UUID, not hex */
    { REPO_UPPER, 0 },                                      /* uppercase UUID */
    { "0ad8b22f05a1b-4d3c-9a2e-3f1c2b4d5e6f", 0 },         /* 36, a dash missing */
    { "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6", 0 },          /* 35 */
    { "0ad8b22f5a1b4d3c9a2e3f1c2b4d5e6f", 0 },             /* UUID without dashes */
    { "-", 0 },
    { "", 0 },
};

/* Each id: encoded as expected, stored in a real SQLite table through the
 * bind, found by a lookup with the same bind, read back as exactly the
 * same string through the column decode and through tier_id_text(), and
 * tier_id() in SQL gives what the bind stored. */
static void
test_round_trip(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(seaftier_tier_register_id_sql(db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (n INTEGER, id TEXT NOT NULL);"
                                      "CREATE UNIQUE INDEX t_id ON t(id)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *ins = NULL, *find = NULL, *sql_form = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t (n, id) VALUES (?1, ?2)", -1, &ins,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT n, id, typeof(id), length(CAST(id AS BLOB)),"
                                            " tier_id_text(id) FROM t WHERE id = ?1", -1, &find,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE id = tier_id(?1)"
                                            " AND tier_id_text(tier_id(?1)) = ?1", -1, &sql_form,
                                        NULL), SQLITE_OK);
    for (guint i = 0; i < G_N_ELEMENTS(id_cases); i++) {
        const IdCase *c = &id_cases[i];
        unsigned char bytes[TIER_ID_MAX_BYTES];
        int n = seaftier_tier_id_encode(c->id, strlen(c->id), bytes);
        if (n != c->binary_len)
            fail_msg("\"%s\": encoded in %d bytes, expected %d", c->id, n, c->binary_len);
        TierIdKey key;
        sqlite3_reset(ins);
        sqlite3_bind_int(ins, 1, (int)i);
        assert_int_equal(seaftier_tier_bind_id(ins, 2, c->id, &key), SQLITE_OK);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
    }
    for (guint i = 0; i < G_N_ELEMENTS(id_cases); i++) {
        const IdCase *c = &id_cases[i];
        TierIdKey key;
        sqlite3_reset(find);
        assert_int_equal(seaftier_tier_bind_id(find, 1, c->id, &key), SQLITE_OK);
        if (sqlite3_step(find) != SQLITE_ROW)
            fail_msg("\"%s\" not found by its own encoding", c->id);
        assert_int_equal(sqlite3_column_int(find, 0), (int)i);
        assert_string_equal((const char *)sqlite3_column_text(find, 2),
                            c->binary_len ? "blob" : "text");
        assert_int_equal(sqlite3_column_int(find, 3), c->binary_len ? c->binary_len
                                                                    : (int)strlen(c->id));
        char back[64];
        assert_true(seaftier_tier_column_id(find, 1, back, sizeof(back)));
        assert_string_equal(back, c->id);
        assert_string_equal((const char *)sqlite3_column_text(find, 4), c->id);
        assert_int_equal(sqlite3_step(find), SQLITE_DONE);
        sqlite3_reset(sql_form);
        sqlite3_bind_text(sql_form, 1, c->id, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(sql_form), SQLITE_ROW);
        if (sqlite3_column_int(sql_form, 0) != 1)
            fail_msg("tier_id('%s') in SQL does not find the row the bind stored", c->id);
    }
    /* Canonical object ids keep their order as blobs (a cursor over
     * `ORDER BY obj_id` relies on it), and every text sorts before them. */
    sqlite3_stmt *ord = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT tier_id_text(id), length(CAST(id AS BLOB)),"
                                            " typeof(id) FROM t ORDER BY id", -1, &ord, NULL),
                     SQLITE_OK);
    char prev[64] = "";
    gboolean in_blobs = FALSE;
    while (sqlite3_step(ord) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(ord, 0);
        gboolean blob = strcmp((const char *)sqlite3_column_text(ord, 2), "blob") == 0;
        assert_true(blob || !in_blobs);
        in_blobs = blob;
        if (blob && sqlite3_column_int(ord, 1) == 20) {
            assert_true(strcmp(prev, id) < 0);
            g_strlcpy(prev, id, sizeof(prev));
        }
    }
    sqlite3_finalize(ord);
    /* A blob that is no id is reported, not turned into a string. */
    sqlite3_stmt *odd = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT x'0102', tier_id_text(x'0102')", -1, &odd,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(odd), SQLITE_ROW);
    char back[64] = "x";
    assert_false(seaftier_tier_column_id(odd, 0, back, sizeof(back)));
    assert_string_equal(back, "");
    assert_int_equal(sqlite3_column_type(odd, 1), SQLITE_BLOB);
    sqlite3_finalize(odd);
    sqlite3_finalize(ins);
    sqlite3_finalize(find);
    sqlite3_finalize(sql_form);
    sqlite3_close(db);
}

static gboolean
collect_ids(const SeaftierTierEntry *e, void *user_data)
{
    g_ptr_array_add(user_data, g_strdup_printf("%s/%s", e->repo_id, e->obj_id));
    return TRUE;
}

/* A repo id in uppercase is valid for the tier (a UUID in either case) but
 * not canonical: stored as text, found by a lookup and a read, listed with
 * the very string it was stored under, and a different row from the same
 * repo id in lowercase. */
static void
test_uppercase_repo(void **state)
{
    TuFixture *fx = *state;
    char id[41];
    tu_make_id(1, id);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO_UPPER, id, "upper", 5, SEAFTIER_STATE_DIRTY,
                TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "lower!", 6, SEAFTIER_STATE_DIRTY, TRUE);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM objects WHERE typeof(repo_id) ="
                                         " 'text' AND typeof(obj_id) = 'blob'"), 1);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM objects WHERE repo_id = tier_id('"
                                         REPO_UPPER "')"), 1);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO_UPPER, id, "upper", 5);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, id, "lower!", 6);
    SeaftierTierEntry e;
    GError *err = NULL;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_FS, REPO_UPPER, id, &e, &err));
    assert_string_equal(e.repo_id, REPO_UPPER);
    assert_string_equal(e.obj_id, id);
    assert_int_equal(e.size, 5);

    GPtrArray *batch = seaftier_tier_dirty_batch(fx->tier, SEAFTIER_TYPE_FS, REPO_UPPER, 10, G_MAXINT64,
                                                 &err);
    assert_non_null(batch);
    assert_int_equal(batch->len, 1);
    assert_string_equal(((SeaftierTierEntry *)batch->pdata[0])->repo_id, REPO_UPPER);
    assert_string_equal(((SeaftierTierEntry *)batch->pdata[0])->obj_id, id);
    g_ptr_array_free(batch, TRUE);

    GPtrArray *seen = g_ptr_array_new_with_free_func(g_free);
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_FS, REPO_UPPER, ~0u, collect_ids,
                                      seen, &err));
    assert_int_equal(seen->len, 1);
    char *want = g_strdup_printf("%s/%s", REPO_UPPER, id);
    assert_string_equal(seen->pdata[0], want);
    g_free(want);
    g_ptr_array_free(seen, TRUE);
}

/* Rows whose ids the tier would refuse today (written by SQL, as a bad
 * id from an older version or a damaged index would be) are listed with
 * exactly their strings, and the foreach cursor over a repo (ORDER BY
 * obj_id, text before blobs) visits text and binary ids once each. */
static void
test_odd_ids_listed_unchanged(void **state)
{
    TuFixture *fx = *state;
    static const char *const odd[] = {
        "0123456789ABCDEF0123456789abcdef01234567",
        "0123456789abcdef0123456789abcdef0123456",
        "not-an-id",
        "",
    };
    char canonical[41];
    tu_make_id(2, canonical);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, canonical, "c", 1, SEAFTIER_STATE_CLEAN,
                FALSE);
    for (guint i = 0; i < G_N_ELEMENTS(odd); i++) {
        char *sql = g_strdup_printf(
            "INSERT INTO objects (type, repo_id, obj_id, state, size, stored_size, codec, checksum,"
            " location, created, atime, generation, uploaded, synced)"
            " VALUES (2, tier_id('%s'), tier_id('%s'), 2, 0, 0, 0, 0, 0, 1, 1, %u, 1, 1)",
            REPO, odd[i], i + 1);
        tu_sql_exec(fx->dir, sql);
        g_free(sql);
    }
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM objects WHERE typeof(obj_id) = 'text'"),
                     G_N_ELEMENTS(odd));
    GError *err = NULL;
    GPtrArray *batch = seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, 100, &err);
    assert_non_null(batch);
    assert_int_equal(batch->len, G_N_ELEMENTS(odd));
    for (guint i = 0; i < G_N_ELEMENTS(odd); i++) {
        gboolean found = FALSE;
        for (guint j = 0; j < batch->len; j++) {
            const SeaftierTierEntry *e = batch->pdata[j];
            found = found || (strcmp(e->obj_id, odd[i]) == 0 && strcmp(e->repo_id, REPO) == 0);
        }
        if (!found)
            fail_msg("\"%s\" not listed as it was stored", odd[i]);
    }
    g_ptr_array_free(batch, TRUE);

    /* The cursor starts at "", so foreach never visits an empty id (the
     * tier's checks never let one be stored); every other row once. */
    GPtrArray *seen = g_ptr_array_new_with_free_func(g_free);
    assert_true(seaftier_tier_foreach(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ~0u, collect_ids,
                                      seen, &err));
    assert_int_equal(seen->len, G_N_ELEMENTS(odd) - 1 + 1);
    g_ptr_array_free(seen, TRUE);
}

/* An index of schema 3 (ids as text) with rows in every state, an object
 * file, an uppercase repo id and a tombstone is converted at open: every id
 * canonical one binary, the rest unchanged, every row readable as before,
 * the tombstone still refusing an old fill, the usage untouched, the file
 * compacted. */
static void
test_upgrade_from_v3(void **state)
{
    TuFixture *fx = *state;
    GError *err = NULL;
    char clean[41], dirty[41], big[41], deleted[41], remote[41], forgotten[41], upper[41];
    tu_make_id(10, clean);
    tu_make_id(11, dirty);
    tu_make_id(12, big);
    tu_make_id(13, deleted);
    tu_make_id(14, remote);
    tu_make_id(15, forgotten);
    tu_make_id(16, upper);
    unsigned char *big_data = tu_random_bytes(64 * 1024, 12);     /* a file, not inline */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "clean bytes", 11, SEAFTIER_STATE_CLEAN,
                FALSE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, dirty, "dirty bytes", 11,
                SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, big, big_data, 64 * 1024,
                SEAFTIER_STATE_DIRTY, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, deleted, "gone", 4, SEAFTIER_STATE_CLEAN, FALSE);
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_FS, REPO, deleted, &err));
    SeaftierTierFillTicket ticket;
    assert_true(seaftier_tier_fill_ticket(fx->tier, &ticket, &err));
    assert_true(seaftier_tier_remember_remote(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, remote, 77,
                                              &ticket, &err));
    /* A delete carried to S3 and forgotten: its row goes, a tombstone stays. */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, forgotten, "f", 1, SEAFTIER_STATE_CLEAN,
                FALSE);
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, forgotten, &err));
    GPtrArray *del = seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, 10, &err);
    assert_non_null(del);
    assert_int_equal(del->len, 1);
    assert_true(seaftier_tier_forget_deleted(fx->tier, del->pdata[0], &err));
    g_ptr_array_free(del, TRUE);
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO_UPPER, upper, "upper", 5, SEAFTIER_STATE_DIRTY,
                TRUE);
    /* Enough REMOTE rows (a listing's) that the conversion leaves pages free
     * unless the file is compacted after it. */
    enum { LISTED = 3000 };
    SeaftierTierRemoteObject *listed = g_new0(SeaftierTierRemoteObject, LISTED);
    char (*listed_ids)[41] = g_malloc(sizeof(*listed_ids) * LISTED);
    for (int i = 0; i < LISTED; i++) {
        tu_make_id(1000 + i, listed_ids[i]);
        listed[i] = (SeaftierTierRemoteObject){ REPO, listed_ids[i], 100 };
    }
    guint added = 0;
    assert_true(seaftier_tier_remember_remote_batch(fx->tier, SEAFTIER_TYPE_FS, listed, LISTED,
                                                    &ticket, &added, &err));
    assert_int_equal(added, LISTED);
    gint64 usage_before = tu_sql_int(fx->dir, "SELECT sum(objects * 1000003 + bytes * 1009"
                                              " + stored_bytes) FROM usage");
    tu_fixture_close(fx);

    /* What schema-3 code wrote: the same tables with every id as text. */
    tu_sql_exec(fx->dir, "UPDATE objects SET repo_id = tier_id_text(repo_id),"
                         " obj_id = tier_id_text(obj_id);"
                         "UPDATE tombstones SET repo_id = tier_id_text(repo_id),"
                         " obj_id = tier_id_text(obj_id);"
                         "PRAGMA user_version=3");
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM objects WHERE typeof(obj_id) != 'text'"
                                         " OR typeof(repo_id) != 'text'"), 0);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM objects"), 6 + LISTED);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM tombstones WHERE typeof(obj_id) = 'text'"),
                     1);

    tu_fixture_open(fx);
    assert_int_equal(tu_sql_int(fx->dir, "PRAGMA user_version"), 4);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM objects WHERE typeof(obj_id) = 'blob'"), 6 + LISTED);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM objects WHERE typeof(repo_id) = 'blob'"), 5 + LISTED);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM tombstones WHERE typeof(obj_id) = 'blob'"
                                         " AND typeof(repo_id) = 'blob'"), 1);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT sum(objects * 1000003 + bytes * 1009"
                                         " + stored_bytes) FROM usage"), usage_before);
    assert_int_equal(tu_sql_int(fx->dir, "SELECT count(*) FROM pragma_integrity_check"
                                         " WHERE integrity_check != 'ok'"), 0);
    /* Compacted after the conversion: no page left free, the WAL given back. */
    assert_int_equal(tu_sql_int(fx->dir, "PRAGMA freelist_count"), 0);

    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "clean bytes", 11);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_COMMITS, REPO, dirty, "dirty bytes", 11);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, big, big_data, 64 * 1024);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_FS, REPO_UPPER, upper, "upper", 5);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_FS, REPO, deleted, SEAFTIER_TIER_ERROR_DELETED);
    tu_read_fails(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, remote, SEAFTIER_TIER_ERROR_NOT_FOUND);
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, remote, &e, &err));
    assert_int_equal(e.state, SEAFTIER_STATE_REMOTE);
    assert_int_equal(e.size, 77);
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_FS, REPO, listed_ids[LISTED - 1], &e,
                                     &err));
    assert_int_equal(e.state, SEAFTIER_STATE_REMOTE);
    g_free(listed);
    g_free(listed_ids);
    /* The tombstone still stops a fill whose ticket predates the forget. */
    assert_true(seaftier_tier_store_fill(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, forgotten, "f", 1,
                                         &ticket, &err));
    assert_false(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, forgotten, &e, &err));
    assert_null(err);
    /* The uploader's listings name the converted rows as before. */
    GPtrArray *batch = seaftier_tier_dirty_batch(fx->tier, -1, NULL, 10, G_MAXINT64, &err);
    assert_non_null(batch);
    assert_int_equal(batch->len, 3);
    for (guint i = 0; i < batch->len; i++) {
        const SeaftierTierEntry *d = batch->pdata[i];
        assert_true(strcmp(d->obj_id, dirty) == 0 || strcmp(d->obj_id, big) == 0 ||
                    strcmp(d->obj_id, upper) == 0);
        assert_string_equal(d->repo_id, strcmp(d->obj_id, upper) == 0 ? REPO_UPPER : REPO);
    }
    g_ptr_array_free(batch, TRUE);
    del = seaftier_tier_deleted_batch(fx->tier, -1, 10, &err);
    assert_non_null(del);
    assert_int_equal(del->len, 1);
    assert_string_equal(((SeaftierTierEntry *)del->pdata[0])->obj_id, deleted);
    g_ptr_array_free(del, TRUE);
    /* Writes and a second open after the upgrade. */
    tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, clean, "clean bytes", 11, SEAFTIER_STATE_DIRTY,
                TRUE);
    tu_fixture_reopen(fx);
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, big, big_data, 64 * 1024);
    g_free(big_data);

    /* Code that knows fewer schemas refuses this one, as this code refuses
     * the next: the version check, with the reason. */
    tu_fixture_close(fx);
    tu_sql_exec(fx->dir, "PRAGMA user_version=5");
    assert_null(seaftier_tier_open(&fx->cfg, fx->dir, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "schema version 5"));
    g_clear_error(&err);
    tu_sql_exec(fx->dir, "PRAGMA user_version=4");
    tu_fixture_open(fx);
}

int
main(void)
{
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        TU_FIXTURE_TEST(test_uppercase_repo, &fixture),
        TU_FIXTURE_TEST(test_odd_ids_listed_unchanged, &fixture),
        TU_FIXTURE_TEST(test_upgrade_from_v3, &fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
