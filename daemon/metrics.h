/*
 * daemon/metrics.h — seaftierd's counters and gauges, rendered as Prometheus
 * text (the control socket's "metrics" request and GET /metrics) and as the
 * JSON of the "status" request.
 *
 * Counters are updated lock-free from the upload workers and the
 * housekeeping thread; gauges are read from the tier's index when rendered.
 * Hits and misses are those the tier reports for this process.
 */
#ifndef SEAFTIERD_METRICS_H
#define SEAFTIERD_METRICS_H

#include <glib.h>
#include "site.h"

/* What the start-up probe found for a backend. */
typedef enum {
    SEAFTIER_BACKEND_UNKNOWN = 0,   /* not probed yet (or probing) */
    SEAFTIER_BACKEND_OK = 1,        /* PUT/GET/DELETE of a probe object worked */
    SEAFTIER_BACKEND_UNREACHABLE = 2, /* transient failure: probed again soon */
    SEAFTIER_BACKEND_REFUSED = 3,   /* the bucket cannot take our writes: no uploads */
} SeaftierBackendState;

const char *seaftier_backend_state_name(SeaftierBackendState state);

#define SEAFTIER_RATE_SLOTS 16

typedef struct {
    gint64 start_time;              /* unix seconds */
    guint64 uploads_ok;
    guint64 uploads_failed;         /* every failed attempt */
    guint64 upload_retries;         /* failed attempts that will be retried */
    guint64 upload_bytes;
    guint64 deletes_ok;
    guint64 deletes_failed;
    guint64 evicted_objects;
    guint64 evicted_bytes;
    guint64 nudges;

    GMutex lock;                    /* guards what follows */
    gint64 rate_second[SEAFTIER_RATE_SLOTS];
    guint64 rate_bytes[SEAFTIER_RATE_SLOTS];
    guint64 rate_objects[SEAFTIER_RATE_SLOTS];
    SeaftierBackendState backend_state[SEAFTIER_N_TYPES];
    char *backend_message[SEAFTIER_N_TYPES];
} SeaftierMetrics;

SeaftierMetrics *seaftier_metrics_new(void);
void seaftier_metrics_free(SeaftierMetrics *m);

/* Atomic counter increment. */
void seaftier_metrics_add(guint64 *counter, guint64 n);
guint64 seaftier_metrics_get(const guint64 *counter);

/* Records one finished upload attempt. */
void seaftier_metrics_upload_done(SeaftierMetrics *m, guint64 bytes, gboolean ok,
                                  gboolean will_retry);

/* Upload rate over the last 10 seconds. */
void seaftier_metrics_upload_rate(SeaftierMetrics *m, double *bytes_per_s, double *objects_per_s);

/* Sets what the probe found for a backend (message may be NULL). */
void seaftier_metrics_set_backend(SeaftierMetrics *m, SeaftierObjType type,
                                  SeaftierBackendState state, const char *message);
/* Returns the backend state and a copy of its message (g_free, may be NULL). */
SeaftierBackendState seaftier_metrics_get_backend(SeaftierMetrics *m, SeaftierObjType type,
                                                  char **message);

/* Prometheus text exposition format 0.0.4. */
char *seaftier_metrics_prometheus(SeaftierMetrics *m, SeaftierSite *site, guint uploads_in_flight);

/* The daemon's status as one JSON object (one line). */
char *seaftier_metrics_status_json(SeaftierMetrics *m, SeaftierSite *site, guint uploads_in_flight);

#endif
