/*
 * tools/copy-run.h — the part `seaftier-admin migrate` and `export` share:
 * their common options (--state, --jobs, --rate, --dry-run, --verify,
 * --on-error, --type, --repo), the tier and the resumable state (objects a
 * run confirmed are skipped next time), running a copy of many objects with
 * --jobs workers and an optional rate limit, a progress bar, and the summary
 * (text or JSON).
 *
 * The per-object work (read, check, write, read back) is the command's own
 * `copy` function; everything that reaches a configured bucket goes through
 * the sync engine (lib/sync/transfer.h).
 */
#ifndef SEAFTIER_ADMIN_COPY_RUN_H
#define SEAFTIER_ADMIN_COPY_RUN_H

#include <glib.h>
#include "admin.h"
#include "sync/migrate-state.h"

typedef struct {
    SeaftierObjType type;
    char repo_id[37];
    char obj_id[41];
    guint64 size;               /* as listed (0 when unknown) */
} CopyItem;

/* The options every copy command takes, as given and as parsed. */
typedef struct {
    char *state_path;           /* --state; NULL: the command's default */
    char *type_name, *repo, *rate, *on_error;
    gboolean dry_run, verify;
    int jobs;                   /* 0: the configured upload_concurrency */
    int type;                   /* --type parsed: -1 = every type */
    double rate_objects, rate_bytes;    /* --rate parsed: 0 = unlimited */
} CopyOptions;

/* Parses argv for the copy command `what` ("migrate", "export"): its own
 * `entries` (NULL-terminated, may be NULL), the copy options into `o`
 * (--state described by `state_help`), and -c/-d/--json into `common`; then
 * checks --on-error, --rate, --jobs, --type and --repo. FALSE after a message
 * naming the bad option. */
gboolean copy_options_parse(int *argc, char ***argv, const char *what, const char *params,
                            const char *summary, const GOptionEntry *entries,
                            const char *state_help, CopyOptions *o, AdminCommon *common);

void copy_options_clear(CopyOptions *o);

/* The item of key "<repo_id>/<obj_id>" (an S3 key, or a path under a
 * storage dir's type directory) of `type`; FALSE for any other key (the
 * bucket probe's, foreign files). */
gboolean copy_item_from_key(SeaftierObjType type, const char *key, guint64 size, CopyItem *item);

/* Opens `site`'s tier (creating its directory): the state and the engine
 * need it. FALSE after a message naming the tier dir. */
gboolean copy_open_tier(const char *what, SeaftierSite *site);

/* Opens the resume state at `path` for `job` (a run of another job is
 * refused: see migrate-state.h). NULL after a message. */
SeaftierMigrateState *copy_state_open(const char *what, const char *path, const char *job);

/* Closes `state` (may be NULL); returns `rc`, or ADMIN_EXIT_PROBLEMS after a
 * message when what was confirmed could not be saved. */
int copy_state_close(const char *what, SeaftierMigrateState *state, int rc);

typedef enum {
    COPY_COPIED,                /* written (and read back when asked) */
    COPY_ALREADY,               /* the target already holds it (e.g. already encrypted) */
    COPY_GONE,                  /* listed, but deleted before it was read: nothing to copy */
    COPY_FAILED,                /* error set */
    COPY_FAILED_ALL,            /* error set, and it concerns every object (a refused
                                 * bucket): the run stops whatever --on-error says */
} CopyOutcome;

/* Copies one object; *bytes = bytes written. Called from the workers. */
typedef CopyOutcome (*CopyFunc)(const CopyItem *item, guint64 *bytes, GError **error,
                                void *user_data);

/* After a run that copied (not a dry run), before the summary: FALSE (after
 * a message) makes the exit code ADMIN_EXIT_PROBLEMS. */
typedef gboolean (*CopyFinishFunc)(void *user_data);

typedef struct {
    const char *what;           /* "migrate", "export" */
    int jobs;                   /* >= 1 */
    double rate_objects;        /* objects/s, 0 = unlimited */
    double rate_bytes;          /* bytes/s, 0 = unlimited */
    gboolean stop_on_error;     /* --on-error=stop */
    gboolean dry_run;           /* count only */
    gboolean json;              /* no progress; JSON summary */
    gboolean verified;          /* every object is read back (reported) */
    SeaftierMigrateState *state;
    CopyFunc copy;
    CopyFinishFunc finish;      /* may be NULL */
    void *user_data;            /* for copy and finish */
} CopyRun;

/* The run `o` asks for on `site`'s configuration (--jobs defaults to
 * upload_concurrency); `verified` = o->verify, `finish` NULL. */
void copy_run_init(CopyRun *run, const char *what, const CopyOptions *o, gboolean json,
                   const SeaftierSite *site, SeaftierMigrateState *state, CopyFunc copy,
                   void *user_data);

/* Runs the copy of `items`, sorted first (blocks, then fs, then commits: a
 * commit is never in the target before the objects it refers to; the state's
 * confirmed objects are skipped), then run->finish (unless a dry run), then
 * prints the summary: text on stdout, or one JSON object starting with the
 * members `extra_json` (e.g. "\"source\":\"...\"", may be NULL). Returns
 * the exit code (ADMIN_EXIT_PROBLEMS when any object failed). */
int copy_run_report(const CopyRun *run, GArray *items, const char *extra_json);

#endif
