/*
 * tools/admin.h — what seaftier-admin's subcommands share: common options,
 * opening the configuration/tier/S3 clients, talking to seaftierd's control
 * socket, formatting, and the exit codes.
 */
#ifndef SEAFTIER_ADMIN_H
#define SEAFTIER_ADMIN_H

#include <glib.h>
#include "site.h"
#include "json.h"

/* Exit codes of every subcommand. */
enum {
    ADMIN_EXIT_OK = 0,          /* done, nothing wrong */
    ADMIN_EXIT_PROBLEMS = 1,    /* problems found, or the operation failed */
    ADMIN_EXIT_USAGE = 2,       /* bad arguments or configuration */
};

typedef struct {
    char *config_dir;
    char *seafile_dir;
    gboolean json;
} AdminCommon;

/* Parses argv for a subcommand: `entries` plus -c/-d (and --json when
 * `with_json`). On --help prints and exits 0; on a usage error prints and
 * returns FALSE. `params` describes the positional arguments. */
gboolean admin_parse(int *argc, char ***argv, const char *name, const char *params,
                     const char *summary, const GOptionEntry *entries, gboolean with_json,
                     AdminCommon *common);

/* Loads the configuration (and opens the tier / S3 clients when asked).
 * Prints the error and returns NULL on failure (exit code 2 for config
 * problems, 1 for tier/S3 ones, in *exit_code). */
SeaftierSite *admin_open(const AdminCommon *common, gboolean tier, gboolean s3, int *exit_code);

void admin_common_clear(AdminCommon *common);

/* Prints "seaftier-admin NAME: message" on stderr. */
void admin_error(const char *name, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* --type: sets *type to the type named by `type_name`, or -1 when it is
 * NULL. FALSE (after admin_error) for an unknown name. */
gboolean admin_type_filter(const char *name, const char *type_name, int *type);

/* --repo: TRUE when `repo_id` is NULL or a UUID, else admin_error + FALSE. */
gboolean admin_repo_filter(const char *name, const char *repo_id);

/* "1.5 MiB", "312 B". Returns buf. */
const char *admin_bytes(guint64 bytes, char buf[32]);
/* "3d 4h", "5m 02s", "12s". Returns buf. */
const char *admin_duration(gint64 seconds, char buf[32]);
/* "2026-11-25 13:02:11" (UTC), "-" for 0. Returns buf. */
const char *admin_time(gint64 unix_seconds, char buf[32]);

/* ---- seaftierd's control socket ---- */

/* Connects to the daemon's control socket. -1 (errno set) when no daemon
 * answers there. */
int admin_daemon_connect(const char *socket_path);
/* Sends one request line and returns the whole answer (NULL when no
 * daemon answers). */
char *admin_daemon_request(const char *socket_path, const char *request);
/* Reads one line (without the newline) from fd, waiting at most until
 * monotonic `deadline_us` (0 = forever). NULL at end of stream, error or
 * timeout (*timed_out set). */
char *admin_read_line(int fd, GString *buf, gint64 deadline_us, gboolean *timed_out);
/* Extracts the value of a metric line "NAME VALUE" or "NAME{labels} VALUE"
 * (labels matched exactly when given) from Prometheus text. */
gboolean admin_metric(const char *text, const char *name, const char *labels, double *value);

/* Subcommands: each returns an exit code. */
int admin_cmd_status(int argc, char **argv);
int admin_cmd_flush(int argc, char **argv);
int admin_cmd_ls(int argc, char **argv);
int admin_cmd_inspect(int argc, char **argv);
int admin_cmd_evict(int argc, char **argv);
int admin_cmd_warmup(int argc, char **argv);
int admin_cmd_verify(int argc, char **argv);
int admin_cmd_check(int argc, char **argv);
int admin_cmd_migrate(int argc, char **argv);
int admin_cmd_export(int argc, char **argv);

#endif
