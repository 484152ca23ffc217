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

gint64
tu_sql_int(const char *dir, const char *query)
{
    sqlite3 *db = tu_open_index(dir);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, query, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", query, sqlite3_errmsg(db));
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fail_msg("%s: %s", query, sqlite3_errmsg(db));
    gint64 v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
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
