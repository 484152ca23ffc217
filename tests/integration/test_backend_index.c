/*
 * tests/integration/test_backend_index.c — S3 off the write path: with a
 * complete index (fresh, empty buckets, write-back), exists()/stat of new
 * objects and their writes send no S3 request at all until the uploader
 * runs; evicted objects still exist with no request and read back with one
 * GET. Without a complete index, a HEAD that finds an object is remembered.
 * seaftier-admin index-remote imports a bucket that already holds objects.
 * Requests are counted by the S3 clients themselves, against the real test
 * server.
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <seaftier/log.h>

#include "backend-testutil.h"
#include "site.h"

#define N_NEW 12

static GRand *rng;

typedef struct {
    SeaftierS3Stats s[SEAFTIER_N_TYPES];
} Counts;

static Counts
counts(BeEnv *env)
{
    Counts c;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        seaftier_s3_get_stats(beenv_shared(env)->site->s3[t], &c.s[t]);
    return c;
}

/* Requests of operation `op` (all when op < 0) of every type since `before`. */
static guint64
sent_since(BeEnv *env, const Counts *before, int op)
{
    Counts now = counts(env);
    guint64 n = 0;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        n += op < 0 ? now.s[t].requests - before->s[t].requests
                    : now.s[t].by_op[op] - before->s[t].by_op[op];
    return n;
}

static gboolean
complete(BeEnv *env, SeaftierObjType type)
{
    return seaftier_site_index_complete(beenv_shared(env)->site, type);
}

static void
test_new_objects_without_requests(void **state)
{
    (void)state;
    S3TestVariant variant = { TRUE, TRUE, FALSE, FALSE };
    BeEnv *env = beenv_new("bidx", &variant, "");
    /* Fresh buckets: the site marked every index complete when it opened. */
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        assert_true(complete(env, (SeaftierObjType)t));

    char *repo = rand_repo_id(rng);
    char *ids[N_STORES][N_NEW];
    guint8 data[N_STORES][N_NEW][8192];
    Counts before = counts(env);
    /* What seaf-server does for each new object: exists?, write (durable),
     * and for blocks stat after commit. */
    for (int k = 0; k < N_STORES; k++) {
        for (int i = 0; i < N_NEW; i++) {
            ids[k][i] = rand_obj_id(rng);
            fill_random(rng, data[k][i], sizeof(data[k][i]));
            assert_false(store_exists(env, (StoreKind)k, repo, ids[k][i]));
            assert_int_equal(store_write(env, (StoreKind)k, repo, ids[k][i], data[k][i],
                                         sizeof(data[k][i]), TRUE), 0);
            assert_true(store_exists(env, (StoreKind)k, repo, ids[k][i]));
        }
    }
    guint64 size = 0;
    assert_true(seaftier_be_size(beenv_shared(env), SEAFTIER_TYPE_BLOCKS, repo,
                                 ids[STORE_BLOCKS][0], &size));
    assert_int_equal(size, 8192);
    char *unknown = rand_obj_id(rng);
    assert_false(seaftier_be_size(beenv_shared(env), SEAFTIER_TYPE_BLOCKS, repo, unknown, &size));
    guint64 sent = sent_since(env, &before, -1);
    printf("# %d new objects written (exists, write, exists): %" G_GUINT64_FORMAT
           " S3 requests\n", N_STORES * N_NEW, sent);
    assert_int_equal(sent, 0);

    /* The uploader sends them (PUTs), then they are evicted: they still
     * exist with no request, and a read fills with exactly one GET. */
    beenv_flush(env);
    assert_true(sent_since(env, &before, SEAFTIER_S3_OP_PUT) >= N_STORES * N_NEW);
    GError *err = NULL;
    guint64 evicted = 0;
    assert_true(seaftier_tier_evict_clean(beenv_shared(env)->site->tier, NULL, &evicted, &err));
    assert_int_equal(evicted, N_STORES * N_NEW);
    before = counts(env);
    for (int k = 0; k < N_STORES; k++) {
        for (int i = 0; i < N_NEW; i++) {
            SeaftierTierEntry e;
            assert_true(tier_row(env, (StoreKind)k, repo, ids[k][i], &e));
            assert_int_equal(e.state, SEAFTIER_STATE_REMOTE);
            assert_true(store_exists(env, (StoreKind)k, repo, ids[k][i]));
            /* Written again (seaf-server would not, as it exists): no request. */
        }
    }
    assert_true(seaftier_be_size(beenv_shared(env), SEAFTIER_TYPE_BLOCKS, repo,
                                 ids[STORE_BLOCKS][1], &size));
    assert_int_equal(size, 8192);
    assert_int_equal(sent_since(env, &before, -1), 0);
    void *got = NULL;
    gsize n = 0;
    assert_int_equal(store_read(env, STORE_FS, repo, ids[STORE_FS][0], &got, &n), 0);
    assert_same("read after eviction", got, n, data[STORE_FS][0], sizeof(data[STORE_FS][0]));
    g_free(got);
    assert_int_equal(sent_since(env, &before, SEAFTIER_S3_OP_GET), 1);
    assert_int_equal(sent_since(env, &before, -1), 1);
    /* Filled: CLEAN again, read locally. */
    SeaftierTierEntry e;
    assert_true(tier_row(env, STORE_FS, repo, ids[STORE_FS][0], &e));
    assert_int_equal(e.state, SEAFTIER_STATE_CLEAN);
    assert_int_equal(store_read(env, STORE_FS, repo, ids[STORE_FS][0], &got, &n), 0);
    g_free(got);
    assert_int_equal(sent_since(env, &before, -1), 1);

    /* A deleted object does not exist, with no request; after the delete is
     * carried out and forgotten, it still does not (no row, complete). */
    assert_int_equal(store_delete(env, STORE_BLOCKS, repo, ids[STORE_BLOCKS][2]), 0);
    assert_false(store_exists(env, STORE_BLOCKS, repo, ids[STORE_BLOCKS][2]));
    beenv_flush(env);
    assert_false(tier_row(env, STORE_BLOCKS, repo, ids[STORE_BLOCKS][2], &e));
    before = counts(env);
    assert_false(store_exists(env, STORE_BLOCKS, repo, ids[STORE_BLOCKS][2]));
    assert_int_equal(sent_since(env, &before, -1), 0);

    /* foreach of a complete index needs no listing, and finds every object. */
    GHashTable *seen = NULL;
    guint calls = 0;
    assert_int_equal(store_foreach(env, STORE_BLOCKS, repo, &seen, &calls), 0);
    assert_int_equal(g_hash_table_size(seen), N_NEW - 1);
    g_hash_table_destroy(seen);
    assert_int_equal(sent_since(env, &before, -1), 0);

    /* Reopened (a restart): still complete, still no request. */
    beenv_close(env);
    beenv_open(env);
    before = counts(env);
    assert_true(complete(env, SEAFTIER_TYPE_FS));
    assert_true(store_exists(env, STORE_COMMITS, repo, ids[STORE_COMMITS][3]));
    assert_false(store_exists(env, STORE_COMMITS, repo, unknown));
    assert_int_equal(sent_since(env, &before, -1), 0);

    for (int k = 0; k < N_STORES; k++)
        for (int i = 0; i < N_NEW; i++)
            g_free(ids[k][i]);
    g_free(unknown);
    g_free(repo);
    beenv_free(env);
}

/* Puts an object into the type's bucket behind the tier's back. */
static void
put_behind(BeEnv *env, SeaftierObjType type, const char *repo, const char *id, const void *data,
           gsize len)
{
    char *key = g_strdup_printf("%s/%s", repo, id);
    GError *err = NULL;
    if (!seaftier_s3_put(beenv_shared(env)->site->s3[type], key, data, len, 0, &err))
        test_fail("PUT %s: %s", key, err->message);
    g_free(key);
}

static int
run_admin(BeEnv *env, const char *cmd, char **out)
{
    char *admin = g_build_filename(SEAFTIER_BUILDDIR, "tools", "seaftier-admin", NULL);
    const char *argv[] = { admin, cmd, "-c", env->dir, NULL };
    char *o = NULL, *e = NULL;
    int status = 0;
    GError *err = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e, &status,
                      &err))
        test_fail("seaftier-admin %s: %s", cmd, err->message);
    printf("# $ seaftier-admin %s\n# %s%s", cmd, o, e);
    g_free(admin);
    g_free(e);
    if (out)
        *out = o;
    else
        g_free(o);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Buckets that already hold objects: the index is not complete, so an id
 * without a row costs a HEAD, and one found is remembered (the next answer
 * is local). index-remote then imports the listing and completes it. */
static void
test_incomplete_then_imported(void **state)
{
    (void)state;
    S3TestVariant variant = { TRUE, TRUE, FALSE, FALSE };
    BeEnv *env = beenv_prepare("bidx2", &variant, "");
    beenv_open(env);
    char *repo = rand_repo_id(rng);
    char *old_ids[3];
    for (int i = 0; i < 3; i++)
        old_ids[i] = rand_obj_id(rng);
    /* Objects written by an earlier installation (not through this tier);
     * the tier is opened again as on a new node's first start. */
    put_behind(env, SEAFTIER_TYPE_FS, repo, old_ids[0], "zero", 4);
    put_behind(env, SEAFTIER_TYPE_FS, repo, old_ids[1], "one", 3);
    put_behind(env, SEAFTIER_TYPE_FS, repo, old_ids[2], "two", 3);
    GError *err = NULL;
    assert_true(seaftier_tier_set_complete(beenv_shared(env)->site->tier, SEAFTIER_TYPE_FS,
                                           beenv_shared(env)->site->cfg->s3[SEAFTIER_TYPE_FS].bucket,
                                           FALSE, &err));
    beenv_close(env);
    beenv_open(env);
    assert_false(complete(env, SEAFTIER_TYPE_FS));   /* the bucket is not empty */

    Counts before = counts(env);
    assert_true(store_exists(env, STORE_FS, repo, old_ids[0]));
    assert_int_equal(sent_since(env, &before, SEAFTIER_S3_OP_HEAD), 1);
    SeaftierTierEntry e;
    assert_true(tier_row(env, STORE_FS, repo, old_ids[0], &e));
    assert_int_equal(e.state, SEAFTIER_STATE_REMOTE);
    assert_int_equal(e.size, 4);
    assert_true(store_exists(env, STORE_FS, repo, old_ids[0]));
    char *unknown = rand_obj_id(rng);
    assert_false(store_exists(env, STORE_FS, repo, unknown));
    assert_int_equal(sent_since(env, &before, SEAFTIER_S3_OP_HEAD), 2);
    assert_false(tier_row(env, STORE_FS, repo, unknown, &e));

    /* The import: every key gets a row, and the index is complete. */
    beenv_close(env);
    char *out = NULL;
    assert_int_equal(run_admin(env, "index-remote", &out), 0);
    assert_non_null(strstr(out, "fs: listed 3 keys, recorded 2 objects"));
    g_free(out);
    beenv_open(env);
    assert_true(complete(env, SEAFTIER_TYPE_FS));
    before = counts(env);
    for (int i = 0; i < 3; i++)
        assert_true(store_exists(env, STORE_FS, repo, old_ids[i]));
    assert_false(store_exists(env, STORE_FS, repo, unknown));
    assert_int_equal(sent_since(env, &before, -1), 0);
    void *got = NULL;
    gsize n = 0;
    assert_int_equal(store_read(env, STORE_FS, repo, old_ids[2], &got, &n), 0);
    assert_same("imported object", got, n, "two", 3);
    g_free(got);

    for (int i = 0; i < 3; i++)
        g_free(old_ids[i]);
    g_free(unknown);
    g_free(repo);
    beenv_free(env);
}

/* [tier] authoritative_index = off: the index is never taken as the whole
 * truth (shared buckets), so an unknown id always costs a HEAD. */
static void
test_authoritative_off(void **state)
{
    (void)state;
    S3TestVariant variant = { TRUE, TRUE, FALSE, FALSE };
    BeEnv *env = beenv_new("bidx3", &variant, "authoritative_index = off\n");
    assert_false(complete(env, SEAFTIER_TYPE_BLOCKS));
    char *repo = rand_repo_id(rng);
    char *id = rand_obj_id(rng);
    Counts before = counts(env);
    assert_false(store_exists(env, STORE_BLOCKS, repo, id));
    assert_int_equal(sent_since(env, &before, SEAFTIER_S3_OP_HEAD), 1);
    /* Another node writes it: this one sees it. */
    put_behind(env, SEAFTIER_TYPE_BLOCKS, repo, id, "shared", 6);
    assert_true(store_exists(env, STORE_BLOCKS, repo, id));
    g_free(id);
    g_free(repo);
    beenv_free(env);
}

/* An empty bucket proves nothing when the index records objects uploaded
 * to it (emptied behind the tier's back, or the configuration now names
 * another bucket): the index is then not taken as complete. */
static void
test_emptied_bucket_not_complete(void **state)
{
    (void)state;
    S3TestVariant variant = { TRUE, TRUE, FALSE, FALSE };
    BeEnv *env = beenv_new("bidx4", &variant, "");
    char *repo = rand_repo_id(rng);
    char *id = rand_obj_id(rng);
    assert_int_equal(store_write(env, STORE_BLOCKS, repo, id, "block", 5, TRUE), 0);
    beenv_flush(env);
    GError *err = NULL;
    SeaftierSite *site = beenv_shared(env)->site;
    assert_true(seaftier_tier_evict_clean(site->tier, NULL, NULL, &err));
    assert_true(seaftier_tier_set_complete(site->tier, SEAFTIER_TYPE_BLOCKS,
                                           site->cfg->s3[SEAFTIER_TYPE_BLOCKS].bucket, FALSE,
                                           &err));
    char *key = g_strdup_printf("%s/%s", repo, id);
    assert_true(seaftier_s3_delete(site->s3[SEAFTIER_TYPE_BLOCKS], key, &err));
    g_free(key);
    beenv_close(env);
    beenv_open(env);
    assert_false(complete(env, SEAFTIER_TYPE_BLOCKS));
    /* The other (untouched, empty) buckets are complete. */
    assert_true(complete(env, SEAFTIER_TYPE_FS));
    g_free(id);
    g_free(repo);
    beenv_free(env);
}

int
main(void)
{
    guint32 seed = (guint32)g_get_real_time();
    if (g_getenv("SEAFTIER_TEST_SEED"))
        seed = (guint32)strtoul(g_getenv("SEAFTIER_TEST_SEED"), NULL, 0);
    printf("# SEAFTIER_TEST_SEED=%u\n", seed);
    rng = g_rand_new_with_seed(seed);
    g_setenv("SEAFTIER_LOG_LEVEL", "error", FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_objects_without_requests),
        cmocka_unit_test(test_incomplete_then_imported),
        cmocka_unit_test(test_authoritative_off),
        cmocka_unit_test(test_emptied_bucket_not_complete),
    };
    int failed = cmocka_run_group_tests_name("backend index", tests, NULL, NULL);
    g_rand_free(rng);
    return failed ? 1 : 0;
}
