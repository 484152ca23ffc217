/* daemon/housekeeping.c — the housekeeping thread: carries remote deletes
 * (through the sync engine) and runs eviction, woken by nudges and finished
 * uploads, and every few seconds anyway. Also stops the background threads
 * (this one and the prober's). It stays out of the main loop because remote
 * requests block for as long as retries and timeouts allow. */
#include "seaftier-build.h"

#include "daemon.h"

#include <seaftier/log.h>
#include <string.h>

#define HK_INTERVAL_US (5 * G_USEC_PER_SEC)
#define HK_EVICT_MIN_US (G_USEC_PER_SEC)
#define DELETE_BATCH 500

gboolean
seaftier_threads_should_stop(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    gboolean stop = d->threads_stop;
    g_mutex_unlock(&d->hk_lock);
    return stop;
}

void
seaftier_thread_exits(SeaftierDaemon *d)
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
        for (int t = 0; t < SEAFTIER_N_TYPES && !seaftier_threads_should_stop(d); t++) {
            if (seaftier_metrics_get_backend(d->metrics, t, NULL) != SEAFTIER_BACKEND_OK)
                continue;
            guint handled = 0;
            GError *err = NULL;
            if (!seaftier_sync_delete_pass(d->sync, t, DELETE_BATCH, &handled, &err)) {
                seaftier_error("remote deletes (%s): cannot read the index: %s",
                               seaftier_type_name(t), err->message);
                g_error_free(err);
                continue;
            }
            if (handled == DELETE_BATCH)
                more = TRUE;
        }
        gint64 now = g_get_monotonic_time();
        if (now - last_evict >= HK_EVICT_MIN_US && !seaftier_threads_should_stop(d)) {
            seaftier_evictor_run(d);
            last_evict = now;
        }
    }
    seaftier_thread_exits(d);
    return NULL;
}

void
seaftier_housekeeping_start(SeaftierDaemon *d)
{
    g_mutex_lock(&d->hk_lock);
    d->threads_running++;
    g_mutex_unlock(&d->hk_lock);
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

gboolean
seaftier_threads_stop(SeaftierDaemon *d, gint64 deadline_us)
{
    if (!d->hk_thread && !d->probe_thread)
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
    if (d->hk_thread)
        g_thread_join(d->hk_thread);
    if (d->probe_thread)
        g_thread_join(d->probe_thread);
    d->hk_thread = d->probe_thread = NULL;
    return TRUE;
}
