/*
 * daemon/probe.h — writes, reads back and deletes a probe object in a
 * bucket with the configured SSE-C, to learn before any real upload whether
 * the bucket can take our writes.
 *
 * seaftierd runs it at start (and again later) and refuses write-back to a
 * bucket that fails it for a permanent reason, so objects stay dirty and
 * visible instead of piling up failed attempts; `seaftier-admin check` runs
 * it and prints the advice.
 *
 * The probe key lives under ".seaftier-probe/", outside every Seafile
 * repo prefix (repo ids are UUIDs), so no listing of a library sees it.
 */
#ifndef SEAFTIERD_PROBE_H
#define SEAFTIERD_PROBE_H

#include <glib.h>
#include <seaftier/config.h>
#include <seaftier/s3.h>

typedef enum {
    SEAFTIER_PROBE_OK,
    SEAFTIER_PROBE_TRANSIENT,    /* network/5xx: try again later */
    SEAFTIER_PROBE_REFUSED,      /* the bucket cannot take our writes as configured */
} SeaftierProbeResult;

#define SEAFTIER_PROBE_PREFIX ".seaftier-probe/"

/* Probes the bucket of `s3` (configured by `cfg`). On anything but OK,
 * *message (g_free) says what failed and *advice (static) what to do; never
 * a secret. `advice` may be NULL. */
SeaftierProbeResult seaftier_probe_bucket(SeaftierS3 *s3, const SeaftierS3Config *cfg,
                                          char **message, const char **advice);

/* What an operator should do about an S3 error on `cfg`'s bucket during
 * `op` ("PUT", "GET", "DELETE", "HEAD", "list"). A static string. */
const char *seaftier_probe_advice(const GError *error, const SeaftierS3Config *cfg, const char *op);

#endif
