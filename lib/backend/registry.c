/*
 * lib/backend/registry.c — the per-process registry of open sites and the id
 * helpers every backend entry point starts with.
 *
 * seaf-server creates three backends (commits, fs, blocks) from one
 * seafile.conf; they must share one site: one SeaftierTier (one SQLite
 * connection set, one RAM tier, one accounting of max_size), one remote per
 * bucket and one sync engine. The registry is keyed by the canonical tier
 * directory; the first backend's configuration is the one used.
 */
#include "seaftier-build.h"

#include "backend/common.h"

#include <seaftier/log.h>
#include <seaftier/secrets.h>

#include <string.h>

static GMutex registry_lock;
static GHashTable *registry;    /* canonical dir -> SeaftierBackendShared* */

const char *
seaftier_be_id_for_log(const char *id, char buf[256])
{
    if (!id) {
        g_strlcpy(buf, "(null)", 256);
        return buf;
    }
    /* 48 input bytes, each at most 4 output bytes ("\xNN"), fit in 256. */
    gsize o = 0;
    gsize i;
    for (i = 0; id[i] && i < 48; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
            buf[o++] = (char)c;
        } else {
            o += (gsize)g_snprintf(buf + o, 256 - o, "\\x%02x", c);
        }
    }
    if (id[i])
        o += (gsize)g_snprintf(buf + o, 256 - o, "...");
    buf[o] = '\0';
    return buf;
}

gboolean
seaftier_be_check_repo_id(const char *op, const char *what, const char *repo_id)
{
    char buf[256];
    if (seaftier_valid_repo_id(repo_id))
        return TRUE;
    seaftier_warning("%s: refusing invalid %s id \"%s\" (expected a UUID)", op, what,
                     seaftier_be_id_for_log(repo_id, buf));
    return FALSE;
}

gboolean
seaftier_be_check_ids(const char *op, const char *repo_id, const char *obj_id)
{
    char buf[256];
    if (!seaftier_be_check_repo_id(op, "repo", repo_id))
        return FALSE;
    if (!seaftier_valid_obj_id(obj_id)) {
        seaftier_warning("%s: refusing invalid object id \"%s\" (expected 40 lowercase hex)", op,
                         seaftier_be_id_for_log(obj_id, buf));
        return FALSE;
    }
    return TRUE;
}

static void
shared_free(SeaftierBackendShared *sh)
{
    seaftier_site_free(sh->site);
    if (sh->inflight)
        g_hash_table_destroy(sh->inflight);
    g_mutex_clear(&sh->fetch_lock);
    for (int i = 0; i < SEAFTIER_BACKEND_ID_STRIPES; i++)
        g_rw_lock_clear(&sh->id_locks[i]);
    g_free(sh);
}

/* The environment wins over the file, so an operator can raise the level of
 * one run without editing seafile.conf. (Secrets were registered for masking
 * by the configuration loader.) */
static void
apply_log_level(const SeaftierConfig *cfg)
{
    SeaftierLogLevel level;
    if (!g_getenv("SEAFTIER_LOG_LEVEL") && cfg->tier.log_level &&
        seaftier_log_level_from_name(cfg->tier.log_level, &level))
        seaftier_log_set_level(level);
}

static SeaftierBackendShared *
shared_open(SeaftierSite *site, GError **error)
{
    SeaftierBackendShared *sh = g_new0(SeaftierBackendShared, 1);
    sh->site = site;
    sh->refcount = 1;
    sh->full_wait_ms = SEAFTIER_BACKEND_FULL_WAIT_MS;
    g_mutex_init(&sh->fetch_lock);
    for (int i = 0; i < SEAFTIER_BACKEND_ID_STRIPES; i++)
        g_rw_lock_init(&sh->id_locks[i]);
    sh->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!seaftier_site_open_remotes(site, error) || !seaftier_site_open_tier(site, TRUE, error)) {
        shared_free(sh);
        return NULL;
    }
    sh->sync = seaftier_site_sync(site);
    return sh;
}

SeaftierBackendShared *
seaftier_backend_shared_get(const char *seaf_dir, GKeyFile *config, GError **error)
{
    /* Reached only through the backend constructors, i.e. inside a host such
     * as seaf-server: log lines belong in its log file. */
    seaftier_log_attach_to_host();
    SeaftierSite *site = seaftier_site_load_keyfile(config, seaf_dir, error);
    if (!site)
        return NULL;

    g_mutex_lock(&registry_lock);
    if (!registry)
        registry = g_hash_table_new(g_str_hash, g_str_equal);
    SeaftierBackendShared *sh = g_hash_table_lookup(registry, site->tier_dir);
    if (sh) {
        sh->refcount++;
        g_mutex_unlock(&registry_lock);
        seaftier_site_free(site);
        return sh;
    }
    apply_log_level(site->cfg);
    if (!site->cfg->tier.dumpable) {
        /* The S3 secrets live in this process's memory from now on. */
        GError *err = NULL;
        if (!seaftier_secrets_protect_process(&err)) {
            seaftier_warning("seaftier: %s; core files of this process may hold the S3 secrets",
                             err->message);
            g_error_free(err);
        }
    }
    gboolean write_through = site->cfg->tier.write_through;
    sh = shared_open(site, error);
    if (sh) {
        g_hash_table_insert(registry, sh->site->tier_dir, sh);
        seaftier_info("seaftier: tier %s opened (%s mode)", sh->site->tier_dir,
                      write_through ? "write-through" : "write-back");
    }
    g_mutex_unlock(&registry_lock);
    return sh;
}

void
seaftier_backend_shared_unref(SeaftierBackendShared *sh)
{
    if (!sh)
        return;
    g_mutex_lock(&registry_lock);
    gboolean last = --sh->refcount == 0;
    if (last)
        g_hash_table_remove(registry, sh->site->tier_dir);
    g_mutex_unlock(&registry_lock);
    if (last)
        shared_free(sh);
}
