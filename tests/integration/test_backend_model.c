/*
 * tests/integration/test_backend_model.c — model-based randomized test.
 *
 * Thousands of random operations (write, read, exists, stat, delete, copy,
 * remove_store, foreach, eviction, flush to S3, restart of the library)
 * over the three backends, each checked against an in-memory model of what
 * Seafile should see. Objects are content-addressed like Seafile's: an id
 * always stands for the same bytes, whatever the repo.
 *
 * SEAFTIER_TEST_SEED reproduces a run (the seed is printed at the start and
 * with any failure); SEAFTIER_MODEL_OPS sets the number of operations.
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

#include <seaftier/log.h>

#include "backend-testutil.h"

#define N_REPOS 4
#define N_IDS 40

static guint32 seed;
static char *repos[N_REPOS];
static char *ids[N_IDS];
static GBytes *contents[N_IDS];

/* The model: "kind/repo/id" for every object Seafile should see. */
static GHashTable *model;

static char *
model_key(StoreKind kind, int repo, int id)
{
    return g_strdup_printf("%d/%d/%d", (int)kind, repo, id);
}

static gboolean
model_has(StoreKind kind, int repo, int id)
{
    char *k = model_key(kind, repo, id);
    gboolean has = g_hash_table_contains(model, k);
    g_free(k);
    return has;
}

static void
model_set(StoreKind kind, int repo, int id, gboolean present)
{
    char *k = model_key(kind, repo, id);
    if (present)
        g_hash_table_add(model, k);
    else {
        g_hash_table_remove(model, k);
        g_free(k);
    }
}

static void
make_objects(GRand *rng)
{
    for (int i = 0; i < N_REPOS; i++)
        repos[i] = rand_repo_id(rng);
    for (int i = 0; i < N_IDS; i++) {
        ids[i] = rand_obj_id(rng);
        int r = g_rand_int_range(rng, 0, 100);
        gsize len = r < 5     ? 0
                    : r < 70  ? (gsize)g_rand_int_range(rng, 1, 2048)
                    : r < 95  ? (gsize)g_rand_int_range(rng, 2048, 65536)
                              : (gsize)g_rand_int_range(rng, 65536, 700000);
        guint8 *buf = g_malloc(len ? len : 1);
        if (i % 2)
            fill_random(rng, buf, len);
        else
            fill_compressible(rng, buf, len);
        contents[i] = g_bytes_new_take(buf, len);
    }
}

/* Where the object really is, for failure messages. */
static char *
whereabouts(BeEnv *env, StoreKind kind, int repo, int id)
{
    SeaftierTierEntry e;
    gboolean row = tier_row(env, kind, repos[repo], ids[id], &e);
    GBytes *raw = s3_object(env, kind, repos[repo], ids[id]);
    char *out = g_strdup_printf("tier row: %s (uploaded=%d gen=%" G_GINT64_FORMAT "), S3: %s",
                                row ? seaftier_state_name(e.state) : "none", row ? e.uploaded : 0,
                                row ? e.generation : 0, raw ? "present" : "absent");
    if (raw)
        g_bytes_unref(raw);
    return out;
}

static void
check_read(BeEnv *env, StoreKind kind, int repo, int id)
{
    void *got = NULL;
    gsize len = 0;
    int ret = store_read(env, kind, repos[repo], ids[id], &got, &len);
    if (model_has(kind, repo, id)) {
        if (ret != 0)
            test_fail("read failed but the object was written (%s)",
                      whereabouts(env, kind, repo, id));
        gsize want_len;
        const void *want = g_bytes_get_data(contents[id], &want_len);
        assert_same("read", got, len, want, want_len);
    } else if (ret == 0) {
        test_fail("read succeeded (%" G_GSIZE_FORMAT " bytes) but the object was deleted or "
                  "never written (%s)", len, whereabouts(env, kind, repo, id));
    }
    g_free(got);
}

static void
check_foreach(BeEnv *env, StoreKind kind, int repo)
{
    GHashTable *seen;
    guint calls;
    if (store_foreach(env, kind, repos[repo], &seen, &calls) != 0)
        test_fail("foreach failed");
    guint expected = 0;
    for (int id = 0; id < N_IDS; id++) {
        gboolean want = model_has(kind, repo, id);
        expected += want;
        if (want != g_hash_table_contains(seen, ids[id]))
            test_fail("foreach %s object %d (%s; %s)", want ? "missed" : "listed deleted", id,
                      ids[id], whereabouts(env, kind, repo, id));
    }
    if (calls != expected || g_hash_table_size(seen) != expected)
        test_fail("foreach: %u calls, %u ids, expected %u", calls, g_hash_table_size(seen),
                  expected);
    g_hash_table_destroy(seen);
}

static void
check_all(BeEnv *env)
{
    for (int k = 0; k < N_STORES; k++)
        for (int r = 0; r < N_REPOS; r++) {
            check_foreach(env, (StoreKind)k, r);
            for (int id = 0; id < N_IDS; id++) {
                check_read(env, (StoreKind)k, r, id);
                if (store_exists(env, (StoreKind)k, repos[r], ids[id]) != model_has((StoreKind)k,
                                                                                     r, id))
                    test_fail("exists of %d/%d/%d disagrees with the model", k, r, id);
            }
        }
}

static void
test_model(void **state)
{
    GRand *rng = g_rand_new_with_seed(seed);
    make_objects(rng);
    model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    S3TestVariant variant = { TRUE, TRUE, FALSE, FALSE };
    BeEnv *env = beenv_new("bmodel", &variant, "max_size = 4M\nmin_free_space = 0\n");
    beenv_shared(env)->full_wait_ms = 200;

    int n_ops = 3000;
    if (g_getenv("SEAFTIER_MODEL_OPS"))
        n_ops = atoi(g_getenv("SEAFTIER_MODEL_OPS"));
    int counts[12] = { 0 };
    gboolean trace = g_getenv("SEAFTIER_MODEL_TRACE") != NULL;
    for (int op = 0; op < n_ops; op++) {
        StoreKind kind = (StoreKind)g_rand_int_range(rng, 0, N_STORES);
        int repo = g_rand_int_range(rng, 0, N_REPOS);
        int id = g_rand_int_range(rng, 0, N_IDS);
        int roll = g_rand_int_range(rng, 0, 1000);
        int which;
        if (roll < 300) {
            which = 0;
            gboolean sync = g_rand_boolean(rng);
            test_set_context("seed=%u op #%d: write %s %s/%s (%d) sync=%d", seed, op,
                             store_name(kind), repos[repo], ids[id], id, sync);
            gsize len;
            const void *data = g_bytes_get_data(contents[id], &len);
            if (store_write(env, kind, repos[repo], ids[id], data, len, sync) != 0)
                test_fail("write failed");
            model_set(kind, repo, id, TRUE);
        } else if (roll < 550) {
            which = 1;
            test_set_context("seed=%u op #%d: read %s %s/%s (%d)", seed, op, store_name(kind),
                             repos[repo], ids[id], id);
            check_read(env, kind, repo, id);
        } else if (roll < 650) {
            which = 2;
            test_set_context("seed=%u op #%d: exists %s %s/%s (%d)", seed, op, store_name(kind),
                             repos[repo], ids[id], id);
            if (store_exists(env, kind, repos[repo], ids[id]) != model_has(kind, repo, id))
                test_fail("exists disagrees with the model (model: %d; %s)",
                          model_has(kind, repo, id), whereabouts(env, kind, repo, id));
            if (kind == STORE_BLOCKS) {
                BMetadata *md = env->blocks->stat_block(env->blocks, repos[repo], 1, ids[id]);
                if (model_has(kind, repo, id) !=
                    (md && md->size == g_bytes_get_size(contents[id])))
                    test_fail("stat_block disagrees with the model");
                g_free(md);
            }
        } else if (roll < 730) {
            which = 3;
            test_set_context("seed=%u op #%d: delete %s %s/%s (%d)", seed, op, store_name(kind),
                             repos[repo], ids[id], id);
            if (store_delete(env, kind, repos[repo], ids[id]) != 0)
                test_fail("delete failed");
            model_set(kind, repo, id, FALSE);
        } else if (roll < 800) {
            which = 4;
            int dst = (repo + g_rand_int_range(rng, 1, N_REPOS)) % N_REPOS;
            test_set_context("seed=%u op #%d: copy %s %s -> %s of %s (%d)", seed, op,
                             store_name(kind), repos[repo], repos[dst], ids[id], id);
            int ret = store_copy(env, kind, repos[repo], repos[dst], ids[id]);
            gboolean want = model_has(kind, dst, id) || model_has(kind, repo, id);
            if ((ret == 0) != want)
                test_fail("copy answered %d, the model expected %s", ret,
                          want ? "success" : "failure");
            if (want)
                model_set(kind, dst, id, TRUE);
        } else if (roll < 815) {
            which = 5;
            test_set_context("seed=%u op #%d: remove_store %s %s", seed, op, store_name(kind),
                             repos[repo]);
            guint64 live = 0;
            for (int i = 0; i < N_IDS; i++)
                live += model_has(kind, repo, i);
            guint64 last = 0;
            if (store_remove_store(env, kind, repos[repo], &last, NULL) != 0)
                test_fail("remove_store failed");
            if (last < live)
                test_fail("remove_store reported %" G_GUINT64_FORMAT " removed, %" G_GUINT64_FORMAT
                          " objects were live", last, live);
            for (int i = 0; i < N_IDS; i++)
                model_set(kind, repo, i, FALSE);
            if (s3_count(env, kind, repos[repo]) != 0)
                test_fail("remove_store left objects in S3");
        } else if (roll < 860) {
            which = 6;
            test_set_context("seed=%u op #%d: foreach %s %s", seed, op, store_name(kind),
                             repos[repo]);
            check_foreach(env, kind, repo);
        } else if (roll < 920) {
            which = 7;
            test_set_context("seed=%u op #%d: evict", seed, op);
            GError *err = NULL;
            gboolean ok = g_rand_boolean(rng)
                              ? seaftier_tier_evict_clean(beenv_shared(env)->site->tier, NULL, NULL, &err)
                              : seaftier_tier_evict_clean(beenv_shared(env)->site->tier, repos[repo],
                                                          NULL, &err);
            if (!ok)
                test_fail("evict: %s", err->message);
        } else if (roll < 985) {
            which = 8;
            test_set_context("seed=%u op #%d: flush", seed, op);
            beenv_flush(env);
        } else {
            which = 9;
            test_set_context("seed=%u op #%d: restart", seed, op);
            beenv_close(env);
            beenv_open(env);
            beenv_shared(env)->full_wait_ms = 200;
        }
        counts[which]++;
        if (trace && which <= 4) {
            char *w = whereabouts(env, kind, repo, id);
            fprintf(stderr, "#   -> model %d, %s\n", model_has(kind, repo, id), w);
            g_free(w);
        }
    }
    test_set_context("seed=%u: final check", seed);
    check_all(env);
    beenv_flush(env);
    GError *err = NULL;
    if (!seaftier_tier_evict_clean(beenv_shared(env)->site->tier, NULL, NULL, &err))
        test_fail("evict: %s", err->message);
    test_set_context("seed=%u: final check after flush, evict and restart", seed);
    beenv_close(env);
    beenv_open(env);
    check_all(env);
    printf("# %d ops: write %d read %d exists %d delete %d copy %d remove_store %d foreach %d "
           "evict %d flush %d restart %d\n", n_ops, counts[0], counts[1], counts[2], counts[3],
           counts[4], counts[5], counts[6], counts[7], counts[8], counts[9]);

    beenv_free(env);
    g_hash_table_destroy(model);
    for (int i = 0; i < N_REPOS; i++)
        g_free(repos[i]);
    for (int i = 0; i < N_IDS; i++) {
        g_free(ids[i]);
        g_bytes_unref(contents[i]);
    }
    g_rand_free(rng);
}

int
main(void)
{
    seed = (guint32)g_get_real_time();
    const char *env_seed = g_getenv("SEAFTIER_TEST_SEED");
    if (env_seed)
        seed = (guint32)strtoul(env_seed, NULL, 0);
    printf("# SEAFTIER_TEST_SEED=%u\n", seed);
    fflush(stdout);
    /* Quiet by default (the expected refusals log warnings); the
     * environment also wins over [tier] log_level in the backends. */
    g_setenv("SEAFTIER_LOG_LEVEL", "error", FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
    };
    int failed = cmocka_run_group_tests_name("backend model", tests, NULL, NULL);
    if (failed)
        printf("# failed with SEAFTIER_TEST_SEED=%u\n", seed);
    return failed ? 1 : 0;
}
