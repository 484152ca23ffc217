/*
 * tests/torture/torture-util.h — what the torture tests share:
 * seafile.conf files on the real test S3 server (optionally through the
 * fault proxy), the daemon and the admin tool as child processes,
 * content-addressed test objects (id = SHA-1 of the bytes, so any read can
 * be checked without remembering the bytes), reads through both vtables,
 * and direct checks against S3 and the SQLite index.
 *
 * Every check failure prints where and why and exits 1: these tests never
 * skip.
 */
#ifndef SEAFTIER_TORTURE_UTIL_H
#define SEAFTIER_TORTURE_UTIL_H

#include <glib.h>
#include <seaftier/backend.h>
#include <seaftier/config.h>
#include <seaftier/s3.h>

#define TT_CHECK(cond) do { if (!(cond)) { \
    g_printerr("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); tt_fail_cleanup(); exit(1); } } while (0)
#define TT_CHECK_MSG(cond, ...) do { if (!(cond)) { \
    g_printerr("%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
    g_printerr(__VA_ARGS__); g_printerr("\n"); tt_fail_cleanup(); exit(1); } } while (0)

/* Runs the registered cleanup (kills children, unmounts) before a failure
 * exit. Registered with tt_at_fail(). */
void tt_fail_cleanup(void);
void tt_at_fail(void (*func)(void *), void *data);

/* SEAFTIER_TORTURE_SCALE (default 1.0, 0.5 in sanitizer builds): multiplies
 * durations and counts so the set fits its time budget under ASan. */
double tt_scale(void);
/* max(min, round(n * scale)) */
int tt_scaled(int n, int min);

/* Options for tt_write_conf(). */
typedef struct {
    int port;                   /* S3 port; 0 = the real RGW http port */
    gboolean https;             /* https with the test server's CA (port: its https port) */
    gboolean sse_c;             /* SSE-C (the configuration requires https with it) */
    const char *tier_dir;       /* [tier] dir; NULL = <dir>/tier */
    const char *extra_tier;     /* more [tier] lines, may be NULL */
    const char *extra_s3;       /* more lines in each S3 section, may be NULL */
    const char *bucket_prefix;  /* "tt" when NULL */
} TTConfOpts;

/* Writes <dir>/seafile.conf (V4, path style, http unless opts->https) with three new buckets;
 * returns the path. The bucket names go to buckets[3] when not NULL. */
char *tt_write_conf(const char *dir, const TTConfOpts *opts, char *buckets[3]);

GKeyFile *tt_load_kf(const char *conf_path);
SeaftierConfig *tt_load_cfg(const char *conf_path);

/* A client for type's bucket talking to the real RGW directly (bypassing
 * any proxy the configuration names), with the configuration's SSE-C key. */
SeaftierS3 *tt_s3_direct(const SeaftierConfig *cfg, SeaftierObjType type);

/* Object bytes from `r` (compressible or random), and their id. */
guint8 *tt_make_object(GRand *r, gsize len, gboolean compressible, char id[41]);
void tt_sha1_hex(const void *data, gsize len, char out[41]);
void tt_random_repo(GRand *r, char out[37]);
/* TRUE when data has length len and its SHA-1 is obj_id. */
gboolean tt_bytes_match(const char *obj_id, const void *data, gsize len);

/* Backends of one configuration. */
typedef struct {
    ObjBackend *obj[2];         /* commits, fs */
    BlockBackend *block;
} TTBackends;
TTBackends *tt_backends_open(const char *conf_path);
void tt_backends_close(TTBackends *be);
/* Writes through the right vtable (blocks: open/write in chunks/commit).
 * Returns TRUE when the backend acknowledged the write. */
gboolean tt_be_write(TTBackends *be, SeaftierObjType type, const char *repo, const char *id,
                     const void *data, gsize len, gboolean need_sync);
/* Reads through the right vtable; FALSE when the backend reports failure. */
gboolean tt_be_read(TTBackends *be, SeaftierObjType type, const char *repo, const char *id,
                    guint8 **data, gsize *len);

/* Spawns `argv[0]` with the rest; stdout/stderr to `log_path` (appended)
 * when not NULL. */
GPid tt_spawn(char **argv, const char *log_path);
/* seaftierd -f -c conf_dir --log-file log_path [extra args, NULL-terminated]. */
GPid tt_spawn_daemon(const char *conf_dir, const char *log_path, ...) G_GNUC_NULL_TERMINATED;
/* Sends sig and reaps; returns the wait status. When sig is 0 only waits
 * (up to timeout_s, then SIGKILL; -1). */
int tt_kill_wait(GPid pid, int sig, int timeout_s);
/* TRUE when the seaftierd of `tier_dir` answers "ping" on its control
 * socket (<tier_dir>/seaftierd.sock) within timeout_s: it is then past
 * start-up, its signal handlers installed. */
gboolean tt_daemon_ready(const char *tier_dir, int timeout_s);
/* Stops a daemon the graceful way: waits until it is ready (a SIGTERM
 * during start-up kills it with the default action), sends SIGTERM, reaps.
 * Returns the wait status. */
int tt_daemon_term(GPid pid, const char *tier_dir);
/* Runs a command to completion, capturing output; returns the exit code
 * (or -1 on a signal). */
int tt_run(char **argv, char **out, char **err);
/* Paths of the built programs. */
const char *tt_seaftierd(void);
const char *tt_admin(void);

/* PRAGMA integrity_check on the index; FALSE with the answer in *msg. */
gboolean tt_integrity_check(const char *db_path, char **msg);
/* A connection of its own to the index (read-only or read-write, waiting
 * for locks) with the index's id functions: SQL names an id as tier_id(?)
 * or tier_id('<id>') and reads one back with tier_id_text(obj_id).
 * sqlite3_close() it. */
struct sqlite3;
struct sqlite3 *tt_open_index(const char *db_path, gboolean readonly);
/* SELECT count(*) ... helper on the index: an integer query result. */
gint64 tt_sql_int(const char *db_path, const char *sql);
/* Runs one statement on the index (for tests that damage it). */
void tt_sql_exec(const char *db_path, const char *sql);

/* Flips one byte in the middle of the inline blob of `obj_id` (for tests
 * that damage the index). FALSE when the object has no inline blob. */
gboolean tt_sql_flip_blob_byte(const char *db_path, const char *obj_id);

/* Dirty objects left in the tier (index query). */
gint64 tt_dirty_count(const char *tier_dir);
/* Waits until no dirty (and, with deletes, no deleted) row is left. */
gboolean tt_wait_drained(const char *tier_dir, gboolean deletes, int timeout_s);

/* The fault proxy (tests/torture/faultproxy.py) in front of RGW. */
typedef struct {
    GPid pid;
    int port;
    char *stats_path;
    char *log_path;
} TTProxy;
/* Starts the proxy with extra arguments (NULL-terminated), e.g. "--rate",
 * "0.2", "--faults", "500,503,reset,stall,slow". */
TTProxy *tt_proxy_start(const char *dir, ...) G_GNUC_NULL_TERMINATED;
/* A counter from the proxy's stats file ("requests", "faults", ...). */
gint64 tt_proxy_stat(TTProxy *p, const char *name);
void tt_proxy_stop(TTProxy *p);

/* Deletes every object in the three buckets of `conf_path` (directly on
 * RGW): the test server keeps its data in RAM, shared by every test. */
void tt_empty_buckets(const char *conf_path);

/* Contents of a file (NULL if unreadable). */
char *tt_slurp(const char *path, gsize *len);
/* Milliseconds of monotonic time. */
double tt_now_ms(void);

#endif
