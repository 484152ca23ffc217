/*
 * tests/integration/daemon-testutil.h — what the seaftierd and
 * seaftier-admin integration tests share: a seafile.conf on the real test
 * S3 server, Seafile backends to write objects "as seaf-server does", the
 * daemon as a separate process, the admin tool, and checks against S3.
 */
#ifndef SEAFTIER_DAEMON_TESTUTIL_H
#define SEAFTIER_DAEMON_TESTUTIL_H

#include <glib.h>
#include <seaftier/backend.h>
#include <seaftier/config.h>
#include <seaftier/s3.h>
#include "tier/tier.h"

typedef struct {
    char *dir;                          /* scratch dir holding seafile.conf */
    char *conf_path;
    GKeyFile *kf;
    SeaftierConfig *cfg;                /* the loaded configuration */
    ObjBackend *obj[2];                 /* commits, fs */
    BlockBackend *block;
    SeaftierTier *tier;                 /* the backends' tier (shared) */
    SeaftierS3 *s3[SEAFTIER_N_TYPES];   /* as configured (with SSE-C when set) */
    SeaftierS3 *plain[SEAFTIER_N_TYPES];/* the same without SSE-C */
    char *socket_path;
    GPid daemon;                        /* 0 when not running */
} DT;

/* A fresh configuration (V4, path style, https, SSE-C when `sse_c`) with
 * new buckets, and backends over it. `extra_tier` adds [tier] lines. */
DT *dt_setup(const char *prefix, gboolean sse_c, const char *extra_tier);
/* Same, from seafile.conf text already written to <dir>/seafile.conf; no
 * backends are opened when `backends` is FALSE. */
DT *dt_setup_conf(char *dir, gboolean backends);
/* Opens the backends (and so the tier) as seaf-server does when it starts. */
void dt_open_backends(DT *dt);
void dt_teardown(DT *dt);

/* Starts seaftierd -f on the configuration and waits (10 s) until its
 * control socket answers. Extra arguments may follow (NULL-terminated). */
void dt_start_daemon(DT *dt, ...) G_GNUC_NULL_TERMINATED;
/* Sends `sig`, waits up to `timeout_s` for the exit; returns the wait
 * status (-1 when it did not exit, after which it is SIGKILLed). */
int dt_stop_daemon(DT *dt, int sig, int timeout_s);
/* One request on the control socket; the whole answer (NULL: no daemon). */
char *dt_request(DT *dt, const char *request);
/* A metric's value from the daemon ("name" or "name{labels}"); -1 if absent. */
double dt_metric(DT *dt, const char *name, const char *labels);

/* A random repo id (UUID) / object id (40 hex). */
void dt_random_repo(char out[37]);
void dt_random_obj(char out[41]);
/* Random bytes. */
guint8 *dt_random_bytes(gsize len);

/* Writes an object through the Seafile backend of `type`. */
void dt_write(DT *dt, SeaftierObjType type, const char *repo_id, const char *obj_id,
              const void *data, gsize len);
/* Deletes an object through the backend. */
void dt_delete(DT *dt, SeaftierObjType type, const char *repo_id, const char *obj_id);

/* Objects of a state across types (index). */
guint64 dt_count(DT *dt, SeaftierState state);
/* Polls until no object is dirty (and none deleted when `deletes_too`),
 * at most `timeout_s`. TRUE when reached. */
gboolean dt_wait_settled(DT *dt, gboolean deletes_too, int timeout_s);

/* Runs seaftier-admin with -c <dir> and the given arguments; captures
 * stdout/stderr (may be NULL); returns the exit code. */
int dt_admin(DT *dt, char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
/* Evaluates the python expression `expr` over `d` = json.loads(text).
 * TRUE when it parses and the expression is true. */
gboolean dt_json(const char *text, const char *expr);

#define DT_CHECK(cond) do { if (!(cond)) { \
    g_printerr("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)
#define DT_CHECK_MSG(cond, ...) do { if (!(cond)) { \
    g_printerr("%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
    g_printerr(__VA_ARGS__); g_printerr("\n"); exit(1); } } while (0)

#endif
