/*
 * daemon/daemon.h — seaftierd's shared state, and the parts main.c wires
 * together around the library's sync engine (lib/sync): the scheduler
 * (main loop: nudges, timers, feeding uploads to the engine), housekeeping
 * (remote deletes and eviction, own thread), the prober (bucket probes, own
 * thread) and the control socket (a thread per client).
 *
 * Calls go one way: main → control socket → scheduler → prober →
 * housekeeping (each may call the ones after it, never those before).
 * The prober does not kick the scheduler when a bucket passes: the
 * scheduler's one-second tick picks the bucket's objects up.
 *
 * Threads: the GMainLoop thread owns scheduling; the engine's upload
 * workers only touch the tier, the remotes and the engine's in-flight set,
 * and report through the observer (metrics, wake-ups); every cross-thread
 * wake-up goes through g_idle_add (to the loop) or a GCond (to the threads).
 */
#ifndef SEAFTIERD_DAEMON_H
#define SEAFTIERD_DAEMON_H

#include <glib.h>
#include "site.h"
#include "sync/sync.h"
#include "metrics.h"

typedef struct SeaftierControl SeaftierControl;

typedef struct {
    SeaftierSite *site;
    SeaftierSync *sync;             /* site's engine (borrowed) */
    SeaftierMetrics *metrics;
    GMainLoop *loop;
    gint stopping;                  /* atomic: SIGTERM seen */
    gint fill_pending;              /* atomic: an idle fill is queued */

    int nudge_fd;
    guint nudge_watch;
    guint tick_source;

    GThread *hk_thread;             /* housekeeping: deletes + eviction */
    GThread *probe_thread;
    GMutex hk_lock;
    GCond hk_cond;
    gboolean hk_wake;               /* guarded by hk_lock */
    gboolean probe_wake;            /* guarded by hk_lock */
    gboolean threads_stop;          /* guarded by hk_lock */
    int threads_running;            /* guarded by hk_lock */

    SeaftierControl *control;
    int metrics_port;               /* 0 = no HTTP listener */
} SeaftierDaemon;

/* scheduler.c */
/* Binds the nudge socket and starts the timers; uploads follow. */
gboolean seaftier_scheduler_start(SeaftierDaemon *d, GError **error);
void seaftier_scheduler_stop(SeaftierDaemon *d);
/* Thread-safe: queues a fill of the engine's upload slots on the main loop. */
void seaftier_scheduler_kick(SeaftierDaemon *d);

/* prober.c */
void seaftier_prober_start(SeaftierDaemon *d);
/* Thread-safe: probe backends that are not OK again now. */
void seaftier_prober_reprobe(SeaftierDaemon *d);

/* housekeeping.c */
void seaftier_housekeeping_start(SeaftierDaemon *d);
/* Thread-safe: run deletes/eviction soon. */
void seaftier_housekeeping_wake(SeaftierDaemon *d);
/* Asks both background threads (housekeeping and prober) to stop and waits
 * until the monotonic `deadline_us`. FALSE if one is still inside an S3
 * request then (the caller exits without them). */
gboolean seaftier_threads_stop(SeaftierDaemon *d, gint64 deadline_us);

/* Background threads (housekeeping.c): TRUE once seaftier_threads_stop()
 * was called; each thread calls seaftier_thread_exits() as it ends. */
gboolean seaftier_threads_should_stop(SeaftierDaemon *d);
void seaftier_thread_exits(SeaftierDaemon *d);

/* evictor.c: one eviction run, counted in the metrics. */
void seaftier_evictor_run(SeaftierDaemon *d);

/* control-socket.c */
SeaftierControl *seaftier_control_start(SeaftierDaemon *d, const char *socket_path, int http_port,
                                        GError **error);
/* Closes the listeners, cancels flush jobs and waits for client threads
 * until the monotonic `deadline_us`. FALSE if some are still busy then
 * (the caller exits without them; nothing is freed). */
gboolean seaftier_control_stop(SeaftierControl *c, gint64 deadline_us);

#endif
