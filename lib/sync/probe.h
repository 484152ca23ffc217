/*
 * lib/sync/probe.h — writes, reads back and deletes a probe object in a
 * remote, to learn before any real upload whether it can take our writes
 * (with the configured SSE-C for S3).
 *
 * seaftierd runs it at start (and again later) and refuses write-back to a
 * bucket that fails it for a permanent reason, so objects stay dirty and
 * visible instead of piling up failed attempts; `seaftier-admin check` runs
 * it and prints the advice.
 *
 * The probe key lives under ".seaftier-probe/", outside every Seafile
 * repo prefix (repo ids are UUIDs), so no listing of a library sees it.
 */
#ifndef SEAFTIER_SYNC_PROBE_H
#define SEAFTIER_SYNC_PROBE_H

#include <glib.h>
#include "sync/remote.h"

typedef enum {
    SEAFTIER_PROBE_OK,
    SEAFTIER_PROBE_TRANSIENT,    /* network/5xx: try again later */
    SEAFTIER_PROBE_REFUSED,      /* the remote cannot take our writes as configured */
} SeaftierProbeResult;

#define SEAFTIER_PROBE_PREFIX ".seaftier-probe/"

/* Probes `remote`. On anything but OK, *message (g_free) says what failed
 * and *advice (static) what to do; never a secret. `advice` may be NULL. */
SeaftierProbeResult seaftier_probe_remote(SeaftierRemote *remote, char **message,
                                          const char **advice);

#endif
