/*
 * lib/config/config-s3.c — one S3 backend section ([commit_object_backend],
 * [fs_object_backend], [block_backend]) or its S3_* environment equivalent,
 * read and checked. Keys and meanings follow Seafile's documentation and
 * seafobj's reader (get_s3_conf in seafobj/objstore_factory.py); ca_file and
 * the client tunables are seaftier's own.
 */
#include "seaftier-build.h"

#include "bucket-name.h"
#include "config-internal.h"

#include <string.h>

#define SSE_C_KEY_LEN 32
#define MIN_PART_SIZE ((guint64)5 << 20)    /* S3's minimum for all but the last part */
#define MAX_PART_SIZE ((guint64)5 << 30)    /* S3's maximum part size */

static const char *const known_keys[] = {
    "name", "bucket", "key_id", "key", "use_v4_signature", "use_https", "aws_region",
    "host", "sse_c_key", "path_style_request", "ca_file", "connect_timeout",
    "low_speed_time", "max_retries", "multipart_part_size", NULL
};

typedef struct {
    GKeyFile *kf;               /* NULL: no file */
    const char *section;
    SeaftierObjType type;
    CfgS3Source source;
    GPtrArray *warnings;
} Reader;

/* The value of `key` (trimmed, owned; NULL when absent) and, in `*label`,
 * where it came from, for messages. */
static char *
rd_get(const Reader *r, const char *key, char **label)
{
    const char *var = r->source == CFG_S3_FROM_ENV ? cfg_env_var_for(r->type, key) : NULL;
    if (var) {
        *label = g_strdup(var);
        return g_strdup(g_getenv(var));
    }
    *label = g_strdup_printf("[%s] %s", r->section, key);
    if (!r->kf || !g_key_file_has_group(r->kf, r->section))
        return NULL;
    return cfg_kf_get(r->kf, r->section, key);
}

static gboolean
rd_bool(const Reader *r, const char *key, gboolean *out, GError **error)
{
    char *label;
    char *v = rd_get(r, key, &label);
    gboolean ok = TRUE;
    *out = FALSE;
    if (v && r->source == CFG_S3_FROM_ENV) {
        /* seafobj: envs.get(VAR) == "true"; anything else is false. We must
         * agree with the rest of Seafile, but say so when it looks unintended. */
        *out = strcmp(v, "true") == 0;
        if (!*out && *v && strcmp(v, "false") != 0) {
            char *q = cfg_quote(v);
            g_ptr_array_add(r->warnings,
                            g_strdup_printf("%s '%s': Seafile takes only 'true' as true, so "
                                            "this means false", label, q));
            g_free(q);
        }
    } else if (v) {
        ok = cfg_parse_bool(label, v, out, error);
    }
    g_free(v);
    g_free(label);
    return ok;
}

/* A required string: absent or empty is an error. `secret` keeps the value
 * out of messages. */
static gboolean
rd_required(const Reader *r, const char *key, const char *what, char **out, GError **error)
{
    char *label;
    char *v = rd_get(r, key, &label);
    if (!v || !*v) {
        if (r->source == CFG_S3_FROM_ENV && cfg_env_var_for(r->type, key))
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_MISSING,
                     "%s: required (%s) when SEAF_SERVER_STORAGE_TYPE=s3", label, what);
        else
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_MISSING, "%s: required (%s)", label, what);
        cfg_wipe_free(v);
        g_free(label);
        return FALSE;
    }
    *out = v;
    g_free(label);
    return TRUE;
}

/* An optional string: absent or empty means unset (NULL). */
static char *
rd_optional(const Reader *r, const char *key, char **label)
{
    char *v = rd_get(r, key, label);
    if (v && !*v) {
        g_free(v);
        return NULL;
    }
    return v;
}

static gboolean
check_name(const Reader *r, GError **error)
{
    char *label;
    char *v = rd_get(r, "name", &label);
    gboolean ok = v && strcmp(v, "s3") == 0;
    if (!v)
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_MISSING,
                 "%s: missing, so Seafile uses its filesystem backend here; seaftier only "
                 "fronts S3 backends (name = s3)", label);
    else if (!ok) {
        char *q = cfg_quote(v);
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': seaftier only fronts S3 backends (name = s3); other Seafile "
                 "backends (fs, ceph, swift, oss) are not supported", label, q);
        g_free(q);
    }
    g_free(v);
    g_free(label);
    return ok;
}

static gboolean
read_bucket(const Reader *r, SeaftierS3Config *out, GError **error)
{
    if (!rd_required(r, "bucket", "the bucket for this object type", &out->bucket, error))
        return FALSE;
    char *problem = seaftier_bucket_name_problem(out->bucket);
    if (problem) {
        char *label;
        g_free(rd_get(r, "bucket", &label));
        char *q = cfg_quote(out->bucket);
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID, "%s '%s': %s", label, q, problem);
        g_free(q);
        g_free(label);
        g_free(problem);
        return FALSE;
    }
    return TRUE;
}

static gboolean
read_credentials(const Reader *r, SeaftierS3Config *out, GError **error)
{
    if (!rd_required(r, "key_id", "the S3 access key id", &out->key_id, error))
        return FALSE;
    /* key_id goes into the Authorization header verbatim. */
    for (const char *p = out->key_id; *p; p++) {
        if ((unsigned char)*p < 0x21 || *p == 0x7f) {
            char *label;
            g_free(rd_get(r, "key_id", &label));
            char *q = cfg_quote(out->key_id);
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s '%s': must not contain spaces or control characters", label, q);
            g_free(q);
            g_free(label);
            return FALSE;
        }
    }
    return rd_required(r, "key", "the S3 secret key", &out->key, error);
}

static gboolean
read_endpoint(const Reader *r, SeaftierS3Config *out, GError **error)
{
    char *label = NULL;
    gboolean ok = TRUE;
    char *v = rd_optional(r, "host", &label);
    if (v)
        ok = cfg_parse_host(label, v, &out->host, &out->port, error);
    g_free(v);
    g_free(label);
    if (!ok)
        return FALSE;

    if (!rd_bool(r, "use_v4_signature", &out->use_v4_signature, error) ||
        !rd_bool(r, "use_https", &out->use_https, error) ||
        !rd_bool(r, "path_style_request", &out->path_style_request, error))
        return FALSE;

    v = rd_optional(r, "aws_region", &label);
    for (const char *p = v; p && *p && ok; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
            /* The region is part of the SigV4 credential scope. */
            char *q = cfg_quote(v);
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s '%s': not a region name (letters, digits, '-' and '_', e.g. "
                     "eu-central-1)", label, q);
            g_free(q);
            ok = FALSE;
        }
    }
    out->aws_region = v ? v : g_strdup("us-east-1");
    g_free(label);
    return ok;
}

static gboolean
read_sse_c(const Reader *r, SeaftierS3Config *out, GError **error)
{
    char *label;
    char *v = rd_optional(r, "sse_c_key", &label);
    gboolean ok = TRUE;
    if (v) {
        size_t len = strlen(v);
        /* Never the value: it is the encryption key itself. */
        if (len != SSE_C_KEY_LEN)
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s: must be exactly %d characters (got %zu)", label, SSE_C_KEY_LEN, len);
        else if (!out->use_v4_signature)
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s: SSE-C needs signature V4; set %s", label,
                     r->source == CFG_S3_FROM_ENV ? "S3_USE_V4_SIGNATURE=true"
                                                  : "use_v4_signature = true");
        else if (!out->use_https)
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s: SSE-C needs https (S3 refuses the key over plain http); set %s",
                     label, r->source == CFG_S3_FROM_ENV ? "S3_USE_HTTPS=true"
                                                         : "use_https = true");
        ok = len == SSE_C_KEY_LEN && out->use_v4_signature && out->use_https;
    }
    if (ok)
        out->sse_c_key = v;
    else
        cfg_wipe_free(v);
    g_free(label);
    return ok;
}

static gboolean
read_client(const Reader *r, SeaftierS3Config *out, GError **error)
{
    char *label = NULL;
    char *v = rd_optional(r, "ca_file", &label);
    gboolean ok = !v || cfg_check_readable_file(label, v, error);
    if (ok)
        out->ca_file = v;
    else
        g_free(v);
    g_free(label);

    out->connect_timeout_s = 10;
    out->low_speed_time_s = 30;
    out->max_retries = 5;
    out->multipart_part_size = (guint64)64 << 20;

    static const struct { const char *key; int min, max; size_t off; } ints[] = {
        { "connect_timeout", 1, 600, G_STRUCT_OFFSET(SeaftierS3Config, connect_timeout_s) },
        { "low_speed_time", 1, 3600, G_STRUCT_OFFSET(SeaftierS3Config, low_speed_time_s) },
        { "max_retries", 0, 100, G_STRUCT_OFFSET(SeaftierS3Config, max_retries) },
    };
    for (size_t i = 0; ok && i < G_N_ELEMENTS(ints); i++) {
        v = rd_optional(r, ints[i].key, &label);
        if (v)
            ok = cfg_parse_int(label, v, ints[i].min, ints[i].max,
                               G_STRUCT_MEMBER_P(out, ints[i].off), error);
        g_free(v);
        g_free(label);
    }
    if (ok) {
        v = rd_optional(r, "multipart_part_size", &label);
        if (v)
            ok = cfg_parse_size_range(label, v, MIN_PART_SIZE, MAX_PART_SIZE,
                                      &out->multipart_part_size, error);
        g_free(v);
        g_free(label);
    }
    return ok;
}

/* In environment mode, a section that still sets connection keys is
 * probably stale: say once that they are ignored, as seafobj ignores them. */
static void
warn_shadowed_section(const Reader *r)
{
    gsize n = 0;
    char **keys = g_key_file_get_keys(r->kf, r->section, &n, NULL);
    gboolean shadowed = FALSE;
    for (gsize i = 0; keys && i < n; i++)
        shadowed = shadowed || strcmp(keys[i], "name") == 0 ||
                   cfg_env_var_for(r->type, keys[i]) != NULL;
    g_strfreev(keys);
    if (shadowed)
        g_ptr_array_add(r->warnings,
                        g_strdup_printf("[%s]: SEAF_SERVER_STORAGE_TYPE=s3, so the S3 "
                                        "connection settings come from the S3_* environment "
                                        "variables; only ca_file and the client tunables are "
                                        "read from this section", r->section));
}

gboolean
cfg_s3_load(GKeyFile *kf, SeaftierObjType type, CfgS3Source source, SeaftierS3Config *out,
            GPtrArray *warnings, GError **error)
{
    Reader r = { kf, seaftier_type_section(type), type, source, warnings };
    gboolean have_section = kf && g_key_file_has_group(kf, r.section);

    out->section = g_strdup(r.section);
    if (source == CFG_S3_FROM_FILE) {
        if (!have_section) {
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_MISSING,
                     "[%s]: section missing; seaftier needs all three S3 sections "
                     "([commit_object_backend], [fs_object_backend], [block_backend])",
                     r.section);
            return FALSE;
        }
        if (!check_name(&r, error))
            return FALSE;
    } else if (have_section) {
        warn_shadowed_section(&r);
    }
    if (have_section)
        cfg_warn_unknown_keys(kf, r.section, known_keys, warnings);

    /* The keys are independent (SSE-C's rules need the endpoint's https/V4):
     * read them all, so every problem of the section is reported at once. */
    CfgProblems problems = { 0 };
    GError *err = NULL;
    read_bucket(&r, out, &err);
    cfg_problems_add(&problems, err);
    err = NULL;
    read_credentials(&r, out, &err);
    cfg_problems_add(&problems, err);
    err = NULL;
    if (read_endpoint(&r, out, &err))
        read_sse_c(&r, out, &err);
    cfg_problems_add(&problems, err);
    err = NULL;
    read_client(&r, out, &err);
    cfg_problems_add(&problems, err);
    if (!cfg_problems_finish(&problems, error))
        return FALSE;

    if (strchr(out->bucket, '.') && out->use_https && !out->path_style_request) {
        char *label;
        g_free(rd_get(&r, "bucket", &label));
        g_ptr_array_add(warnings,
                        g_strdup_printf("%s '%s': a bucket name with '.' in a virtual-host "
                                        "https URL does not match the server's wildcard "
                                        "certificate; consider path_style_request = true",
                                        label, out->bucket));
        g_free(label);
    }
    return TRUE;
}

static gboolean
same_endpoint(const SeaftierS3Config *a, const SeaftierS3Config *b)
{
    return g_strcmp0(a->host, b->host) == 0 && a->port == b->port;
}

gboolean
cfg_s3_check_distinct(const SeaftierConfig *cfg, CfgS3Source source, GError **error)
{
    /* Removing a library deletes everything under "<repo_id>/" in the
     * type's bucket: a shared bucket would lose the other types' objects. */
    for (int i = 1; i < SEAFTIER_N_TYPES; i++) {
        for (int j = 0; j < i; j++) {
            const SeaftierS3Config *a = &cfg->s3[j], *b = &cfg->s3[i];
            if (strcmp(a->bucket, b->bucket) != 0 || !same_endpoint(a, b))
                continue;
            char *q = cfg_quote(b->bucket);
            if (source == CFG_S3_FROM_ENV)
                cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                         "%s '%s': same bucket as %s; each object type needs its own bucket",
                         cfg_env_var_for((SeaftierObjType)i, "bucket"), q,
                         cfg_env_var_for((SeaftierObjType)j, "bucket"));
            else
                cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                         "[%s] bucket '%s': same bucket as [%s]; each object type needs "
                         "its own bucket", b->section, q, a->section);
            g_free(q);
            return FALSE;
        }
    }
    return TRUE;
}

void
cfg_s3_clear(SeaftierS3Config *s3)
{
    g_free(s3->section);
    g_free(s3->bucket);
    cfg_wipe_free(s3->key_id);
    cfg_wipe_free(s3->key);
    g_free(s3->aws_region);
    g_free(s3->host);
    cfg_wipe_free(s3->sse_c_key);
    g_free(s3->ca_file);
    explicit_bzero(s3, sizeof *s3);
}
