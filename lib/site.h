/*
 * daemon/env.h — what seaftierd and seaftier-admin open before they work:
 * the configuration (seafile.conf in the config dir, plus the S3_*
 * environment), the tier it names and one S3 client per object type.
 *
 * Shared by the daemon and the admin tool (both link daemon/libseaftierd-core).
 */
#ifndef SEAFTIERD_ENV_H
#define SEAFTIERD_ENV_H

#include <glib.h>
#include <seaftier/config.h>
#include <seaftier/s3.h>
#include "tier/tier.h"

typedef struct {
    SeaftierConfig *cfg;
    char *conf_path;                    /* <config-dir>/seafile.conf */
    char *tier_dir;                     /* resolved tier directory */
    char *socket_path;                  /* resolved control socket path */
    SeaftierTier *tier;                 /* NULL unless opened */
    SeaftierS3 *s3[SEAFTIER_N_TYPES];   /* NULL unless opened */
} SeaftierEnv;

/* The config dir when -c is not given: $SEAFILE_CENTRAL_CONF_DIR, else
 * $CCNET_CONF_DIR, else NULL. */
const char *seaftier_env_default_config_dir(void);

/* Loads <config_dir>/seafile.conf and resolves the tier directory ([tier]
 * dir, else <seafile_dir>/seaftier) and the control socket path ([tier]
 * socket, else <tier dir>/seaftierd.sock). Opens nothing.
 * Errors name the file, section and key at fault. */
SeaftierEnv *seaftier_env_load(const char *config_dir, const char *seafile_dir, GError **error);

/* Opens the tier. The daemon and the tools do not serve reads, so their
 * in-process RAM tier is turned off. */
gboolean seaftier_env_open_tier(SeaftierEnv *env, GError **error);

/* Creates the three S3 clients (no network I/O). */
gboolean seaftier_env_open_s3(SeaftierEnv *env, GError **error);

/* Closes everything; NULL is a no-op. */
void seaftier_env_free(SeaftierEnv *env);

/* "<repo_id>/<obj_id>", the S3 key Seafile uses. */
char *seaftier_env_s3_key(const char *repo_id, const char *obj_id);

#endif
