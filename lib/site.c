/* daemon/env.c — see env.h. */
#include "seaftier-build.h"

#include "env.h"

#include <string.h>
#include <sys/un.h>

const char *
seaftier_env_default_config_dir(void)
{
    const char *dir = g_getenv("SEAFILE_CENTRAL_CONF_DIR");
    if (!dir || !*dir)
        dir = g_getenv("CCNET_CONF_DIR");
    return (dir && *dir) ? dir : NULL;
}

SeaftierEnv *
seaftier_env_load(const char *config_dir, const char *seafile_dir, GError **error)
{
    if (!config_dir)
        config_dir = seaftier_env_default_config_dir();
    if (!config_dir) {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING,
                    "no config dir: pass -c DIR (the directory holding seafile.conf) or set "
                    "SEAFILE_CENTRAL_CONF_DIR");
        return NULL;
    }
    SeaftierEnv *env = g_new0(SeaftierEnv, 1);
    env->conf_path = g_build_filename(config_dir, "seafile.conf", NULL);
    env->cfg = seaftier_config_load_file(env->conf_path, error);
    if (!env->cfg) {
        seaftier_env_free(env);
        return NULL;
    }
    if (env->cfg->tier.dir && *env->cfg->tier.dir) {
        env->tier_dir = g_strdup(env->cfg->tier.dir);
    } else if (seafile_dir) {
        env->tier_dir = g_build_filename(seafile_dir, "seaftier", NULL);
    } else {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING,
                    "%s: [tier] dir is not set: set it, or pass -d SEAFILE_DATA_DIR "
                    "(the tier then lives in SEAFILE_DATA_DIR/seaftier)", env->conf_path);
        seaftier_env_free(env);
        return NULL;
    }
    if (env->cfg->tier.socket_path && *env->cfg->tier.socket_path)
        env->socket_path = g_strdup(env->cfg->tier.socket_path);
    else
        env->socket_path = g_build_filename(env->tier_dir, "seaftierd.sock", NULL);
    struct sockaddr_un sun;
    if (strlen(env->socket_path) >= sizeof(sun.sun_path)) {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_INVALID,
                    "%s: [tier] socket: path %s is longer than a unix socket allows (%zu bytes)",
                    env->conf_path, env->socket_path, sizeof(sun.sun_path) - 1);
        seaftier_env_free(env);
        return NULL;
    }
    return env;
}

gboolean
seaftier_env_open_tier(SeaftierEnv *env, GError **error)
{
    if (env->tier)
        return TRUE;
    env->cfg->tier.ram_cache_size = 0;
    env->tier = seaftier_tier_open(env->cfg, env->tier_dir, error);
    return env->tier != NULL;
}

gboolean
seaftier_env_open_s3(SeaftierEnv *env, GError **error)
{
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (env->s3[t])
            continue;
        env->s3[t] = seaftier_s3_new(&env->cfg->s3[t], error);
        if (!env->s3[t])
            return FALSE;
    }
    return TRUE;
}

void
seaftier_env_free(SeaftierEnv *env)
{
    if (!env)
        return;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        if (env->s3[t])
            seaftier_s3_free(env->s3[t]);
    if (env->tier)
        seaftier_tier_close(env->tier);
    seaftier_config_free(env->cfg);
    g_free(env->conf_path);
    g_free(env->tier_dir);
    g_free(env->socket_path);
    g_free(env);
}

char *
seaftier_env_s3_key(const char *repo_id, const char *obj_id)
{
    return g_strconcat(repo_id, "/", obj_id, NULL);
}
