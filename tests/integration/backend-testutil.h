/*
 * tests/integration/backend-testutil.h — what the backend integration tests
 * share: a seafile.conf + tier directory against the real test S3 server,
 * the three backends opened from it, and one interface over both vtables so
 * the same checks run against ObjBackend and BlockBackend.
 *
 * Every helper that cannot do its job fails the test (print + abort):
 * integration tests never skip.
 */
#ifndef SEAFTIER_BACKEND_TESTUTIL_H
#define SEAFTIER_BACKEND_TESTUTIL_H

#include <glib.h>
#include <seaftier/backend.h>
#include "backend/common.h"
#include "s3test.h"

typedef struct {
    char *dir;
    char *conf_path;
    GKeyFile *kf;
    ObjBackend *commits;
    ObjBackend *fs;
    BlockBackend *blocks;
} BeEnv;

/* A fresh directory with a seafile.conf (new buckets, `variant`, extra
 * [tier] lines) and the three backends opened. */
BeEnv *beenv_new(const char *prefix, const S3TestVariant *variant, const char *extra_tier);
/* The same without opening the backends. */
BeEnv *beenv_prepare(const char *prefix, const S3TestVariant *variant, const char *extra_tier);
/* Opens / closes the three backends (a library "restart"). */
void beenv_open(BeEnv *env);
void beenv_close(BeEnv *env);
/* Closes the backends and removes the directory (the buckets stay). */
void beenv_free(BeEnv *env);
SeaftierBackendShared *beenv_shared(BeEnv *env);
/* Uploads every dirty object and carries out every pending delete, with the
 * library's flush; fails the test on any error. */
void beenv_flush(BeEnv *env);

/* The stores under test: one of the three backends. */
typedef enum { STORE_COMMITS, STORE_FS, STORE_BLOCKS, N_STORES } StoreKind;
const char *store_name(StoreKind kind);
SeaftierObjType store_type(StoreKind kind);

/* Writes through the vtable (blocks: open/write in pieces/close/commit/free).
 * Returns the vtable's answer (0 / -1). */
int store_write(BeEnv *env, StoreKind kind, const char *repo, const char *id, const void *data,
                gsize len, gboolean need_sync);
/* Reads through the vtable; 0 with a new buffer, or -1. */
int store_read(BeEnv *env, StoreKind kind, const char *repo, const char *id, void **data,
               gsize *len);
gboolean store_exists(BeEnv *env, StoreKind kind, const char *repo, const char *id);
/* obj delete / remove_block; returns 0 (obj delete cannot fail visibly). */
int store_delete(BeEnv *env, StoreKind kind, const char *repo, const char *id);
int store_copy(BeEnv *env, StoreKind kind, const char *src, const char *dst, const char *id);
int store_remove_store(BeEnv *env, StoreKind kind, const char *repo, guint64 *last_progress,
                       guint *progress_calls);
/* foreach into a new set of ids (NULL-valued hash table); *calls counts
 * callback calls (duplicates included). Returns the vtable's answer. */
int store_foreach(BeEnv *env, StoreKind kind, const char *repo, GHashTable **ids, guint *calls);

/* Random ids and contents. */
char *rand_repo_id(GRand *rng);
char *rand_obj_id(GRand *rng);
/* Incompressible bytes. */
void fill_random(GRand *rng, guint8 *buf, gsize len);
/* Text-like, very compressible bytes. */
void fill_compressible(GRand *rng, guint8 *buf, gsize len);
/* Asserts the two buffers are equal (length and bytes), naming `what`. */
void assert_same(const char *what, const void *a, gsize alen, const void *b, gsize blen);

/* The tier's row for an object; FALSE when there is none. */
gboolean tier_row(BeEnv *env, StoreKind kind, const char *repo, const char *id,
                  SeaftierTierEntry *entry);
/* The raw S3 object at <repo>/<id>, or NULL (404). Fails on other errors. */
GBytes *s3_object(BeEnv *env, StoreKind kind, const char *repo, const char *id);
/* Number of keys under "<repo>/" in the store's bucket. */
guint s3_count(BeEnv *env, StoreKind kind, const char *repo);

/* Context printed with every failure (e.g. the seed and the operation). */
void test_set_context(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Prints and aborts: for failures outside cmocka's assertions. */
void test_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

#endif
