/*
 * tests/bench/bench_write.c — durable small writes (4 KiB, distinct ids,
 * incompressible) from THREADS threads for about SECONDS seconds:
 *
 *   bench_write fs ROOT THREADS SECONDS
 *       Seafile's fs backend write: temporary file + write + fsync + rename
 *       + fsync of the directory (the 256 sub-directories exist beforehand).
 *   bench_write tier SEAFILE_CONF THREADS SECONDS
 *       ObjBackend write with need_sync = TRUE (durable on return).
 *
 * Prints RESULT write.<fs|tier>.t<THREADS>.objps (objects acknowledged per
 * second, all threads) and .p50_us / .p99_us (per write).
 * The caller runs `sync` beforehand and never right after a mass delete.
 */
#include "seaftier-build.h"

#include "bench-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJ_SIZE 4096
#define N_BUFS 64

typedef struct {
    gboolean tier;
    const char *root;
    ObjBackend *ob;
    guint8 *bufs;           /* N_BUFS distinct random payloads */
    gint stop;
    GMutex lock;
    BenchSamples *samples;
    guint64 done;
    char run_tag[32];
} Shared;

typedef struct {
    Shared *sh;
    int index;
} Worker;

static gpointer
worker_main(gpointer data)
{
    Worker *w = data;
    Shared *sh = w->sh;
    BenchSamples *local = bench_samples_new(4096);
    char ns[64];
    g_snprintf(ns, sizeof ns, "write-%s-%d", sh->run_tag, w->index);
    guint64 i = 0;
    while (!g_atomic_int_get(&sh->stop)) {
        char id[41];
        bench_obj_id(ns, i, id);
        const guint8 *payload = sh->bufs + (i % N_BUFS) * OBJ_SIZE;
        guint64 t0 = bench_now_ns();
        gboolean ok = sh->tier ? sh->ob->write(sh->ob, BENCH_REPO, 1, id, (void *)payload,
                                               OBJ_SIZE, TRUE) == 0
                               : bench_fs_write(sh->root, BENCH_REPO, id, payload, OBJ_SIZE, TRUE);
        guint64 t1 = bench_now_ns();
        if (!ok)
            bench_die("%s: durable write of %s failed%s%s", sh->tier ? "tier" : "fs", id,
                      sh->tier ? "" : ": ", sh->tier ? "" : g_strerror(errno));
        bench_samples_add(local, t1 - t0);
        i++;
    }
    g_mutex_lock(&sh->lock);
    for (gsize k = 0; k < local->n; k++)
        bench_samples_add(sh->samples, local->ns[k]);
    sh->done += i;
    g_mutex_unlock(&sh->lock);
    bench_samples_free(local);
    return NULL;
}

int
main(int argc, char **argv)
{
    if (argc != 5 || (!g_str_equal(argv[1], "fs") && !g_str_equal(argv[1], "tier"))) {
        fprintf(stderr, "usage: bench_write fs ROOT THREADS SECONDS | tier SEAFILE_CONF THREADS SECONDS\n");
        return 2;
    }
    int threads = atoi(argv[3]);
    double seconds = g_ascii_strtod(argv[4], NULL);
    if (threads < 1 || threads > 256 || seconds <= 0)
        bench_die("THREADS must be 1..256 and SECONDS positive");

    Shared sh = { 0 };
    sh.tier = g_str_equal(argv[1], "tier");
    g_mutex_init(&sh.lock);
    sh.samples = bench_samples_new(65536);
    g_snprintf(sh.run_tag, sizeof sh.run_tag, "%d-%" G_GINT64_FORMAT, threads,
               g_get_real_time());
    sh.bufs = g_malloc((gsize)N_BUFS * OBJ_SIZE);
    for (int b = 0; b < N_BUFS; b++)
        bench_fill_random((guint32)(1000 + b), sh.bufs + (gsize)b * OBJ_SIZE, OBJ_SIZE);
    GKeyFile *kf = NULL;
    if (sh.tier) {
        kf = bench_load_conf(argv[2], NULL);
        sh.ob = bench_obj_backend(kf, "commits");
    } else {
        sh.root = argv[2];
        bench_fs_mkdirs(sh.root, BENCH_REPO);
    }
    bench_sync();

    GThread **th = g_new(GThread *, threads);
    Worker *ws = g_new(Worker, threads);
    guint64 t0 = bench_now_ns();
    for (int t = 0; t < threads; t++) {
        ws[t] = (Worker){ &sh, t };
        th[t] = g_thread_new("bench-write", worker_main, &ws[t]);
    }
    g_usleep((gulong)(seconds * 1e6));
    g_atomic_int_set(&sh.stop, 1);
    for (int t = 0; t < threads; t++)
        g_thread_join(th[t]);
    guint64 t1 = bench_now_ns();

    const char *label = sh.tier ? "tier" : "fs";
    char key[128];
    g_snprintf(key, sizeof key, "write.%s.t%d.objps", label, threads);
    bench_result(key, (double)sh.done / ((double)(t1 - t0) / 1e9), "obj/s");
    g_snprintf(key, sizeof key, "write.%s.t%d", label, threads);
    bench_result_latency(key, sh.samples);

    if (sh.ob)
        obj_backend_tier_free(sh.ob);
    if (kf)
        g_key_file_free(kf);
    g_free(th);
    g_free(ws);
    g_free(sh.bufs);
    bench_samples_free(sh.samples);
    g_mutex_clear(&sh.lock);
    return 0;
}
