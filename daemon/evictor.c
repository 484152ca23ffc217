/* daemon/evictor.c — keeps the tier under its watermarks and free-space
 * floor. seaftier_tier_evict() is safe to run from several processes at once
 * (the library evicts too when a write finds the tier full), so the daemon
 * only has to call it often enough: periodically and after uploads turned
 * dirty objects into evictable clean ones. */
#include "seaftier-build.h"

#include "daemon.h"

#include <seaftier/log.h>

void
seaftier_evictor_run(SeaftierDaemon *d)
{
    guint64 objects = 0, bytes = 0;
    GError *err = NULL;
    if (!seaftier_tier_evict(d->site->tier, &objects, &bytes, &err)) {
        seaftier_error("eviction failed: %s", err->message);
        g_error_free(err);
        return;
    }
    if (objects) {
        seaftier_info("evicted %" G_GUINT64_FORMAT " clean objects (%" G_GUINT64_FORMAT " bytes)",
                      objects, bytes);
        seaftier_metrics_add(&d->metrics->evicted_objects, objects);
        seaftier_metrics_add(&d->metrics->evicted_bytes, bytes);
    }
}
