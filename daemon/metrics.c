/* daemon/metrics.c — see metrics.h. */
#include "seaftier-build.h"

#include "metrics.h"
#include "json.h"

#include <seaftier/log.h>
#include <unistd.h>

static const char *const backend_state_names[] = { "unknown", "ok", "unreachable", "refused" };

const char *
seaftier_backend_state_name(SeaftierBackendState state)
{
    if ((unsigned)state < G_N_ELEMENTS(backend_state_names))
        return backend_state_names[state];
    return "unknown";
}

SeaftierMetrics *
seaftier_metrics_new(void)
{
    SeaftierMetrics *m = g_new0(SeaftierMetrics, 1);
    m->start_time = g_get_real_time() / G_USEC_PER_SEC;
    g_mutex_init(&m->lock);
    return m;
}

void
seaftier_metrics_free(SeaftierMetrics *m)
{
    if (!m)
        return;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        g_free(m->backend_message[t]);
    g_mutex_clear(&m->lock);
    g_free(m);
}

void
seaftier_metrics_add(guint64 *counter, guint64 n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

guint64
seaftier_metrics_get(const guint64 *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void
seaftier_metrics_upload_done(SeaftierMetrics *m, guint64 bytes, gboolean ok, gboolean will_retry)
{
    if (!m)
        return;
    if (!ok) {
        seaftier_metrics_add(&m->uploads_failed, 1);
        if (will_retry)
            seaftier_metrics_add(&m->upload_retries, 1);
        return;
    }
    seaftier_metrics_add(&m->uploads_ok, 1);
    seaftier_metrics_add(&m->upload_bytes, bytes);
    gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
    int slot = (int)(now % SEAFTIER_RATE_SLOTS);
    g_mutex_lock(&m->lock);
    if (m->rate_second[slot] != now) {
        m->rate_second[slot] = now;
        m->rate_bytes[slot] = 0;
        m->rate_objects[slot] = 0;
    }
    m->rate_bytes[slot] += bytes;
    m->rate_objects[slot]++;
    g_mutex_unlock(&m->lock);
}

void
seaftier_metrics_upload_rate(SeaftierMetrics *m, double *bytes_per_s, double *objects_per_s)
{
    /* The current second is still filling: average over the 10 before it. */
    const int window = 10;
    gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
    guint64 bytes = 0, objects = 0;
    g_mutex_lock(&m->lock);
    for (int i = 0; i < SEAFTIER_RATE_SLOTS; i++) {
        gint64 age = now - m->rate_second[i];
        if (age >= 1 && age <= window) {
            bytes += m->rate_bytes[i];
            objects += m->rate_objects[i];
        }
    }
    g_mutex_unlock(&m->lock);
    if (bytes_per_s)
        *bytes_per_s = (double)bytes / window;
    if (objects_per_s)
        *objects_per_s = (double)objects / window;
}

void
seaftier_metrics_set_backend(SeaftierMetrics *m, SeaftierObjType type, SeaftierBackendState state,
                             const char *message)
{
    g_mutex_lock(&m->lock);
    m->backend_state[type] = state;
    g_free(m->backend_message[type]);
    m->backend_message[type] = g_strdup(message);
    g_mutex_unlock(&m->lock);
}

SeaftierBackendState
seaftier_metrics_get_backend(SeaftierMetrics *m, SeaftierObjType type, char **message)
{
    g_mutex_lock(&m->lock);
    SeaftierBackendState state = m->backend_state[type];
    if (message)
        *message = g_strdup(m->backend_message[type]);
    g_mutex_unlock(&m->lock);
    return state;
}

static void
prom_header(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are bucket names and fixed words; escape anyway. */
static void
prom_label_value(GString *out, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(out, '\\');
        if (*p == '\n') {
            g_string_append(out, "\\n");
            continue;
        }
        g_string_append_c(out, *p);
    }
}

char *
seaftier_metrics_prometheus(SeaftierMetrics *m, SeaftierSite *site, guint uploads_in_flight)
{
    GString *out = g_string_new(NULL);
    SeaftierTierStats st;
    GError *err = NULL;
    gboolean have_stats = site->tier && seaftier_tier_stats(site->tier, &st, &err);
    if (!have_stats && err) {
        seaftier_warning("metrics: cannot read tier statistics: %s", err->message);
        g_clear_error(&err);
    }
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    if (have_stats) {
        static const struct { const char *name, *help; int which; } per_state[] = {
            { "seaftier_tier_objects", "Objects in the tier index by type and state.", 0 },
            { "seaftier_tier_bytes", "Original bytes of the objects in the tier by type and state.", 1 },
            { "seaftier_tier_stored_bytes", "Bytes on disk (after compression) by type and state.", 2 },
        };
        for (gsize k = 0; k < G_N_ELEMENTS(per_state); k++) {
            prom_header(out, per_state[k].name, "gauge", per_state[k].help);
            for (int t = 0; t < SEAFTIER_N_TYPES; t++)
                for (int s = 0; s < SEAFTIER_N_STATES; s++) {
                    guint64 v = per_state[k].which == 0 ? st.objects[t][s]
                              : per_state[k].which == 1 ? st.bytes[t][s] : st.stored_bytes[t][s];
                    g_string_append_printf(out, "%s{type=\"%s\",state=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                           per_state[k].name, seaftier_type_name(t),
                                           seaftier_state_name(s), v);
                }
        }
        guint64 dirty_objects = 0, dirty_bytes = 0;
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            dirty_objects += st.objects[t][SEAFTIER_STATE_DIRTY];
            dirty_bytes += st.bytes[t][SEAFTIER_STATE_DIRTY];
        }
        prom_header(out, "seaftier_dirty_objects", "gauge", "Objects waiting for upload.");
        g_string_append_printf(out, "seaftier_dirty_objects %" G_GUINT64_FORMAT "\n", dirty_objects);
        prom_header(out, "seaftier_dirty_bytes", "gauge", "Bytes waiting for upload.");
        g_string_append_printf(out, "seaftier_dirty_bytes %" G_GUINT64_FORMAT "\n", dirty_bytes);
        prom_header(out, "seaftier_oldest_dirty_age_seconds", "gauge",
                    "Age of the oldest object waiting for upload (0 if none).");
        g_string_append_printf(out, "seaftier_oldest_dirty_age_seconds %" G_GINT64_FORMAT "\n",
                               st.oldest_dirty ? MAX(now - st.oldest_dirty, 0) : 0);
        prom_header(out, "seaftier_tier_used_bytes", "gauge", "Stored bytes counted against max_size.");
        g_string_append_printf(out, "seaftier_tier_used_bytes %" G_GUINT64_FORMAT "\n", st.used_bytes);
        prom_header(out, "seaftier_tier_max_bytes", "gauge", "The tier's max_size.");
        g_string_append_printf(out, "seaftier_tier_max_bytes %" G_GUINT64_FORMAT "\n", st.max_size);
        prom_header(out, "seaftier_fs_free_bytes", "gauge", "Free space on the tier's file system.");
        g_string_append_printf(out, "seaftier_fs_free_bytes %" G_GUINT64_FORMAT "\n", st.fs_free_bytes);
        /* Totals of every process using the tier (seaf-server's reads
         * included), as persisted in the index every few seconds. */
        prom_header(out, "seaftier_hits_total", "counter", "Reads served from the tier (all processes).");
        g_string_append_printf(out, "seaftier_hits_total{level=\"ram\"} %" G_GUINT64_FORMAT "\n"
                               "seaftier_hits_total{level=\"disk\"} %" G_GUINT64_FORMAT "\n",
                               st.ram_hits, st.disk_hits);
        prom_header(out, "seaftier_located_hits_total", "counter",
                    "Disk hits served through the location cache, without the index's key lookup"
                    " (all processes; part of the disk hits).");
        g_string_append_printf(out, "seaftier_located_hits_total %" G_GUINT64_FORMAT "\n",
                               st.located_hits);
        prom_header(out, "seaftier_misses_total", "counter", "Reads the tier could not serve (all processes).");
        g_string_append_printf(out, "seaftier_misses_total %" G_GUINT64_FORMAT "\n", st.misses);
        prom_header(out, "seaftier_tier_read_bytes_total", "counter",
                    "Bytes returned by tier hits (all processes).");
        g_string_append_printf(out, "seaftier_tier_read_bytes_total %" G_GUINT64_FORMAT "\n",
                               st.bytes_read);
        prom_header(out, "seaftier_tier_written_bytes_total", "counter",
                    "Original bytes newly stored in the tier (all processes).");
        g_string_append_printf(out, "seaftier_tier_written_bytes_total %" G_GUINT64_FORMAT "\n",
                               st.bytes_written);
    }

    static const struct { const char *name, *type, *help; gsize off; } counters[] = {
        { "seaftier_uploads_ok_total", "counter", "Objects uploaded and marked clean.",
          G_STRUCT_OFFSET(SeaftierMetrics, uploads_ok) },
        { "seaftier_uploads_failed_total", "counter", "Failed upload attempts.",
          G_STRUCT_OFFSET(SeaftierMetrics, uploads_failed) },
        { "seaftier_upload_retries_total", "counter", "Failed upload attempts scheduled for a retry.",
          G_STRUCT_OFFSET(SeaftierMetrics, upload_retries) },
        { "seaftier_upload_bytes_total", "counter", "Bytes uploaded.",
          G_STRUCT_OFFSET(SeaftierMetrics, upload_bytes) },
        { "seaftier_deletes_ok_total", "counter", "Remote deletes carried to S3.",
          G_STRUCT_OFFSET(SeaftierMetrics, deletes_ok) },
        { "seaftier_deletes_failed_total", "counter", "Failed remote delete attempts.",
          G_STRUCT_OFFSET(SeaftierMetrics, deletes_failed) },
        { "seaftier_evictions_total", "counter", "Clean objects evicted from the tier.",
          G_STRUCT_OFFSET(SeaftierMetrics, evicted_objects) },
        { "seaftier_evicted_bytes_total", "counter", "Bytes evicted from the tier.",
          G_STRUCT_OFFSET(SeaftierMetrics, evicted_bytes) },
        { "seaftier_nudges_total", "counter", "Wake-ups received from the library.",
          G_STRUCT_OFFSET(SeaftierMetrics, nudges) },
    };
    for (gsize k = 0; k < G_N_ELEMENTS(counters); k++) {
        prom_header(out, counters[k].name, counters[k].type, counters[k].help);
        g_string_append_printf(out, "%s %" G_GUINT64_FORMAT "\n", counters[k].name,
                               seaftier_metrics_get(G_STRUCT_MEMBER_P(m, counters[k].off)));
    }
    double bps, ops;
    seaftier_metrics_upload_rate(m, &bps, &ops);
    prom_header(out, "seaftier_upload_bytes_per_second", "gauge", "Upload rate over the last 10 s.");
    g_string_append_printf(out, "seaftier_upload_bytes_per_second %.1f\n", bps);
    prom_header(out, "seaftier_upload_objects_per_second", "gauge", "Upload rate over the last 10 s.");
    g_string_append_printf(out, "seaftier_upload_objects_per_second %.1f\n", ops);
    prom_header(out, "seaftier_uploads_in_flight", "gauge", "PUTs in flight.");
    g_string_append_printf(out, "seaftier_uploads_in_flight %u\n", uploads_in_flight);

    prom_header(out, "seaftier_backend_up", "gauge",
                "1 when the bucket passed the write probe, 0 when it is refused or unreachable.");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        SeaftierBackendState state = seaftier_metrics_get_backend(m, t, NULL);
        g_string_append_printf(out, "seaftier_backend_up{type=\"%s\",bucket=\"", seaftier_type_name(t));
        prom_label_value(out, site->cfg->s3[t].bucket ? site->cfg->s3[t].bucket : "");
        g_string_append_printf(out, "\",state=\"%s\"} %d\n", seaftier_backend_state_name(state),
                               state == SEAFTIER_BACKEND_OK);
    }
    static const struct { const char *name, *help; int which; } s3c[] = {
        { "seaftier_s3_requests_total", "S3 requests sent by the daemon.", 0 },
        { "seaftier_s3_retries_total", "S3 requests retried after a transient error.", 1 },
        { "seaftier_s3_failures_total", "S3 requests that failed.", 2 },
        { "seaftier_s3_bytes_sent_total", "Bytes sent to S3.", 3 },
        { "seaftier_s3_bytes_received_total", "Bytes received from S3.", 4 },
    };
    for (gsize k = 0; k < G_N_ELEMENTS(s3c); k++) {
        prom_header(out, s3c[k].name, "counter", s3c[k].help);
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            SeaftierS3Stats s = { 0 };
            if (site->s3[t])
                seaftier_s3_get_stats(site->s3[t], &s);
            guint64 v = s3c[k].which == 0 ? s.requests : s3c[k].which == 1 ? s.retries
                      : s3c[k].which == 2 ? s.failures : s3c[k].which == 3 ? s.bytes_sent
                      : s.bytes_received;
            g_string_append_printf(out, "%s{type=\"%s\"} %" G_GUINT64_FORMAT "\n", s3c[k].name,
                                   seaftier_type_name(t), v);
        }
    }
    prom_header(out, "seaftier_s3_operation_requests_total", "counter",
                "S3 requests sent by the daemon, by operation (head, get, put, delete, post, list).");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        SeaftierS3Stats s = { 0 };
        if (site->s3[t])
            seaftier_s3_get_stats(site->s3[t], &s);
        for (int op = 0; op < SEAFTIER_S3_N_OPS; op++)
            g_string_append_printf(out, "seaftier_s3_operation_requests_total{type=\"%s\","
                                   "op=\"%s\"} %" G_GUINT64_FORMAT "\n", seaftier_type_name(t),
                                   seaftier_s3_op_name((SeaftierS3Op)op), s.by_op[op]);
    }
    prom_header(out, "seaftier_start_time_seconds", "gauge", "When the daemon started (unix time).");
    g_string_append_printf(out, "seaftier_start_time_seconds %" G_GINT64_FORMAT "\n", m->start_time);
    return g_string_free(out, FALSE);
}

char *
seaftier_metrics_status_json(SeaftierMetrics *m, SeaftierSite *site, guint uploads_in_flight)
{
    GString *out = g_string_new("{");
    seaftier_json_key(out, "pid", TRUE);
    g_string_append_printf(out, "%d", (int)getpid());
    seaftier_json_key(out, "start_time", FALSE);
    g_string_append_printf(out, "%" G_GINT64_FORMAT, m->start_time);
    seaftier_json_key(out, "tier_dir", FALSE);
    seaftier_json_string(out, site->tier_dir);
    seaftier_json_key(out, "uploads_in_flight", FALSE);
    g_string_append_printf(out, "%u", uploads_in_flight);
    double bps, ops;
    seaftier_metrics_upload_rate(m, &bps, &ops);
    seaftier_json_key(out, "upload_bytes_per_second", FALSE);
    g_string_append_printf(out, "%.1f", bps);
    seaftier_json_key(out, "upload_objects_per_second", FALSE);
    g_string_append_printf(out, "%.1f", ops);
    static const struct { const char *name; gsize off; } counters[] = {
        { "uploads_ok", G_STRUCT_OFFSET(SeaftierMetrics, uploads_ok) },
        { "uploads_failed", G_STRUCT_OFFSET(SeaftierMetrics, uploads_failed) },
        { "upload_retries", G_STRUCT_OFFSET(SeaftierMetrics, upload_retries) },
        { "upload_bytes", G_STRUCT_OFFSET(SeaftierMetrics, upload_bytes) },
        { "deletes_ok", G_STRUCT_OFFSET(SeaftierMetrics, deletes_ok) },
        { "deletes_failed", G_STRUCT_OFFSET(SeaftierMetrics, deletes_failed) },
        { "evicted_objects", G_STRUCT_OFFSET(SeaftierMetrics, evicted_objects) },
        { "evicted_bytes", G_STRUCT_OFFSET(SeaftierMetrics, evicted_bytes) },
    };
    for (gsize k = 0; k < G_N_ELEMENTS(counters); k++) {
        seaftier_json_key(out, counters[k].name, FALSE);
        g_string_append_printf(out, "%" G_GUINT64_FORMAT,
                               seaftier_metrics_get(G_STRUCT_MEMBER_P(m, counters[k].off)));
    }
    seaftier_json_key(out, "backends", FALSE);
    g_string_append_c(out, '{');
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        char *msg = NULL;
        SeaftierBackendState state = seaftier_metrics_get_backend(m, t, &msg);
        seaftier_json_key(out, seaftier_type_name(t), t == 0);
        g_string_append_c(out, '{');
        seaftier_json_key(out, "bucket", TRUE);
        seaftier_json_string(out, site->cfg->s3[t].bucket);
        seaftier_json_key(out, "state", FALSE);
        seaftier_json_string(out, seaftier_backend_state_name(state));
        seaftier_json_key(out, "message", FALSE);
        seaftier_json_string(out, msg);
        g_string_append_c(out, '}');
        g_free(msg);
    }
    g_string_append(out, "}}");
    return g_string_free(out, FALSE);
}
