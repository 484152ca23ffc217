/* Helpers shared by the tier's unit tests; see tier-testutil.h. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>

#include <glib/gstdio.h>

#include "tier-testutil.h"
#include "tier/tier-private.h"     /* the index's id functions */

void
tu_make_id(int i, char out[41])
{
    char *h = g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)&i, sizeof(i));
    memcpy(out, h, 41);
    g_free(h);
}

unsigned char *
tu_random_bytes(gsize n, guint32 seed)
{
    unsigned char *p = g_malloc(n ? n : 1);
    GRand *r = g_rand_new_with_seed(seed);
    for (gsize i = 0; i < n; i++)
        p[i] = (unsigned char)g_rand_int(r);
    g_rand_free(r);
    return p;
}

unsigned char *
tu_text_bytes(gsize n, guint32 seed)
{
    static const char *const words[] = { "seafile ", "commit ", "block ", "tier ", "object ",
                                         "repo ", "\n", "sqlite ", "lz4 " };
    unsigned char *p = g_malloc(n ? n : 1);
    GRand *r = g_rand_new_with_seed(seed);
    gsize i = 0;
    while (i < n) {
        const char *w = words[g_rand_int_range(r, 0, G_N_ELEMENTS(words))];
        for (; *w && i < n; w++)
            p[i++] = (unsigned char)*w;
    }
    g_rand_free(r);
    return p;
}

int
tu_fixture_setup(void **state)
{
    const TuFixtureSpec *spec = *state;
    TuFixture *fx = g_new0(TuFixture, 1);
    char *template = g_strdup_printf("%s-XXXXXX", spec->name);
    fx->dir = g_dir_make_tmp(template, NULL);
    g_free(template);
    assert_non_null(fx->dir);
    fx->cfg.tier.high_watermark = 90;
    fx->cfg.tier.low_watermark = 80;
    fx->cfg.tier.ram_cache_size = spec->ram_cache_size;
    fx->cfg.tier.location_cache_size = TU_LOCATION_CACHE_SIZE;
    fx->cfg.tier.compression = TRUE;
    fx->cfg.tier.inline_max = spec->inline_max;
    fx->has_second = spec->second_handle;
    if (!spec->closed)
        tu_fixture_open(fx);
    *state = fx;
    return 0;
}

int
tu_fixture_teardown(void **state)
{
    TuFixture *fx = *state;
    tu_fixture_close(fx);
    tu_rm_rf(fx->dir);
    g_free(fx->dir);
    g_free(fx);
    return 0;
}

void
tu_fixture_open(TuFixture *fx)
{
    fx->tier = tu_open_tier(&fx->cfg, fx->dir);
    if (fx->has_second) {
        fx->second_cfg = fx->cfg;
        fx->second = tu_open_tier(&fx->second_cfg, fx->dir);
    }
}

void
tu_fixture_close(TuFixture *fx)
{
    seaftier_tier_close(fx->second);
    fx->second = NULL;
    seaftier_tier_close(fx->tier);
    fx->tier = NULL;
}

void
tu_fixture_reopen(TuFixture *fx)
{
    tu_fixture_close(fx);
    tu_fixture_open(fx);
}

SeaftierTier *
tu_open_tier(const SeaftierConfig *cfg, const char *dir)
{
    GError *err = NULL;
    SeaftierTier *t = seaftier_tier_open(cfg, dir, &err);
    if (!t)
        fail_msg("open %s: %s", dir, err->message);
    return t;
}

void
tu_store_ok(SeaftierTier *t, SeaftierObjType type, const char *repo, const char *id,
            const void *data, gsize len, SeaftierState st, gboolean durable)
{
    GError *err = NULL;
    if (!seaftier_tier_store(t, type, repo, id, data, len, st, durable, &err))
        fail_msg("store %s: %s", id, err->message);
}

void
tu_read_expect(SeaftierTier *t, SeaftierObjType type, const char *repo, const char *id,
               const void *data, gsize len)
{
    GError *err = NULL;
    void *out = NULL;
    gsize out_len = 0;
    if (!seaftier_tier_read(t, type, repo, id, &out, &out_len, &err))
        fail_msg("read %s: %s", id, err->message);
    assert_int_equal(out_len, len);
    if (len)
        assert_memory_equal(out, data, len);
    g_free(out);
}

void
tu_read_fails(SeaftierTier *t, SeaftierObjType type, const char *repo, const char *id, int code)
{
    GError *err = NULL;
    void *out = (void *)0x1;
    gsize out_len = 12345;
    assert_false(seaftier_tier_read(t, type, repo, id, &out, &out_len, &err));
    if (!g_error_matches(err, SEAFTIER_TIER_ERROR, code))
        fail_msg("read %s: expected code %d, got %s", id, code, err ? err->message : "no error");
    assert_ptr_equal(out, (void *)0x1);     /* nothing was handed out */
    g_error_free(err);
}

sqlite3 *
tu_open_index(const char *dir)
{
    char *path = g_build_filename(dir, "index.db", NULL);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("opening %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(seaftier_tier_register_id_sql(db), SQLITE_OK);
    g_free(path);
    return db;
}

void
tu_sql_exec(const char *dir, const char *sql)
{
    sqlite3 *db = tu_open_index(dir);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* Steps `query` once on a tu_open_index() connection, or fails the test:
 * TRUE with a row; sqlite3_finalize(*stmt) and sqlite3_close(*db) after. */
static gboolean
sql_first_row(const char *dir, const char *query, sqlite3 **db, sqlite3_stmt **stmt)
{
    *db = tu_open_index(dir);
    *stmt = NULL;
    if (sqlite3_prepare_v2(*db, query, -1, stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", query, sqlite3_errmsg(*db));
    int rc = sqlite3_step(*stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fail_msg("%s: %s", query, sqlite3_errmsg(*db));
    return rc == SQLITE_ROW;
}

gint64
tu_sql_int(const char *dir, const char *query)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    gint64 v = sql_first_row(dir, query, &db, &stmt) ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

char *
tu_sql_text(const char *dir, const char *query)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    char *v = sql_first_row(dir, query, &db, &stmt)
                  ? g_strdup((const char *)sqlite3_column_text(stmt, 0)) : NULL;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

void
tu_assert_row_columns(const char *dir, SeaftierObjType type, const char *repo, const char *id,
                      const char *expected)
{
    char *query = g_strdup_printf(
        "SELECT printf('state %%d size %%d stored_size %%d codec %%d checksum %%d location %%d"
        " uploaded %%d synced %%d attempts %%d retry_at %%d last_error ''%%s''', state, size,"
        " stored_size, codec, checksum, location, uploaded, synced, attempts, retry_at,"
        " last_error) FROM objects WHERE type = %d AND repo_id = tier_id('%s')"
        " AND obj_id = tier_id('%s')", (int)type, repo, id);
    char *columns = tu_sql_text(dir, query);
    g_free(query);
    if (g_strcmp0(columns, expected) != 0)
        fail_msg("row of %s: %s, expected %s", id, columns ? columns : "none", expected);
    g_free(columns);
}

void
tu_rm_rf(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            char *p = g_build_filename(path, name, NULL);
            tu_rm_rf(p);
            g_free(p);
        }
        g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

void
tu_assert_usage_matches_rows(const char *dir)
{
    sqlite3 *db = tu_open_index(dir);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    static const char *const groups =
        "SELECT u.type, u.state, u.objects, u.bytes, u.stored_bytes,"
        " COALESCE(a.n, 0), COALESCE(a.b, 0), COALESCE(a.sb, 0)"
        " FROM usage u LEFT JOIN (SELECT type, state, COUNT(*) n, SUM(size) b,"
        " SUM(stored_size) sb FROM objects GROUP BY type, state) a USING (type, state)";
    assert_int_equal(sqlite3_prepare_v2(db, groups, -1, &st, NULL), SQLITE_OK);
    int bad = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        gboolean differs = FALSE;
        for (int c = 0; c < 3; c++)
            differs |= sqlite3_column_int64(st, 2 + c) != sqlite3_column_int64(st, 5 + c);
        bad += differs;
        if (differs)
            print_message("usage type %d state %d: %lld objects %lld bytes %lld stored;"
                          " rows: %lld, %lld, %lld\n",
                          sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
                          (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
                          (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
                          (long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(bad, 0);
    assert_int_equal(tu_sql_int(dir, "SELECT COALESCE(SUM(objects), 0) FROM usage"),
                     tu_sql_int(dir, "SELECT COUNT(*) FROM objects"));
}
