/*
 * tests/bench/bench_block.c — hit reads of 1 MiB and 8 MiB blocks:
 *
 *   bench_block SEAFILE_CONF FS_ROOT
 *
 * For each size, incompressible ("rand") and text-like ("text") blocks are
 * stored three ways: through the BlockBackend (the tier: lz4 when it pays,
 * CRC32C verified on every read), in Seafile's fs layout under FS_ROOT (read
 * back from the page cache), and in the block bucket of the test S3 server
 * (a plain GET with the library's S3 client, keep-alive).
 * A read is: open_block / read_block in 64 KiB calls into the destination
 * buffer (as seaf-server streams a block) / close_block / block_handle_free;
 * for the fs layout open / read in 64 KiB calls / close. The destination
 * buffer is the whole block, reused, so no peer pays page faults for it.
 * The limit for a block the tier keeps lz4-compressed ("lz4"): the same
 * text compressed by the call the tier uses (LZ4_compress_default, see
 * lib/tier/codec.h), decoded with LZ4_decompress_safe from a buffer in
 * memory into the destination buffer — no file, no checksum.
 * Each store's copy is read back and compared once before timing.
 * Prints RESULT block.<tier|fs|s3|lz4>.<1m|8m>.<rand|text>.p50_MBps
 * (throughput at the median read time) and .p99_ms (lz4: text only), and
 * what the tier keeps on disk for the blocks of each case (index lookup,
 * tier.h): block.tier.<size>.<kind>.stored_bytes, .raw_bytes and
 * .lz4_blocks (how many of them it stored lz4-compressed, wholly or in
 * part), and
 * block.lz4.<size>.text.bytes (the reference's compressed size).
 * Environment: BENCH_BLOCK_READS (timed reads per case for 1 MiB, default
 * 300; 8 MiB gets an eighth, at least 20), BENCH_BLOCK_S3_READS (default 20).
 */
#include "seaftier-build.h"

#include "bench-util.h"
#include "tier/tier.h"

#include <seaftier/config.h>
#include <seaftier/s3.h>

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define N_BLOCKS 4      /* distinct blocks per case, read round-robin */

static const gsize sizes[] = { (gsize)1 << 20, (gsize)8 << 20 };
static const char *const size_names[] = { "1m", "8m" };
static const char *const kind_names[] = { "rand", "text" };

typedef struct {
    BlockBackend *bb;
    SeaftierS3 *s3;
    const char *root;
    guint8 *buf;            /* destination, the size of the block */
    /* The lz4 reference: each text block compressed, by id. */
    GHashTable *lz4;        /* id -> GBytes */
} Ctx;

static gsize
fs_read_block(const char *root, const char *id, guint8 *buf, gsize cap)
{
    char *path = bench_fs_path(root, BENCH_REPO, id);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        bench_die("open %s: %s", path, g_strerror(errno));
    gsize total = 0;
    for (;;) {
        gsize want = MIN((gsize)CHUNK, cap - total);
        if (want == 0)
            break;
        ssize_t n = read(fd, buf + total, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            bench_die("read %s: %s", path, g_strerror(errno));
        if (n == 0)
            break;
        total += (gsize)n;
    }
    close(fd);
    g_free(path);
    return total;
}

static gsize
s3_read_block(SeaftierS3 *s3, const char *id, guint8 *buf, gsize cap)
{
    char *key = g_strdup_printf("%s/%s", BENCH_REPO, id);
    void *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!seaftier_s3_get(s3, key, &data, &len, &err))
        bench_die("S3 GET %s: %s", key, err->message);
    /* The caller gets the bytes in its buffer, like the other stores. */
    memcpy(buf, data, MIN(len, cap));
    g_free(data);
    g_free(key);
    return len;
}

/* Decodes the compressed copy of a text block into `buf`, the way the
 * tier's codec does. */
static gsize
lz4_read_block(Ctx *c, const char *id, gsize size)
{
    GBytes *z = g_hash_table_lookup(c->lz4, id);
    if (!z)
        bench_die("lz4: no compressed copy of %s", id);
    gsize zlen = 0;
    const char *zdata = g_bytes_get_data(z, &zlen);
    int n = LZ4_decompress_safe(zdata, (char *)c->buf, (int)zlen, (int)size);
    return n < 0 ? 0 : (gsize)n;
}

/* Compresses `data` with the tier's call (LZ4_compress_default) for the
 * reference; dies if it does not compress (text blocks do, ~3:1). */
static void
lz4_keep(Ctx *c, const char *id, const guint8 *data, gsize len)
{
    int cap = LZ4_compressBound((int)len);
    char *z = g_malloc((gsize)cap);
    int n = LZ4_compress_default((const char *)data, z, (int)len, cap);
    if (n <= 0 || (gsize)n >= len)
        bench_die("lz4: block %s does not compress (%d)", id, n);
    g_hash_table_insert(c->lz4, g_strdup(id), g_bytes_new_take(g_realloc(z, (gsize)n), (gsize)n));
}

typedef enum { ST_TIER, ST_FS, ST_S3, ST_LZ4 } StoreKind;
static const char *const store_names[] = { "tier", "fs", "s3", "lz4" };

static gsize
read_one(Ctx *c, StoreKind st, const char *id, gsize size)
{
    switch (st) {
    case ST_TIER:
        return bench_block_read(c->bb, BENCH_REPO, id, c->buf, size, CHUNK);
    case ST_FS:
        return fs_read_block(c->root, id, c->buf, size);
    case ST_S3:
        return s3_read_block(c->s3, id, c->buf, size);
    case ST_LZ4:
        return lz4_read_block(c, id, size);
    }
    return 0;
}

static void
measure(Ctx *c, StoreKind st, int si, int ki, BenchId *ids, gsize reads)
{
    gsize size = sizes[si];
    BenchSamples *s = bench_samples_new(reads);
    for (gsize k = 0; k < reads; k++) {
        const char *id = ids[k % N_BLOCKS].s;
        guint64 t0 = bench_now_ns();
        gsize n = read_one(c, st, id, size);
        guint64 t1 = bench_now_ns();
        if (n != size)
            bench_die("%s: block %s read %" G_GSIZE_FORMAT " bytes of %" G_GSIZE_FORMAT,
                      store_names[st], id, n, size);
        bench_samples_add(s, t1 - t0);
    }
    char key[128];
    double p50 = bench_samples_pct(s, 50), p99 = bench_samples_pct(s, 99);
    g_snprintf(key, sizeof key, "block.%s.%s.%s.p50_MBps", store_names[st], size_names[si],
               kind_names[ki]);
    bench_result(key, (double)size / (p50 / 1e9) / 1e6, "MB/s");
    g_snprintf(key, sizeof key, "block.%s.%s.%s.p99_ms", store_names[st], size_names[si],
               kind_names[ki]);
    bench_result(key, p99 / 1e6, "ms");
    bench_samples_free(s);
}

/* What the tier keeps on disk for the blocks of one case, from its index
 * (a second handle on the same tier directory, as seaftier-admin opens it). */
static void
report_disk(SeaftierTier *tier, Ctx *c, int si, int ki, BenchId *ids)
{
    guint64 stored = 0, raw = 0, lz4_blocks = 0, ref = 0;
    GError *err = NULL;
    for (int b = 0; b < N_BLOCKS; b++) {
        SeaftierTierEntry e;
        if (!seaftier_tier_lookup(tier, SEAFTIER_TYPE_BLOCKS, BENCH_REPO, ids[b].s, &e, &err))
            bench_die("tier lookup of block %s: %s", ids[b].s, err ? err->message : "no row");
        stored += e.stored_size;
        raw += e.size;
        /* (a whole lz4 block, or a piece file with lz4 pieces: tier.h) */
        lz4_blocks += e.codec == 1 || (e.codec == 2 && e.stored_size < e.size);
        GBytes *z = c->lz4 ? g_hash_table_lookup(c->lz4, ids[b].s) : NULL;
        ref += z ? g_bytes_get_size(z) : 0;
    }
    char key[128];
    g_snprintf(key, sizeof key, "block.tier.%s.%s.stored_bytes", size_names[si], kind_names[ki]);
    bench_result(key, (double)stored, "bytes");
    g_snprintf(key, sizeof key, "block.tier.%s.%s.raw_bytes", size_names[si], kind_names[ki]);
    bench_result(key, (double)raw, "bytes");
    g_snprintf(key, sizeof key, "block.tier.%s.%s.lz4_blocks", size_names[si], kind_names[ki]);
    bench_result(key, (double)lz4_blocks, "blocks");
    if (ref) {
        g_snprintf(key, sizeof key, "block.lz4.%s.%s.bytes", size_names[si], kind_names[ki]);
        bench_result(key, (double)ref, "bytes");
    }
}

static gsize
env_size(const char *name, gsize dflt)
{
    const char *v = g_getenv(name);
    return v && *v ? (gsize)g_ascii_strtoull(v, NULL, 10) : dflt;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_block SEAFILE_CONF FS_ROOT\n");
        return 2;
    }
    gsize reads = MAX(env_size("BENCH_BLOCK_READS", 300), 8);
    gsize s3_reads = MAX(env_size("BENCH_BLOCK_S3_READS", 20), 4);
    GError *err = NULL;
    SeaftierConfig *cfg = seaftier_config_load_file(argv[1], &err);
    if (!cfg)
        bench_die("%s: %s", argv[1], err->message);
    Ctx c = { 0 };
    c.root = argv[2];
    c.s3 = seaftier_s3_new(&cfg->s3[SEAFTIER_TYPE_BLOCKS], &err);
    if (!c.s3)
        bench_die("S3 client: %s", err->message);
    GKeyFile *kf = bench_load_conf(argv[1], NULL);
    c.bb = bench_block_backend(kf);
    c.lz4 = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    bench_fs_mkdirs(c.root, BENCH_REPO);

    BenchId *ids[2][2];
    guint8 *want = g_malloc(sizes[1]);
    c.buf = g_malloc(sizes[1]);
    /* Store every block three ways. */
    for (int si = 0; si < 2; si++) {
        for (int ki = 0; ki < 2; ki++) {
            char ns[32];
            g_snprintf(ns, sizeof ns, "block-%s-%s", size_names[si], kind_names[ki]);
            ids[si][ki] = bench_ids(ns, N_BLOCKS);
            for (int b = 0; b < N_BLOCKS; b++) {
                const char *id = ids[si][ki][b].s;
                guint32 seed = (guint32)(si * 100 + ki * 10 + b);
                if (ki == 0)
                    bench_fill_random(seed, want, sizes[si]);
                else
                    bench_fill_text(seed, want, sizes[si]);
                bench_block_write(c.bb, BENCH_REPO, id, want, sizes[si]);
                if (!bench_fs_write(c.root, BENCH_REPO, id, want, sizes[si], FALSE))
                    bench_die("fs write %s: %s", id, g_strerror(errno));
                char *key = g_strdup_printf("%s/%s", BENCH_REPO, id);
                if (!seaftier_s3_put(c.s3, key, want, sizes[si], 0, &err))
                    bench_die("S3 PUT %s: %s", key, err->message);
                g_free(key);
                if (ki == 1)
                    lz4_keep(&c, id, want, sizes[si]);
                /* Each copy reads back identical before anything is timed. */
                for (StoreKind st = ST_TIER; st <= (ki == 1 ? ST_LZ4 : ST_S3); st++) {
                    memset(c.buf, 0, sizes[si]);
                    if (read_one(&c, st, id, sizes[si]) != sizes[si] ||
                        memcmp(c.buf, want, sizes[si]) != 0)
                        bench_die("%s: block %s does not read back as written", store_names[st],
                                  id);
                }
            }
        }
    }
    SeaftierTier *tier = seaftier_tier_open(cfg, cfg->tier.dir, &err);
    if (!tier)
        bench_die("seaftier_tier_open(%s): %s", cfg->tier.dir, err->message);
    for (int si = 0; si < 2; si++)
        for (int ki = 0; ki < 2; ki++)
            report_disk(tier, &c, si, ki, ids[si][ki]);
    seaftier_tier_close(tier);
    bench_sync();
    for (int si = 0; si < 2; si++) {
        gsize n = si == 0 ? reads : MAX(reads / 8, 20);
        for (int ki = 0; ki < 2; ki++) {
            measure(&c, ST_FS, si, ki, ids[si][ki], n);
            measure(&c, ST_TIER, si, ki, ids[si][ki], n);
            if (ki == 1)
                measure(&c, ST_LZ4, si, ki, ids[si][ki], n);
            measure(&c, ST_S3, si, ki, ids[si][ki], si == 0 ? s3_reads : MAX(s3_reads / 2, 4));
        }
    }
    for (int si = 0; si < 2; si++)
        for (int ki = 0; ki < 2; ki++)
            g_free(ids[si][ki]);
    g_free(want);
    g_free(c.buf);
    g_hash_table_destroy(c.lz4);
    block_backend_tier_free(c.bb);
    g_key_file_free(kf);
    seaftier_s3_free(c.s3);
    seaftier_config_free(cfg);
    return 0;
}
