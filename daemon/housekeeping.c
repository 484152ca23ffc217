/* daemon/housekeeping.c — the daemon's two background threads.
 *
 * Housekeeping carries remote deletes to S3 and runs eviction, woken by
 * nudges and finished uploads, and every few seconds anyway. The prober
 * probes each bucket at start and re-probes the ones that failed: a bucket
 * is only written to (uploads, deletes) once its probe passed, so a bucket
 * that cannot take our writes leaves its objects dirty and visible instead
 * of piling up failures. Both threads stay out of the main loop because S3
 * requests block for as long as retries and timeouts allow. */
#include "seaftier-build.h"

#include "daemon.h"
#include "deleter.h"
#include "probe.h"

#include <seaftier/log.h>
#include <string.h>

#define HK_INTERVAL_US (5 * G_USEC_PER_SEC)
#define HK_EVICT_MIN_US (G_USEC_PER_SEC)
#define DELETE_BATCH 500
#define REPROBE_UNREACHABLE_S 30
#define REPROBE_REFUSED_S 300

static gboolean
hk_should_stop(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    gboolean stop = d->threads_stop;
    g_mutex_unlock(&d->hk_lock);
    return stop;
}

static void
thread_exits(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    d->threads_running--;
    g_cond_broadcast(&d->hk_cond);
    g_mutex_unlock(&d->hk_lock);
}

static gpointer
housekeeping_main(gpointer data)
{
    SeaftierDaemon *d = data;
    gint64 last_evict = 0;
    gboolean more = FALSE;
    for (;;) {
        g_mutex_lock(&d->hk_lock);
        gint64 deadline = g_get_monotonic_time() + HK_INTERVAL_US;
        while (!d->threads_stop && !d->hk_wake && !more) {
            if (!g_cond_wait_until(&d->hk_cond, &d->hk_lock, deadline))
                break;
        }
        d->hk_wake = FALSE;
        gboolean stop = d->threads_stop;
        g_mutex_unlock(&d->hk_lock);
        if (stop)
            break;

        more = FALSE;
        for (int t = 0; t < SEAFTIER_N_TYPES && !hk_should_stop(d); t++) {
            if (seaftier_metrics_get_backend(d->metrics, t, NULL) != SEAFTIER_BACKEND_OK)
                continue;
            guint handled = 0;
            GError *err = NULL;
            if (!seaftier_delete_pass(d->env->tier, d->env->s3[t], t, d->inflight, d->metrics,
                                      DELETE_BATCH, &handled, &err)) {
                seaftier_error("remote deletes (%s): cannot read the index: %s",
                               seaftier_type_name(t), err->message);
                g_error_free(err);
                continue;
            }
            if (handled == DELETE_BATCH)
                more = TRUE;
        }
        gint64 now = g_get_monotonic_time();
        if (now - last_evict >= HK_EVICT_MIN_US && !hk_should_stop(d)) {
            seaftier_evictor_run(d);
            last_evict = now;
        }
    }
    thread_exits(d);
    return NULL;
}

static gpointer
prober_main(gpointer data)
{
    SeaftierDaemon *d = data;
    gint64 due[SEAFTIER_N_TYPES] = { 0 };
    for (;;) {
        for (int t = 0; t < SEAFTIER_N_TYPES && !hk_should_stop(d); t++) {
            gint64 now = g_get_monotonic_time();
            SeaftierBackendState state = seaftier_metrics_get_backend(d->metrics, t, NULL);
            if (state == SEAFTIER_BACKEND_OK || now < due[t])
                continue;
            const SeaftierS3Config *cfg = &d->env->cfg->s3[t];
            char *problem = NULL;
            const char *advice = NULL;
            SeaftierProbeResult r = seaftier_probe_bucket(d->env->s3[t], cfg, &problem, &advice);
            char *msg = problem ? g_strdup_printf("%s; what to do: %s", problem,
                                                  advice ? advice : "see the error") : NULL;
            g_free(problem);
            switch (r) {
            case SEAFTIER_PROBE_OK:
                seaftier_info("[%s] bucket %s passed the write probe%s", cfg->section, cfg->bucket,
                              cfg->sse_c_key ? " (with SSE-C)" : "");
                seaftier_metrics_set_backend(d->metrics, t, SEAFTIER_BACKEND_OK, NULL);
                seaftier_scheduler_kick(d);
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
    thread_exits(d);
    return NULL;
}

void
seaftier_housekeeping_start(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    d->threads_running = 2;
    g_mutex_unlock(&d->hk_lock);
    d->probe_thread = g_thread_new("seaftierd-probe", prober_main, d);
    d->hk_thread = g_thread_new("seaftierd-housekeeping", housekeeping_main, d);
}

void
seaftier_housekeeping_wake(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    d->hk_wake = TRUE;
    g_cond_broadcast(&d->hk_cond);
    g_mutex_unlock(&d->hk_lock);
}

void
seaftier_housekeeping_reprobe(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    d->probe_wake = TRUE;
    g_cond_broadcast(&d->hk_cond);
    g_mutex_unlock(&d->hk_lock);
}

gboolean
seaftier_housekeeping_stop(SeaftierDaemon *d, gint64 deadline_us)
{
    if (!d->hk_thread)
        return TRUE;
    g_mutex_lock(&d->hk_lock);
    d->threads_stop = TRUE;
    g_cond_broadcast(&d->hk_cond);
    while (d->threads_running > 0) {
        if (!g_cond_wait_until(&d->hk_cond, &d->hk_lock, deadline_us))
            break;
    }
    gboolean all = d->threads_running == 0;
    g_mutex_unlock(&d->hk_lock);
    if (!all)
        return FALSE;
    g_thread_join(d->hk_thread);
    g_thread_join(d->probe_thread);
    d->hk_thread = d->probe_thread = NULL;
    return TRUE;
}
