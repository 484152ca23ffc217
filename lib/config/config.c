/*
 * lib/config/config.c — see seaftier/config.h: the public entry points
 * (load from a file or a key file, free), secret masking of findings, and
 * the order in which the sections are loaded and checked. The value
 * parsers are in config-values.c, the sections in config-s3.c,
 * config-tier.c and config-env.c.
 */
#include "seaftier-build.h"

#include "config-internal.h"

#include <seaftier/log.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* ---- loading ---- */

static void
register_secrets(const SeaftierConfig *cfg)
{
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        const SeaftierS3Config *s3 = &cfg->s3[t];
        seaftier_log_add_secret(s3->key);
        if (s3->sse_c_key) {
            seaftier_log_add_secret(s3->sse_c_key);
            char *b64 = g_base64_encode((const guchar *)s3->sse_c_key, strlen(s3->sse_c_key));
            seaftier_log_add_secret(b64);
            cfg_wipe_free(b64);
        }
    }
}

/* Every value that is a secret wherever it came from, trimmed as the
 * loaders read them; short ones are left out, as in seaftier_log_add_secret(). */
static GPtrArray *
collect_secrets(GKeyFile *kf)
{
    GPtrArray *secrets = g_ptr_array_new_with_free_func((GDestroyNotify)cfg_wipe_free);
    static const char *const keys[] = { "key", "sse_c_key" };
    for (int t = 0; kf && t < SEAFTIER_N_TYPES; t++) {
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
            char *v = cfg_kf_get(kf, seaftier_type_section((SeaftierObjType)t), keys[k]);
            if (v && strlen(v) >= 4)
                g_ptr_array_add(secrets, v);
            else
                cfg_wipe_free(v);
        }
    }
    static const char *const vars[] = { "S3_SECRET_KEY", "S3_SSE_C_KEY" };
    for (size_t k = 0; k < G_N_ELEMENTS(vars); k++) {
        const char *v = g_getenv(vars[k]);
        if (v && strlen(v) >= 4)
            g_ptr_array_add(secrets, g_strdup(v));
    }
    return secrets;
}

/* Replaces every secret in `text` by "***"; returns a new string. */
static char *
scrub(const char *text, GPtrArray *secrets)
{
    GString *s = g_string_new(text);
    /* Until stable: masking one secret could complete another. Each pass
     * shortens the text (secrets are >= 4 bytes), so this ends. */
    for (gboolean changed = TRUE; changed;) {
        changed = FALSE;
        for (guint i = 0; i < secrets->len; i++) {
            const char *secret = secrets->pdata[i];
            char *hit;
            while ((hit = strstr(s->str, secret)) != NULL) {
                gssize pos = hit - s->str;
                g_string_erase(s, pos, (gssize)strlen(secret));
                g_string_insert(s, pos, "***");
                changed = TRUE;
            }
        }
    }
    return g_string_free(s, FALSE);
}

/* Messages never quote the secret keys themselves, but they do quote other
 * values, and a secret pasted into the wrong key (or contained in another
 * value) would ride along: mask them all, as the logger does. */
static void
scrub_findings(GKeyFile *kf, GPtrArray *warnings, GError *error)
{
    GPtrArray *secrets = collect_secrets(kf);
    for (guint i = 0; warnings && i < warnings->len; i++) {
        char *clean = scrub(warnings->pdata[i], secrets);
        g_free(warnings->pdata[i]);
        warnings->pdata[i] = clean;
    }
    if (error) {
        char *clean = scrub(error->message, secrets);
        g_free(error->message);
        error->message = clean;
    }
    g_ptr_array_unref(secrets);
}

static SeaftierConfig *load_checked(GKeyFile *kf, const char *source_name, GError **error);

/* `kf` may be NULL: environment mode without a file. */
static SeaftierConfig *
load(GKeyFile *kf, const char *source_name, GError **error)
{
    GError *err = NULL;
    SeaftierConfig *cfg = load_checked(kf, source_name, &err);
    scrub_findings(kf, cfg ? cfg->warnings : NULL, err);
    if (err)
        g_propagate_error(error, err);
    return cfg;
}

static SeaftierConfig *
load_checked(GKeyFile *kf, const char *source_name, GError **error)
{
    SeaftierConfig *cfg = g_new0(SeaftierConfig, 1);
    cfg->warnings = g_ptr_array_new_with_free_func(g_free);

    CfgS3Source source;
    if (!cfg_env_s3_source(&source, cfg->warnings, error))
        goto fail;
    if (!kf && source == CFG_S3_FROM_FILE) {
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_MISSING,
                 "no seafile.conf given and SEAF_SERVER_STORAGE_TYPE is not 's3': "
                 "nothing to read the S3 settings from");
        goto fail;
    }
    cfg->source = g_strdup(source == CFG_S3_FROM_ENV && !kf ? "environment" : source_name);

    /* Every section is read even after a problem: all of them are reported. */
    CfgProblems problems = { 0 };
    gboolean all_s3 = TRUE;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        GError *err = NULL;
        if (!cfg_s3_load(kf, (SeaftierObjType)t, source, &cfg->s3[t], cfg->warnings, &err))
            all_s3 = FALSE;
        cfg_problems_add(&problems, err);
    }
    GError *err = NULL;
    if (all_s3)
        cfg_s3_check_distinct(cfg, source, &err);
    cfg_problems_add(&problems, err);
    err = NULL;
    cfg_tier_load(kf, &cfg->tier, cfg->warnings, &err);
    cfg_problems_add(&problems, err);
    if (!cfg_problems_finish(&problems, error))
        goto fail;

    register_secrets(cfg);
    return cfg;
fail:
    seaftier_config_free(cfg);
    return NULL;
}

/* Finds the first line GKeyFile cannot take, so that the error can point at
 * it by number: GLib's own message quotes the whole line, which may hold a
 * secret ("key wJalr…" with the '=' forgotten). Returns 0 if none found. */
static int
first_bad_line(const char *text)
{
    int lineno = 0;
    char **lines = g_strsplit(text, "\n", -1);
    int bad = 0;
    for (char **l = lines; *l && !bad; l++) {
        lineno++;
        char *s = g_strstrip(*l);
        if (*s == '\0' || *s == '#')
            continue;
        size_t len = strlen(s);
        if (s[0] == '[' ? s[len - 1] != ']' : strchr(s, '=') == NULL)
            bad = lineno;
    }
    for (char **l = lines; *l; l++)
        explicit_bzero(*l, strlen(*l));
    g_strfreev(lines);
    return bad;
}

static GKeyFile *
parse_key_file(const char *path, char *text, gsize len, GError **error)
{
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    char *q = cfg_quote(path);
    if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &err)) {
        int line = first_bad_line(text);
        if (line > 0)
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_IO,
                     "seafile.conf '%s': line %d is not a [section], a key = value pair "
                     "or a # comment", q, line);
        else
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_IO, "seafile.conf '%s': %s", q,
                     err->message);
        g_clear_error(&err);
        g_key_file_free(kf);
        kf = NULL;
    }
    g_free(q);
    return kf;
}

SeaftierConfig *
seaftier_config_load_file(const char *path, GError **error)
{
    if (!path)
        return load(NULL, "environment", error);

    char *text = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, &len, &err)) {
        /* seafobj: with SEAF_SERVER_STORAGE_TYPE=s3 a missing seafile.conf is fine. */
        gboolean absent = g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
        CfgS3Source source = CFG_S3_FROM_FILE;
        GPtrArray *ignored = g_ptr_array_new_with_free_func(g_free);
        gboolean env_mode = absent && cfg_env_s3_source(&source, ignored, NULL) &&
                            source == CFG_S3_FROM_ENV;
        g_ptr_array_unref(ignored);
        if (env_mode) {
            g_clear_error(&err);
            return load(NULL, "environment", error);
        }
        char *q = cfg_quote(path);
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_IO, "seafile.conf '%s': %s", q, err->message);
        g_free(q);
        g_clear_error(&err);
        return NULL;
    }

    GKeyFile *kf = parse_key_file(path, text, len, error);
    explicit_bzero(text, len);
    g_free(text);
    if (!kf)
        return NULL;
    SeaftierConfig *cfg = load(kf, path, error);
    g_key_file_free(kf);
    return cfg;
}

SeaftierConfig *
seaftier_config_load_keyfile(GKeyFile *kf, GError **error)
{
    g_return_val_if_fail(kf != NULL, NULL);
    return load(kf, "seafile.conf", error);
}

void
seaftier_config_free(SeaftierConfig *cfg)
{
    if (!cfg)
        return;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        cfg_s3_clear(&cfg->s3[t]);
    cfg_tier_clear(&cfg->tier);
    if (cfg->warnings)
        g_ptr_array_unref(cfg->warnings);
    g_free(cfg->source);
    explicit_bzero(cfg, sizeof *cfg);
    g_free(cfg);
}
