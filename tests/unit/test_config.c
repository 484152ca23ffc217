/*
 * tests/unit/test_config.c — the config loader: a full file, the defaults,
 * the S3_* environment, and one test per rule a bad file can break. Every
 * error test checks that the message names section and key, and that no
 * secret (key, sse_c_key) shows up in any message or warning.
 */
#include "seaftier-build.h"

#include <seaftier/config.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <glib/gstdio.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SSE_KEY "Sse-C-Key-Of-32-Characters-12345"   /* 32 characters */
#define SHORT_SSE_KEY "only16charsSSEkk"               /* 16 characters */

static const char *const env_vars[] = {
    "SEAF_SERVER_STORAGE_TYPE", "USE_S3_STORAGE", "S3_KEY_ID", "S3_SECRET_KEY",
    "S3_COMMIT_BUCKET", "S3_FS_BUCKET", "S3_BLOCK_BUCKET", "S3_HOST", "S3_USE_V4_SIGNATURE",
    "S3_AWS_REGION", "S3_USE_HTTPS", "S3_PATH_STYLE_REQUEST", "S3_SSE_C_KEY",
};

static int
clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(env_vars); i++)
        g_unsetenv(env_vars[i]);
    return 0;
}

static const char minimal_conf[] =
    "[general]\nenable_syslog = true\n"
    "[database]\ntype = mysql\npassword = not-ours\n"
    "[commit_object_backend]\nname = s3\nbucket = seaf-commits\nkey_id = AKIAEXAMPLE\n"
    "key = " SECRET "\n"
    "[fs_object_backend]\nname = s3\nbucket = seaf-fs\nkey_id = AKIAEXAMPLE\n"
    "key = " SECRET "\n"
    "[block_backend]\nname = s3\nbucket = seaf-blocks\nkey_id = AKIAEXAMPLE\n"
    "key = " SECRET "\n";

static GKeyFile *
minimal_kf(void)
{
    GKeyFile *kf = g_key_file_new();
    assert_true(g_key_file_load_from_data(kf, minimal_conf, strlen(minimal_conf),
                                          G_KEY_FILE_NONE, NULL));
    return kf;
}

static void
assert_no_leak(const char *msg, const char *extra_secret)
{
    assert_null(strstr(msg, SECRET));
    assert_null(strstr(msg, SSE_KEY));
    assert_null(strstr(msg, SHORT_SSE_KEY));
    if (extra_secret)
        assert_null(strstr(msg, extra_secret));
}

static void
assert_clean_warnings(const SeaftierConfig *cfg)
{
    for (guint i = 0; i < cfg->warnings->len; i++)
        assert_no_leak(cfg->warnings->pdata[i], NULL);
}

static SeaftierConfig *
load_ok(GKeyFile *kf)
{
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_keyfile(kf, &error);
    if (!cfg)
        fail_msg("unexpected error: %s", error->message);
    assert_clean_warnings(cfg);
    return cfg;
}

/* Loads `kf`, expects failure with `code`, and checks that the message
 * contains each of the NULL-terminated `...` strings and no secret. */
static void
expect_error_v(GKeyFile *kf, int code, const char *extra_secret, va_list ap)
{
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_keyfile(kf, &error);
    assert_null(cfg);
    assert_non_null(error);
    assert_true(error->domain == SEAFTIER_CONFIG_ERROR);
    assert_int_equal(error->code, code);
    const char *want;
    while ((want = va_arg(ap, const char *)) != NULL)
        if (!strstr(error->message, want))
            fail_msg("message \"%s\" does not contain \"%s\"", error->message, want);
    assert_no_leak(error->message, extra_secret);
    g_error_free(error);
}

static void
expect_error(GKeyFile *kf, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    expect_error_v(kf, code, NULL, ap);
    va_end(ap);
}

/* One key of the minimal file changed (NULL value: removed), then expect. */
static void
expect_error_with(const char *section, const char *key, const char *value, int code, ...)
{
    GKeyFile *kf = minimal_kf();
    if (value)
        g_key_file_set_value(kf, section, key, value);
    else
        g_key_file_remove_key(kf, section, key, NULL);
    va_list ap;
    va_start(ap, code);
    expect_error_v(kf, code, NULL, ap);
    va_end(ap);
    g_key_file_free(kf);
}

static char *
write_temp(const char *name, const char *text)
{
    char *dir = g_dir_make_tmp("seaftier-config-XXXXXX", NULL);
    assert_non_null(dir);
    char *path = g_build_filename(dir, name, NULL);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    g_free(dir);
    return path;
}

static void
remove_temp(char *path)
{
    char *dir = g_path_get_dirname(path);
    g_unlink(path);
    g_rmdir(dir);
    g_free(dir);
    g_free(path);
}

/* ---- names ---- */

/* A file with problems in several sections and keys: all of them are
 * reported at once, one line each, naming section and key. */
static void
test_every_problem_at_once(void **state)
{
    (void)state;
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "commit_object_backend", "key_id", "has space");
    g_key_file_remove_key(kf, "fs_object_backend", "bucket", NULL);
    g_key_file_set_value(kf, "block_backend", "use_https", "maybe");
    g_key_file_set_value(kf, "block_backend", "bucket", "Bad_Bucket");
    g_key_file_set_value(kf, "tier", "max_size", "lots");
    g_key_file_set_value(kf, "tier", "high_watermark", "200");
    GError *error = NULL;
    assert_null(seaftier_config_load_keyfile(kf, &error));
    assert_non_null(error);
    assert_int_equal(error->code, SEAFTIER_CONFIG_ERROR_INVALID);     /* the first problem's */
    static const char *const want[] = {
        "[commit_object_backend] key_id", "[fs_object_backend] bucket", "[block_backend] bucket",
        "[block_backend] use_https", "[tier] max_size", "[tier] high_watermark",
    };
    char **lines = g_strsplit(error->message, "\n", -1);
    assert_int_equal(g_strv_length(lines), G_N_ELEMENTS(want));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        gboolean found = FALSE;
        for (char **l = lines; *l; l++)
            found = found || strstr(*l, want[i]) != NULL;
        if (!found)
            fail_msg("\"%s\" not reported in \"%s\"", want[i], error->message);
    }
    assert_no_leak(error->message, NULL);
    g_strfreev(lines);
    g_error_free(error);
    g_key_file_free(kf);
}

static void
test_type_names(void **state)
{
    (void)state;
    SeaftierObjType t;
    assert_string_equal(seaftier_type_name(SEAFTIER_TYPE_COMMITS), "commits");
    assert_string_equal(seaftier_type_name(SEAFTIER_TYPE_FS), "fs");
    assert_string_equal(seaftier_type_name(SEAFTIER_TYPE_BLOCKS), "blocks");
    assert_string_equal(seaftier_type_section(SEAFTIER_TYPE_COMMITS), "commit_object_backend");
    assert_string_equal(seaftier_type_section(SEAFTIER_TYPE_FS), "fs_object_backend");
    assert_string_equal(seaftier_type_section(SEAFTIER_TYPE_BLOCKS), "block_backend");
    assert_true(seaftier_type_from_name("commits", &t) && t == SEAFTIER_TYPE_COMMITS);
    assert_true(seaftier_type_from_name("commit", &t) && t == SEAFTIER_TYPE_COMMITS);
    assert_true(seaftier_type_from_name("fs", &t) && t == SEAFTIER_TYPE_FS);
    assert_true(seaftier_type_from_name("blocks", &t) && t == SEAFTIER_TYPE_BLOCKS);
    assert_true(seaftier_type_from_name("block", &t) && t == SEAFTIER_TYPE_BLOCKS);
    assert_false(seaftier_type_from_name("Blocks", &t));
    assert_false(seaftier_type_from_name("", &t));
    assert_false(seaftier_type_from_name(NULL, &t));
    assert_null(seaftier_type_name(SEAFTIER_N_TYPES));
}

static void
test_parse_size(void **state)
{
    (void)state;
    static const struct { const char *text; guint64 want; } good[] = {
        { "0", 0 }, { "512", 512 }, { "512B", 512 }, { "64K", 65536 }, { "64k", 65536 },
        { "64KiB", 65536 }, { "10MB", 10485760 }, { "10 MiB", 10485760 },
        { "2 GiB", (guint64)2 << 30 }, { "3g", (guint64)3 << 30 }, { "1T", (guint64)1 << 40 },
        { " 7 M ", (guint64)7 << 20 }, { "18446744073709551615", G_MAXUINT64 },
    };
    static const char *const bad[] = {
        "", " ", "M", "-1", "+1", "1.5G", "10 XB", "10MBs", "0x10", "1 2", "16777216T",
        "18446744073709551616", "99999999999999999999999K", "5 M B",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        guint64 v = 1234;
        if (!seaftier_parse_size(good[i].text, &v))
            fail_msg("'%s' rejected", good[i].text);
        assert_true(v == good[i].want);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        guint64 v;
        if (seaftier_parse_size(bad[i], &v))
            fail_msg("'%s' accepted", bad[i]);
    }
    guint64 v;
    assert_false(seaftier_parse_size(NULL, &v));
}

/* ---- valid files ---- */

static void
test_full_file(void **state)
{
    (void)state;
    char *ca = write_temp("ca.pem", "-----BEGIN CERTIFICATE-----\n");
    char *text = g_strdup_printf(
        "[commit_object_backend]\nname = s3\nbucket = seaf-commits\nkey_id = AKIA1\n"
        "key = " SECRET "\nuse_v4_signature = true\nuse_https = true\n"
        "aws_region = eu-central-1\nhost = s3.example.com:8443\nsse_c_key = " SSE_KEY "\n"
        "path_style_request = true\nca_file = %s\nconnect_timeout = 3\nlow_speed_time = 7\n"
        "max_retries = 0\nmultipart_part_size = 8MiB\n"
        "[fs_object_backend]\nname = s3\nbucket = seaf-fs\nkey_id = AKIA2\nkey = " SECRET "\n"
        "use_v4_signature = false\nuse_https = false\nhost = [::1]:7480\n"
        "[block_backend]\nname = s3\nbucket = seaf.blocks\nkey_id = AKIA3\nkey = " SECRET "\n"
        "host = minio\npath_style_request = yes\n"
        "[tier]\ndir = /srv/tier\nmax_size = 2G\nhigh_watermark = 95\nlow_watermark = 50\n"
        "min_free_space = 512M\nram_cache_size = 0\nlocation_cache_size = 1M\ncompression = false\n"
        "mode = write_through\n"
        "upload_concurrency = 4\nupload_delay = 2s\ninline_max = 4K\nsocket = /run/s.sock\n"
        "log_level = DEBUG\nauthoritative_index = on\n", ca);
    char *path = write_temp("seafile.conf", text);
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(path, &error);
    if (!cfg)
        fail_msg("%s", error->message);
    assert_string_equal(cfg->source, path);
    assert_int_equal(cfg->warnings->len, 0);

    const SeaftierS3Config *c = &cfg->s3[SEAFTIER_TYPE_COMMITS];
    assert_string_equal(c->section, "commit_object_backend");
    assert_string_equal(c->bucket, "seaf-commits");
    assert_string_equal(c->key_id, "AKIA1");
    assert_string_equal(c->key, SECRET);
    assert_true(c->use_v4_signature);
    assert_true(c->use_https);
    assert_string_equal(c->aws_region, "eu-central-1");
    assert_string_equal(c->host, "s3.example.com");
    assert_int_equal(c->port, 8443);
    assert_string_equal(c->sse_c_key, SSE_KEY);
    assert_true(c->path_style_request);
    assert_string_equal(c->ca_file, ca);
    assert_int_equal(c->connect_timeout_s, 3);
    assert_int_equal(c->low_speed_time_s, 7);
    assert_int_equal(c->max_retries, 0);
    assert_true(c->multipart_part_size == (guint64)8 << 20);

    const SeaftierS3Config *f = &cfg->s3[SEAFTIER_TYPE_FS];
    assert_string_equal(f->bucket, "seaf-fs");
    assert_string_equal(f->key_id, "AKIA2");
    assert_false(f->use_v4_signature);
    assert_false(f->use_https);
    assert_string_equal(f->host, "[::1]");
    assert_int_equal(f->port, 7480);
    assert_null(f->sse_c_key);
    assert_null(f->ca_file);

    const SeaftierS3Config *b = &cfg->s3[SEAFTIER_TYPE_BLOCKS];
    assert_string_equal(b->section, "block_backend");
    assert_string_equal(b->bucket, "seaf.blocks");
    assert_string_equal(b->host, "minio");
    assert_int_equal(b->port, 0);
    assert_true(b->path_style_request);

    const SeaftierTierConfig *t = &cfg->tier;
    assert_string_equal(t->dir, "/srv/tier");
    assert_true(t->max_size == (guint64)2 << 30);
    assert_int_equal(t->high_watermark, 95);
    assert_int_equal(t->low_watermark, 50);
    assert_true(t->min_free_space == (guint64)512 << 20);
    assert_true(t->ram_cache_size == 0);
    assert_true(t->location_cache_size == (guint64)1 << 20);
    assert_false(t->compression);
    assert_true(t->write_through);
    assert_int_equal(t->authoritative_index, SEAFTIER_AUTHORITATIVE_ON);
    assert_int_equal(t->upload_concurrency, 4);
    assert_int_equal(t->upload_delay_ms, 2000);
    assert_true(t->inline_max == 4096);
    assert_string_equal(t->socket_path, "/run/s.sock");
    assert_string_equal(t->log_level, "debug");

    seaftier_config_free(cfg);
    remove_temp(path);
    remove_temp(ca);
    g_free(text);
}

static void
test_example_file(void **state)
{
    (void)state;
    GError *error = NULL;
    SeaftierConfig *cfg =
        seaftier_config_load_file(SEAFTIER_SRCDIR "/conf/seafile.conf.example", &error);
    if (!cfg)
        fail_msg("%s", error->message);
    for (guint i = 0; i < cfg->warnings->len; i++)
        fail_msg("warning: %s", (const char *)cfg->warnings->pdata[i]);
    assert_string_equal(cfg->s3[SEAFTIER_TYPE_BLOCKS].bucket, "my-block-objects");
    assert_int_equal(cfg->tier.high_watermark, 90);
    seaftier_config_free(cfg);
}

static void
test_defaults(void **state)
{
    (void)state;
    GKeyFile *kf = minimal_kf();
    SeaftierConfig *cfg = load_ok(kf);
    assert_int_equal(cfg->warnings->len, 0);
    assert_string_equal(cfg->source, "seafile.conf");
    for (int i = 0; i < SEAFTIER_N_TYPES; i++) {
        const SeaftierS3Config *s = &cfg->s3[i];
        assert_string_equal(s->section, seaftier_type_section((SeaftierObjType)i));
        assert_string_equal(s->key, SECRET);
        assert_false(s->use_v4_signature);
        assert_false(s->use_https);
        assert_string_equal(s->aws_region, "us-east-1");
        assert_null(s->host);
        assert_int_equal(s->port, 0);
        assert_null(s->sse_c_key);
        assert_false(s->path_style_request);
        assert_null(s->ca_file);
        assert_int_equal(s->connect_timeout_s, 10);
        assert_int_equal(s->low_speed_time_s, 30);
        assert_int_equal(s->max_retries, 5);
        assert_true(s->multipart_part_size == (guint64)64 << 20);
    }
    const SeaftierTierConfig *t = &cfg->tier;
    assert_null(t->dir);
    assert_true(t->max_size == (guint64)10 << 30);
    assert_int_equal(t->high_watermark, 90);
    assert_int_equal(t->low_watermark, 80);
    assert_true(t->min_free_space == (guint64)1 << 30);
    assert_true(t->ram_cache_size == (guint64)128 << 20);
    assert_true(t->location_cache_size == (guint64)12 << 20);
    assert_true(t->compression);
    assert_false(t->write_through);
    assert_int_equal(t->authoritative_index, SEAFTIER_AUTHORITATIVE_AUTO);
    assert_int_equal(t->upload_concurrency, 16);
    assert_int_equal(t->upload_delay_ms, 0);
    assert_true(t->inline_max == 65536);
    assert_null(t->socket_path);
    assert_string_equal(t->log_level, "info");
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

static void
test_socket_default_from_dir(void **state)
{
    (void)state;
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "tier", "dir", "/var/lib/seaftier");
    SeaftierConfig *cfg = load_ok(kf);
    assert_string_equal(cfg->tier.socket_path, "/var/lib/seaftier/seaftierd.sock");
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

static void
test_boolean_forms(void **state)
{
    (void)state;
    static const struct { const char *text; gboolean want; } forms[] = {
        { "true", TRUE }, { "TRUE", TRUE }, { "True", TRUE }, { "1", TRUE }, { "yes", TRUE },
        { "on", TRUE }, { "false", FALSE }, { "FALSE", FALSE }, { "0", FALSE }, { "no", FALSE },
        { "off", FALSE },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        GKeyFile *kf = minimal_kf();
        g_key_file_set_value(kf, "block_backend", "path_style_request", forms[i].text);
        g_key_file_set_value(kf, "tier", "compression", forms[i].text);
        SeaftierConfig *cfg = load_ok(kf);
        assert_int_equal(cfg->s3[SEAFTIER_TYPE_BLOCKS].path_style_request, forms[i].want);
        assert_int_equal(cfg->tier.compression, forms[i].want);
        seaftier_config_free(cfg);
        g_key_file_free(kf);
    }
}

static void
test_upload_delay_forms(void **state)
{
    (void)state;
    static const struct { const char *text; int want; } forms[] = {
        { "1500", 1500 }, { "1500ms", 1500 }, { "250 ms", 250 }, { "2s", 2000 }, { "0", 0 },
        { "86400s", 86400000 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        GKeyFile *kf = minimal_kf();
        g_key_file_set_value(kf, "tier", "upload_delay", forms[i].text);
        SeaftierConfig *cfg = load_ok(kf);
        assert_int_equal(cfg->tier.upload_delay_ms, forms[i].want);
        seaftier_config_free(cfg);
        g_key_file_free(kf);
    }
}

static void
test_unknown_keys_warn(void **state)
{
    (void)state;
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "fs_object_backend", "memcached_options", "--SERVER=localhost");
    g_key_file_set_value(kf, "tier", "max_sise", "1G");
    g_key_file_set_value(kf, "fileserver", "port", "8082");   /* not ours: no warning */
    SeaftierConfig *cfg = load_ok(kf);
    assert_int_equal(cfg->warnings->len, 2);
    gboolean saw_fs = FALSE, saw_tier = FALSE;
    for (guint i = 0; i < cfg->warnings->len; i++) {
        const char *w = cfg->warnings->pdata[i];
        saw_fs = saw_fs || (strstr(w, "[fs_object_backend]") && strstr(w, "memcached_options"));
        saw_tier = saw_tier || (strstr(w, "[tier]") && strstr(w, "max_sise"));
    }
    assert_true(saw_fs && saw_tier);
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

static void
test_dotted_bucket_https_warns(void **state)
{
    (void)state;
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "block_backend", "bucket", "seaf.blocks");
    g_key_file_set_value(kf, "block_backend", "use_https", "true");
    SeaftierConfig *cfg = load_ok(kf);
    assert_int_equal(cfg->warnings->len, 1);
    assert_non_null(strstr(cfg->warnings->pdata[0], "[block_backend] bucket"));
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

/* ---- bucket rules: one test per rule ---- */

#define BUCKET_TEST(fn, value, why)                                                    \
    static void fn(void **state)                                                       \
    {                                                                                  \
        (void)state;                                                                   \
        expect_error_with("fs_object_backend", "bucket", value,                        \
                          SEAFTIER_CONFIG_ERROR_INVALID,                               \
                          "[fs_object_backend] bucket '" value "': " why, NULL);       \
    }

BUCKET_TEST(test_bucket_too_short, "ab", "must be at least 3 characters long")
BUCKET_TEST(test_bucket_too_long,
            "a123456789b123456789c123456789d123456789e123456789f123456789g123",
            "must be at most 63 characters long")
BUCKET_TEST(test_bucket_uppercase, "My-Bucket", "uppercase letters are not allowed")
BUCKET_TEST(test_bucket_underscore, "my_bucket", "underscores are not allowed")
BUCKET_TEST(test_bucket_bad_character, "my+bucket", "character '+' is not allowed")
BUCKET_TEST(test_bucket_bad_begin, "-bucket", "must begin with a lowercase letter or digit")
BUCKET_TEST(test_bucket_bad_end, "bucket.", "must end with a lowercase letter or digit")
BUCKET_TEST(test_bucket_double_period, "my..bucket", "must not contain two adjacent periods")
BUCKET_TEST(test_bucket_ip_address, "192.168.5.4", "must not be formatted as an IP address")
BUCKET_TEST(test_bucket_prefix_xn, "xn--bucket", "must not start with the reserved prefix 'xn--'")
BUCKET_TEST(test_bucket_prefix_sthree, "sthree-bucket", "must not start with the reserved prefix 'sthree-'")
BUCKET_TEST(test_bucket_prefix_amzn_demo, "amzn-s3-demo-bucket", "must not start with the reserved prefix 'amzn-s3-demo-'")
BUCKET_TEST(test_bucket_suffix_s3alias, "bucket-s3alias", "must not end with the reserved suffix '-s3alias'")
BUCKET_TEST(test_bucket_suffix_ol_s3, "bucket--ol-s3", "must not end with the reserved suffix '--ol-s3'")
BUCKET_TEST(test_bucket_suffix_mrap, "bucket.mrap", "must not end with the reserved suffix '.mrap'")
BUCKET_TEST(test_bucket_suffix_x_s3, "bucket--x-s3", "must not end with the reserved suffix '--x-s3'")
BUCKET_TEST(test_bucket_suffix_table_s3, "bucket--table-s3", "must not end with the reserved suffix '--table-s3'")

static void
test_bucket_valid_edge_cases(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "abc", "a123456789b123456789c123456789d123456789e123456789f123456789g12",
        "1.2.3", "192.168.5.4a", "my-bucket.example", "0-0",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        GKeyFile *kf = minimal_kf();
        g_key_file_set_value(kf, "fs_object_backend", "bucket", ok[i]);
        SeaftierConfig *cfg = load_ok(kf);
        assert_string_equal(cfg->s3[SEAFTIER_TYPE_FS].bucket, ok[i]);
        seaftier_config_free(cfg);
        g_key_file_free(kf);
    }
}

static void
test_bucket_shared(void **state)
{
    (void)state;
    expect_error_with("block_backend", "bucket", "seaf-fs", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[block_backend] bucket 'seaf-fs'", "[fs_object_backend]", NULL);
}

/* ---- SSE-C ---- */

static GKeyFile *
sse_kf(const char *key, const char *v4, const char *https)
{
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "block_backend", "sse_c_key", key);
    g_key_file_set_value(kf, "block_backend", "use_v4_signature", v4);
    g_key_file_set_value(kf, "block_backend", "use_https", https);
    return kf;
}

static void
test_sse_c_ok(void **state)
{
    (void)state;
    GKeyFile *kf = sse_kf(SSE_KEY, "true", "true");
    SeaftierConfig *cfg = load_ok(kf);
    assert_string_equal(cfg->s3[SEAFTIER_TYPE_BLOCKS].sse_c_key, SSE_KEY);
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

static void
test_sse_c_key_length(void **state)
{
    (void)state;
    GKeyFile *kf = sse_kf(SHORT_SSE_KEY, "true", "true");
    expect_error(kf, SEAFTIER_CONFIG_ERROR_INVALID,
                 "[block_backend] sse_c_key: must be exactly 32 characters (got 16)", NULL);
    g_key_file_free(kf);
}

static void
test_sse_c_without_v4(void **state)
{
    (void)state;
    GKeyFile *kf = sse_kf(SSE_KEY, "false", "true");
    expect_error(kf, SEAFTIER_CONFIG_ERROR_INVALID, "[block_backend] sse_c_key",
                 "use_v4_signature", NULL);
    g_key_file_free(kf);
}

static void
test_sse_c_without_https(void **state)
{
    (void)state;
    GKeyFile *kf = sse_kf(SSE_KEY, "true", "false");
    expect_error(kf, SEAFTIER_CONFIG_ERROR_INVALID, "[block_backend] sse_c_key", "use_https",
                 NULL);
    g_key_file_free(kf);
}

/* ---- host ---- */

static void
test_host_forms(void **state)
{
    (void)state;
    static const struct { const char *text; const char *host; int port; } forms[] = {
        { "minio", "minio", 0 }, { "s3.example.com:9000", "s3.example.com", 9000 },
        { "127.0.0.1:65535", "127.0.0.1", 65535 }, { "[::1]:1", "[::1]", 1 },
        { "[2001:db8::7]", "[2001:db8::7]", 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
        GKeyFile *kf = minimal_kf();
        g_key_file_set_value(kf, "commit_object_backend", "host", forms[i].text);
        SeaftierConfig *cfg = load_ok(kf);
        assert_string_equal(cfg->s3[SEAFTIER_TYPE_COMMITS].host, forms[i].host);
        assert_int_equal(cfg->s3[SEAFTIER_TYPE_COMMITS].port, forms[i].port);
        seaftier_config_free(cfg);
        g_key_file_free(kf);
    }
}

static void
test_port_not_numeric(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "host", "minio:http",
                      SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] host 'minio:http'", "port 'http' is not a number",
                      NULL);
}

static void
test_port_zero(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "host", "minio:0", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] host 'minio:0'", "out of range", NULL);
}

static void
test_port_too_big(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "host", "[::1]:65536",
                      SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] host '[::1]:65536'", "out of range", NULL);
}

static void
test_port_empty(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "host", "minio:", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] host 'minio:'", "not a number", NULL);
}

static void
test_host_ipv6_without_brackets(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "host", "::1", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] host '::1'", "brackets", NULL);
}

static void
test_host_with_scheme(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "host", "https://minio:9000",
                      SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] host 'https://minio:9000'", "scheme", NULL);
}

/* ---- required keys and sections ---- */

static void
test_missing_bucket(void **state)
{
    (void)state;
    expect_error_with("fs_object_backend", "bucket", NULL, SEAFTIER_CONFIG_ERROR_MISSING,
                      "[fs_object_backend] bucket", "required", NULL);
}

static void
test_missing_key_id(void **state)
{
    (void)state;
    expect_error_with("block_backend", "key_id", NULL, SEAFTIER_CONFIG_ERROR_MISSING,
                      "[block_backend] key_id", "required", NULL);
}

static void
test_missing_key(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "key", NULL, SEAFTIER_CONFIG_ERROR_MISSING,
                      "[commit_object_backend] key", "required", NULL);
}

static void
test_empty_key(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "key", "  ", SEAFTIER_CONFIG_ERROR_MISSING,
                      "[commit_object_backend] key", "required", NULL);
}

static void
test_missing_section(void **state)
{
    (void)state;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        const char *section = seaftier_type_section((SeaftierObjType)t);
        GKeyFile *kf = minimal_kf();
        g_key_file_remove_group(kf, section, NULL);
        char *want = g_strdup_printf("[%s]", section);
        expect_error(kf, SEAFTIER_CONFIG_ERROR_MISSING, want, "section missing", NULL);
        g_free(want);
        g_key_file_free(kf);
    }
}

static void
test_wrong_name(void **state)
{
    (void)state;
    expect_error_with("fs_object_backend", "name", "ceph", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[fs_object_backend] name 'ceph'", "only fronts S3", NULL);
}

static void
test_missing_name(void **state)
{
    (void)state;
    expect_error_with("fs_object_backend", "name", NULL, SEAFTIER_CONFIG_ERROR_MISSING,
                      "[fs_object_backend] name", "only fronts S3", NULL);
}

static void
test_key_id_with_space(void **state)
{
    (void)state;
    expect_error_with("fs_object_backend", "key_id", "AKIA EXAMPLE",
                      SEAFTIER_CONFIG_ERROR_INVALID, "[fs_object_backend] key_id 'AKIA EXAMPLE'",
                      NULL);
}

/* ---- values ---- */

static void
test_bad_boolean(void **state)
{
    (void)state;
    expect_error_with("block_backend", "use_https", "sometimes", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[block_backend] use_https 'sometimes'", "not a boolean", NULL);
}

static void
test_bad_boolean_tier(void **state)
{
    (void)state;
    expect_error_with("tier", "compression", "lz4", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] compression 'lz4'", "not a boolean", NULL);
}

static void
test_bad_region(void **state)
{
    (void)state;
    expect_error_with("block_backend", "aws_region", "eu central", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[block_backend] aws_region 'eu central'", NULL);
}

static void
test_bad_size(void **state)
{
    (void)state;
    expect_error_with("tier", "max_size", "10 XB", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] max_size '10 XB'", "not a size", NULL);
}

static void
test_zero_max_size(void **state)
{
    (void)state;
    expect_error_with("tier", "max_size", "0", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] max_size '0'", "at least 1", NULL);
}

static void
test_part_size_too_small(void **state)
{
    (void)state;
    expect_error_with("block_backend", "multipart_part_size", "4M",
                      SEAFTIER_CONFIG_ERROR_INVALID, "[block_backend] multipart_part_size '4M'",
                      "at least 5242880", NULL);
}

static void
test_part_size_not_a_size(void **state)
{
    (void)state;
    expect_error_with("block_backend", "multipart_part_size", "big",
                      SEAFTIER_CONFIG_ERROR_INVALID, "[block_backend] multipart_part_size 'big'",
                      "not a size", NULL);
}

static void
test_bad_connect_timeout(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "connect_timeout", "10s",
                      SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] connect_timeout '10s'", "whole number", NULL);
}

static void
test_connect_timeout_range(void **state)
{
    (void)state;
    expect_error_with("commit_object_backend", "connect_timeout", "0",
                      SEAFTIER_CONFIG_ERROR_INVALID,
                      "[commit_object_backend] connect_timeout '0'", "between 1 and 600", NULL);
}

static void
test_watermarks_inverted(void **state)
{
    (void)state;
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "tier", "high_watermark", "70");
    g_key_file_set_value(kf, "tier", "low_watermark", "70");
    expect_error(kf, SEAFTIER_CONFIG_ERROR_INVALID, "[tier] low_watermark '70'",
                 "below high_watermark (70)", NULL);
    g_key_file_free(kf);
}

static void
test_watermark_out_of_range(void **state)
{
    (void)state;
    expect_error_with("tier", "high_watermark", "101", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] high_watermark '101'", "between 1 and 100", NULL);
}

static void
test_watermark_zero(void **state)
{
    (void)state;
    expect_error_with("tier", "low_watermark", "0", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] low_watermark '0'", "between 1 and 100", NULL);
}

static void
test_bad_mode(void **state)
{
    (void)state;
    expect_error_with("tier", "mode", "write-back", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] mode 'write-back'", "write_back or write_through", NULL);
    expect_error_with("tier", "authoritative_index", "yes", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] authoritative_index 'yes'", "auto, on or off", NULL);
}

static void
test_bad_concurrency(void **state)
{
    (void)state;
    expect_error_with("tier", "upload_concurrency", "257", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] upload_concurrency '257'", "between 1 and 256", NULL);
}

static void
test_bad_upload_delay(void **state)
{
    (void)state;
    expect_error_with("tier", "upload_delay", "5min", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] upload_delay '5min'", "not a delay", NULL);
}

static void
test_upload_delay_too_long(void **state)
{
    (void)state;
    expect_error_with("tier", "upload_delay", "99999999999999999999", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] upload_delay '99999999999999999999'", "at most one day", NULL);
}

static void
test_bad_log_level(void **state)
{
    (void)state;
    expect_error_with("tier", "log_level", "verbose", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] log_level 'verbose'", NULL);
}

static void
test_relative_dir(void **state)
{
    (void)state;
    expect_error_with("tier", "dir", "seaftier", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] dir 'seaftier'", "absolute path", NULL);
}

static void
test_socket_too_long(void **state)
{
    (void)state;
    char *dir = g_strnfill(120, 'd');
    char *path = g_strdup_printf("/%s", dir);
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "tier", "dir", path);
    expect_error(kf, SEAFTIER_CONFIG_ERROR_INVALID, "[tier] socket", "Unix socket", NULL);
    g_key_file_free(kf);
    g_free(path);
    g_free(dir);
}

static void
test_inline_max_too_big(void **state)
{
    (void)state;
    expect_error_with("tier", "inline_max", "1G", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] inline_max '1G'", "at most", NULL);
}

static void
test_location_cache_too_big(void **state)
{
    (void)state;
    expect_error_with("tier", "location_cache_size", "1T", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] location_cache_size '1T'", "at most", NULL);
    expect_error_with("tier", "location_cache_size", "twelve", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] location_cache_size 'twelve'", NULL);
}

static void
test_ca_file_missing(void **state)
{
    (void)state;
    expect_error_with("block_backend", "ca_file", "/nonexistent/seaftier-ca.pem",
                      SEAFTIER_CONFIG_ERROR_INVALID,
                      "[block_backend] ca_file '/nonexistent/seaftier-ca.pem'", "cannot be read",
                      NULL);
}

static void
test_ca_file_directory(void **state)
{
    (void)state;
    expect_error_with("block_backend", "ca_file", "/", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[block_backend] ca_file '/'", "not a regular file", NULL);
}

static void
test_value_escaped_in_message(void **state)
{
    (void)state;
    expect_error_with("tier", "mode", "write\001back", SEAFTIER_CONFIG_ERROR_INVALID,
                      "[tier] mode 'write\\001back'", NULL);
}

static void
test_secret_in_other_value_masked(void **state)
{
    (void)state;
    /* The secret pasted into a key whose value messages do quote. */
    expect_error_with("fs_object_backend", "name", "s3" SECRET, SEAFTIER_CONFIG_ERROR_INVALID,
                      "[fs_object_backend] name 's3***'", NULL);
}

/* ---- files ---- */

static void
test_file_missing(void **state)
{
    (void)state;
    GError *error = NULL;
    assert_null(seaftier_config_load_file("/nonexistent/seafile.conf", &error));
    assert_true(g_error_matches(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_IO));
    assert_non_null(strstr(error->message, "/nonexistent/seafile.conf"));
    g_error_free(error);
}

static void
test_file_syntax_error_hides_secret(void **state)
{
    (void)state;
    /* '=' forgotten: GLib would quote the whole line, secret included. */
    char *path = write_temp("seafile.conf",
                            "[block_backend]\nname = s3\nkey " SECRET "\n");
    GError *error = NULL;
    assert_null(seaftier_config_load_file(path, &error));
    assert_true(g_error_matches(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_IO));
    assert_non_null(strstr(error->message, "line 3"));
    assert_no_leak(error->message, NULL);
    g_error_free(error);
    remove_temp(path);
}

static void
test_no_file_no_env(void **state)
{
    (void)state;
    GError *error = NULL;
    assert_null(seaftier_config_load_file(NULL, &error));
    assert_true(g_error_matches(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING));
    assert_non_null(strstr(error->message, "SEAF_SERVER_STORAGE_TYPE"));
    g_error_free(error);
}

/* ---- environment ---- */

static void
set_s3_env(void)
{
    g_setenv("SEAF_SERVER_STORAGE_TYPE", "s3", TRUE);
    g_setenv("S3_KEY_ID", "ENVKEYID", TRUE);
    g_setenv("S3_SECRET_KEY", SECRET, TRUE);
    g_setenv("S3_COMMIT_BUCKET", "env-commits", TRUE);
    g_setenv("S3_FS_BUCKET", "env-fs", TRUE);
    g_setenv("S3_BLOCK_BUCKET", "env-blocks", TRUE);
    g_setenv("S3_HOST", "rgw.local:7480", TRUE);
    g_setenv("S3_USE_V4_SIGNATURE", "true", TRUE);
    g_setenv("S3_AWS_REGION", "eu-west-3", TRUE);
    g_setenv("S3_USE_HTTPS", "true", TRUE);
    g_setenv("S3_PATH_STYLE_REQUEST", "true", TRUE);
    g_setenv("S3_SSE_C_KEY", SSE_KEY, TRUE);
}

static void
assert_env_values(const SeaftierConfig *cfg)
{
    static const char *const buckets[] = { "env-commits", "env-fs", "env-blocks" };
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        const SeaftierS3Config *s = &cfg->s3[t];
        assert_string_equal(s->section, seaftier_type_section((SeaftierObjType)t));
        assert_string_equal(s->bucket, buckets[t]);
        assert_string_equal(s->key_id, "ENVKEYID");
        assert_string_equal(s->key, SECRET);
        assert_string_equal(s->host, "rgw.local");
        assert_int_equal(s->port, 7480);
        assert_true(s->use_v4_signature);
        assert_string_equal(s->aws_region, "eu-west-3");
        assert_true(s->use_https);
        assert_true(s->path_style_request);
        assert_string_equal(s->sse_c_key, SSE_KEY);
    }
}

static void
test_env_only(void **state)
{
    (void)state;
    set_s3_env();
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(NULL, &error);
    if (!cfg)
        fail_msg("%s", error->message);
    assert_string_equal(cfg->source, "environment");
    assert_env_values(cfg);
    assert_int_equal(cfg->warnings->len, 0);
    assert_null(cfg->tier.dir);
    assert_int_equal(cfg->tier.high_watermark, 90);
    seaftier_config_free(cfg);
}

static void
test_env_missing_file_is_fine(void **state)
{
    (void)state;
    set_s3_env();
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file("/nonexistent/seafile.conf", &error);
    if (!cfg)
        fail_msg("%s", error->message);
    assert_env_values(cfg);
    seaftier_config_free(cfg);
}

static void
test_env_overrides_file(void **state)
{
    (void)state;
    set_s3_env();
    GKeyFile *kf = minimal_kf();
    g_key_file_set_value(kf, "block_backend", "max_retries", "9");   /* still read */
    g_key_file_set_value(kf, "tier", "max_size", "3G");
    SeaftierConfig *cfg = load_ok(kf);
    assert_env_values(cfg);
    assert_int_equal(cfg->s3[SEAFTIER_TYPE_BLOCKS].max_retries, 9);
    assert_true(cfg->tier.max_size == (guint64)3 << 30);
    /* One warning per section whose connection keys the environment shadows. */
    assert_int_equal(cfg->warnings->len, 3);
    assert_non_null(strstr(cfg->warnings->pdata[0], "[commit_object_backend]"));
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

static void
test_env_use_s3_storage(void **state)
{
    (void)state;
    set_s3_env();
    g_unsetenv("SEAF_SERVER_STORAGE_TYPE");
    g_setenv("USE_S3_STORAGE", "true", TRUE);
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(NULL, &error);
    if (!cfg)
        fail_msg("%s", error->message);
    assert_env_values(cfg);
    seaftier_config_free(cfg);
}

static void
test_env_not_selected(void **state)
{
    (void)state;
    set_s3_env();
    g_unsetenv("SEAF_SERVER_STORAGE_TYPE");
    GKeyFile *kf = minimal_kf();
    SeaftierConfig *cfg = load_ok(kf);
    assert_string_equal(cfg->s3[SEAFTIER_TYPE_FS].bucket, "seaf-fs");
    assert_string_equal(cfg->s3[SEAFTIER_TYPE_FS].key_id, "AKIAEXAMPLE");
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

static void
test_env_defaults(void **state)
{
    (void)state;
    g_setenv("SEAF_SERVER_STORAGE_TYPE", "s3", TRUE);
    g_setenv("S3_KEY_ID", "ENVKEYID", TRUE);
    g_setenv("S3_SECRET_KEY", SECRET, TRUE);
    g_setenv("S3_COMMIT_BUCKET", "env-commits", TRUE);
    g_setenv("S3_FS_BUCKET", "env-fs", TRUE);
    g_setenv("S3_BLOCK_BUCKET", "env-blocks", TRUE);
    g_setenv("S3_HOST", "", TRUE);           /* empty: AWS, as in Seafile's .env template */
    g_setenv("S3_SSE_C_KEY", "", TRUE);      /* empty: no SSE-C */
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(NULL, &error);
    if (!cfg)
        fail_msg("%s", error->message);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        assert_null(cfg->s3[t].host);
        assert_null(cfg->s3[t].sse_c_key);
        assert_false(cfg->s3[t].use_https);
        assert_false(cfg->s3[t].use_v4_signature);
        assert_string_equal(cfg->s3[t].aws_region, "us-east-1");
    }
    seaftier_config_free(cfg);
}

static void
test_env_boolean_only_true(void **state)
{
    (void)state;
    set_s3_env();
    g_unsetenv("S3_SSE_C_KEY");
    g_setenv("S3_USE_HTTPS", "TRUE", TRUE);   /* seafobj: only "true" is true */
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(NULL, &error);
    if (!cfg)
        fail_msg("%s", error->message);
    assert_false(cfg->s3[SEAFTIER_TYPE_FS].use_https);
    assert_true(cfg->warnings->len >= 1);
    assert_non_null(strstr(cfg->warnings->pdata[0], "S3_USE_HTTPS 'TRUE'"));
    assert_clean_warnings(cfg);
    seaftier_config_free(cfg);
}

static void
expect_env_error(int code, ...)
{
    GError *error = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(NULL, &error);
    assert_null(cfg);
    assert_true(error->domain == SEAFTIER_CONFIG_ERROR);
    assert_int_equal(error->code, code);
    va_list ap;
    va_start(ap, code);
    const char *want;
    while ((want = va_arg(ap, const char *)) != NULL)
        if (!strstr(error->message, want))
            fail_msg("message \"%s\" does not contain \"%s\"", error->message, want);
    va_end(ap);
    assert_no_leak(error->message, NULL);
    g_error_free(error);
}

static void
test_env_bad_bucket(void **state)
{
    (void)state;
    set_s3_env();
    g_setenv("S3_FS_BUCKET", "A_B", TRUE);
    expect_env_error(SEAFTIER_CONFIG_ERROR_INVALID, "S3_FS_BUCKET 'A_B': uppercase", NULL);
}

static void
test_env_missing_secret(void **state)
{
    (void)state;
    set_s3_env();
    g_unsetenv("S3_SECRET_KEY");
    expect_env_error(SEAFTIER_CONFIG_ERROR_MISSING, "S3_SECRET_KEY", "required", NULL);
}

static void
test_env_missing_bucket(void **state)
{
    (void)state;
    set_s3_env();
    g_setenv("S3_BLOCK_BUCKET", "", TRUE);
    expect_env_error(SEAFTIER_CONFIG_ERROR_MISSING, "S3_BLOCK_BUCKET", "required", NULL);
}

static void
test_env_sse_c_without_https(void **state)
{
    (void)state;
    set_s3_env();
    g_setenv("S3_USE_HTTPS", "false", TRUE);
    expect_env_error(SEAFTIER_CONFIG_ERROR_INVALID, "S3_SSE_C_KEY", "S3_USE_HTTPS=true", NULL);
}

static void
test_env_sse_c_length(void **state)
{
    (void)state;
    set_s3_env();
    g_setenv("S3_SSE_C_KEY", SHORT_SSE_KEY, TRUE);
    expect_env_error(SEAFTIER_CONFIG_ERROR_INVALID,
                     "S3_SSE_C_KEY: must be exactly 32 characters (got 16)", NULL);
}

static void
test_env_bad_port(void **state)
{
    (void)state;
    set_s3_env();
    g_setenv("S3_HOST", "rgw:99999", TRUE);
    expect_env_error(SEAFTIER_CONFIG_ERROR_INVALID, "S3_HOST 'rgw:99999'", "out of range", NULL);
}

static void
test_env_same_buckets(void **state)
{
    (void)state;
    set_s3_env();
    g_setenv("S3_BLOCK_BUCKET", "env-fs", TRUE);
    expect_env_error(SEAFTIER_CONFIG_ERROR_INVALID, "S3_BLOCK_BUCKET 'env-fs'", "S3_FS_BUCKET",
                     NULL);
}

static void
test_env_storage_type_disk(void **state)
{
    (void)state;
    set_s3_env();
    g_setenv("SEAF_SERVER_STORAGE_TYPE", "disk", TRUE);
    expect_env_error(SEAFTIER_CONFIG_ERROR_INVALID, "SEAF_SERVER_STORAGE_TYPE 'disk'", NULL);
}

static void
test_env_storage_type_unknown_warns(void **state)
{
    (void)state;
    g_setenv("SEAF_SERVER_STORAGE_TYPE", "S3", TRUE);   /* Seafile compares exactly */
    GKeyFile *kf = minimal_kf();
    SeaftierConfig *cfg = load_ok(kf);
    assert_int_equal(cfg->warnings->len, 1);
    assert_non_null(strstr(cfg->warnings->pdata[0], "SEAF_SERVER_STORAGE_TYPE 'S3'"));
    assert_string_equal(cfg->s3[SEAFTIER_TYPE_FS].bucket, "seaf-fs");
    seaftier_config_free(cfg);
    g_key_file_free(kf);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, clean_env, clean_env)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_type_names),
        T(test_every_problem_at_once), T(test_parse_size),
        T(test_full_file), T(test_example_file), T(test_defaults),
        T(test_socket_default_from_dir), T(test_boolean_forms), T(test_upload_delay_forms),
        T(test_unknown_keys_warn), T(test_dotted_bucket_https_warns),
        T(test_bucket_too_short), T(test_bucket_too_long), T(test_bucket_uppercase),
        T(test_bucket_underscore), T(test_bucket_bad_character), T(test_bucket_bad_begin),
        T(test_bucket_bad_end), T(test_bucket_double_period), T(test_bucket_ip_address),
        T(test_bucket_prefix_xn), T(test_bucket_prefix_sthree), T(test_bucket_prefix_amzn_demo),
        T(test_bucket_suffix_s3alias), T(test_bucket_suffix_ol_s3), T(test_bucket_suffix_mrap),
        T(test_bucket_suffix_x_s3), T(test_bucket_suffix_table_s3),
        T(test_bucket_valid_edge_cases), T(test_bucket_shared),
        T(test_sse_c_ok), T(test_sse_c_key_length), T(test_sse_c_without_v4),
        T(test_sse_c_without_https),
        T(test_host_forms), T(test_port_not_numeric), T(test_port_zero), T(test_port_too_big),
        T(test_port_empty), T(test_host_ipv6_without_brackets), T(test_host_with_scheme),
        T(test_missing_bucket), T(test_missing_key_id), T(test_missing_key), T(test_empty_key),
        T(test_missing_section), T(test_wrong_name), T(test_missing_name),
        T(test_key_id_with_space),
        T(test_bad_boolean), T(test_bad_boolean_tier), T(test_bad_region), T(test_bad_size),
        T(test_zero_max_size), T(test_part_size_too_small), T(test_part_size_not_a_size),
        T(test_bad_connect_timeout), T(test_connect_timeout_range),
        T(test_watermarks_inverted), T(test_watermark_out_of_range), T(test_watermark_zero),
        T(test_bad_mode), T(test_bad_concurrency), T(test_bad_upload_delay),
        T(test_upload_delay_too_long), T(test_bad_log_level), T(test_relative_dir),
        T(test_socket_too_long), T(test_inline_max_too_big), T(test_location_cache_too_big),
        T(test_ca_file_missing), T(test_ca_file_directory), T(test_secret_in_other_value_masked), T(test_value_escaped_in_message),
        T(test_file_missing), T(test_file_syntax_error_hides_secret), T(test_no_file_no_env),
        T(test_env_only), T(test_env_missing_file_is_fine), T(test_env_overrides_file),
        T(test_env_use_s3_storage), T(test_env_not_selected), T(test_env_defaults),
        T(test_env_boolean_only_true), T(test_env_bad_bucket), T(test_env_missing_secret),
        T(test_env_missing_bucket), T(test_env_sse_c_without_https), T(test_env_sse_c_length),
        T(test_env_bad_port), T(test_env_same_buckets), T(test_env_storage_type_disk),
        T(test_env_storage_type_unknown_warns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
