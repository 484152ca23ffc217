/*
 * tests/bench/bench_scale.c — does a hit read slow down, or the process
 * grow, as the index grows?
 *
 *   bench_scale build SEAFILE_CONF N THREADS
 *       Writes N small "fs" objects (256 bytes of text, distinct ids)
 *       through the ObjBackend without need_sync, from THREADS threads (the
 *       tier batches such writes into big transactions), then syncs.
 *   bench_scale read SEAFILE_CONF N LABEL
 *       Opens the tier with ram_cache_size = 0, so every read is a disk-tier
 *       hit and exercises the index (with the RAM tier on, the small case
 *       would be served from RAM and the comparison would say nothing about
 *       the index), does BENCH_SCALE_READS (default 100000) uniformly random
 *       reads of the N objects after a quarter as many untimed ones, and
 *       prints RESULT scale.<LABEL>.p50_us / .p99_us, .rss_bytes (VmRSS after
 *       the reads) and its .rss_anon_bytes / .rss_file_bytes parts,
 *       .index_bytes_per_obj (SQLite files minus the object bytes stored
 *       inside them, per object).
 */
#include "seaftier-build.h"

#include "backend/common.h"
#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJ_SIZE 256

typedef struct {
    ObjBackend *ob;
    guint64 n, threads;
    int index;
} Builder;

static gpointer
build_main(gpointer data)
{
    Builder *b = data;
    guint8 buf[OBJ_SIZE];
    char id[41];
    for (guint64 i = (guint64)b->index; i < b->n; i += b->threads) {
        bench_obj_id("scale", i, id);
        bench_fill_text((guint32)i, buf, sizeof buf);
        if (b->ob->write(b->ob, BENCH_REPO, 1, id, buf, OBJ_SIZE, FALSE) != 0)
            bench_die("write of object %" G_GUINT64_FORMAT " (%s) failed", i, id);
    }
    return NULL;
}

static void
build(const char *conf, guint64 n, int threads)
{
    GKeyFile *kf = bench_load_conf(conf, NULL);
    ObjBackend *ob = bench_obj_backend(kf, "fs");
    GThread **th = g_new(GThread *, threads);
    Builder *bs = g_new(Builder, threads);
    guint64 t0 = bench_now_ns();
    for (int t = 0; t < threads; t++) {
        bs[t] = (Builder){ ob, n, (guint64)threads, t };
        th[t] = g_thread_new("bench-build", build_main, &bs[t]);
    }
    for (int t = 0; t < threads; t++)
        g_thread_join(th[t]);
    guint64 t1 = bench_now_ns();
    fprintf(stderr, "bench_scale: built %" G_GUINT64_FORMAT " objects in %.1f s (%.0f obj/s)\n",
            n, (double)(t1 - t0) / 1e9, (double)n / ((double)(t1 - t0) / 1e9));
    obj_backend_tier_free(ob);
    g_key_file_free(kf);
    g_free(th);
    g_free(bs);
    bench_sync();
}

static void
read_phase(const char *conf, guint64 n, const char *label)
{
    gsize reads = 100000;
    const char *v = g_getenv("BENCH_SCALE_READS");
    if (v && *v)
        reads = MAX((gsize)g_ascii_strtoull(v, NULL, 10), 100);
    GKeyFile *kf = bench_load_conf(conf, "ram_cache_size", "0", NULL);
    ObjBackend *ob = bench_obj_backend(kf, "fs");
    GRand *r = g_rand_new_with_seed(7);
    BenchSamples *s = bench_samples_new(reads);
    guint8 want[OBJ_SIZE];
    gsize warm = reads / 4;
    for (gsize k = 0; k < warm + reads; k++) {
        guint64 i = (guint64)g_rand_int_range(r, 0, (gint32)n);
        char id[41];
        bench_obj_id("scale", i, id);
        void *data = NULL;
        int len = 0;
        guint64 t0 = bench_now_ns();
        int rc = ob->read(ob, BENCH_REPO, 1, id, &data, &len);
        guint64 t1 = bench_now_ns();
        if (rc != 0 || len != OBJ_SIZE)
            bench_die("read of object %" G_GUINT64_FORMAT " (%s) failed", i, id);
        if (k < warm) {
            /* The untimed reads also check the contents. */
            bench_fill_text((guint32)i, want, sizeof want);
            if (memcmp(data, want, OBJ_SIZE) != 0)
                bench_die("object %s reads back wrong", id);
        } else {
            bench_samples_add(s, t1 - t0);
        }
        g_free(data);
    }
    char key[128];
    g_snprintf(key, sizeof key, "scale.%s", label);
    bench_result_latency(key, s);

    /* Anonymous memory is what the process holds; file-backed pages are
     * SQLite's memory map of the index (bounded by mmap_size, reclaimable
     * page cache). Both are reported. */
    BenchRss rss;
    bench_rss(&rss);
    g_snprintf(key, sizeof key, "scale.%s.rss_bytes", label);
    bench_result(key, (double)rss.rss, "bytes");
    g_snprintf(key, sizeof key, "scale.%s.rss_anon_bytes", label);
    bench_result(key, (double)rss.anon, "bytes");
    g_snprintf(key, sizeof key, "scale.%s.rss_file_bytes", label);
    bench_result(key, (double)rss.file, "bytes");

    /* The SQLite files hold the index and the inline objects; the tier's
     * accounting says how many of those bytes are object data. */
    SeaftierBackendShared *sh = seaftier_obj_backend_shared(ob);
    SeaftierTierStats st;
    GError *err = NULL;
    if (!seaftier_tier_stats(sh->site->tier, &st, &err))
        bench_die("tier stats: %s", err->message);
    /* The scale tier holds only these (inline) fs objects. */
    guint64 stored = st.stored_bytes[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY] +
                     st.stored_bytes[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN];
    guint64 fs_objects = st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_DIRTY] +
                         st.objects[SEAFTIER_TYPE_FS][SEAFTIER_STATE_CLEAN];
    if (fs_objects != n)
        bench_die("the tier indexes %" G_GUINT64_FORMAT " fs objects, expected %" G_GUINT64_FORMAT,
                  fs_objects, n);
    guint64 files = bench_files_size(seaftier_tier_dir(sh->site->tier), "index.db");
    g_snprintf(key, sizeof key, "scale.%s.index_bytes_per_obj", label);
    bench_result(key, files > stored ? (double)(files - stored) / (double)n : 0.0, "bytes");

    bench_samples_free(s);
    g_rand_free(r);
    obj_backend_tier_free(ob);
    g_key_file_free(kf);
}

int
main(int argc, char **argv)
{
    if (argc == 5 && g_str_equal(argv[1], "build")) {
        guint64 n = g_ascii_strtoull(argv[3], NULL, 10);
        int threads = atoi(argv[4]);
        if (n == 0 || n > G_MAXINT32 || threads < 1 || threads > 64)
            bench_die("bad N or THREADS");
        build(argv[2], n, threads);
        return 0;
    }
    if (argc == 5 && g_str_equal(argv[1], "read")) {
        guint64 n = g_ascii_strtoull(argv[3], NULL, 10);
        if (n == 0 || n > G_MAXINT32)
            bench_die("bad N");
        read_phase(argv[2], n, argv[4]);
        return 0;
    }
    fprintf(stderr, "usage: bench_scale build SEAFILE_CONF N THREADS | read SEAFILE_CONF N LABEL\n");
    return 2;
}
