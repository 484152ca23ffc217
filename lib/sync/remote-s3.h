/*
 * lib/sync/remote-s3.h — the S3 implementation of the remote interface: one
 * bucket (one Seafile backend section), through a SeaftierS3 client.
 *
 * Objects are stored exactly as Seafile stores them (key "<repo>/<obj>",
 * the raw bytes, SSE-C when configured), plus the x-amz-meta-* of
 * SeaftierRemoteMeta.
 */
#ifndef SEAFTIER_SYNC_REMOTE_S3_H
#define SEAFTIER_SYNC_REMOTE_S3_H

#include <seaftier/config.h>
#include <seaftier/s3.h>
#include "sync/remote.h"

/* Creates the client for `cfg`'s bucket (no network I/O). */
SeaftierRemote *seaftier_remote_s3_new(const SeaftierS3Config *cfg, GError **error);

/* The client behind an S3 remote (owned by it), for S3-only requests such as
 * bucket creation, listing pages and request statistics. */
SeaftierS3 *seaftier_remote_s3_client(SeaftierRemote *r);

/* How the engine treats a SEAFTIER_S3_ERROR (the S3 remote's `classify`). */
SeaftierRemoteErrorClass seaftier_remote_s3_classify(const GError *error);

/* What an operator should do about an S3 error during `op` ("PUT", "GET",
 * "DELETE", "HEAD", "list") on a bucket configured with SSE-C or not. A
 * static string. */
const char *seaftier_remote_s3_advice(const GError *error, gboolean sse_c, const char *op);

#endif
