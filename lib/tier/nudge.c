/* lib/tier/nudge.c — waking the daemon after writes.
 *
 * One datagram on <dir>/seaftierd.nudge, never blocking and never failing
 * the caller: no daemon (ENOENT, ECONNREFUSED) or a full socket buffer
 * (EAGAIN: the daemon has wake-ups pending anyway) are normal. A burst of
 * writes sends at most one datagram per NUDGE_INTERVAL; the daemon must
 * also poll on its own (a nudge is a hint that shortens the wait, not a
 * delivery guarantee).
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define NUDGE_INTERVAL_US 2000

char *
seaftier_tier_nudge_path(const SeaftierTier *tier)
{
    return g_strdup(tier->nudge_path);
}

void
seaftier_tier_nudge(SeaftierTier *tier)
{
    if (tier->nudge_fd < 0)
        return;
    gint64 now = g_get_monotonic_time();
    gint64 last = TIER_LOAD(&tier->last_nudge);
    if (now - last < NUDGE_INTERVAL_US ||
        !__atomic_compare_exchange_n(&tier->last_nudge, &last, now, FALSE, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
        return;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(tier->nudge_path) >= sizeof(addr.sun_path)) {
        seaftier_debug("nudge socket path %s is too long for a unix socket", tier->nudge_path);
        return;
    }
    strcpy(addr.sun_path, tier->nudge_path);
    if (sendto(tier->nudge_fd, "n", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr,
               sizeof(addr)) < 0 &&
        errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN && errno != EWOULDBLOCK)
        seaftier_debug("nudge to %s failed: %s", tier->nudge_path, g_strerror(errno));
}
