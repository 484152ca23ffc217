/*
 * tests/integration/test_backend_evict.c — a tier far smaller than the data:
 * the tier stays within max_size, dirty data is never evicted or lost (when
 * dirty data fills the tier, writes wait, then go straight to S3), and
 * evicted objects read back from S3.
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

#define MAX_SIZE (512 * 1024)
#define N_BLOCKS 48
#define BLOCK_SIZE (32 * 1024)

static GRand *rng;

static SeaftierTierStats
stats_of(BeEnv *env)
{
    SeaftierTierStats st;
    GError *err = NULL;
    if (!seaftier_tier_stats(beenv_shared(env)->site->tier, &st, &err))
        test_fail("tier stats: %s", err->message);
    return st;
}

static void
check_within_limit(BeEnv *env, const char *when)
{
    SeaftierTierStats st = stats_of(env);
    if (st.max_size != MAX_SIZE)
        test_fail("max_size is %" G_GUINT64_FORMAT ", configured %d", st.max_size, MAX_SIZE);
    if (st.used_bytes > MAX_SIZE)
        test_fail("%s: the tier uses %" G_GUINT64_FORMAT " bytes, above max_size %d", when,
                  st.used_bytes, MAX_SIZE);
}

static void
test_evict(void **state)
{
    S3TestVariant variant = { TRUE, TRUE, FALSE, FALSE };
    BeEnv *env = beenv_new("bevict", &variant,
                           "max_size = 512K\nhigh_watermark = 90\nlow_watermark = 50\n"
                           "min_free_space = 0\n");
    beenv_shared(env)->full_wait_ms = 300;
    char *repo = rand_repo_id(rng);
    char *ids[N_BLOCKS];
    guint8 *data[N_BLOCKS];

    /* Three times max_size of incompressible dirty data, no daemon running:
     * every write must still succeed. */
    for (int i = 0; i < N_BLOCKS; i++) {
        ids[i] = rand_obj_id(rng);
        data[i] = g_malloc(BLOCK_SIZE);
        fill_random(rng, data[i], BLOCK_SIZE);
        assert_int_equal(store_write(env, STORE_BLOCKS, repo, ids[i], data[i], BLOCK_SIZE, TRUE),
                         0);
        check_within_limit(env, "while writing dirty data");
    }
    int dirty = 0, direct = 0;
    for (int i = 0; i < N_BLOCKS; i++) {
        SeaftierTierEntry e;
        if (tier_row(env, STORE_BLOCKS, repo, ids[i], &e) && e.state == SEAFTIER_STATE_DIRTY) {
            dirty++;
        } else {
            /* Not kept dirty: it must be in S3 already. */
            GBytes *raw = s3_object(env, STORE_BLOCKS, repo, ids[i]);
            if (!raw)
                test_fail("block %d is neither dirty in the tier nor in S3", i);
            g_bytes_unref(raw);
            direct++;
        }
    }
    printf("# %d blocks kept dirty, %d written through to S3 when the tier was full\n", dirty,
           direct);
    assert_true(dirty > 0);
    assert_true(direct > 0);

    /* Eviction never touches dirty data. */
    GError *err = NULL;
    assert_true(seaftier_tier_evict(beenv_shared(env)->site->tier, NULL, NULL, &err));
    assert_true(seaftier_tier_evict_clean(beenv_shared(env)->site->tier, NULL, NULL, &err));
    int still_dirty = 0;
    for (int i = 0; i < N_BLOCKS; i++) {
        SeaftierTierEntry e;
        if (tier_row(env, STORE_BLOCKS, repo, ids[i], &e) && e.state == SEAFTIER_STATE_DIRTY)
            still_dirty++;
    }
    assert_int_equal(still_dirty, dirty);
    for (int i = 0; i < N_BLOCKS; i++) {
        void *got = NULL;
        gsize n = 0;
        assert_int_equal(store_read(env, STORE_BLOCKS, repo, ids[i], &got, &n), 0);
        assert_same("read back with a full tier", got, n, data[i], BLOCK_SIZE);
        g_free(got);
    }
    check_within_limit(env, "after reading everything back");

    /* Uploaded, everything is evictable; reads refill from S3 within limits. */
    beenv_flush(env);
    assert_true(seaftier_tier_evict(beenv_shared(env)->site->tier, NULL, NULL, &err));
    SeaftierTierStats st = stats_of(env);
    assert_true(st.used_bytes <= (guint64)MAX_SIZE * 90 / 100);
    assert_int_equal(st.objects[SEAFTIER_TYPE_BLOCKS][SEAFTIER_STATE_DIRTY], 0);

    SeaftierS3Stats before, after;
    seaftier_s3_get_stats(beenv_shared(env)->site->s3[SEAFTIER_TYPE_BLOCKS], &before);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N_BLOCKS; i++) {
            void *got = NULL;
            gsize n = 0;
            assert_int_equal(store_read(env, STORE_BLOCKS, repo, ids[i], &got, &n), 0);
            assert_same("read-through after eviction", got, n, data[i], BLOCK_SIZE);
            g_free(got);
            check_within_limit(env, "during read-through");
            if (i % 8 == 7)
                assert_true(seaftier_tier_evict(beenv_shared(env)->site->tier, NULL, NULL, &err));
        }
    }
    seaftier_s3_get_stats(beenv_shared(env)->site->s3[SEAFTIER_TYPE_BLOCKS], &after);
    /* The tier holds at most a third of the blocks: most reads went to S3. */
    assert_true(after.requests - before.requests >= N_BLOCKS);

    for (int i = 0; i < N_BLOCKS; i++) {
        g_free(ids[i]);
        g_free(data[i]);
    }
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
    /* Quiet by default (the expected refusals log warnings); the
     * environment also wins over [tier] log_level in the backends. */
    g_setenv("SEAFTIER_LOG_LEVEL", "error", FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evict),
    };
    int failed = cmocka_run_group_tests_name("backend eviction", tests, NULL, NULL);
    g_rand_free(rng);
    return failed ? 1 : 0;
}
