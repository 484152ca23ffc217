/*
 * tests/torture/test_hostile.c — broken and hostile input is refused
 * clearly and never served.
 *
 *  1. A table of broken seafile.conf files, each through the config loader
 *     and through `seaftier-admin check --config-only`: refused, and the
 *     message names the section and the key at fault.
 *  2. Invalid repo/object ids through every entry of both vtables: refused,
 *     and no file, no index row and no S3 key is created.
 *  3. Truncated, garbage, empty and wrong-root XML answers (rewritten by the
 *     fault proxy): clear errors, no crash, for listings, multi-deletes,
 *     multipart initiation, error bodies, and the backends above them.
 *     (Invalid ids are also tried on the tier's own entries.)
 *  4. A corrupted object file, a corrupted inline blob and corrupted index
 *     rows (checksum, size): detected, never served; a clean object is
 *     fetched again from S3, a dirty one is refused; `seaftier-admin
 *     verify` reports them.
 */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"
#include "backend/common.h"
#include "tier/tier.h"

#include <seaftier/log.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static TTProxy *proxy;

/* Contract breaches that do not stop the other checks: reported and
 * failed on at the end, so one finding does not hide the next. */
static GPtrArray *violations;

static void violation(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
violation(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_printerr("VIOLATION: %s\n", msg);
    g_ptr_array_add(violations, msg);
}

static void
cleanup(void *data)
{
    (void)data;
    tt_proxy_stop(proxy);
    proxy = NULL;
}

/* ---- 1. broken configurations ---- */

typedef struct {
    const char *name;
    const char *section;        /* the section whose lines are replaced/added */
    const char *lines;          /* replacement key lines ("key = value\n"...) or NULL to drop it */
    const char *must1, *must2;  /* the message must name these */
} BadConf;

static const BadConf bad_confs[] = {
    { "bucket with underscore", "block_backend", "bucket = bad_bucket_name\n", "block_backend", "bucket" },
    { "bucket too short", "fs_object_backend", "bucket = ab\n", "fs_object_backend", "bucket" },
    { "bucket is an IP", "commit_object_backend", "bucket = 192.168.10.1\n", "commit_object_backend", "bucket" },
    { "bucket in capitals", "block_backend", "bucket = MyBucket\n", "block_backend", "bucket" },
    { "bucket too long", "block_backend",
      "bucket = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "block_backend", "bucket" },
    { "no bucket", "fs_object_backend", "", "fs_object_backend", "bucket" },
    { "no key_id", "commit_object_backend", "", "commit_object_backend", "key_id" },
    { "short sse_c_key", "block_backend", "sse_c_key = only-sixteen-byte\nuse_https = true\n",
      "block_backend", "sse_c_key" },
    { "sse_c_key over http", "block_backend", "sse_c_key = 0123456789abcdef0123456789abcdef\nuse_https = false\n",
      "block_backend", "sse_c_key" },
    { "sse_c_key with V2", "block_backend",
      "sse_c_key = 0123456789abcdef0123456789abcdef\nuse_https = true\nuse_v4_signature = false\n",
      "block_backend", "sse_c_key" },
    { "port out of range", "fs_object_backend", "host = 127.0.0.1:99999\n", "fs_object_backend", "host" },
    { "port not a number", "fs_object_backend", "host = 127.0.0.1:http\n", "fs_object_backend", "host" },
    { "boolean that is not", "commit_object_backend", "use_https = maybe\n", "commit_object_backend", "use_https" },
    { "max_retries too big", "block_backend", "max_retries = 1000\n", "block_backend", "max_retries" },
    { "connect_timeout zero", "block_backend", "connect_timeout = 0\n", "block_backend", "connect_timeout" },
    { "part size under 5 MiB", "block_backend", "multipart_part_size = 1M\n", "block_backend",
      "multipart_part_size" },
    { "tier max_size not a size", "tier", "max_size = 10 parsecs\n", "tier", "max_size" },
    { "tier high watermark over 100", "tier", "high_watermark = 150\n", "tier", "high_watermark" },
    { "tier low above high", "tier", "high_watermark = 50\nlow_watermark = 70\n", "tier", "watermark" },
    { "tier mode unknown", "tier", "mode = write_sometimes\n", "tier", "mode" },
    { "tier upload_concurrency zero", "tier", "upload_concurrency = 0\n", "tier", "upload_concurrency" },
    { "tier upload_delay negative", "tier", "upload_delay = -5\n", "tier", "upload_delay" },
    { "tier compression unknown", "tier", "compression = sometimes\n", "tier", "compression" },
    { "tier log_level unknown", "tier", "log_level = chatty\n", "tier", "log_level" },
};

/* A valid configuration with `bad` applied to it. */
static char *
conf_text(const BadConf *bad, const S3TestServer *srv)
{
    static const char *const sections[] = { "commit_object_backend", "fs_object_backend", "block_backend" };
    static const char *const buckets[] = { "tt-commits-ok", "tt-fs-ok", "tt-blocks-ok" };
    GString *s = g_string_new(NULL);
    for (int i = 0; i < 3; i++) {
        g_string_append_printf(s, "[%s]\nname = s3\n", sections[i]);
        const char *repl = bad && strcmp(bad->section, sections[i]) == 0 ? bad->lines : NULL;
        /* keys the replacement sets are left out of the base */
        const char *base[][2] = {
            { "bucket", buckets[i] }, { "key_id", srv->access_key }, { "key", srv->secret_key },
            { "use_v4_signature", "true" }, { "use_https", "false" }, { "aws_region", "us-east-1" },
            { "host", "127.0.0.1:8000" }, { "path_style_request", "true" },
        };
        for (gsize k = 0; k < G_N_ELEMENTS(base); k++) {
            char *pat = g_strdup_printf("%s =", base[k][0]);
            char *nlpat = g_strdup_printf("\n%s =", base[k][0]);
            gboolean replaced = repl && (g_str_has_prefix(repl, pat) || strstr(repl, nlpat));
            g_free(nlpat);
            /* "no X" cases: the replacement omits key X entirely */
            if (repl && bad->name && g_str_has_prefix(bad->name, "no ") &&
                strcmp(bad->name + 3, base[k][0]) == 0)
                replaced = TRUE;
            if (!replaced)
                g_string_append_printf(s, "%s = %s\n", base[k][0], base[k][1]);
            g_free(pat);
        }
        if (repl && !(bad->name && g_str_has_prefix(bad->name, "no ")))
            g_string_append(s, repl);
        g_string_append_c(s, '\n');
    }
    g_string_append(s, "[tier]\ndir = /tmp/tt-hostile-never-created\n");
    if (bad && strcmp(bad->section, "tier") == 0)
        g_string_append(s, bad->lines);
    return g_string_free(s, FALSE);
}

static void
check_bad_configs(const char *top)
{
    const S3TestServer *srv = s3test_server();
    char *dir = g_build_filename(top, "conf", NULL);
    TT_CHECK(g_mkdir_with_parents(dir, 0700) == 0);
    char *path = g_build_filename(dir, "seafile.conf", NULL);

    /* the base is valid: otherwise every case below proves nothing */
    char *text = conf_text(NULL, srv);
    TT_CHECK(g_file_set_contents(path, text, -1, NULL));
    GError *err = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(path, &err);
    TT_CHECK_MSG(cfg != NULL, "the base configuration is refused: %s", err->message);
    seaftier_config_free(cfg);
    g_free(text);

    int n = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(bad_confs); i++) {
        const BadConf *b = &bad_confs[i];
        text = conf_text(b, srv);
        TT_CHECK(g_file_set_contents(path, text, -1, NULL));
        cfg = seaftier_config_load_file(path, &err);
        TT_CHECK_MSG(cfg == NULL, "config \"%s\" was accepted:\n%s", b->name, text);
        TT_CHECK_MSG(strstr(err->message, b->must1) && strstr(err->message, b->must2),
                     "config \"%s\": the error does not name %s/%s: %s", b->name, b->must1, b->must2,
                     err->message);
        TT_CHECK_MSG(!strstr(err->message, srv->secret_key), "config \"%s\": the error shows the secret",
                     b->name);
        char *argv[] = { (char *)tt_admin(), "check", "--config-only", "-c", dir, NULL };
        char *out = NULL, *aerr = NULL;
        int rc = tt_run(argv, &out, &aerr);
        char *both = g_strconcat(out, aerr, NULL);
        TT_CHECK_MSG(rc == 2, "admin check of \"%s\": exit %d (expected 2): %s", b->name, rc, both);
        TT_CHECK_MSG(strstr(both, b->must1) && strstr(both, b->must2),
                     "admin check of \"%s\" does not name %s/%s: %s", b->name, b->must1, b->must2, both);
        TT_CHECK_MSG(!strstr(both, srv->secret_key), "admin check of \"%s\" shows the secret", b->name);
        g_free(both);
        g_free(out);
        g_free(aerr);
        g_clear_error(&err);
        g_free(text);
        n++;
    }
    /* not a key file at all */
    TT_CHECK(g_file_set_contents(path, "\x01\x02[[[garbage\n=\n", -1, NULL));
    cfg = seaftier_config_load_file(path, &err);
    TT_CHECK_MSG(cfg == NULL && strstr(err->message, path), "garbage file: %s",
                 cfg ? "accepted" : err->message);
    g_clear_error(&err);
    TT_CHECK(!g_file_test("/tmp/tt-hostile-never-created", G_FILE_TEST_EXISTS));
    printf("broken configs: %d cases + garbage file, each refused by the loader and by "
           "seaftier-admin check, naming section and key\n", n);
    g_free(path);
    g_free(dir);
}

/* ---- 2. invalid ids ---- */

static const char *const bad_repos[] = {
    "", "not-a-uuid", "../../../../etc", "12345678-1234-1234-1234-12345678901",
    "12345678-1234-1234-1234-1234567890123", "12345678-1234-1234-1234-12345678901g",
    "12345678/1234-1234-1234-123456789012", "12345678-1234-1234-1234-123456789012/..",
    "..", "12345678-1234-1234-1234-12345678901\n", "%2e%2e%2f%2e%2e",
};
static const char *const bad_objs[] = {
    "", "abc", "0123456789abcdef0123456789abcdef0123456",         /* 39 */
    "0123456789abcdef0123456789abcdef012345678",                  /* 41 */
    "0123456789ABCDEF0123456789abcdef01234567",                   /* capitals */
    "0123456789abcdef0123456789abcdef0123456g",
    "../../../../../../../../../../../etc/pas",                   /* 40 chars */
    "0123456789abcdef0123456789abcdef012345/.",
    "0123456789abcdef0123456789abcdef0123 567",
};

static gboolean
no_visit(const char *repo_id, int version, const char *obj_id, void *user_data)
{
    (void)repo_id;
    (void)version;
    (void)obj_id;
    (*(int *)user_data)++;
    return TRUE;
}

static void
no_progress(const char *store_id, guint64 removed, void *user_data)
{
    (void)store_id;
    (void)removed;
    (void)user_data;
}

static GPtrArray *
list_files(const char *dir)
{
    char *argv[] = { "find", (char *)dir, "-type", "f", "-not", "-name", "index.db*", NULL };
    char *out = NULL;
    tt_run(argv, &out, NULL);
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    char **lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++)
        if (**l)
            g_ptr_array_add(a, g_strdup(*l));
    g_strfreev(lines);
    g_free(out);
    return a;
}

static guint
count_keys(SeaftierS3 *s3)
{
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    GError *err = NULL;
    SeaftierS3ListPage *page = NULL;
    TT_CHECK_MSG(seaftier_s3_list_page(s3, "", NULL, 1000, &page, &err), "%s", err->message);
    guint n = page->entries->len;
    for (guint i = 0; i < n; i++)
        g_printerr("unexpected S3 key: %s\n", ((SeaftierS3ListEntry *)g_ptr_array_index(page->entries, i))->key);
    seaftier_s3_list_page_free(page);
    g_ptr_array_free(keys, TRUE);
    return n;
}

static void
check_bad_ids(const char *top)
{
    char *dir = g_build_filename(top, "ids", NULL);
    TT_CHECK(g_mkdir_with_parents(dir, 0700) == 0);
    TTConfOpts opts = { .bucket_prefix = "tthostid", .extra_tier = "log_level = error\n" };
    char *conf = tt_write_conf(dir, &opts, NULL);
    SeaftierConfig *cfg = tt_load_cfg(conf);
    TTBackends *be = tt_backends_open(conf);
    GPtrArray *before = list_files(dir);
    const char *good_repo = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    const char *good_obj = "0123456789abcdef0123456789abcdef01234567";
    char data[] = "hostile";
    guint calls = 0;

    GPtrArray *repos = g_ptr_array_new();
    GPtrArray *objs = g_ptr_array_new();
    for (gsize i = 0; i < G_N_ELEMENTS(bad_repos); i++)
        g_ptr_array_add(repos, (char *)bad_repos[i]);
    g_ptr_array_add(repos, (char *)good_repo);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_objs); i++)
        g_ptr_array_add(objs, (char *)bad_objs[i]);
    g_ptr_array_add(objs, (char *)good_obj);
    g_ptr_array_add(objs, NULL);     /* a NULL id must be refused too */

    for (guint r = 0; r < repos->len; r++) {
        const char *repo = g_ptr_array_index(repos, r);
        gboolean repo_ok = repo == good_repo;
        for (guint o = 0; o < objs->len; o++) {
            const char *obj = g_ptr_array_index(objs, o);
            if (repo_ok && obj == good_obj)
                continue;
            for (int t = 0; t < 2; t++) {
                ObjBackend *b = be->obj[t];
                void *d = NULL;
                int l = 0;
                TT_CHECK_MSG(b->read(b, repo, 1, obj, &d, &l) == -1 && d == NULL, "read %s/%s", repo, obj);
                TT_CHECK_MSG(b->write(b, repo, 1, obj, data, sizeof data, TRUE) == -1, "write %s/%s accepted",
                             repo, obj);
                TT_CHECK_MSG(!b->exists(b, repo, 1, obj), "exists %s/%s", repo, obj);
                b->delete(b, repo, 1, obj);
                TT_CHECK_MSG(b->copy(b, repo, 1, good_repo, 1, obj) == -1, "copy from %s/%s", repo, obj);
                TT_CHECK_MSG(b->copy(b, good_repo, 1, repo, 1, obj) == -1, "copy to %s/%s", repo, obj);
                calls += 6;
            }
            BlockBackend *bb = be->block;
            TT_CHECK_MSG(bb->open_block(bb, repo, 1, obj, BLOCK_READ) == NULL, "open read %s/%s", repo, obj);
            TT_CHECK_MSG(bb->open_block(bb, repo, 1, obj, BLOCK_WRITE) == NULL, "open write %s/%s", repo, obj);
            TT_CHECK_MSG(!bb->exists(bb, repo, 1, obj), "block exists %s/%s", repo, obj);
            TT_CHECK_MSG(bb->remove_block(bb, repo, 1, obj) == -1, "remove_block %s/%s accepted", repo, obj);
            TT_CHECK_MSG(bb->stat_block(bb, repo, 1, obj) == NULL, "stat_block %s/%s", repo, obj);
            TT_CHECK_MSG(bb->copy(bb, repo, 1, good_repo, 1, obj) == -1, "block copy from %s/%s", repo, obj);
            TT_CHECK_MSG(bb->copy(bb, good_repo, 1, repo, 1, obj) == -1, "block copy to %s/%s", repo, obj);
            calls += 7;
        }
        if (!repo_ok) {
            int visits = 0;
            for (int t = 0; t < 2; t++) {
                TT_CHECK_MSG(be->obj[t]->foreach_obj(be->obj[t], repo, 1, no_visit, &visits) == -1,
                             "foreach_obj %s accepted", repo);
                TT_CHECK_MSG(be->obj[t]->remove_store(be->obj[t], repo, no_progress, NULL) == -1,
                             "remove_store %s accepted", repo);
            }
            TT_CHECK_MSG(be->block->foreach_block(be->block, repo, 1, (SeafBlockFunc)no_visit, &visits) == -1,
                         "foreach_block %s accepted", repo);
            TT_CHECK_MSG(be->block->remove_store(be->block, repo, no_progress, NULL) == -1,
                         "block remove_store %s accepted", repo);
            TT_CHECK(visits == 0);
            calls += 6;
        }
    }
    char *db = g_build_filename(cfg->tier.dir, "index.db", NULL);
    gint64 rows = tt_sql_int(db, "SELECT count(*) FROM objects");
    TT_CHECK_MSG(rows == 0, "%" G_GINT64_FORMAT " index rows were created by invalid ids", rows);
    GPtrArray *after = list_files(dir);
    for (guint i = 0; i < after->len; i++) {
        gboolean old = FALSE;
        for (guint j = 0; j < before->len && !old; j++)
            old = strcmp(g_ptr_array_index(after, i), g_ptr_array_index(before, j)) == 0;
        const char *f = g_ptr_array_index(after, i);
        TT_CHECK_MSG(old || g_str_has_suffix(f, "/epoch") || g_str_has_suffix(f, ".lock"),
                     "a file appeared: %s", f);
    }
    TT_CHECK(!g_file_test("/etc/pas", G_FILE_TEST_EXISTS));

    /* the tier's own entries check ids too (the daemon and the admin tool
     * call them directly) */
    SeaftierTier *tier = seaftier_obj_backend_shared(be->obj[0])->site->tier;
    guint tier_calls = 0;
    for (guint r = 0; r < repos->len; r++) {
        const char *repo = g_ptr_array_index(repos, r);
        for (guint o = 0; o < objs->len; o++) {
            const char *obj = g_ptr_array_index(objs, o);
            if ((repo == good_repo && obj == good_obj) || !obj)
                continue;
            GError *err = NULL;
            void *d = NULL;
            gsize l = 0;
            SeaftierTierEntry e;
            TT_CHECK_MSG(!seaftier_tier_store(tier, SEAFTIER_TYPE_FS, repo, obj, data, sizeof data,
                                              SEAFTIER_STATE_DIRTY, TRUE, &err) &&
                             g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID),
                         "tier store %s/%s", repo, obj);
            g_clear_error(&err);
            TT_CHECK_MSG(!seaftier_tier_read(tier, SEAFTIER_TYPE_FS, repo, obj, &d, &l, &err) &&
                             g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID),
                         "tier read %s/%s", repo, obj);
            g_clear_error(&err);
            TT_CHECK_MSG(!seaftier_tier_delete(tier, SEAFTIER_TYPE_FS, repo, obj, &err),
                         "tier delete %s/%s", repo, obj);
            g_clear_error(&err);
            TT_CHECK_MSG(!seaftier_tier_lookup(tier, SEAFTIER_TYPE_FS, repo, obj, &e, &err),
                         "tier lookup %s/%s", repo, obj);
            g_clear_error(&err);
            TT_CHECK_MSG(!seaftier_tier_evict_one(tier, SEAFTIER_TYPE_FS, repo, obj, &err),
                         "tier evict_one %s/%s", repo, obj);
            g_clear_error(&err);
            tier_calls += 5;
        }
    }
    rows = tt_sql_int(db, "SELECT count(*) FROM objects");
    TT_CHECK_MSG(rows == 0, "%" G_GINT64_FORMAT " index rows were created by invalid ids", rows);
    calls += tier_calls;
    guint keys = 0;
    for (int t = 0; t < 3; t++) {
        SeaftierS3 *s3 = tt_s3_direct(cfg, (SeaftierObjType)t);
        keys += count_keys(s3);
        seaftier_s3_free(s3);
    }
    TT_CHECK_MSG(keys == 0, "%u S3 keys were created by invalid ids", keys);
    printf("invalid ids: %u backend calls with %u bad repo ids x %u bad object ids (+NULL): all "
           "refused; index rows 0, new files 0, S3 keys 0\n",
           calls, (guint)G_N_ELEMENTS(bad_repos), (guint)G_N_ELEMENTS(bad_objs));
    g_ptr_array_free(before, TRUE);
    g_ptr_array_free(after, TRUE);
    g_ptr_array_free(repos, TRUE);
    g_ptr_array_free(objs, TRUE);
    g_free(db);
    tt_backends_close(be);
    seaftier_config_free(cfg);
    tt_empty_buckets(conf);
    g_free(conf);
    g_free(dir);
}

/* ---- 3. hostile XML ---- */

static void
check_hostile_xml(const char *top)
{
    static const char *const modes[] = { "truncated", "garbage", "empty", "wrongroot" };
    char *dir = g_build_filename(top, "xml", NULL);
    TT_CHECK(g_mkdir_with_parents(dir, 0700) == 0);
    TTConfOpts opts = { .bucket_prefix = "tthostxml", .extra_tier = "log_level = error\n" };
    char *conf = tt_write_conf(dir, &opts, NULL);
    SeaftierConfig *cfg = tt_load_cfg(conf);
    SeaftierS3 *direct = tt_s3_direct(cfg, SEAFTIER_TYPE_BLOCKS);
    const char *repo = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    GError *err = NULL;
    for (int i = 0; i < 5; i++) {   /* a listing with several keys to parse */
        char *key = g_strdup_printf("%s/%040x", repo, i);
        TT_CHECK_MSG(seaftier_s3_put(direct, key, "xml", 3, 0, &err), "%s", err->message);
        g_free(key);
    }
    int errors = 0;
    for (gsize m = 0; m < G_N_ELEMENTS(modes); m++) {
        proxy = tt_proxy_start(dir, "--rate", "0", "--xml-mode", modes[m], NULL);
        SeaftierS3Config c = cfg->s3[SEAFTIER_TYPE_BLOCKS];
        c.port = proxy->port;
        c.max_retries = 1;
        SeaftierS3 *s3 = seaftier_s3_new(&c, &err);
        TT_CHECK(s3 != NULL);
        char *prefix = g_strdup_printf("%s/", repo);

        /* ListObjectsV2 */
        SeaftierS3ListPage *page = NULL;
        gboolean ok = seaftier_s3_list_page(s3, prefix, NULL, 2, &page, &err);
        TT_CHECK_MSG(!ok, "%s: a rewritten listing was accepted", modes[m]);
        TT_CHECK_MSG(err->domain == SEAFTIER_S3_ERROR && err->code == SEAFTIER_S3_ERROR_BAD_RESPONSE,
                     "%s listing: code %d: %s", modes[m], err->code, err->message);
        if (!strstr(err->message, c.bucket))
            violation("%s ListObjectsV2 answer: the error does not name the bucket (s3.h promises "
                      "operation, bucket and key): %s", modes[m], err->message);
        printf("xml %-9s list:   %s\n", modes[m], err->message);
        g_clear_error(&err);
        errors++;

        /* DeleteObjects: a key S3 would delete, but the answer can't be read */
        const char *keys[] = { "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/ffffffffffffffffffffffffffffffffffffffff" };
        GPtrArray *failed = g_ptr_array_new_with_free_func(g_free);
        ok = seaftier_s3_delete_many(s3, keys, 1, failed, &err);
        TT_CHECK_MSG(!ok, "%s: a rewritten DeleteResult was taken as success", modes[m]);
        TT_CHECK_MSG(err->domain == SEAFTIER_S3_ERROR && *err->message, "%s delete", modes[m]);
        if (!strstr(err->message, c.bucket))
            violation("%s DeleteResult answer: the error does not name the bucket: %s", modes[m],
                      err->message);
        printf("xml %-9s delete: %s\n", modes[m], err->message);
        g_clear_error(&err);
        g_ptr_array_free(failed, TRUE);
        errors++;

        /* an error body that can't be parsed: the status still decides */
        char *missing = g_strdup_printf("%s/%040d", repo, 7);
        void *data = NULL;
        gsize len = 0;
        ok = seaftier_s3_get(s3, missing, &data, &len, &err);
        TT_CHECK_MSG(!ok && err->code == SEAFTIER_S3_ERROR_NOT_FOUND,
                     "%s: GET of a missing key with a hostile error body: %s", modes[m],
                     ok ? "succeeded" : err->message);
        printf("xml %-9s 404:    %s\n", modes[m], err->message);
        g_clear_error(&err);
        g_free(missing);
        errors++;

        /* the backends above them: foreach fails, nothing crashes */
        char *m_conf_dir = g_strdup_printf("%s/%s", dir, modes[m]);
        TT_CHECK(g_mkdir_with_parents(m_conf_dir, 0700) == 0);
        char *text = tt_slurp(conf, NULL);
        char *from = g_strdup_printf("127.0.0.1:%d", s3test_server()->http_port);
        char *to = g_strdup_printf("127.0.0.1:%d", proxy->port);
        char **parts = g_strsplit(text, from, -1);
        char *text2 = g_strjoinv(to, parts);
        char *tier_line = g_strdup_printf("dir = %s/tier", dir);
        char *tier_line2 = g_strdup_printf("dir = %s/tier", m_conf_dir);
        char **parts2 = g_strsplit(text2, tier_line, -1);
        char *text3 = g_strjoinv(tier_line2, parts2);
        char *m_conf = g_build_filename(m_conf_dir, "seafile.conf", NULL);
        TT_CHECK(g_file_set_contents(m_conf, text3, -1, NULL));
        TTBackends *be = tt_backends_open(m_conf);
        int visits = 0;
        TT_CHECK_MSG(be->block->foreach_block(be->block, repo, 1, (SeafBlockFunc)no_visit, &visits) == -1,
                     "%s: foreach_block over a hostile listing succeeded (%d visits)", modes[m], visits);
        errors++;
        tt_backends_close(be);
        g_free(m_conf);
        g_free(text3);
        g_strfreev(parts2);
        g_free(tier_line2);
        g_free(tier_line);
        g_free(text2);
        g_strfreev(parts);
        g_free(to);
        g_free(from);
        g_free(text);
        g_free(m_conf_dir);

        /* multipart: the InitiateMultipartUpload answer is unreadable */
        {
            SeaftierS3Config mc = c;
            mc.multipart_part_size = 5 * 1024 * 1024;
            SeaftierS3 *ms3 = seaftier_s3_new(&mc, &err);
            TT_CHECK(ms3 != NULL);
            gsize big_len = mc.multipart_part_size + 1000;
            guint8 *big = g_malloc0(big_len);
            char *mkey = g_strdup_printf("%s/%040d", repo, 8);
            ok = seaftier_s3_put(ms3, mkey, big, big_len, 0, &err);
            TT_CHECK_MSG(!ok, "%s: a multipart PUT with an unreadable initiate answer succeeded", modes[m]);
            TT_CHECK_MSG(err->domain == SEAFTIER_S3_ERROR && *err->message, "%s multipart", modes[m]);
            printf("xml %-9s multipart: %s\n", modes[m], err->message);
            if (!strstr(err->message, c.bucket))
                violation("%s InitiateMultipartUpload answer: the error does not name the bucket: %s",
                          modes[m], err->message);
            g_clear_error(&err);
            errors++;
            g_free(mkey);
            g_free(big);
            seaftier_s3_free(ms3);
        }

        /* PUT has no XML answer: unaffected */
        char *pkey = g_strdup_printf("%s/%040d", repo, 9);
        TT_CHECK_MSG(seaftier_s3_put(s3, pkey, "ok", 2, 0, &err), "%s: PUT: %s", modes[m], err->message);
        g_free(pkey);

        gint64 rewritten = tt_proxy_stat(proxy, "xml_rewritten");
        TT_CHECK_MSG(rewritten >= 3, "%s: the proxy rewrote only %" G_GINT64_FORMAT " answers", modes[m],
                     rewritten);
        g_free(prefix);
        seaftier_s3_free(s3);
        tt_proxy_stop(proxy);
        proxy = NULL;
    }
    printf("hostile XML: %d operations over %u rewritings, each a clear error, no crash\n", errors,
           (guint)G_N_ELEMENTS(modes));
    seaftier_s3_free(direct);
    seaftier_config_free(cfg);
    tt_empty_buckets(conf);
    g_free(conf);
    g_free(dir);
}

/* ---- 4. corruption ---- */

typedef struct {
    SeaftierObjType type;
    char id[41];
    gsize len;
    gboolean clean;
    const char *how;
} Victim;

static char *
find_object_file(const char *tier_dir, const char *obj_id)
{
    char *objects = g_build_filename(tier_dir, "objects", NULL);
    /* objects/<type>/<repo>/<id[0:2]>/<id[2:]>.<generation> (lib/tier/objfile.c) */
    char *pattern = g_strdup_printf("*/%.2s/%s.*", obj_id, obj_id + 2);
    char *argv[] = { "find", objects, "-type", "f", "-path", pattern, NULL };
    char *out = NULL;
    tt_run(argv, &out, NULL);
    g_strstrip(out);
    g_free(pattern);
    g_free(objects);
    if (!*out || strchr(out, '\n')) {
        g_free(out);
        return NULL;
    }
    return out;
}

static void
flip_byte(const char *path, long offset)
{
    int fd = open(path, O_RDWR);
    TT_CHECK_MSG(fd >= 0, "%s: %s", path, g_strerror(errno));
    unsigned char c;
    TT_CHECK(pread(fd, &c, 1, offset) == 1);
    c ^= 0x5a;
    TT_CHECK(pwrite(fd, &c, 1, offset) == 1);
    close(fd);
}

static void
check_corruption(const char *top)
{
    char *dir = g_build_filename(top, "corrupt", NULL);
    TT_CHECK(g_mkdir_with_parents(dir, 0700) == 0);
    TTConfOpts opts = { .bucket_prefix = "ttcorrupt", .extra_tier = "log_level = error\nram_cache_size = 0\n" };
    char *conf = tt_write_conf(dir, &opts, NULL);
    SeaftierConfig *cfg = tt_load_cfg(conf);
    char *db = g_build_filename(cfg->tier.dir, "index.db", NULL);
    const char *repo = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    GRand *r = g_rand_new();
    TTBackends *be = tt_backends_open(conf);
    SeaftierBackendShared *sh = seaftier_obj_backend_shared(be->obj[0]);

    /* file-backed blocks and inline fs objects; clean ones are in S3 */
    static const char *const hows[] = { "file byte", "inline byte", "row checksum", "row size" };
    Victim v[8];
    for (int i = 0; i < 8; i++) {
        v[i].how = hows[i % 4];
        v[i].clean = i < 4;
        v[i].type = i % 4 == 0 ? SEAFTIER_TYPE_BLOCKS : i % 4 == 2 ? SEAFTIER_TYPE_COMMITS : SEAFTIER_TYPE_FS;
        v[i].len = v[i].type == SEAFTIER_TYPE_BLOCKS ? 300000 : 3000;
        /* incompressible blocks stay above inline_max: a file of their own */
        guint8 *data = tt_make_object(r, v[i].len, v[i].type != SEAFTIER_TYPE_BLOCKS, v[i].id);
        TT_CHECK(tt_be_write(be, v[i].type, repo, v[i].id, data, v[i].len, TRUE));
        g_free(data);
        if (i == 3) {
            GError *err = NULL;
            TT_CHECK_MSG(seaftier_sync_flush_all(sh->sync, &err),
                         "flush: %s", err->message);
        }
    }
    for (int i = 0; i < 8; i++) {
        char *sql = NULL;
        if (strcmp(v[i].how, "file byte") == 0) {
            char *file = find_object_file(cfg->tier.dir, v[i].id);
            TT_CHECK_MSG(file != NULL, "no single object file for %s", v[i].id);
            struct stat st;
            TT_CHECK(stat(file, &st) == 0);
            flip_byte(file, (long)st.st_size / 2);
            g_free(file);
        } else if (strcmp(v[i].how, "inline byte") == 0) {
            TT_CHECK_MSG(tt_sql_flip_blob_byte(db, v[i].id), "%s has no inline blob", v[i].id);
        } else if (strcmp(v[i].how, "row checksum") == 0) {
            sql = g_strdup_printf("UPDATE objects SET checksum = (checksum + 1) %% 4294967296 "
                                  "WHERE obj_id = tier_id('%s')", v[i].id);
        } else {
            sql = g_strdup_printf("UPDATE objects SET size = size + 7 WHERE obj_id = tier_id('%s')", v[i].id);
        }
        if (sql) {
            tt_sql_exec(db, sql);
            g_free(sql);
        }
    }
    tt_backends_close(be);

    /* a new process's view: nothing in RAM */
    be = tt_backends_open(conf);
    int refetched = 0, refused = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 8; i++) {
            guint8 *data = NULL;
            gsize len = 0;
            gboolean ok = tt_be_read(be, v[i].type, repo, v[i].id, &data, &len);
            if (ok)
                TT_CHECK_MSG(len == v[i].len && tt_bytes_match(v[i].id, data, len),
                             "CORRUPT DATA SERVED: %s %s (%s, %s)", seaftier_type_name(v[i].type), v[i].id,
                             v[i].how, v[i].clean ? "clean" : "dirty");
            if (v[i].clean) {
                TT_CHECK_MSG(ok, "clean %s with a corrupt %s was not fetched again from S3", v[i].id,
                             v[i].how);
                refetched += pass == 0;
            } else if (pass == 0) {
                /* the bytes exist nowhere else: refusing is the only right answer */
                TT_CHECK_MSG(!ok, "dirty %s with a corrupt %s was served", v[i].id, v[i].how);
                refused++;
            }
            g_free(data);
        }
    }
    tt_backends_close(be);

    char *argv[] = { (char *)tt_admin(), "verify", "-c", dir, NULL };
    char *out = NULL, *err = NULL;
    int rc = tt_run(argv, &out, &err);
    char *both = g_strconcat(out, err, NULL);
    TT_CHECK_MSG(rc == 1, "seaftier-admin verify: exit %d with corrupt dirty objects: %s", rc, both);
    int named = 0;
    for (int i = 4; i < 8; i++)
        named += strstr(both, v[i].id) != NULL;
    TT_CHECK_MSG(named == 4, "seaftier-admin verify named %d of 4 corrupt dirty objects:\n%s", named, both);
    char *msg = NULL;
    TT_CHECK_MSG(tt_integrity_check(db, &msg), "integrity_check: %s", msg);
    g_free(msg);
    printf("corruption: 8 objects damaged (file byte, inline byte, row checksum, row size; clean and "
           "dirty): clean ones fetched again from S3 %d/4, dirty ones refused %d/4, verify reported "
           "%d/4, corrupt bytes served 0\n", refetched, refused, named);
    g_free(both);
    g_free(out);
    g_free(err);
    g_rand_free(r);
    g_free(db);
    seaftier_config_free(cfg);
    tt_empty_buckets(conf);
    g_free(conf);
    g_free(dir);
}

int
main(void)
{
    tt_at_fail(cleanup, NULL);
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);
    violations = g_ptr_array_new_with_free_func(g_free);
    char *top = s3test_tmpdir("tt-hostile");
    check_bad_configs(top);
    check_bad_ids(top);
    check_hostile_xml(top);
    check_corruption(top);
    int rc = 0;
    if (violations->len) {
        g_printerr("%u contract violations (see above)\n", violations->len);
        rc = 1;
    }
    if (!g_getenv("SEAFTIER_TORTURE_KEEP"))
        s3test_rm_rf(top);
    g_free(top);
    g_ptr_array_free(violations, TRUE);
    return rc;
}
