/* Helpers shared by the tier's unit tests (tests/unit/test_tier*.c): ids,
 * test bytes, a tier that must open, stores and reads that must succeed or
 * fail with a given code, SQL on the index (ids through tier_id()), removal of
 * a test directory. A failure ends the running cmocka test with a message
 * naming the object. */
#ifndef SEAFTIER_TIER_TESTUTIL_H
#define SEAFTIER_TIER_TESTUTIL_H

#include <glib.h>

#include "tier/tier.h"

#include <sqlite3.h>

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

/* Runs `sql` (any number of statements) on a tu_open_index() connection,
 * or fails the test. */
void tu_sql_exec(const char *dir, const char *sql);

/* Removes `path` and everything under it. */
void tu_rm_rf(const char *path);

#endif
