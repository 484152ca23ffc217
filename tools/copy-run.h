/*
 * tools/copy-run.h — the part `seaftier-admin migrate` and `export` share:
 * running a copy of many objects with --jobs workers, an optional rate
 * limit, a resumable state (objects it confirmed are skipped next time),
 * --on-error=skip|stop, a progress bar, and the summary (text or JSON).
 *
 * The per-object work (read, check, write, read back) is the command's own
 * `copy` function; everything that reaches a configured bucket goes through
 * the sync engine (lib/sync/transfer.h).
 */
#ifndef SEAFTIER_ADMIN_COPY_RUN_H
#define SEAFTIER_ADMIN_COPY_RUN_H

#include <glib.h>
#include "sync/migrate-state.h"

typedef struct {
    SeaftierObjType type;
    char repo_id[37];
    char obj_id[41];
    guint64 size;               /* as listed (0 when unknown) */
} CopyItem;

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

typedef struct {
    const char *what;           /* "migrate", "export" */
    int jobs;                   /* >= 1 */
    double rate_objects;        /* objects/s, 0 = unlimited */
    double rate_bytes;          /* bytes/s, 0 = unlimited */
    gboolean stop_on_error;     /* --on-error=stop */
    gboolean dry_run;           /* count only */
    gboolean json;              /* no progress; JSON summary */
    SeaftierMigrateState *state;
    CopyFunc copy;
    void *user_data;
} CopyRun;

typedef struct {
    guint64 listed, listed_bytes;
    guint64 already_done;       /* confirmed by an earlier run (skipped) */
    guint64 copied, copied_bytes;
    guint64 already_in_target;
    guint64 gone;
    guint64 failed;
    GPtrArray *failures;        /* "TYPE REPO/OBJ: message" */
    gboolean stopped;           /* --on-error=stop ended the run early */
    double seconds;
} CopyResult;

/* Sorts `items` (blocks, then fs, then commits: a commit is never in the
 * target before the objects it refers to) and runs the copy. */
void copy_run(const CopyRun *run, GArray *items, CopyResult *result);

/* Prints the summary (text on stdout, or one JSON object with `extra_json`
 * members, e.g. "\"source\":...," — may be NULL) and returns the exit code. */
int copy_result_report(const CopyRun *run, const CopyResult *result, const char *extra_json);

void copy_result_clear(CopyResult *result);

/* Parses --rate: "N" objects/s, or "N MB/s"/"NMB" (MB = 10^6 bytes). */
gboolean copy_parse_rate(const char *text, double *objects, double *bytes);

#endif
