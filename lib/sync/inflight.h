/*
 * lib/sync/inflight.h — the set of objects with a remote request in flight.
 *
 * Invariant it exists for: one key never has a PUT and a DELETE in flight at
 * once (their order at S3 would be undefined, and a DELETE overtaken by an
 * older PUT would leave a deleted object in the bucket). The engine's
 * uploads, direct PUTs and remote deletes claim a key here before their
 * request and release it after the index is updated.
 */
#ifndef SEAFTIER_SYNC_INFLIGHT_H
#define SEAFTIER_SYNC_INFLIGHT_H

#include <glib.h>
#include "tier/tier.h"

typedef struct SeaftierInflight SeaftierInflight;

typedef enum {
    SEAFTIER_INFLIGHT_PUT = 1,
    SEAFTIER_INFLIGHT_DELETE = 2,
} SeaftierInflightOp;

SeaftierInflight *seaftier_inflight_new(void);
void seaftier_inflight_free(SeaftierInflight *set);

/* Claims (type, repo, obj) for `op`. FALSE if any request for it is in flight. */
gboolean seaftier_inflight_claim(SeaftierInflight *set, SeaftierObjType type, const char *repo_id,
                                 const char *obj_id, SeaftierInflightOp op);

/* Releases a claim and wakes waiters. */
void seaftier_inflight_release(SeaftierInflight *set, SeaftierObjType type, const char *repo_id,
                               const char *obj_id);

/* TRUE if a request for the object is in flight. */
gboolean seaftier_inflight_contains(SeaftierInflight *set, SeaftierObjType type,
                                    const char *repo_id, const char *obj_id);

/* Waits until no request for the object is in flight, at most until the
 * monotonic time `deadline_us`. TRUE when the object is free. */
gboolean seaftier_inflight_wait(SeaftierInflight *set, SeaftierObjType type, const char *repo_id,
                                const char *obj_id, gint64 deadline_us);

#endif
