/*
 * lib/sync/migrate-state.h — what a migration or an export has confirmed,
 * kept in SQLite so that a run killed at any point resumes where it was:
 * an object recorded here was written to the target and (when asked) read
 * back, and is never sent again by a resumed run.
 *
 * Records are committed in small batches (every 64 records or 200 ms, and
 * at close), so a kill loses at most the last batch: those objects were
 * written but not recorded, and are sent once more — a content-addressed
 * object written twice is the same object. The file also records which job
 * it belongs to (source and target), and refuses to resume another one.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef SEAFTIER_SYNC_MIGRATE_STATE_H
#define SEAFTIER_SYNC_MIGRATE_STATE_H

#include <glib.h>
#include <seaftier/config.h>

typedef struct SeaftierMigrateState SeaftierMigrateState;

/* Opens (creating when needed, 0600) the state at `path` for the job
 * described by `job` (e.g. "storage /srv/seafile-data/storage -> buckets a,
 * b, c"); a file recorded for another job is an error naming both. */
SeaftierMigrateState *seaftier_migrate_state_open(const char *path, const char *job,
                                                  GError **error);

/* TRUE when the object was confirmed by an earlier or this run. */
gboolean seaftier_migrate_state_is_done(SeaftierMigrateState *st, SeaftierObjType type,
                                        const char *key);

/* Records a confirmed object (committed with the next batch). */
gboolean seaftier_migrate_state_mark_done(SeaftierMigrateState *st, SeaftierObjType type,
                                          const char *key, guint64 size, GError **error);

/* Objects confirmed so far (all runs). */
guint64 seaftier_migrate_state_count(SeaftierMigrateState *st);

/* Commits what is pending and closes; FALSE when the last commit failed.
 * NULL is a no-op (TRUE). */
gboolean seaftier_migrate_state_close(SeaftierMigrateState *st, GError **error);

#endif
