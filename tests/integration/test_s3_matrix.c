/*
 * tests/integration/test_s3_matrix.c — the S3 client against a real test
 * server (Ceph RGW, or Swift's s3api with SEAFTIER_S3_SERVER=swift) for every
 * combination of signature V2/V4, path-style / virtual-host, http/https, and
 * SSE-C on https (SSE-C needs V4 + https). Each variant runs every
 * operation; a summary matrix is printed at the end. On a server that
 * ignores SSE-C (Swift) the SSE-C variants prove that every object request
 * fails with SEAFTIER_S3_ERROR_SSE_C_IGNORED instead of passing silently.
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <seaftier/s3.h>
#include <stdio.h>
#include <string.h>

#include "../common/s3test.h"

typedef struct {
    const char *name;
    S3TestVariant v;
} Variant;

static const Variant variants[] = {
    { "V2 path http", { FALSE, TRUE, FALSE, FALSE } },
    { "V2 path https", { FALSE, TRUE, TRUE, FALSE } },
    { "V2 vhost http", { FALSE, FALSE, FALSE, FALSE } },
    { "V2 vhost https", { FALSE, FALSE, TRUE, FALSE } },
    { "V4 path http", { TRUE, TRUE, FALSE, FALSE } },
    { "V4 path https", { TRUE, TRUE, TRUE, FALSE } },
    { "V4 vhost http", { TRUE, FALSE, FALSE, FALSE } },
    { "V4 vhost https", { TRUE, FALSE, TRUE, FALSE } },
    { "V4 path https SSE-C", { TRUE, TRUE, TRUE, TRUE } },
    { "V4 vhost https SSE-C", { TRUE, FALSE, TRUE, TRUE } },
};

#define N_VARIANTS G_N_ELEMENTS(variants)
static const char *const ops[] = { "put/get", "range", "head", "list", "copy", "delete",
                                   "multi-delete", "multipart", "sse-c-guard", "bad-secret" };
#define N_OPS G_N_ELEMENTS(ops)
static char results[N_VARIANTS][N_OPS];   /* 'P' pass, 'F' fail, '-' not applicable */
static int current_op = -1;
static int current_variant = -1;

typedef struct {
    const Variant *variant;
    char *bucket;
    SeaftierS3Config *cfg;
    SeaftierS3 *s3;
} Fixture;

static void
begin_op(int op)
{
    if (current_op >= 0)
        results[current_variant][current_op] = 'P';
    current_op = op;
    results[current_variant][op] = 'F';   /* until it completes */
}

static void
end_ops(void)
{
    if (current_op >= 0)
        results[current_variant][current_op] = 'P';
    current_op = -1;
}

static void *
pattern(gsize len, guint32 seed, gboolean compressible)
{
    guint8 *p = g_malloc(len ? len : 1);
    GRand *r = g_rand_new_with_seed(seed);
    for (gsize i = 0; i < len; i++)
        p[i] = compressible ? (guint8)("seafile tier "[i % 13]) : (guint8)g_rand_int(r);
    g_rand_free(r);
    return p;
}

static void
assert_get_equals(SeaftierS3 *s3, const char *key, const void *want, gsize want_len)
{
    void *got = NULL;
    gsize len = 0;
    GError *err = NULL;
    gboolean ok = seaftier_s3_get(s3, key, &got, &len, &err);
    if (!ok)
        fail_msg("GET %s: %s", key, err->message);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
    g_free(got);
}

static void
put_ok(SeaftierS3 *s3, const char *key, const void *data, gsize len)
{
    GError *err = NULL;
    if (!seaftier_s3_put(s3, key, data, len, 1700000000, &err))
        fail_msg("PUT %s: %s", key, err->message);
}

static gboolean
collect_key(const SeaftierS3ListEntry *e, void *user)
{
    g_ptr_array_add(user, g_strdup(e->key));
    return TRUE;
}

static void
assert_sse_c_ignored(const GError *err, const char *bucket, const char *key)
{
    if (!g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED))
        fail_msg("expected SSE_C_IGNORED, got %s", err ? err->message : "success");
    assert_non_null(strstr(err->message, bucket));
    assert_non_null(strstr(err->message, key));
    assert_non_null(strstr(err->message, "SSE-C not honoured by this server"));
    assert_null(strstr(err->message, s3test_sse_c_key()));
}

/* A server that ignores SSE-C: every request carrying object data is an
 * error naming bucket and key, whatever the server answered (200). */
static void
test_sse_c_ignored(const Variant *variant)
{
    char *bucket = s3test_new_bucket("seaftier-matrix");
    SeaftierS3Config *cfg = s3test_config(bucket, &variant->v);
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(cfg, &err);
    assert_non_null(s3);
    const char *key = "3f5d1a2b-0c4e-4f6a-8b7c-9d0e1f2a3b4c/plain";
    void *got = NULL;
    gsize len = 0;

    begin_op(0);
    assert_false(seaftier_s3_put(s3, key, "secret bytes", 12, 0, &err));
    assert_sse_c_ignored(err, bucket, key);
    print_message("    PUT: %s\n", err->message);
    g_clear_error(&err);
    assert_false(seaftier_s3_get(s3, key, &got, &len, &err));
    assert_sse_c_ignored(err, bucket, key);
    g_clear_error(&err);
    begin_op(1);
    assert_false(seaftier_s3_get_range(s3, key, 0, 4, &got, &len, &err));
    assert_sse_c_ignored(err, bucket, key);
    g_clear_error(&err);
    begin_op(2);
    SeaftierS3ObjectInfo info;
    assert_false(seaftier_s3_head(s3, key, &info, &err));
    assert_sse_c_ignored(err, bucket, key);
    g_clear_error(&err);
    begin_op(4);   /* a copy answered without the echo is rewritten by a PUT, which fails too */
    const char *dst = "bbbbbbbb-0000-4000-8000-000000000002/copied";
    assert_false(seaftier_s3_copy(s3, key, dst, &err));
    assert_sse_c_ignored(err, bucket, key);
    g_clear_error(&err);
    begin_op(7);   /* multipart: the first UploadPart answer lacks the echo */
    {
        SeaftierS3Config *mcfg = s3test_config(bucket, &variant->v);
        mcfg->multipart_part_size = 5 * 1024 * 1024;
        SeaftierS3 *m = seaftier_s3_new(mcfg, &err);
        gsize big = 11 * 1024 * 1024 + 5;
        void *data = pattern(big, 7, FALSE);
        const char *bkey = "cccccccc-0000-4000-8000-000000000003/big";
        assert_false(seaftier_s3_put(m, bkey, data, big, 0, &err));
        assert_sse_c_ignored(err, bucket, bkey);
        g_clear_error(&err);
        g_free(data);
        seaftier_s3_free(m);
        s3test_config_free(mcfg);
    }
    begin_op(8);   /* the object is served without the key: plaintext, proven */
    assert_false(seaftier_s3_prove_sse_c_enforced(s3, key, &err));
    assert_sse_c_ignored(err, bucket, key);
    print_message("    GET without key: %s\n", err->message);
    g_clear_error(&err);
    end_ops();
    for (guint o = 0; o < N_OPS; o++)
        if (!results[current_variant][o])
            results[current_variant][o] = '-';
    seaftier_s3_free(s3);
    s3test_config_free(cfg);
    g_free(bucket);
}

static void
test_variant(void **state)
{
    const Variant *variant = *state;
    current_variant = (int)(variant - variants);
    print_message("--- %s\n", variant->name);
    if (variant->v.sse_c && !s3test_server()->honours_sse_c) {
        test_sse_c_ignored(variant);
        return;
    }
    char *bucket = s3test_new_bucket("seaftier-matrix");
    SeaftierS3Config *cfg = s3test_config(bucket, &variant->v);
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(cfg, &err);
    assert_non_null(s3);
    const char *repo = "3f5d1a2b-0c4e-4f6a-8b7c-9d0e1f2a3b4c";

    /* put/get: sizes around the interesting edges, and a key that needs encoding */
    begin_op(0);
    static const gsize sizes[] = { 0, 1, 4096, 1024 * 1024 + 3 };
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        char *key = g_strdup_printf("%s/%040x", repo, i + 1);
        void *data = pattern(sizes[i], i, i % 2);
        put_ok(s3, key, data, sizes[i]);
        assert_get_equals(s3, key, data, sizes[i]);
        g_free(data);
        g_free(key);
    }
    const char *odd_key = "odd dir/ä+b&c=d~e*f(1).txt";
    put_ok(s3, odd_key, "x", 1);
    assert_get_equals(s3, odd_key, "x", 1);

    begin_op(1);   /* ranged GET */
    {
        char *key = g_strdup_printf("%s/%040x", repo, 4);
        void *data = pattern(sizes[3], 3, TRUE);
        void *got = NULL;
        gsize len = 0;
        assert_true(seaftier_s3_get_range(s3, key, 1000, 5000, &got, &len, &err));
        assert_int_equal(len, 5000);
        assert_memory_equal(got, (guint8 *)data + 1000, 5000);
        g_free(got);
        /* a range running past the end is cut at the end */
        assert_true(seaftier_s3_get_range(s3, key, sizes[3] - 10, 100, &got, &len, &err));
        assert_int_equal(len, 10);
        g_free(got);
        g_free(data);
        g_free(key);
    }

    begin_op(2);   /* HEAD, including ctime metadata and a missing key */
    {
        char *key = g_strdup_printf("%s/%040x", repo, 3);
        SeaftierS3ObjectInfo info;
        assert_true(seaftier_s3_head(s3, key, &info, &err));
        assert_int_equal(info.size, 4096);
        assert_int_equal(info.ctime, 1700000000);
        assert_int_equal(info.sse_c, variant->v.sse_c);
        g_free(key);
        assert_false(seaftier_s3_head(s3, "missing/key", &info, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND));
        g_clear_error(&err);
        void *got = NULL;
        gsize len;
        assert_false(seaftier_s3_get(s3, "missing/key", &got, &len, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND));
        g_clear_error(&err);
    }

    begin_op(3);   /* list with pagination forced by max-keys 2 */
    {
        const char *lrepo = "aaaaaaaa-0000-4000-8000-000000000001";
        for (int i = 0; i < 7; i++) {
            char *key = g_strdup_printf("%s/%040d", lrepo, i);
            put_ok(s3, key, "l", 1);
            g_free(key);
        }
        GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
        char *prefix = g_strdup_printf("%s/", lrepo);
        assert_true(seaftier_s3_list(s3, prefix, 2, collect_key, keys, &err));
        assert_int_equal(keys->len, 7);
        for (int i = 0; i < 7; i++) {
            char *want = g_strdup_printf("%s/%040d", lrepo, i);
            assert_string_equal(keys->pdata[i], want);
            g_free(want);
        }
        SeaftierS3ListPage *page = NULL;
        assert_true(seaftier_s3_list_page(s3, prefix, NULL, 3, &page, &err));
        assert_int_equal(page->entries->len, 3);
        assert_non_null(page->next_token);
        seaftier_s3_list_page_free(page);
        g_ptr_array_free(keys, TRUE);
        g_free(prefix);
    }

    begin_op(4);   /* copy (server-side, or GET+PUT where the server cannot) */
    {
        char *src = g_strdup_printf("%s/%040x", repo, 3);
        const char *dst = "bbbbbbbb-0000-4000-8000-000000000002/copied";
        void *data = pattern(4096, 2, FALSE);
        if (!seaftier_s3_copy(s3, src, dst, &err))
            fail_msg("copy: %s", err->message);
        assert_get_equals(s3, dst, data, 4096);
        SeaftierS3ObjectInfo info;
        assert_true(seaftier_s3_head(s3, dst, &info, &err));
        assert_int_equal(info.sse_c, variant->v.sse_c);
        g_free(data);
        g_free(src);
    }

    begin_op(5);   /* delete, twice (the second of a missing key succeeds too) */
    assert_true(seaftier_s3_delete(s3, odd_key, &err));
    assert_true(seaftier_s3_delete(s3, odd_key, &err));
    {
        SeaftierS3ObjectInfo info;
        assert_false(seaftier_s3_head(s3, odd_key, &info, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND));
        g_clear_error(&err);
    }

    begin_op(6);   /* multi-delete */
    {
        const char *lrepo = "aaaaaaaa-0000-4000-8000-000000000001";
        char *keys[7];
        for (int i = 0; i < 7; i++)
            keys[i] = g_strdup_printf("%s/%040d", lrepo, i);
        GPtrArray *failed = g_ptr_array_new_with_free_func(g_free);
        if (!seaftier_s3_delete_many(s3, (const char *const *)keys, 7, failed, &err))
            fail_msg("delete_many: %s", err->message);
        assert_int_equal(failed->len, 0);
        GPtrArray *left = g_ptr_array_new_with_free_func(g_free);
        assert_true(seaftier_s3_list(s3, "aaaaaaaa-0000-4000-8000-000000000001/", 0, collect_key, left, &err));
        assert_int_equal(left->len, 0);
        g_ptr_array_free(left, TRUE);
        g_ptr_array_free(failed, TRUE);
        for (int i = 0; i < 7; i++)
            g_free(keys[i]);
    }

    begin_op(7);   /* multipart: 11 MiB + 5 bytes with 5 MiB parts → 3 parts */
    {
        SeaftierS3Config *mcfg = s3test_config(bucket, &variant->v);
        mcfg->multipart_part_size = 5 * 1024 * 1024;
        SeaftierS3 *m = seaftier_s3_new(mcfg, &err);
        gsize len = 11 * 1024 * 1024 + 5;
        void *data = pattern(len, 7, FALSE);
        const char *key = "cccccccc-0000-4000-8000-000000000003/big";
        if (!seaftier_s3_put(m, key, data, len, 0, &err))
            fail_msg("multipart put: %s", err->message);
        assert_get_equals(s3, key, data, len);
        SeaftierS3ObjectInfo info;
        assert_true(seaftier_s3_head(s3, key, &info, &err));
        assert_int_equal(info.size, len);
        assert_non_null(strchr(info.etag, '-'));   /* a multipart ETag: "<md5>-<parts>" */
        g_free(data);
        seaftier_s3_free(m);
        s3test_config_free(mcfg);
    }

    if (variant->v.sse_c) {
        begin_op(8);   /* an SSE-C object read without the key or with a wrong key */
        char *key = g_strdup_printf("%s/%040x", repo, 3);
        if (!seaftier_s3_prove_sse_c_enforced(s3, key, &err))
            fail_msg("SSE-C not enforced: %s", err->message);
        SeaftierS3Config *plain_cfg = s3test_config(bucket, &variant->v);
        g_free(plain_cfg->sse_c_key);
        plain_cfg->sse_c_key = NULL;
        SeaftierS3 *plain = seaftier_s3_new(plain_cfg, &err);
        void *got = NULL;
        gsize len;
        assert_false(seaftier_s3_get(plain, key, &got, &len, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_MISMATCH));
        print_message("    without key: %s\n", err->message);
        g_clear_error(&err);
        SeaftierS3Config *wrong_cfg = s3test_config(bucket, &variant->v);
        g_free(wrong_cfg->sse_c_key);
        wrong_cfg->sse_c_key = g_strdup(s3test_other_sse_c_key());
        SeaftierS3 *wrong = seaftier_s3_new(wrong_cfg, &err);
        assert_false(seaftier_s3_get(wrong, key, &got, &len, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_MISMATCH));
        assert_null(strstr(err->message, s3test_other_sse_c_key()));
        print_message("    wrong key: %s\n", err->message);
        g_clear_error(&err);
        SeaftierS3ObjectInfo info;
        assert_false(seaftier_s3_head(wrong, key, &info, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_MISMATCH));
        g_clear_error(&err);
        seaftier_s3_free(plain);
        seaftier_s3_free(wrong);
        s3test_config_free(plain_cfg);
        s3test_config_free(wrong_cfg);
        g_free(key);
    } else {
        results[current_variant][8] = '-';
    }

    begin_op(9);   /* wrong secret key → a named authentication error, no secret in it */
    {
        SeaftierS3Config *bad_cfg = s3test_config(bucket, &variant->v);
        g_free(bad_cfg->key);
        bad_cfg->key = g_strdup("this-is-not-the-right-secret-key-000000");
        SeaftierS3 *bad = seaftier_s3_new(bad_cfg, &err);
        void *got = NULL;
        gsize len;
        char *key = g_strdup_printf("%s/%040x", repo, 3);
        assert_false(seaftier_s3_get(bad, key, &got, &len, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SIGNATURE));
        assert_null(strstr(err->message, "this-is-not-the-right"));
        print_message("    wrong secret: %s\n", err->message);
        g_clear_error(&err);
        assert_false(seaftier_s3_put(bad, key, "x", 1, 0, &err));
        assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SIGNATURE));
        g_clear_error(&err);
        seaftier_s3_free(bad);
        s3test_config_free(bad_cfg);
        g_free(key);
    }
    end_ops();

    SeaftierS3Stats st;
    seaftier_s3_get_stats(s3, &st);
    assert_true(st.requests > 10);
    seaftier_s3_free(s3);
    s3test_config_free(cfg);
    g_free(bucket);
}

/* Errors that do not depend on the variant. */
static void
test_unknown_bucket_and_server(void **state)
{
    S3TestVariant v = { TRUE, TRUE, FALSE, FALSE };
    SeaftierS3Config *cfg = s3test_config("seaftier-no-such-bucket-here", &v);
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(cfg, &err);
    assert_false(seaftier_s3_put(s3, "a/b", "x", 1, 0, &err));
    assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NO_SUCH_BUCKET));
    assert_non_null(strstr(err->message, "seaftier-no-such-bucket-here"));
    g_clear_error(&err);
    seaftier_s3_free(s3);

    /* nothing listens on port 1: a network error after bounded retries */
    cfg->port = 1;
    cfg->max_retries = 1;
    s3 = seaftier_s3_new(cfg, &err);
    assert_false(seaftier_s3_head(s3, "a/b", NULL, &err));
    assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NETWORK));
    assert_true(seaftier_s3_error_is_transient(err));
    g_clear_error(&err);
    SeaftierS3Stats st;
    seaftier_s3_get_stats(s3, &st);
    assert_int_equal(st.retries, 1);
    seaftier_s3_free(s3);

    /* https without the server's CA: certificate not trusted, not retried */
    S3TestVariant vs = { TRUE, TRUE, TRUE, FALSE };
    SeaftierS3Config *scfg = s3test_config("seaftier-no-such-bucket-here", &vs);
    g_free(scfg->ca_file);
    scfg->ca_file = NULL;
    s3 = seaftier_s3_new(scfg, &err);
    assert_false(seaftier_s3_head(s3, "a/b", NULL, &err));
    assert_true(g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NETWORK));
    assert_non_null(strstr(err->message, "ca_file"));
    g_clear_error(&err);
    seaftier_s3_free(s3);
    s3test_config_free(scfg);
    s3test_config_free(cfg);
}

/* A copy the server refuses with 501 (RGW cannot copy SSE-C objects) costs
 * the refused request once per client; later copies go straight to GET + PUT. */
static void
test_copy_not_implemented_remembered(void **state)
{
    (void)state;
    if (s3test_server()->kind != S3TEST_RGW) {
        print_message("    (only RGW answers 501 to an SSE-C CopyObject)\n");
        return;
    }
    S3TestVariant v = { TRUE, TRUE, TRUE, TRUE };
    char *bucket = s3test_new_bucket("seaftier-copy501");
    SeaftierS3Config *cfg = s3test_config(bucket, &v);
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(cfg, &err);
    const char *src = "eeeeeeee-0000-4000-8000-000000000005/src";
    void *data = pattern(3000, 5, FALSE);
    if (!seaftier_s3_put(s3, src, data, 3000, 1700000123, &err))
        fail_msg("PUT: %s", err->message);
    SeaftierS3Stats before, after;
    guint64 per_copy[3];
    for (int i = 0; i < 3; i++) {
        char *dst = g_strdup_printf("eeeeeeee-0000-4000-8000-000000000005/copy-%d", i);
        seaftier_s3_get_stats(s3, &before);
        if (!seaftier_s3_copy(s3, src, dst, &err))
            fail_msg("copy %d: %s", i, err->message);
        seaftier_s3_get_stats(s3, &after);
        per_copy[i] = after.requests - before.requests;
        assert_get_equals(s3, dst, data, 3000);
        SeaftierS3ObjectInfo info;
        assert_true(seaftier_s3_head(s3, dst, &info, &err));
        assert_true(info.sse_c);
        assert_int_equal(info.ctime, 1700000123);
        g_free(dst);
    }
    print_message("    requests per copy: %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "\n",
                  per_copy[0], per_copy[1], per_copy[2]);
    assert_int_equal(per_copy[0], 3);   /* CopyObject → 501, GET, PUT */
    assert_int_equal(per_copy[1], 2);   /* GET, PUT */
    assert_int_equal(per_copy[2], 2);
    g_free(data);
    seaftier_s3_free(s3);
    s3test_config_free(cfg);
    g_free(bucket);
}

/* path_style_request = false with an IP address as host: the client must use
 * path style (a request to <bucket>.127.0.0.1 cannot resolve). */
static void
test_ip_host_without_path_style(void **state)
{
    (void)state;
    S3TestVariant v = { TRUE, FALSE, FALSE, FALSE };
    char *bucket = s3test_new_bucket("seaftier-iphost");
    SeaftierS3Config *cfg = s3test_config(bucket, &v);
    g_free(cfg->host);
    cfg->host = g_strdup("127.0.0.1");
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(cfg, &err);
    assert_true(seaftier_s3_uses_path_style(s3));
    put_ok(s3, "ffffffff-0000-4000-8000-000000000006/ip", "via ip", 6);
    assert_get_equals(s3, "ffffffff-0000-4000-8000-000000000006/ip", "via ip", 6);
    seaftier_s3_free(s3);
    s3test_config_free(cfg);
    g_free(bucket);
}

/* Many threads on one client: connection reuse must stay correct. */
static gpointer
hammer(gpointer user)
{
    SeaftierS3 *s3 = user;
    for (int i = 0; i < 40; i++) {
        char *key = g_strdup_printf("dddddddd-0000-4000-8000-000000000004/%p-%d", (void *)g_thread_self(), i);
        char body[64];
        int n = g_snprintf(body, sizeof body, "body %s", key);
        GError *err = NULL;
        void *got = NULL;
        gsize len = 0;
        if (!seaftier_s3_put(s3, key, body, (gsize)n, 0, &err) ||
            !seaftier_s3_get(s3, key, &got, &len, &err) || len != (gsize)n || memcmp(got, body, len) != 0) {
            g_free(got);
            g_free(key);
            g_clear_error(&err);
            return GINT_TO_POINTER(1);
        }
        g_free(got);
        g_free(key);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    /* SSE-C where the server honours it */
    S3TestVariant v = { TRUE, TRUE, TRUE, s3test_server()->honours_sse_c };
    char *bucket = s3test_new_bucket("seaftier-threads");
    SeaftierS3Config *cfg = s3test_config(bucket, &v);
    SeaftierS3 *s3 = seaftier_s3_new(cfg, NULL);
    GThread *t[8];
    for (int i = 0; i < 8; i++)
        t[i] = g_thread_new("hammer", hammer, s3);
    int failures = 0;
    for (int i = 0; i < 8; i++)
        failures += GPOINTER_TO_INT(g_thread_join(t[i]));
    assert_int_equal(failures, 0);
    seaftier_s3_free(s3);
    s3test_config_free(cfg);
    g_free(bucket);
}

static int
print_matrix(void **state)
{
    printf("\nS3 client matrix against %s (P pass, F fail, - not applicable):\n%-22s",
           s3test_server()->name, "");
    for (guint o = 0; o < N_OPS; o++)
        printf(" %-12s", ops[o]);
    printf("\n");
    for (guint v = 0; v < N_VARIANTS; v++) {
        printf("%-22s", variants[v].name);
        for (guint o = 0; o < N_OPS; o++)
            printf(" %-12c", results[v][o] ? results[v][o] : '?');
        printf("\n");
    }
    return 0;
}

int
main(void)
{
    s3test_server();
    struct CMUnitTest tests[N_VARIANTS + 4];
    for (guint i = 0; i < N_VARIANTS; i++) {
        struct CMUnitTest t = cmocka_unit_test_prestate(test_variant, (void *)&variants[i]);
        t.name = variants[i].name;
        tests[i] = t;
    }
    tests[N_VARIANTS] = (struct CMUnitTest)cmocka_unit_test(test_unknown_bucket_and_server);
    tests[N_VARIANTS + 1] = (struct CMUnitTest)cmocka_unit_test(test_threads);
    tests[N_VARIANTS + 2] = (struct CMUnitTest)cmocka_unit_test(test_copy_not_implemented_remembered);
    tests[N_VARIANTS + 3] = (struct CMUnitTest)cmocka_unit_test(test_ip_host_without_path_style);
    return _cmocka_run_group_tests("s3-matrix", tests, G_N_ELEMENTS(tests), NULL, print_matrix);
}
