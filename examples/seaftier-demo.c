/*
 * examples/seaftier-demo.c — drives libseaftier exactly as seaf-server does,
 * through the ObjBackend ("commits", "fs") and BlockBackend vtables.
 *
 *   seaftier-demo -c CONF_DIR -d SEAF_DIR create-buckets
 *   seaftier-demo -c CONF_DIR -d SEAF_DIR write N MANIFEST
 *   seaftier-demo -c CONF_DIR -d SEAF_DIR read MANIFEST
 *
 * `write` stores N commits, N fs objects and N blocks (need_sync, like
 * seaf-server's commits), ids being the SHA-1 of the content as in Seafile,
 * and appends "type repo id" lines to MANIFEST. `read` reads every object of
 * a manifest back through the library (from the tier, or from S3 when it was
 * evicted) and checks each against its id. Exit status 0 only if all match.
 */
#include "seaftier-build.h"

#include <seaftier/backend.h>
#include <seaftier/config.h>
#include <seaftier/log.h>
#include <seaftier/s3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_REPO "7f1d2c3b-4a5e-4f60-8a9b-0c1d2e3f4a5b"

static char *
sha1_hex(const void *data, gsize len)
{
    return g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);
}

/* Content that compresses like real data: text for metadata, mixed for blocks. */
static guint8 *
make_content(GRand *rand, const char *kind, int i, gsize len)
{
    guint8 *buf = g_malloc(len);
    int prefix = g_snprintf((char *)buf, len, "%s %d ", kind, i);
    for (gsize j = (gsize)prefix; j < len; j++)
        buf[j] = (j / 64) % 2 ? (guint8)g_rand_int(rand) : (guint8)("seafile-demo-"[j % 13]);
    return buf;
}

static GKeyFile *
load_conf(const char *conf_dir)
{
    char *path = g_build_filename(conf_dir, "seafile.conf", NULL);
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
        fprintf(stderr, "seaftier-demo: %s: %s\n", path, err->message);
        exit(2);
    }
    g_free(path);
    return kf;
}

static int
create_buckets(const char *conf_dir)
{
    char *path = g_build_filename(conf_dir, "seafile.conf", NULL);
    GError *err = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(path, &err);
    if (!cfg) {
        fprintf(stderr, "seaftier-demo: %s\n", err->message);
        return 2;
    }
    int rc = 0;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        SeaftierS3 *s3 = seaftier_s3_new(&cfg->s3[t], &err);
        if (!s3 || !seaftier_s3_create_bucket(s3, &err)) {
            fprintf(stderr, "seaftier-demo: bucket %s: %s\n", cfg->s3[t].bucket, err->message);
            g_clear_error(&err);
            rc = 1;
        } else {
            printf("bucket %s ready\n", cfg->s3[t].bucket);
        }
        seaftier_s3_free(s3);
    }
    seaftier_config_free(cfg);
    g_free(path);
    return rc;
}

static int
write_block(BlockBackend *bb, const char *id, const guint8 *data, gsize len)
{
    BHandle *h = bb->open_block(bb, DEMO_REPO, 1, id, BLOCK_WRITE);
    if (!h)
        return -1;
    int rc = 0;
    /* seaf-server writes a block in pieces */
    for (gsize off = 0; rc == 0 && off < len; off += 64 * 1024) {
        int n = (int)MIN(64 * 1024, len - off);
        if (bb->write_block(bb, h, data + off, n) != n)
            rc = -1;
    }
    if (rc == 0 && bb->commit_block(bb, h) < 0)
        rc = -1;
    bb->close_block(bb, h);
    bb->block_handle_free(bb, h);
    return rc;
}

static int
do_write(ObjBackend *ob[2], BlockBackend *bb, int n, const char *manifest)
{
    FILE *out = fopen(manifest, "a");
    if (!out) {
        perror(manifest);
        return 2;
    }
    GRand *rand = g_rand_new();
    guint64 bytes = 0;
    gint64 t0 = g_get_monotonic_time();
    int failures = 0;
    for (int i = 0; i < n; i++) {
        for (int t = 0; t < 3; t++) {
            static const char *const kinds[] = { "commits", "fs", "blocks" };
            gsize len = t == 2 ? (gsize)g_rand_int_range(rand, 1, 2 * 1024 * 1024)
                               : (gsize)g_rand_int_range(rand, 200, 8 * 1024);
            guint8 *data = make_content(rand, kinds[t], i, len);
            char *id = sha1_hex(data, len);
            int rc = t < 2 ? ob[t]->write(ob[t], DEMO_REPO, 1, id, data, (int)len, TRUE)
                           : write_block(bb, id, data, len);
            if (rc == 0) {
                fprintf(out, "%s %s %s\n", kinds[t], DEMO_REPO, id);
                bytes += len;
            } else {
                fprintf(stderr, "seaftier-demo: write %s %s failed\n", kinds[t], id);
                failures++;
            }
            g_free(id);
            g_free(data);
        }
    }
    fclose(out);
    g_rand_free(rand);
    double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
    printf("wrote %d objects (%d commits, %d fs, %d blocks), %.1f MiB in %.2f s through the library%s\n",
           3 * n - failures, n, n, n, (double)bytes / 1048576.0, secs,
           failures ? " — WITH FAILURES" : "");
    return failures ? 1 : 0;
}

static guint8 *
read_block(BlockBackend *bb, const char *id, gsize *len)
{
    BHandle *h = bb->open_block(bb, DEMO_REPO, 1, id, BLOCK_READ);
    if (!h)
        return NULL;
    GByteArray *buf = g_byte_array_new();
    guint8 chunk[65536];
    int n;
    while ((n = bb->read_block(bb, h, chunk, sizeof chunk)) > 0)
        g_byte_array_append(buf, chunk, (guint)n);
    bb->close_block(bb, h);
    bb->block_handle_free(bb, h);
    if (n < 0) {
        g_byte_array_free(buf, TRUE);
        return NULL;
    }
    *len = buf->len;
    return g_byte_array_free(buf, FALSE);
}

static int
do_read(ObjBackend *ob[2], BlockBackend *bb, const char *manifest)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(manifest, &text, NULL, &err)) {
        fprintf(stderr, "seaftier-demo: %s\n", err->message);
        return 2;
    }
    char **lines = g_strsplit(text, "\n", -1);
    int ok = 0, bad = 0;
    guint64 bytes = 0;
    gint64 t0 = g_get_monotonic_time();
    for (char **l = lines; *l; l++) {
        char kind[16], repo[64], id[64];
        if (sscanf(*l, "%15s %63s %63s", kind, repo, id) != 3)
            continue;
        void *data = NULL;
        int ilen = 0;
        gsize len = 0;
        if (g_str_equal(kind, "blocks")) {
            data = read_block(bb, id, &len);
        } else {
            ObjBackend *b = ob[g_str_equal(kind, "fs") ? 1 : 0];
            if (b->read(b, repo, 1, id, &data, &ilen) == 0)
                len = (gsize)ilen;
            else
                data = NULL;
        }
        char *sum = data ? sha1_hex(data, len) : NULL;
        if (sum && g_str_equal(sum, id)) {
            ok++;
            bytes += len;
        } else {
            bad++;
            fprintf(stderr, "seaftier-demo: %s %s: %s\n", kind, id,
                    data ? "WRONG CONTENT" : "read failed");
        }
        g_free(sum);
        g_free(data);
    }
    g_strfreev(lines);
    g_free(text);
    double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
    printf("read back %d objects (%.1f MiB) in %.2f s through the library: %d verified, %d bad\n",
           ok + bad, (double)bytes / 1048576.0, secs, ok, bad);
    return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
    /* A standalone program, not a host: the library's lines stay on stderr. */
    seaftier_log_to_file(NULL, NULL);
    const char *conf_dir = NULL, *seaf_dir = NULL;
    GOptionEntry entries[] = {
        { "config-dir", 'c', 0, G_OPTION_ARG_FILENAME, &conf_dir, "directory holding seafile.conf", "DIR" },
        { "seafile-dir", 'd', 0, G_OPTION_ARG_FILENAME, &seaf_dir, "Seafile data directory", "DIR" },
        { NULL, 0, 0, 0, NULL, NULL, NULL }
    };
    GOptionContext *ctx = g_option_context_new("create-buckets | write N MANIFEST | read MANIFEST");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || !conf_dir || argc < 2) {
        fprintf(stderr, "seaftier-demo: %s\n%s", err ? err->message : "-c and a command are required",
                g_option_context_get_help(ctx, TRUE, NULL));
        return 2;
    }
    g_option_context_free(ctx);
    if (g_str_equal(argv[1], "create-buckets"))
        return create_buckets(conf_dir);

    GKeyFile *kf = load_conf(conf_dir);
    const char *dir = seaf_dir ? seaf_dir : conf_dir;
    ObjBackend *ob[2] = { obj_backend_tier_new(dir, "commits", kf, &err), NULL };
    if (ob[0])
        ob[1] = obj_backend_tier_new(dir, "fs", kf, &err);
    BlockBackend *bb = ob[1] ? block_backend_tier_new(dir, kf, &err) : NULL;
    if (!bb) {
        fprintf(stderr, "seaftier-demo: %s\n", err ? err->message : "cannot open the backends");
        return 2;
    }
    int rc;
    if (g_str_equal(argv[1], "write") && argc == 4)
        rc = do_write(ob, bb, atoi(argv[2]), argv[3]);
    else if (g_str_equal(argv[1], "read") && argc == 3)
        rc = do_read(ob, bb, argv[2]);
    else {
        fprintf(stderr, "seaftier-demo: unknown command or wrong arguments\n");
        rc = 2;
    }
    block_backend_tier_free(bb);
    obj_backend_tier_free(ob[1]);
    obj_backend_tier_free(ob[0]);
    g_key_file_free(kf);
    return rc;
}
