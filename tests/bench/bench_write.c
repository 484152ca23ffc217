/*
 * tests/bench/bench_write.c — durable small writes (4 KiB, distinct ids,
 * incompressible) from THREADS threads for about SECONDS seconds:
 *
 *   bench_write fs ROOT THREADS SECONDS
 *       Seafile's fs backend write: temporary file + write + fsync + rename
 *       + fsync of the directory (the 256 sub-directories exist beforehand).
 *   bench_write tier SEAFILE_CONF THREADS SECONDS
 *       ObjBackend write with need_sync = TRUE (durable on return).
 *   bench_write probe DIR SECONDS
 *       The disk's cost of one durable append, the unit a group commit pays
 *       once per group: appends 4 KiB to a new file in DIR and fdatasyncs it,
 *       one after the other, for about SECONDS seconds (at least 200 times).
 *       Prints RESULT write.probe.fdatasync_p50_us / _p99_us and .samples;
 *       THREADS / p50 is the group-commit limit run-bench.sh compares with.
 *
 * Prints RESULT write.<fs|tier>.t<THREADS>.objps (objects acknowledged per
 * second, all threads), .p50_us / .p99_us (per write) and .cpu_us_per_write
 * (user + system CPU time of the whole process during the timed interval,
 * getrusage, per acknowledged write).
 * The caller runs `sync` beforehand and never right after a mass delete.
 */
#include "seaftier-build.h"

#include "bench-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* User + system CPU time of the process so far, in microseconds. */
static double
cpu_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        bench_die("getrusage: %s", g_strerror(errno));
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void
probe(const char *dir, double seconds)
{
    char *path = g_build_filename(dir, "fdatasync-probe.XXXXXX", NULL);
    int fd = g_mkstemp_full(path, O_WRONLY | O_APPEND, 0600);
    if (fd < 0)
        bench_die("cannot create a file in %s: %s", dir, g_strerror(errno));
    guint8 *buf = g_malloc(OBJ_SIZE);
    bench_fill_random(77, buf, OBJ_SIZE);
    BenchSamples *s = bench_samples_new(4096);
    guint64 end = bench_now_ns() + (guint64)(seconds * 1e9);
    while (s->n < 200 || bench_now_ns() < end) {
        guint64 t0 = bench_now_ns();
        if (write(fd, buf, OBJ_SIZE) != OBJ_SIZE)
            bench_die("append to %s: %s", path, g_strerror(errno));
        if (fdatasync(fd) != 0)
            bench_die("fdatasync %s: %s", path, g_strerror(errno));
        bench_samples_add(s, bench_now_ns() - t0);
    }
    close(fd);
    unlink(path);
    bench_result("write.probe.fdatasync_p50_us", bench_samples_pct(s, 50) / 1000.0, "us");
    bench_result("write.probe.fdatasync_p99_us", bench_samples_pct(s, 99) / 1000.0, "us");
    bench_result("write.probe.samples", (double)s->n, "appends");
    bench_samples_free(s);
    g_free(buf);
    g_free(path);
}

int
main(int argc, char **argv)
{
    if (argc == 4 && g_str_equal(argv[1], "probe")) {
        double seconds = g_ascii_strtod(argv[3], NULL);
        if (seconds <= 0)
            bench_die("SECONDS must be positive");
        probe(argv[2], seconds);
        return 0;
    }
    if (argc != 5 || (!g_str_equal(argv[1], "fs") && !g_str_equal(argv[1], "tier"))) {
        fprintf(stderr, "usage: bench_write fs ROOT THREADS SECONDS | tier SEAFILE_CONF THREADS SECONDS"
                        " | probe DIR SECONDS\n");
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
    double cpu0 = cpu_us();
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
    double cpu1 = cpu_us();

    const char *label = sh.tier ? "tier" : "fs";
    char key[128];
    g_snprintf(key, sizeof key, "write.%s.t%d.objps", label, threads);
    bench_result(key, (double)sh.done / ((double)(t1 - t0) / 1e9), "obj/s");
    g_snprintf(key, sizeof key, "write.%s.t%d", label, threads);
    bench_result_latency(key, sh.samples);
    g_snprintf(key, sizeof key, "write.%s.t%d.cpu_us_per_write", label, threads);
    bench_result(key, sh.done ? (cpu1 - cpu0) / (double)sh.done : 0.0, "us");

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
