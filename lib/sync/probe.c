/* lib/sync/probe.c — see probe.h. */
#include "seaftier-build.h"

#include "sync/probe.h"

#include <seaftier/log.h>

#include <string.h>
#include <unistd.h>

static SeaftierProbeResult
probe_failed(SeaftierRemote *r, const GError *err, const char *op, const char *key,
             char **message, const char **advice)
{
    *message = g_strdup_printf("probe %s of %s in %s failed: %s", op, key, seaftier_remote_name(r),
                               err->message);
    if (advice)
        *advice = seaftier_remote_advice(r, err, op);
    return seaftier_remote_classify(r, err) == SEAFTIER_REMOTE_ERR_TRANSIENT
               ? SEAFTIER_PROBE_TRANSIENT : SEAFTIER_PROBE_REFUSED;
}

static void
delete_probe_object(SeaftierRemote *r, const char *key)
{
    const char *keys[] = { key };
    GError *err = NULL;
    if (!seaftier_remote_delete_many(r, keys, 1, NULL, &err)) {
        seaftier_warning("probe: cannot delete %s from %s: %s", key, seaftier_remote_name(r),
                         err->message);
        g_error_free(err);
    }
}

SeaftierProbeResult
seaftier_probe_remote(SeaftierRemote *r, char **message, const char **advice)
{
    *message = NULL;
    if (advice)
        *advice = NULL;
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        g_strlcpy(host, "host", sizeof host);
    for (char *p = host; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
            *p = '_';
    char *key = g_strdup_printf(SEAFTIER_PROBE_PREFIX "%s-%d-%08x", host, (int)getpid(),
                                g_random_int());
    guint8 body[64];
    for (gsize i = 0; i < sizeof body; i += 4) {
        guint32 word = g_random_int();
        memcpy(body + i, &word, 4);
    }
    GError *err = NULL;
    SeaftierProbeResult res = SEAFTIER_PROBE_OK;
    void *back = NULL;
    gsize back_len = 0;
    SeaftierRemoteMeta meta;
    seaftier_remote_meta_for(&meta, body, sizeof body, g_get_real_time() / G_USEC_PER_SEC);
    if (!seaftier_remote_put(r, key, body, sizeof body, &meta, &err)) {
        res = probe_failed(r, err, "PUT", key, message, advice);
        if (seaftier_remote_failed_put_stored(r, err))
            delete_probe_object(r, key);
        goto out;
    }
    if (!seaftier_remote_get(r, key, &back, &back_len, NULL, &err)) {
        res = probe_failed(r, err, "GET", key, message, advice);
    } else if (back_len != sizeof body || memcmp(back, body, sizeof body) != 0) {
        *message = g_strdup_printf("probe GET of %s in %s returned other bytes than were "
                                   "written (%zu bytes instead of %zu): the server or a proxy "
                                   "alters objects", key, seaftier_remote_name(r), back_len,
                                   sizeof body);
        if (advice)
            *advice = "check proxies between seaftier and the server, and the server itself";
        res = SEAFTIER_PROBE_REFUSED;
    } else if (!seaftier_remote_prove_storage(r, key, &err)) {
        res = probe_failed(r, err, "GET without the SSE-C key", key, message, advice);
    }
    g_free(back);
    GError *derr = NULL;
    const char *keys[] = { key };
    if (!seaftier_remote_delete_many(r, keys, 1, NULL, &derr)) {
        if (res == SEAFTIER_PROBE_OK)
            res = probe_failed(r, derr, "DELETE", key, message, advice);
        g_error_free(derr);
    }
out:
    g_clear_error(&err);
    g_free(key);
    return res;
}
