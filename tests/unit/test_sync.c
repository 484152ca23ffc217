/*
 * tests/unit/test_sync.c — the parts of the sync engine that need no S3
 * server: the in-flight set (the PUT/DELETE exclusion), the retry schedule,
 * the error classes of S3 errors, the key builder, and the check of bytes
 * read against the size and CRC32C recorded at upload. (The engine's
 * uploads, deletes, flushes and probes run against the real S3 server in
 * the backend, daemon, admin and torture tests.)
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sync/inflight.h"
#include "sync/remote-s3.h"
#include "sync/sync.h"
#include "tier/crc32c.h"

#define REPO "0b8ee5b4-6a5c-4f6b-8a2e-3c1f6d2a9e10"
#define OBJ "3f786850e387550fdab836ed7e6dc881de23001b"

typedef struct {
    SeaftierInflight *set;
    gint released;
} ReleaseLater;

static gpointer
release_later(gpointer data)
{
    ReleaseLater *r = data;
    g_usleep(50000);
    g_atomic_int_set(&r->released, 1);
    seaftier_inflight_release(r->set, SEAFTIER_TYPE_FS, REPO, OBJ);
    return NULL;
}

static void
test_inflight(void **state)
{
    (void)state;
    SeaftierInflight *set = seaftier_inflight_new();
    assert_true(seaftier_inflight_claim(set, SEAFTIER_TYPE_FS, REPO, OBJ, SEAFTIER_INFLIGHT_PUT));
    /* Neither a second PUT nor a DELETE of the same key may start. */
    assert_false(seaftier_inflight_claim(set, SEAFTIER_TYPE_FS, REPO, OBJ, SEAFTIER_INFLIGHT_PUT));
    assert_false(seaftier_inflight_claim(set, SEAFTIER_TYPE_FS, REPO, OBJ, SEAFTIER_INFLIGHT_DELETE));
    /* Same ids, other type: another object. */
    assert_true(seaftier_inflight_claim(set, SEAFTIER_TYPE_BLOCKS, REPO, OBJ, SEAFTIER_INFLIGHT_DELETE));
    assert_true(seaftier_inflight_contains(set, SEAFTIER_TYPE_FS, REPO, OBJ));
    assert_false(seaftier_inflight_wait(set, SEAFTIER_TYPE_FS, REPO, OBJ, g_get_monotonic_time() + 20000));

    ReleaseLater r = { set, 0 };
    GThread *t = g_thread_new("release", release_later, &r);
    assert_true(seaftier_inflight_wait(set, SEAFTIER_TYPE_FS, REPO, OBJ,
                                       g_get_monotonic_time() + 5 * G_USEC_PER_SEC));
    assert_int_equal(g_atomic_int_get(&r.released), 1);
    g_thread_join(t);
    assert_false(seaftier_inflight_contains(set, SEAFTIER_TYPE_FS, REPO, OBJ));
    assert_true(seaftier_inflight_claim(set, SEAFTIER_TYPE_FS, REPO, OBJ, SEAFTIER_INFLIGHT_DELETE));
    seaftier_inflight_release(set, SEAFTIER_TYPE_FS, REPO, OBJ);
    seaftier_inflight_release(set, SEAFTIER_TYPE_BLOCKS, REPO, OBJ);
    seaftier_inflight_free(set);
}

static void
test_retry_backoff(void **state)
{
    (void)state;
    const gint64 now = 1000000;
    for (int i = 0; i < 50; i++) {
        gint64 first = seaftier_sync_retry_at(0, SEAFTIER_REMOTE_ERR_TRANSIENT, now) - now;
        assert_true(first >= 5 && first <= 6);
        gint64 third = seaftier_sync_retry_at(2, SEAFTIER_REMOTE_ERR_TRANSIENT, now) - now;
        assert_true(third >= 20 && third <= 24);
        gint64 capped = seaftier_sync_retry_at(30, SEAFTIER_REMOTE_ERR_TRANSIENT, now) - now;
        assert_true(capped >= 900 && capped <= 1080);
        gint64 perm = seaftier_sync_retry_at(0, SEAFTIER_REMOTE_ERR_PERMANENT, now) - now;
        assert_true(perm >= 60 && perm <= 72);
        gint64 perm_capped = seaftier_sync_retry_at(1000, SEAFTIER_REMOTE_ERR_PERMANENT, now) - now;
        assert_true(perm_capped >= 21600 && perm_capped <= 21600 + 4320);
    }
}

static void
test_key(void **state)
{
    (void)state;
    char *key = seaftier_remote_key("0b8a3e1c-6a4f-4b8e-9b1d-2f6c7d8e9a0b",
                                    "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_string_equal(key, "0b8a3e1c-6a4f-4b8e-9b1d-2f6c7d8e9a0b/"
                             "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    g_free(key);
}

static void
test_classify(void **state)
{
    (void)state;
    static const struct {
        SeaftierS3ErrorCode code;
        SeaftierRemoteErrorClass cls;
    } cases[] = {
        { SEAFTIER_S3_ERROR_NOT_FOUND, SEAFTIER_REMOTE_ERR_NOT_FOUND },
        { SEAFTIER_S3_ERROR_NO_SUCH_BUCKET, SEAFTIER_REMOTE_ERR_BUCKET },
        { SEAFTIER_S3_ERROR_ACCESS_DENIED, SEAFTIER_REMOTE_ERR_BUCKET },
        { SEAFTIER_S3_ERROR_SIGNATURE, SEAFTIER_REMOTE_ERR_BUCKET },
        { SEAFTIER_S3_ERROR_SSE_C_IGNORED, SEAFTIER_REMOTE_ERR_BUCKET },
        { SEAFTIER_S3_ERROR_INCOMPLETE, SEAFTIER_REMOTE_ERR_TRANSIENT },
        { SEAFTIER_S3_ERROR_SERVER, SEAFTIER_REMOTE_ERR_TRANSIENT },
        { SEAFTIER_S3_ERROR_SLOW_DOWN, SEAFTIER_REMOTE_ERR_TRANSIENT },
        { SEAFTIER_S3_ERROR_NETWORK, SEAFTIER_REMOTE_ERR_TRANSIENT },
        { SEAFTIER_S3_ERROR_TIMEOUT, SEAFTIER_REMOTE_ERR_TRANSIENT },
        { SEAFTIER_S3_ERROR_SSE_C_MISMATCH, SEAFTIER_REMOTE_ERR_PERMANENT },
        { SEAFTIER_S3_ERROR_INVALID_REQUEST, SEAFTIER_REMOTE_ERR_PERMANENT },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = g_error_new(SEAFTIER_S3_ERROR, (int)cases[i].code, "case %zu", i);
        assert_int_equal(seaftier_remote_s3_classify(err), cases[i].cls);
        g_error_free(err);
    }
    /* A mismatch found by the engine itself may pass on the next attempt. */
    GError *integ = g_error_new(SEAFTIER_REMOTE_ERROR, SEAFTIER_REMOTE_ERROR_INTEGRITY, "x");
    assert_int_equal(seaftier_remote_classify(NULL, integ), SEAFTIER_REMOTE_ERR_TRANSIENT);
    g_error_free(integ);
}

static void
test_meta_verify(void **state)
{
    (void)state;
    guint8 data[4096];
    for (gsize i = 0; i < sizeof data; i++)
        data[i] = (guint8)(i * 31 + 7);
    SeaftierRemoteMeta meta;
    seaftier_remote_meta_for(&meta, data, sizeof data, 1700000000);
    assert_true(meta.has_size && meta.size == sizeof data);
    assert_true(meta.has_crc32c && meta.crc32c == seaftier_crc32c(0, data, sizeof data));
    assert_int_equal(meta.ctime, 1700000000);

    GError *err = NULL;
    assert_true(seaftier_remote_meta_verify(&meta, data, sizeof data, "obj", &err));
    /* Truncated. */
    assert_false(seaftier_remote_meta_verify(&meta, data, sizeof data / 2, "blocks r/o", &err));
    assert_true(g_error_matches(err, SEAFTIER_REMOTE_ERROR, SEAFTIER_REMOTE_ERROR_INTEGRITY));
    assert_non_null(strstr(err->message, "blocks r/o"));
    g_clear_error(&err);
    /* One byte altered, same length. */
    data[100] ^= 1;
    assert_false(seaftier_remote_meta_verify(&meta, data, sizeof data, "obj", &err));
    assert_non_null(strstr(err->message, "CRC32C"));
    g_clear_error(&err);
    /* Written without metadata (by Seafile itself): nothing to check. */
    SeaftierRemoteMeta none = { 0 };
    assert_true(seaftier_remote_meta_verify(&none, data, 3, "obj", &err));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inflight),
        cmocka_unit_test(test_retry_backoff),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_meta_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
