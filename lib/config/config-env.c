/*
 * lib/config/config-env.c — Seafile's S3_* environment, as haiwen/seafobj reads it
 * (seafobj/objstore_factory.py: SeafileConfig.__init__ and
 * get_s3_conf_from_env). What seafobj does, and so what we do:
 *  - SEAF_SERVER_STORAGE_TYPE == "s3" (exactly) takes all three S3 sections
 *    from the environment and ignores seafile.conf's; a missing seafile.conf
 *    is then fine. "disk" and "multiple" mean seaf-server does not use the
 *    single-S3 sections at all; anything else falls back to seafile.conf.
 *  - S3_KEY_ID, S3_SECRET_KEY, S3_{COMMIT,FS,BLOCK}_BUCKET, S3_AWS_REGION as
 *    given; S3_HOST "host[:port]", empty = AWS; S3_SSE_C_KEY, empty = none.
 *  - Booleans (S3_USE_V4_SIGNATURE, S3_USE_HTTPS, S3_PATH_STYLE_REQUEST) are
 *    true only for the exact string "true"; anything else is false.
 * Seafile 13's docker .env says USE_S3_STORAGE=true for the same thing.
 */
#include "seaftier-build.h"

#include "config-internal.h"

#include <string.h>

gboolean
cfg_env_s3_source(CfgS3Source *source, GPtrArray *warnings, GError **error)
{
    const char *type = g_getenv("SEAF_SERVER_STORAGE_TYPE");
    if (type && *type) {
        if (strcmp(type, "s3") == 0) {
            *source = CFG_S3_FROM_ENV;
            return TRUE;
        }
        if (strcmp(type, "disk") == 0 || strcmp(type, "multiple") == 0) {
            char *q = cfg_quote(type);
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "SEAF_SERVER_STORAGE_TYPE '%s': seaf-server then does not use a single "
                     "S3 storage, and seaftier only fronts S3 (set it to s3, or leave it "
                     "empty to use the S3 sections of seafile.conf)", q);
            g_free(q);
            return FALSE;
        }
        char *q = cfg_quote(type);
        g_ptr_array_add(warnings,
                        g_strdup_printf("SEAF_SERVER_STORAGE_TYPE '%s': not a type Seafile "
                                        "knows (s3, disk, multiple); using the S3 sections "
                                        "of seafile.conf, as Seafile does", q));
        g_free(q);
    }
    const char *use = g_getenv("USE_S3_STORAGE");
    if (use && strcmp(use, "true") == 0) {
        *source = CFG_S3_FROM_ENV;
        return TRUE;
    }
    *source = CFG_S3_FROM_FILE;
    return TRUE;
}

static const struct {
    const char *key;
    const char *var;
} env_keys[] = {
    { "key_id", "S3_KEY_ID" },
    { "key", "S3_SECRET_KEY" },
    { "host", "S3_HOST" },
    { "use_v4_signature", "S3_USE_V4_SIGNATURE" },
    { "aws_region", "S3_AWS_REGION" },
    { "use_https", "S3_USE_HTTPS" },
    { "path_style_request", "S3_PATH_STYLE_REQUEST" },
    { "sse_c_key", "S3_SSE_C_KEY" },
};

static const char *const bucket_vars[SEAFTIER_N_TYPES] = {
    "S3_COMMIT_BUCKET", "S3_FS_BUCKET", "S3_BLOCK_BUCKET"
};

const char *
cfg_env_var_for(SeaftierObjType type, const char *key)
{
    if (strcmp(key, "bucket") == 0)
        return (unsigned)type < SEAFTIER_N_TYPES ? bucket_vars[type] : NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(env_keys); i++)
        if (strcmp(key, env_keys[i].key) == 0)
            return env_keys[i].var;
    return NULL;
}
