/*
 * tests/bench/upload/bench_upload.c — the seaftier side of the upload
 * benchmark, driven by tests/bench/run-bench.sh, which times
 * `aws s3 cp --recursive` of the same bytes to the same server:
 *
 *   bench_upload prepare CONF SRCDIR N_SMALL N_LARGE
 *       writes N_SMALL objects of 4 KiB and N_LARGE of 4 MiB through the
 *       Seafile block backend (dirty in the tier: the daemon is not running),
 *       one repo per size, and the same bytes as files under SRCDIR/small
 *       and SRCDIR/large for awscli (SRCDIR "-": no files, when an
 *       earlier round wrote them). Not timed.
 *   bench_upload flush CONF small|large
 *       times `seaftier-admin flush --no-daemon --repo R` (process start to
 *       exit: what an operator sees; the same uploader as seaftierd, with
 *       [tier] upload_concurrency in flight) and checks it uploaded them all.
 *       Prints RESULT upload.tier.<kind>.objps / .MBps / .seconds.
 */
#include "seaftier-build.h"

#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_REPO "a11ce000-5a11-4000-8000-000000004096"
#define LARGE_REPO "b16b0000-1a26-4000-8000-000004194304"
#define SMALL_SIZE 4096
#define LARGE_SIZE (4 << 20)

static void
write_set(BlockBackend *bb, const char *srcdir, const char *kind, const char *repo, long n, gsize size)
{
    gboolean files = strcmp(srcdir, "-") != 0;
    char *dir = g_build_filename(srcdir, kind, NULL);
    if (files && g_mkdir_with_parents(dir, 0700) != 0)
        bench_die("cannot create %s", dir);
    guint8 *data = g_malloc(size);
    for (long i = 0; i < n; i++) {
        char id[41];
        bench_obj_id(kind, (guint64)i, id);
        bench_fill_random((guint32)i * 2654435761u + (guint32)size, data, size);
        bench_block_write(bb, repo, id, data, size);
        if (!files)
            continue;
        char *path = g_build_filename(dir, id, NULL);
        GError *err = NULL;
        if (!g_file_set_contents(path, (const char *)data, (gssize)size, &err))
            bench_die("%s", err->message);
        g_free(path);
    }
    g_free(data);
    g_free(dir);
}

static int
prepare(const char *conf, const char *srcdir, long n_small, long n_large)
{
    GKeyFile *kf = bench_load_conf(conf, NULL);
    BlockBackend *bb = bench_block_backend(kf);
    write_set(bb, srcdir, "small", SMALL_REPO, n_small, SMALL_SIZE);
    write_set(bb, srcdir, "large", LARGE_REPO, n_large, LARGE_SIZE);
    block_backend_tier_free(bb);
    g_key_file_free(kf);
    bench_result("upload.prepare.small", (double)n_small, "objects");
    bench_result("upload.prepare.large", (double)n_large, "objects");
    return 0;
}

static guint64
json_u64(const char *json, const char *key)
{
    char *pat = g_strdup_printf("\"%s\":", key);
    const char *p = strstr(json, pat);
    g_free(pat);
    if (!p)
        bench_die("seaftier-admin flush --json printed no \"%s\": %s", key, json);
    return g_ascii_strtoull(strchr(p, ':') + 1, NULL, 10);
}

static int
flush(const char *conf, const char *kind)
{
    gboolean small = strcmp(kind, "small") == 0;
    if (!small && strcmp(kind, "large") != 0)
        bench_die("flush: kind must be small or large, not %s", kind);
    char *confdir = g_path_get_dirname(conf);
    char *admin = g_build_filename(SEAFTIER_BUILDDIR, "tools", "seaftier-admin", NULL);
    char *argv[] = { admin, "flush", "--no-daemon", "--json", "-c", confdir, "--repo",
                     small ? SMALL_REPO : LARGE_REPO, NULL };
    bench_sync();
    char *out = NULL, *err = NULL;
    int status = 0;
    GError *gerr = NULL;
    guint64 t0 = bench_now_ns();
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &gerr))
        bench_die("cannot run %s: %s", admin, gerr->message);
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    if (!g_spawn_check_wait_status(status, NULL) || !strstr(out, "\"ok\":true"))
        bench_die("seaftier-admin flush failed:\n%s%s", out, err);
    guint64 n = json_u64(out, "uploaded");
    if (n == 0 || n != json_u64(out, "total"))
        bench_die("seaftier-admin flush uploaded %" G_GUINT64_FORMAT " objects: %s", n, out);
    gsize size = small ? SMALL_SIZE : LARGE_SIZE;
    char key[64];
    g_snprintf(key, sizeof key, "upload.tier.%s.objps", kind);
    bench_result(key, (double)n / secs, "obj/s");
    g_snprintf(key, sizeof key, "upload.tier.%s.MBps", kind);
    bench_result(key, (double)n * (double)size / secs / 1e6, "MB/s");
    g_snprintf(key, sizeof key, "upload.tier.%s.seconds", kind);
    bench_result(key, secs, "s");
    g_free(out);
    g_free(err);
    g_free(admin);
    g_free(confdir);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "prepare") == 0)
        return prepare(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
    if (argc == 4 && strcmp(argv[1], "flush") == 0)
        return flush(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_upload prepare CONF SRCDIR N_SMALL N_LARGE\n"
                    "       bench_upload flush CONF small|large\n");
    return 2;
}
