/* Helpers shared by the tier's unit tests (tests/unit/test_tier*.c): the
 * fixture (a tier in a directory of its own), ids, test bytes, a tier that
 * must open, stores and reads that must succeed or fail with a given code,
 * SQL on the index (ids through tier_id()), removal of a test directory.
 * A failure ends the running cmocka test with a message naming the object. */
#ifndef SEAFTIER_TIER_TESTUTIL_H
#define SEAFTIER_TIER_TESTUTIL_H

#include <glib.h>

#include "tier/tier.h"

#include <sqlite3.h>

/* The fixture of a tier test: a temporary directory of its own and a tier
 * opened in it. What differs between the test programs is in a spec; the
 * rest of the configuration is zero (no size limit, no free-space floor)
 * but the watermarks, 90 and 80, compression, on, and the location cache,
 * on (TU_LOCATION_CACHE_SIZE): every repeated disk hit of a test goes
 * through it, so every test checks it too. A test may change
 * `cfg` while the tier is closed and open it again. */
#define TU_LOCATION_CACHE_SIZE (1024 * 1024)

typedef struct {
    const char *name;           /* the directory is <tmp>/<name>-XXXXXX */
    guint64 ram_cache_size;     /* 0: RAM tier off, every hit reads the index */
    guint64 inline_max;         /* objects up to this size live in the index */
    gboolean closed;            /* setup opens nothing: the test makes its index first */
    gboolean second_handle;     /* a second handle on the directory (another process) */
} TuFixtureSpec;

typedef struct {
    char *dir;
    SeaftierConfig cfg;         /* every open of `tier` uses it */
    SeaftierTier *tier;         /* NULL while closed */
    /* With spec->second_handle: opened after `tier`, closed before it, with a
     * copy of `cfg` of its own made at each open. */
    gboolean has_second;
    SeaftierConfig second_cfg;
    SeaftierTier *second;
} TuFixture;

/* A cmocka test of `f` in a fixture of its own made from `spec` (a
 * const TuFixtureSpec *; cmocka hands it to the setup as a void *, which
 * only reads it). */
#define TU_FIXTURE_TEST(f, spec) \
    cmocka_unit_test_prestate_setup_teardown(f, tu_fixture_setup, tu_fixture_teardown, \
                                             (void *)(spec))

/* The cmocka setup of TU_FIXTURE_TEST: *state is the spec on entry, the
 * new fixture on return; its tier(s) are open unless spec->closed. */
int tu_fixture_setup(void **state);

/* The cmocka teardown of TU_FIXTURE_TEST: closes what is open, removes the
 * directory. */
int tu_fixture_teardown(void **state);

/* Opens the fixture's tier (and second handle) with `cfg`, or fails the test. */
void tu_fixture_open(TuFixture *fx);

/* Closes the second handle, then the tier; both are NULL afterwards. */
void tu_fixture_close(TuFixture *fx);

/* tu_fixture_close, then tu_fixture_open. */
void tu_fixture_reopen(TuFixture *fx);

/* A valid object id (40 hex digits): the SHA-1 of `i`. */
void tu_make_id(int i, char out[41]);

/* `n` pseudo-random bytes (incompressible) from `seed`; g_free them. */
unsigned char *tu_random_bytes(gsize n, guint32 seed);

/* `n` bytes of word-like text (lz4 keeps it compressed) from `seed`. */
unsigned char *tu_text_bytes(gsize n, guint32 seed);

/* Opens the tier in `dir` or fails the test. */
SeaftierTier *tu_open_tier(const SeaftierConfig *cfg, const char *dir);

/* Stores or fails the test naming `id`. */
void tu_store_ok(SeaftierTier *t, SeaftierObjType type, const char *repo, const char *id,
                 const void *data, gsize len, SeaftierState st, gboolean durable);

/* Reads `id` and compares it with `data`/`len`, or fails the test. */
void tu_read_expect(SeaftierTier *t, SeaftierObjType type, const char *repo, const char *id,
                    const void *data, gsize len);

/* A read of `id` must fail with SEAFTIER_TIER_ERROR `code` and hand out nothing. */
void tu_read_fails(SeaftierTier *t, SeaftierObjType type, const char *repo, const char *id,
                   int code);

/* A connection of its own to `dir`/index.db (read-write, waiting for locks)
 * with the index's id functions: SQL names an id as tier_id('<id>') (the
 * form the index stores, binary for canonical ids) and reads one back with
 * tier_id_text(obj_id). sqlite3_close() it. */
sqlite3 *tu_open_index(const char *dir);

/* The first column of the first row `query` gives on `dir`/index.db (on a
 * tu_open_index() connection), -1 without a row. */
gint64 tu_sql_int(const char *dir, const char *query);

/* The first column of the first row `query` gives on `dir`/index.db, as
 * text (g_free it), NULL without a row or for SQL NULL. */
char *tu_sql_text(const char *dir, const char *query);

/* `dir`'s index passes integrity_check and every usage row (a (type, state)
 * group without rows too) matches its rows exactly; otherwise prints the
 * groups that differ and fails the test. */
void tu_assert_usage_matches_rows(const char *dir);

/* The index row of an object, every column but the times and the
 * generation, must read `expected`: "state S size N stored_size N codec C
 * checksum C location L uploaded U synced S attempts A retry_at T
 * last_error 'E'". Otherwise fails the test naming `id` and what it has. */
void tu_assert_row_columns(const char *dir, SeaftierObjType type, const char *repo,
                           const char *id, const char *expected);

/* Runs `sql` (any number of statements) on a tu_open_index() connection,
 * or fails the test. */
void tu_sql_exec(const char *dir, const char *sql);

/* Removes `path` and everything under it. */
void tu_rm_rf(const char *path);

#endif
