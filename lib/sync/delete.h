/*
 * daemon/deleter.h — carries pending remote deletes (DELETED rows left by
 * delete/remove_block/remove_store) to S3, then forgets them.
 *
 * Batches of two or more keys go out as one DeleteObjects request; a single
 * key as a plain DELETE. Keys with a PUT in flight are left for the next
 * pass (see inflight.h). A never-uploaded object has no DELETED row (the
 * tier forgets it at once), so it costs no S3 call.
 */
#ifndef SEAFTIERD_DELETER_H
#define SEAFTIERD_DELETER_H

#include <glib.h>
#include <seaftier/s3.h>
#include "tier/tier.h"
#include "inflight.h"
#include "metrics.h"

/* Deletes up to `limit` pending objects of `type` through `s3`.
 * Returns the number of rows handled (forgotten or failed); with a result of
 * `limit` there may be more. Failures are recorded on their rows with a
 * backoff. FALSE return value only for index errors (in `error`). */
gboolean seaftier_delete_pass(SeaftierTier *tier, SeaftierS3 *s3, SeaftierObjType type,
                              SeaftierInflight *inflight, SeaftierMetrics *metrics, int limit,
                              guint *handled, GError **error);

#endif
