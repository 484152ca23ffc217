/*
 * lib/site.h — one opened seaftier site: the configuration (seafile.conf
 * and the S3_* environment), the tier it names, one remote per object type
 * and the sync engine joining them. Opened once per process and shared:
 * seaf-server's three backends (lib/backend/registry.c), seaftierd and
 * seaftier-admin all work through it.
 *
 * Secrets (`key`, `sse_c_key` and its base64) are registered for masking
 * by the configuration loader, the one place every site is loaded through.
 */
#ifndef SEAFTIER_SITE_H
#define SEAFTIER_SITE_H

#include <glib.h>
#include <seaftier/config.h>
#include <seaftier/s3.h>
#include "sync/remote.h"
#include "sync/sync.h"
#include "tier/tier.h"

typedef struct {
    SeaftierConfig *cfg;
    char *conf_path;                    /* <config-dir>/seafile.conf; NULL from a key file */
    char *tier_dir;                     /* resolved tier directory */
    char *socket_path;                  /* resolved control socket path */
    SeaftierTier *tier;                 /* NULL unless opened */
    SeaftierRemote *remote[SEAFTIER_N_TYPES];  /* NULL unless opened */
    SeaftierS3 *s3[SEAFTIER_N_TYPES];   /* the S3 clients behind remote[] (owned by them),
                                         * for S3-only requests: stats, listing pages */
    SeaftierSync *sync;                 /* NULL until seaftier_site_sync() */
} SeaftierSite;

/* The config dir when -c is not given: $SEAFILE_CENTRAL_CONF_DIR, else
 * $CCNET_CONF_DIR, else NULL. */
const char *seaftier_site_default_config_dir(void);

/* Loads <config_dir>/seafile.conf (config_dir NULL: the default above) and
 * resolves the tier directory ([tier] dir, else <seafile_dir>/seaftier) and
 * the control socket path ([tier] socket, else <tier dir>/seaftierd.sock).
 * Opens nothing. Errors name the file, section and key at fault. */
SeaftierSite *seaftier_site_load(const char *config_dir, const char *seafile_dir,
                                 GError **error);

/* The same for seafile.conf as seaf-server holds it; the tier directory is
 * canonicalized (it identifies the site within a process). */
SeaftierSite *seaftier_site_load_keyfile(GKeyFile *config, const char *seafile_dir,
                                         GError **error);

/* Opens the tier. Processes that do not serve reads (the daemon, the tools)
 * pass ram_tier FALSE: an in-process RAM tier would only cost memory. */
gboolean seaftier_site_open_tier(SeaftierSite *site, gboolean ram_tier, GError **error);

/* Creates the remotes (S3 clients; no network I/O). */
gboolean seaftier_site_open_remotes(SeaftierSite *site, GError **error);

/* The sync engine over the tier and the remotes (both must be open),
 * created on first use with [tier] upload_concurrency workers. */
SeaftierSync *seaftier_site_sync(SeaftierSite *site);

/* Closes everything (the engine first, waiting for its uploads); NULL is a no-op. */
void seaftier_site_free(SeaftierSite *site);

#endif
