/* daemon/prober.c — the prober thread: probes each bucket at start (through
 * the sync engine's probe, lib/sync/probe.h) and re-probes the ones that
 * failed. A bucket is only written to (uploads, deletes) once its probe
 * passed, so a bucket that cannot take our writes leaves its objects dirty
 * and visible instead of piling up failures. */
#include "seaftier-build.h"

#include "daemon.h"
#include "sync/probe.h"

#include <seaftier/log.h>
#include <string.h>

#define REPROBE_UNREACHABLE_S 30
#define REPROBE_REFUSED_S 300

static gpointer
prober_main(gpointer data)
{
    SeaftierDaemon *d = data;
    gint64 due[SEAFTIER_N_TYPES] = { 0 };
    for (;;) {
        for (int t = 0; t < SEAFTIER_N_TYPES && !seaftier_threads_should_stop(d); t++) {
            gint64 now = g_get_monotonic_time();
            SeaftierBackendState state = seaftier_metrics_get_backend(d->metrics, t, NULL);
            if (state == SEAFTIER_BACKEND_OK || now < due[t])
                continue;
            const SeaftierS3Config *cfg = &d->site->cfg->s3[t];
            char *problem = NULL;
            const char *advice = NULL;
            SeaftierProbeResult r = seaftier_probe_remote(d->site->remote[t], &problem, &advice);
            char *msg = problem ? g_strdup_printf("%s; what to do: %s", problem,
                                                  advice ? advice : "see the error") : NULL;
            g_free(problem);
            switch (r) {
            case SEAFTIER_PROBE_OK:
                seaftier_info("[%s] bucket %s passed the write probe%s", cfg->section, cfg->bucket,
                              cfg->sse_c_key ? " (with SSE-C)" : "");
                seaftier_metrics_set_backend(d->metrics, t, SEAFTIER_BACKEND_OK, NULL);
                seaftier_housekeeping_wake(d);
                break;
            case SEAFTIER_PROBE_TRANSIENT:
                seaftier_warning("[%s] bucket %s is unreachable, probing again in %d s: %s",
                                 cfg->section, cfg->bucket, REPROBE_UNREACHABLE_S, msg);
                seaftier_metrics_set_backend(d->metrics, t, SEAFTIER_BACKEND_UNREACHABLE, msg);
                due[t] = g_get_monotonic_time() + REPROBE_UNREACHABLE_S * G_USEC_PER_SEC;
                break;
            case SEAFTIER_PROBE_REFUSED:
                seaftier_error("[%s] bucket %s cannot take our writes; NOT uploading %s objects "
                               "(they stay dirty in the tier) until this is fixed; probing again "
                               "in %d s: %s", cfg->section, cfg->bucket, seaftier_type_name(t),
                               REPROBE_REFUSED_S, msg);
                seaftier_metrics_set_backend(d->metrics, t, SEAFTIER_BACKEND_REFUSED, msg);
                due[t] = g_get_monotonic_time() + REPROBE_REFUSED_S * G_USEC_PER_SEC;
                break;
            }
            g_free(msg);
        }
        gint64 next = G_MAXINT64;
        for (int t = 0; t < SEAFTIER_N_TYPES; t++)
            if (seaftier_metrics_get_backend(d->metrics, t, NULL) != SEAFTIER_BACKEND_OK)
                next = MIN(next, due[t]);
        g_mutex_lock(&d->hk_lock);
        while (!d->threads_stop && !d->probe_wake) {
            if (next == G_MAXINT64)
                g_cond_wait(&d->hk_cond, &d->hk_lock);
            else if (!g_cond_wait_until(&d->hk_cond, &d->hk_lock, next))
                break;
        }
        if (d->probe_wake) {
            d->probe_wake = FALSE;
            memset(due, 0, sizeof due);
        }
        gboolean stop = d->threads_stop;
        g_mutex_unlock(&d->hk_lock);
        if (stop)
            break;
    }
    seaftier_thread_exits(d);
    return NULL;
}

void
seaftier_prober_start(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    d->threads_running++;
    g_mutex_unlock(&d->hk_lock);
    d->probe_thread = g_thread_new("seaftierd-probe", prober_main, d);
}

void
seaftier_prober_reprobe(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    d->probe_wake = TRUE;
    g_cond_broadcast(&d->hk_cond);
    g_mutex_unlock(&d->hk_lock);
}
