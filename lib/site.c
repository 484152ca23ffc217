/* lib/site.c — see site.h. */
#include "seaftier-build.h"

#include "site.h"
#include "sync/remote-s3.h"

#include <string.h>
#include <sys/un.h>

const char *
seaftier_site_default_config_dir(void)
{
    const char *dir = g_getenv("SEAFILE_CENTRAL_CONF_DIR");
    if (!dir || !*dir)
        dir = g_getenv("CCNET_CONF_DIR");
    return (dir && *dir) ? dir : NULL;
}

static void
resolve_socket(SeaftierSite *site)
{
    if (site->cfg->tier.socket_path && *site->cfg->tier.socket_path)
        site->socket_path = g_strdup(site->cfg->tier.socket_path);
    else
        site->socket_path = g_build_filename(site->tier_dir, "seaftierd.sock", NULL);
}

SeaftierSite *
seaftier_site_load(const char *config_dir, const char *seafile_dir, GError **error)
{
    if (!config_dir)
        config_dir = seaftier_site_default_config_dir();
    if (!config_dir) {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING,
                    "no config dir: pass -c DIR (the directory holding seafile.conf) or set "
                    "SEAFILE_CENTRAL_CONF_DIR");
        return NULL;
    }
    SeaftierSite *site = g_new0(SeaftierSite, 1);
    site->conf_path = g_build_filename(config_dir, "seafile.conf", NULL);
    site->cfg = seaftier_config_load_file(site->conf_path, error);
    if (!site->cfg) {
        seaftier_site_free(site);
        return NULL;
    }
    if (site->cfg->tier.dir && *site->cfg->tier.dir) {
        site->tier_dir = g_strdup(site->cfg->tier.dir);
    } else if (seafile_dir) {
        site->tier_dir = g_build_filename(seafile_dir, "seaftier", NULL);
    } else {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING,
                    "%s: [tier] dir is not set: set it, or pass -d SEAFILE_DATA_DIR "
                    "(the tier then lives in SEAFILE_DATA_DIR/seaftier)", site->conf_path);
        seaftier_site_free(site);
        return NULL;
    }
    resolve_socket(site);
    struct sockaddr_un sun;
    if (strlen(site->socket_path) >= sizeof(sun.sun_path)) {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_INVALID,
                    "%s: [tier] socket: path %s is longer than a unix socket allows (%zu bytes)",
                    site->conf_path, site->socket_path, sizeof(sun.sun_path) - 1);
        seaftier_site_free(site);
        return NULL;
    }
    return site;
}

SeaftierSite *
seaftier_site_load_keyfile(GKeyFile *config, const char *seafile_dir, GError **error)
{
    if (!config) {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING,
                    "seaftier: no seafile.conf key file was given");
        return NULL;
    }
    SeaftierConfig *cfg = seaftier_config_load_keyfile(config, error);
    if (!cfg)
        return NULL;
    char *dir;
    if (cfg->tier.dir && cfg->tier.dir[0]) {
        dir = g_canonicalize_filename(cfg->tier.dir, NULL);
    } else if (seafile_dir && seafile_dir[0]) {
        char *joined = g_build_filename(seafile_dir, "seaftier", NULL);
        dir = g_canonicalize_filename(joined, NULL);
        g_free(joined);
    } else {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING,
                    "[tier] dir is not set and no Seafile data directory was given: "
                    "set [tier] dir in seafile.conf");
        seaftier_config_free(cfg);
        return NULL;
    }
    SeaftierSite *site = g_new0(SeaftierSite, 1);
    site->cfg = cfg;
    site->tier_dir = dir;
    resolve_socket(site);
    return site;
}

gboolean
seaftier_site_open_tier(SeaftierSite *site, gboolean ram_tier, GError **error)
{
    if (site->tier)
        return TRUE;
    if (!ram_tier)
        site->cfg->tier.ram_cache_size = 0;
    site->tier = seaftier_tier_open(site->cfg, site->tier_dir, error);
    return site->tier != NULL;
}

gboolean
seaftier_site_open_remotes(SeaftierSite *site, GError **error)
{
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (site->remote[t])
            continue;
        site->remote[t] = seaftier_remote_s3_new(&site->cfg->s3[t], error);
        if (!site->remote[t])
            return FALSE;
        site->s3[t] = seaftier_remote_s3_client(site->remote[t]);
    }
    return TRUE;
}

SeaftierSync *
seaftier_site_sync(SeaftierSite *site)
{
    g_return_val_if_fail(site->tier && site->remote[SEAFTIER_N_TYPES - 1], NULL);
    /* Racing first calls of several threads: one engine wins, the others
     * are freed before any use. */
    if (!g_atomic_pointer_get(&site->sync)) {
        SeaftierSync *sync = seaftier_sync_new(site->tier, site->remote,
                                               site->cfg->tier.upload_concurrency);
        if (!g_atomic_pointer_compare_and_exchange(&site->sync, NULL, sync))
            seaftier_sync_free(sync);
    }
    return g_atomic_pointer_get(&site->sync);
}

void
seaftier_site_free(SeaftierSite *site)
{
    if (!site)
        return;
    seaftier_sync_free(site->sync);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        seaftier_remote_free(site->remote[t]);
    if (site->tier)
        seaftier_tier_close(site->tier);
    seaftier_config_free(site->cfg);
    g_free(site->conf_path);
    g_free(site->tier_dir);
    g_free(site->socket_path);
    g_free(site);
}
