/*
 * tests/bench/bench-util.h — what the benchmark programs share: a clock,
 * latency samples and their percentiles, result lines for run-bench.sh,
 * content-addressed ids and test data, Seafile's filesystem layout (the
 * peer "fs" backend), and the seaftier side's set-up from a seafile.conf.
 *
 * Every bench program prints its figures as lines
 *     RESULT <key> <value> <unit>
 * on stdout; run-bench.sh collects them and computes the ratios. Anything
 * that goes wrong is fatal (bench_die): a benchmark that cannot measure
 * what it says must not print a figure.
 */
#ifndef SEAFTIER_BENCH_UTIL_H
#define SEAFTIER_BENCH_UTIL_H

#include <glib.h>
#include <stdint.h>
#include <time.h>
#include <seaftier/backend.h>

/* A UUID used as the repo of every benchmark object. */
#define BENCH_REPO "3e1c4b5a-9f1d-4c2e-8a7b-5d6e7f809a1b"

/* Prints "bench: FATAL: ..." on stderr and exits 1. */
void bench_die(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

/* Monotonic clock in nanoseconds. */
static inline guint64
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (guint64)ts.tv_sec * 1000000000u + (guint64)ts.tv_nsec;
}

/* Latency samples in nanoseconds. */
typedef struct {
    guint64 *ns;
    gsize n, cap;
} BenchSamples;

BenchSamples *bench_samples_new(gsize cap);
void bench_samples_add(BenchSamples *s, guint64 ns);
void bench_samples_free(BenchSamples *s);
/* The p-th percentile (0 < p <= 100, nearest rank) in ns; sorts the samples. */
double bench_samples_pct(BenchSamples *s, double p);

/* Prints "RESULT key value unit" and flushes stdout. */
void bench_result(const char *key, double value, const char *unit);
/* Prints p50 and p99 in microseconds as "<prefix>.p50_us" / "<prefix>.p99_us". */
void bench_result_latency(const char *prefix, BenchSamples *s);

/* The 40-hex id of object number `i` in namespace `ns` (SHA-1 of both, as
 * Seafile ids are SHA-1s). `out` gets 41 bytes. */
void bench_obj_id(const char *ns, guint64 i, char out[41]);

/* An id in an array. */
typedef struct {
    char s[41];
} BenchId;
/* Ids 0 .. n-1 of namespace `ns` (g_free). */
BenchId *bench_ids(const char *ns, gsize n);

/* Incompressible bytes (seeded). */
void bench_fill_random(guint32 seed, void *buf, gsize len);
/* Text-like bytes that lz4 compresses about 3:1 (seeded). */
void bench_fill_text(guint32 seed, void *buf, gsize len);

/* ---- Seafile's filesystem backend layout: <root>/<repo>/<id[0:2]>/<id[2:]> ---- */

/* The path of an object (g_free). */
char *bench_fs_path(const char *root, const char *repo, const char *id);
/* Creates <root>/<repo>/00 .. ff (so timed writes do not create dirs). */
void bench_fs_mkdirs(const char *root, const char *repo);
/* Writes an object as Seafile's fs backend does: a temporary file in the
 * object's directory, write, then (when durable) fsync, rename, and fsync
 * of the directory. Returns FALSE on any error (errno set). */
gboolean bench_fs_write(const char *root, const char *repo, const char *id, const void *data,
                        gsize len, gboolean durable);
/* open/fstat/read/close into a new buffer (g_free). FALSE on error. */
gboolean bench_fs_read(const char *root, const char *repo, const char *id, void **data,
                       gsize *len);

/* ---- process ---- */

/* Resident memory of this process in bytes: VmRSS, and its anonymous
 * (heap, stacks) and file-backed (memory-mapped files) parts. */
typedef struct {
    guint64 rss, anon, file;
} BenchRss;
void bench_rss(BenchRss *out);
/* sync(2), then a short pause so that writeback started by it settles. */
void bench_sync(void);
/* Total size in bytes of the regular files under `dir` whose name starts
 * with `prefix` (not recursive). */
guint64 bench_files_size(const char *dir, const char *prefix);

/* ---- the seaftier side ---- */

/* Loads seafile.conf `path` into a key file and sets [tier] `key` = `value`
 * for each pair of the NULL-terminated list. */
GKeyFile *bench_load_conf(const char *path, ...) G_GNUC_NULL_TERMINATED;
/* Opens the object backend `type` ("commits"/"fs") or dies naming why. */
ObjBackend *bench_obj_backend(GKeyFile *kf, const char *type);
BlockBackend *bench_block_backend(GKeyFile *kf);

/* Reads a whole block through the BlockBackend vtable into `buf` (of
 * `cap` bytes), `chunk` bytes per read_block call. Returns the size. */
gsize bench_block_read(BlockBackend *bb, const char *repo, const char *id, void *buf, gsize cap,
                       gsize chunk);
/* Writes and commits a block through the vtable. Dies on failure. */
void bench_block_write(BlockBackend *bb, const char *repo, const char *id, const void *data,
                       gsize len);

#endif
