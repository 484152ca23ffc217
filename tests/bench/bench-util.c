/* tests/bench/bench-util.c — see bench-util.h. */
#include "seaftier-build.h"

#include "bench-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: FATAL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

BenchSamples *
bench_samples_new(gsize cap)
{
    BenchSamples *s = g_new0(BenchSamples, 1);
    s->cap = MAX(cap, 16);
    s->ns = g_new(guint64, s->cap);
    return s;
}

void
bench_samples_add(BenchSamples *s, guint64 ns)
{
    if (s->n == s->cap) {
        s->cap *= 2;
        s->ns = g_renew(guint64, s->ns, s->cap);
    }
    s->ns[s->n++] = ns;
}

void
bench_samples_free(BenchSamples *s)
{
    if (!s)
        return;
    g_free(s->ns);
    g_free(s);
}

static int
cmp_u64(const void *a, const void *b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

double
bench_samples_pct(BenchSamples *s, double p)
{
    if (s->n == 0)
        bench_die("percentile of an empty sample set");
    qsort(s->ns, s->n, sizeof(guint64), cmp_u64);
    gsize rank = (gsize)((p / 100.0) * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return (double)s->ns[rank - 1];
}

void
bench_result(const char *key, double value, const char *unit)
{
    printf("RESULT %s %.6g %s\n", key, value, unit);
    fflush(stdout);
}

void
bench_result_latency(const char *prefix, BenchSamples *s)
{
    char key[256];
    g_snprintf(key, sizeof key, "%s.p50_us", prefix);
    bench_result(key, bench_samples_pct(s, 50) / 1000.0, "us");
    g_snprintf(key, sizeof key, "%s.p99_us", prefix);
    bench_result(key, bench_samples_pct(s, 99) / 1000.0, "us");
}

void
bench_obj_id(const char *ns, guint64 i, char out[41])
{
    char seed[128];
    int n = g_snprintf(seed, sizeof seed, "%s:%" G_GUINT64_FORMAT, ns, i);
    char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)seed, (gsize)n);
    memcpy(out, hex, 41);
    g_free(hex);
}

BenchId *
bench_ids(const char *ns, gsize n)
{
    BenchId *ids = g_new(BenchId, n ? n : 1);
    for (gsize i = 0; i < n; i++)
        bench_obj_id(ns, i, ids[i].s);
    return ids;
}

void
bench_fill_random(guint32 seed, void *buf, gsize len)
{
    GRand *r = g_rand_new_with_seed(seed);
    guint8 *p = buf;
    gsize i = 0;
    for (; i + 4 <= len; i += 4) {
        guint32 v = g_rand_int(r);
        memcpy(p + i, &v, 4);
    }
    for (; i < len; i++)
        p[i] = (guint8)g_rand_int(r);
    g_rand_free(r);
}

void
bench_fill_text(guint32 seed, void *buf, gsize len)
{
    /* Words drawn from a small vocabulary: repetitive like source code or
     * JSON, so lz4 finds matches (about 3:1 on text). */
    static const char *const words[] = {
        "the ", "seafile ", "object ", "block ", "commit ", "repo_id", "\"size\": ", "{", "}",
        "return ", "if (", ") {\n", "    ", "static ", "int ", "char *", "= NULL;\n", "for (",
        "0123", "4567", "89ab", "cdef", ", ", "\n", "error", "data", "len", "struct "
    };
    GRand *r = g_rand_new_with_seed(seed);
    guint8 *p = buf;
    gsize i = 0;
    while (i < len) {
        const char *w = words[g_rand_int_range(r, 0, G_N_ELEMENTS(words))];
        gsize wl = strlen(w);
        gsize n = MIN(wl, len - i);
        memcpy(p + i, w, n);
        i += n;
        if (g_rand_int_range(r, 0, 16) == 0 && i < len)
            p[i++] = (guint8)g_rand_int_range(r, 32, 127);
    }
    g_rand_free(r);
}

char *
bench_fs_path(const char *root, const char *repo, const char *id)
{
    char sub[3] = { id[0], id[1], 0 };
    return g_build_filename(root, repo, sub, id + 2, NULL);
}

void
bench_fs_mkdirs(const char *root, const char *repo)
{
    for (int i = 0; i < 256; i++) {
        char sub[3];
        g_snprintf(sub, sizeof sub, "%02x", i);
        char *d = g_build_filename(root, repo, sub, NULL);
        if (g_mkdir_with_parents(d, 0755) != 0)
            bench_die("mkdir %s: %s", d, g_strerror(errno));
        g_free(d);
    }
}

static gboolean
write_all(int fd, const void *data, gsize len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        p += w;
        len -= (gsize)w;
    }
    return TRUE;
}

gboolean
bench_fs_write(const char *root, const char *repo, const char *id, const void *data, gsize len,
               gboolean durable)
{
    char *path = bench_fs_path(root, repo, id);
    char *dir = g_path_get_dirname(path);
    char *tmp = g_strdup_printf("%s.XXXXXX", path);
    gboolean ok = FALSE;
    int fd = g_mkstemp_full(tmp, O_WRONLY, 0644);
    if (fd < 0)
        goto out;
    if (!write_all(fd, data, len) || (durable && fsync(fd) != 0)) {
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        goto out;
    }
    if (durable) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd < 0)
            goto out;
        int r = fsync(dfd);
        close(dfd);
        if (r != 0)
            goto out;
    }
    ok = TRUE;
out:
    g_free(tmp);
    g_free(dir);
    g_free(path);
    return ok;
}

gboolean
bench_fs_read(const char *root, const char *repo, const char *id, void **data, gsize *len)
{
    char *path = bench_fs_path(root, repo, id);
    int fd = open(path, O_RDONLY);
    g_free(path);
    if (fd < 0)
        return FALSE;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return FALSE;
    }
    gsize size = (gsize)st.st_size;
    char *buf = g_malloc(size ? size : 1);
    gsize got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (gsize)r;
    }
    close(fd);
    if (got != size) {
        g_free(buf);
        return FALSE;
    }
    *data = buf;
    *len = size;
    return TRUE;
}

void
bench_rss(BenchRss *out)
{
    char *text = NULL;
    memset(out, 0, sizeof *out);
    if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
        bench_die("cannot read /proc/self/status");
    for (char *l = text; l && *l;) {
        char *nl = strchr(l, '\n');
        if (g_str_has_prefix(l, "VmRSS:"))
            out->rss = g_ascii_strtoull(l + 6, NULL, 10) * 1024;
        else if (g_str_has_prefix(l, "RssAnon:"))
            out->anon = g_ascii_strtoull(l + 8, NULL, 10) * 1024;
        else if (g_str_has_prefix(l, "RssFile:"))
            out->file = g_ascii_strtoull(l + 8, NULL, 10) * 1024;
        l = nl ? nl + 1 : NULL;
    }
    g_free(text);
}

void
bench_sync(void)
{
    sync();
    g_usleep(200 * 1000);
}

guint64
bench_files_size(const char *dir, const char *prefix)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    guint64 total = 0;
    if (!d)
        bench_die("cannot list %s", dir);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_prefix(name, prefix))
            continue;
        char *p = g_build_filename(dir, name, NULL);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            total += (guint64)st.st_size;
        g_free(p);
    }
    g_dir_close(d);
    return total;
}

GKeyFile *
bench_load_conf(const char *path, ...)
{
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err))
        bench_die("cannot load %s: %s", path, err->message);
    va_list ap;
    va_start(ap, path);
    const char *key;
    while ((key = va_arg(ap, const char *))) {
        const char *value = va_arg(ap, const char *);
        g_key_file_set_string(kf, "tier", key, value);
    }
    va_end(ap);
    return kf;
}

ObjBackend *
bench_obj_backend(GKeyFile *kf, const char *type)
{
    GError *err = NULL;
    ObjBackend *b = obj_backend_tier_new(NULL, type, kf, &err);
    if (!b)
        bench_die("obj_backend_tier_new(%s): %s", type, err ? err->message : "?");
    return b;
}

BlockBackend *
bench_block_backend(GKeyFile *kf)
{
    GError *err = NULL;
    BlockBackend *b = block_backend_tier_new(NULL, kf, &err);
    if (!b)
        bench_die("block_backend_tier_new: %s", err ? err->message : "?");
    return b;
}

gsize
bench_block_read(BlockBackend *bb, const char *repo, const char *id, void *buf, gsize cap,
                 gsize chunk)
{
    BHandle *h = bb->open_block(bb, repo, 1, id, BLOCK_READ);
    if (!h)
        bench_die("open_block %s/%s failed", repo, id);
    gsize total = 0;
    for (;;) {
        gsize want = MIN(chunk, cap - total);
        if (want == 0)
            break;
        int n = bb->read_block(bb, h, (char *)buf + total, (int)want);
        if (n < 0)
            bench_die("read_block %s/%s failed", repo, id);
        if (n == 0)
            break;
        total += (gsize)n;
    }
    bb->close_block(bb, h);
    bb->block_handle_free(bb, h);
    return total;
}

void
bench_block_write(BlockBackend *bb, const char *repo, const char *id, const void *data,
                  gsize len)
{
    BHandle *h = bb->open_block(bb, repo, 1, id, BLOCK_WRITE);
    if (!h)
        bench_die("open_block(write) %s/%s failed", repo, id);
    gsize off = 0;
    while (off < len) {
        gsize n = MIN(len - off, (gsize)1 << 20);
        if (bb->write_block(bb, h, (const char *)data + off, (int)n) != (int)n)
            bench_die("write_block %s/%s failed", repo, id);
        off += n;
    }
    /* seaf-server's order: close, then commit. */
    if (bb->close_block(bb, h) != 0 || bb->commit_block(bb, h) != 0)
        bench_die("close/commit_block %s/%s failed", repo, id);
    bb->block_handle_free(bb, h);
}
