/*
 * lib/backend-shared.c — the per-process registry of open tiers and the id
 * helpers every backend entry point starts with.
 *
 * seaf-server creates three backends (commits, fs, blocks) from one
 * seafile.conf; they must share one SeaftierTier (one SQLite connection
 * set, one RAM tier, one accounting of max_size) and one S3 client per
 * bucket. The registry is keyed by the canonical tier directory; the first
 * backend's configuration is the one used.
 */
#include "config.h"

#include "backend-common.h"

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

char *
seaftier_be_key(const char *repo_id, const char *obj_id)
{
    return g_strconcat(repo_id, "/", obj_id, NULL);
}

static void
shared_free(SeaftierBackendShared *sh)
{
    if (sh->tier)
        seaftier_tier_close(sh->tier);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (sh->s3[t])
            seaftier_s3_free(sh->s3[t]);
    }
    if (sh->inflight)
        g_hash_table_destroy(sh->inflight);
    g_mutex_clear(&sh->fetch_lock);
    for (int i = 0; i < SEAFTIER_BACKEND_ID_STRIPES; i++)
        g_rw_lock_clear(&sh->id_locks[i]);
    seaftier_config_free(sh->cfg);
    g_free(sh->dir);
    g_free(sh);
}

static void
apply_log_settings(const SeaftierConfig *cfg)
{
    /* The environment wins over the file, so an operator can raise the
     * level of one run without editing seafile.conf. */
    SeaftierLogLevel level;
    if (!g_getenv("SEAFTIER_LOG_LEVEL") && cfg->tier.log_level &&
        seaftier_log_level_from_name(cfg->tier.log_level, &level))
        seaftier_log_set_level(level);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (cfg->s3[t].key)
            seaftier_log_add_secret(cfg->s3[t].key);
        if (cfg->s3[t].sse_c_key)
            seaftier_log_add_secret(cfg->s3[t].sse_c_key);
    }
}

static SeaftierBackendShared *
shared_open(char *canon_dir, SeaftierConfig *cfg, GError **error)
{
    SeaftierBackendShared *sh = g_new0(SeaftierBackendShared, 1);
    sh->dir = canon_dir;
    sh->cfg = cfg;
    sh->refcount = 1;
    sh->full_wait_ms = SEAFTIER_BACKEND_FULL_WAIT_MS;
    g_mutex_init(&sh->fetch_lock);
    for (int i = 0; i < SEAFTIER_BACKEND_ID_STRIPES; i++)
        g_rw_lock_init(&sh->id_locks[i]);
    sh->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        sh->s3[t] = seaftier_s3_new(&cfg->s3[t], error);
        if (!sh->s3[t]) {
            shared_free(sh);
            return NULL;
        }
    }
    sh->tier = seaftier_tier_open(cfg, canon_dir, error);
    if (!sh->tier) {
        shared_free(sh);
        return NULL;
    }
    return sh;
}

SeaftierBackendShared *
seaftier_backend_shared_get(const char *seaf_dir, GKeyFile *config, GError **error)
{
    /* Reached only through the backend constructors, i.e. inside a host such
     * as seaf-server: log lines belong in its log file. */
    seaftier_log_attach_to_host();
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
    } else if (seaf_dir && seaf_dir[0]) {
        char *joined = g_build_filename(seaf_dir, "seaftier", NULL);
        dir = g_canonicalize_filename(joined, NULL);
        g_free(joined);
    } else {
        g_set_error(error, SEAFTIER_CONFIG_ERROR, SEAFTIER_CONFIG_ERROR_MISSING,
                    "[tier] dir is not set and no Seafile data directory was given: "
                    "set [tier] dir in seafile.conf");
        seaftier_config_free(cfg);
        return NULL;
    }

    g_mutex_lock(&registry_lock);
    if (!registry)
        registry = g_hash_table_new(g_str_hash, g_str_equal);
    SeaftierBackendShared *sh = g_hash_table_lookup(registry, dir);
    if (sh) {
        sh->refcount++;
        g_mutex_unlock(&registry_lock);
        g_free(dir);
        seaftier_config_free(cfg);
        return sh;
    }
    apply_log_settings(cfg);
    if (!cfg->tier.dumpable) {
        /* The S3 secrets live in this process's memory from now on. */
        GError *err = NULL;
        if (!seaftier_secrets_protect_process(&err)) {
            seaftier_warning("seaftier: %s; core files of this process may hold the S3 secrets",
                             err->message);
            g_error_free(err);
        }
    }
    sh = shared_open(dir, cfg, error);
    if (sh) {
        g_hash_table_insert(registry, sh->dir, sh);
        seaftier_info("seaftier: tier %s opened (%s mode)", sh->dir,
                      cfg->tier.write_through ? "write-through" : "write-back");
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
        g_hash_table_remove(registry, sh->dir);
    g_mutex_unlock(&registry_lock);
    if (last)
        shared_free(sh);
}
