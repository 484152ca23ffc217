/*
 * tests/torture/test_fetch_integrity.c — a store or proxy that alters an
 * object's bytes is caught by the read-through fill.
 *
 * Uploads record the object's size and CRC32C as user metadata
 * (x-amz-meta-seaftier-size, x-amz-meta-seaftier-crc32c). With the fault
 * proxy rewriting every object GET (first half only, or one byte flipped,
 * Content-Length adjusted so the HTTP layer sees nothing wrong), a read of
 * an evicted object must fail with an error naming the object, must not
 * put the altered bytes in the tier, and must work again once reads go to
 * the real server. Objects come in three sizes: inline in the index, a
 * file, and one above the multipart threshold (metadata set at initiate).
 */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"
#include "backend/common.h"
#include "tier/crc32c.h"

#include <seaftier/log.h>

#include <stdio.h>
#include <string.h>

static TTProxy *proxy;

static void
cleanup(void *data)
{
    (void)data;
    tt_proxy_stop(proxy);
    proxy = NULL;
}

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    guint8 *data;
    gsize len;
} Obj;

static void
run_mode(const char *mode, GRand *r)
{
    char *dir = s3test_tmpdir("tt-integrity");
    proxy = tt_proxy_start(dir, "--rate", "0", "--body-mode", mode, NULL);
    TTConfOpts opts = {
        .port = proxy->port,
        .bucket_prefix = "ttinteg",
        .extra_s3 = "multipart_part_size = 5MiB\n",
        .extra_tier = "log_level = error\nram_cache_size = 0\n",
    };
    char *conf = tt_write_conf(dir, &opts, NULL);
    SeaftierConfig *cfg = tt_load_cfg(conf);
    TTBackends *be = tt_backends_open(conf);
    SeaftierBackendShared *sh = seaftier_obj_backend_shared(be->obj[0]);
    SeaftierTier *tier = sh->site->tier;

    const gsize sizes[] = { 1000, 300 * 1024, 6 * 1024 * 1024 + 17 };
    Obj objs[G_N_ELEMENTS(sizes)];
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        Obj *o = &objs[i];
        o->type = i == 0 ? SEAFTIER_TYPE_FS : SEAFTIER_TYPE_BLOCKS;
        tt_random_repo(r, o->repo);
        o->len = sizes[i];
        o->data = tt_make_object(r, o->len, FALSE, o->id);
        TT_CHECK(tt_be_write(be, o->type, o->repo, o->id, o->data, o->len, TRUE));
    }
    GError *err = NULL;
    TT_CHECK_MSG(seaftier_sync_flush_all(sh->sync, &err), "flush: %s", err ? err->message : "");

    /* The uploads recorded size and CRC32C (and kept Seafile's ctime). */
    for (guint i = 0; i < G_N_ELEMENTS(objs); i++) {
        Obj *o = &objs[i];
        SeaftierS3 *direct = tt_s3_direct(cfg, o->type);
        char *key = g_strdup_printf("%s/%s", o->repo, o->id);
        SeaftierS3ObjectInfo info;
        TT_CHECK_MSG(seaftier_s3_head(direct, key, &info, &err), "HEAD %s: %s", key,
                     err ? err->message : "");
        TT_CHECK_MSG(info.meta.has_size && info.meta.size == o->len,
                     "%s: x-amz-meta-seaftier-size missing or wrong", key);
        TT_CHECK_MSG(info.meta.has_crc32c && info.meta.crc32c == seaftier_crc32c(0, o->data, o->len),
                     "%s: x-amz-meta-seaftier-crc32c missing or wrong", key);
        TT_CHECK_MSG(info.ctime > 0, "%s: x-amz-meta-ctime missing", key);
        g_free(key);
        seaftier_s3_free(direct);
    }

    TT_CHECK(seaftier_tier_evict_clean(tier, NULL, NULL, &err));
    for (guint i = 0; i < G_N_ELEMENTS(objs); i++) {
        Obj *o = &objs[i];
        /* The engine's fetch names the object and says what differs. */
        void *got = NULL;
        gsize got_len = 0;
        TT_CHECK_MSG(!seaftier_sync_fetch(sh->sync, o->type, o->repo, o->id, &got, &got_len, &err),
                     "%s: an altered %zu-byte object was accepted", mode, o->len);
        TT_CHECK_MSG(g_error_matches(err, SEAFTIER_REMOTE_ERROR, SEAFTIER_REMOTE_ERROR_INTEGRITY) &&
                         strstr(err->message, o->id) != NULL,
                     "%s: unexpected error: %s", mode, err->message);
        printf("fetch integrity (%s, %zu bytes): %s\n", mode, o->len, err->message);
        g_clear_error(&err);
        /* Through the vtable: the read fails and nothing is cached. */
        guint8 *data = NULL;
        gsize len = 0;
        TT_CHECK_MSG(!tt_be_read(be, o->type, o->repo, o->id, &data, &len),
                     "%s: the backend served altered bytes of %s", mode, o->id);
        SeaftierTierEntry e;
        TT_CHECK_MSG(!seaftier_tier_lookup(tier, o->type, o->repo, o->id, &e, NULL),
                     "%s: altered bytes of %s were cached in the tier", mode, o->id);
    }
    TT_CHECK(tt_proxy_stat(proxy, "body_rewritten") >= (gint64)G_N_ELEMENTS(objs));
    tt_backends_close(be);
    tt_proxy_stop(proxy);
    proxy = NULL;

    /* Without the proxy, the same objects read back whole: S3 was never wrong. */
    GKeyFile *kf = tt_load_kf(conf);
    char *tier2 = g_build_filename(dir, "tier-direct", NULL);
    g_key_file_set_string(kf, "tier", "dir", tier2);
    char *host = g_strdup_printf("127.0.0.1:%d", s3test_server()->http_port);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        g_key_file_set_string(kf, seaftier_type_section((SeaftierObjType)t), "host", host);
    char *conf2 = g_build_filename(dir, "seafile-direct.conf", NULL);
    TT_CHECK(g_key_file_save_to_file(kf, conf2, NULL));
    g_key_file_unref(kf);
    g_free(host);
    be = tt_backends_open(conf2);
    for (guint i = 0; i < G_N_ELEMENTS(objs); i++) {
        Obj *o = &objs[i];
        guint8 *data = NULL;
        gsize len = 0;
        TT_CHECK_MSG(tt_be_read(be, o->type, o->repo, o->id, &data, &len) && len == o->len &&
                         memcmp(data, o->data, len) == 0,
                     "%s: %s does not read back from the real server", mode, o->id);
        g_free(data);
        g_free(o->data);
    }
    tt_backends_close(be);
    tt_empty_buckets(conf);
    seaftier_config_free(cfg);
    if (!g_getenv("SEAFTIER_TORTURE_KEEP"))
        s3test_rm_rf(dir);
    g_free(tier2);
    g_free(conf2);
    g_free(conf);
    g_free(dir);
}

int
main(void)
{
    tt_at_fail(cleanup, NULL);
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);
    GRand *r = g_rand_new();
    run_mode("truncate", r);
    run_mode("flip", r);
    g_rand_free(r);
    printf("fetch integrity: truncated and corrupted GETs were refused\n");
    return 0;
}
