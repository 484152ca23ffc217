/*
 * lib/config/config-tier.c — seaftier's own [tier] section of seafile.conf, with
 * the defaults documented in seaftier/config.h and conf/seafile.conf.example.
 * The section is optional; the environment never sets it.
 */
#include "seaftier-build.h"

#include "config-internal.h"

#include <string.h>
#include <sys/un.h>

#define SECTION "tier"
#define SOCKET_NAME "seaftierd.sock"
#define MAX_UPLOAD_DELAY_MS (24 * 3600 * 1000)
/* Bigger objects belong in files: SQLite rows this large slow every page read. */
#define MAX_INLINE ((guint64)16 << 20)
/* 72 bytes an entry: 64 GiB would remember ~950 million objects. */
#define MAX_LOCATION_CACHE ((guint64)64 << 30)

static const char *const known_keys[] = {
    "dir", "max_size", "high_watermark", "low_watermark", "min_free_space",
    "ram_cache_size", "location_cache_size", "compression", "mode", "upload_concurrency", "upload_delay",
    "inline_max", "socket", "log_level", "dumpable", "authoritative_index", NULL
};

static void
set_defaults(SeaftierTierConfig *t)
{
    t->dir = NULL;
    t->max_size = (guint64)10 << 30;
    t->high_watermark = 90;
    t->low_watermark = 80;
    t->min_free_space = (guint64)1 << 30;
    t->ram_cache_size = (guint64)128 << 20;
    t->location_cache_size = (guint64)12 << 20;
    t->compression = TRUE;
    t->write_through = FALSE;
    t->authoritative_index = SEAFTIER_AUTHORITATIVE_AUTO;
    t->upload_concurrency = 16;
    t->upload_delay_ms = 0;
    t->inline_max = (guint64)64 << 10;
    t->socket_path = NULL;
    t->log_level = g_strdup("info");
    t->dumpable = FALSE;
}

/* "1500", "1500ms", "2s", "2 s": milliseconds unless the suffix says seconds. */
static gboolean
parse_delay(const char *label, const char *value, int *out_ms, GError **error)
{
    const char *p = value;
    guint64 v = 0;
    gboolean digits = FALSE;
    for (; g_ascii_isdigit(*p) && v <= MAX_UPLOAD_DELAY_MS; p++) {
        v = v * 10 + (guint64)(*p - '0');
        digits = TRUE;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    guint64 scale = 0;
    if (digits && (*p == '\0' || strcmp(p, "ms") == 0))
        scale = 1;
    else if (digits && strcmp(p, "s") == 0)
        scale = 1000;
    char *q = cfg_quote(value);
    gboolean ok = FALSE;
    if (digits && g_ascii_isdigit(*p))
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': must be at most one day", label, q);
    else if (!scale)
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': not a delay (milliseconds, or a number with ms or s)", label, q);
    else if (v * scale > MAX_UPLOAD_DELAY_MS)
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': must be at most one day", label, q);
    else {
        *out_ms = (int)(v * scale);
        ok = TRUE;
    }
    g_free(q);
    return ok;
}

static gboolean
check_path(const char *label, const char *value, GError **error)
{
    if (g_path_is_absolute(value))
        return TRUE;
    /* seaf-server, seaftierd and seaftier-admin run from different directories. */
    char *q = cfg_quote(value);
    cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID, "%s '%s': must be an absolute path",
             label, q);
    g_free(q);
    return FALSE;
}

static gboolean
check_socket_length(const char *label, const char *path, GError **error)
{
    size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;
    if (strlen(path) <= max)
        return TRUE;
    char *q = cfg_quote(path);
    cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
             "%s '%s': %zu bytes, longer than the %zu a Unix socket path may have; set "
             "[tier] socket to a shorter path", label, q, strlen(path), max);
    g_free(q);
    return FALSE;
}

static gboolean
read_key(SeaftierTierConfig *t, const char *key, const char *v,
         const char *label, GError **error)
{
    if (strcmp(key, "dir") == 0) {
        if (!check_path(label, v, error))
            return FALSE;
        t->dir = g_strdup(v);
        return TRUE;
    }
    if (strcmp(key, "socket") == 0) {
        if (!check_path(label, v, error) || !check_socket_length(label, v, error))
            return FALSE;
        t->socket_path = g_strdup(v);
        return TRUE;
    }
    if (strcmp(key, "max_size") == 0)
        return cfg_parse_size_range(label, v, 1, G_MAXUINT64, &t->max_size, error);
    if (strcmp(key, "min_free_space") == 0)
        return cfg_parse_size_range(label, v, 0, G_MAXUINT64, &t->min_free_space, error);
    if (strcmp(key, "ram_cache_size") == 0)
        return cfg_parse_size_range(label, v, 0, G_MAXUINT64, &t->ram_cache_size, error);
    if (strcmp(key, "location_cache_size") == 0)
        return cfg_parse_size_range(label, v, 0, MAX_LOCATION_CACHE, &t->location_cache_size, error);
    if (strcmp(key, "inline_max") == 0)
        return cfg_parse_size_range(label, v, 0, MAX_INLINE, &t->inline_max, error);
    if (strcmp(key, "high_watermark") == 0)
        return cfg_parse_int(label, v, 1, 100, &t->high_watermark, error);
    if (strcmp(key, "low_watermark") == 0)
        return cfg_parse_int(label, v, 1, 100, &t->low_watermark, error);
    if (strcmp(key, "upload_concurrency") == 0)
        return cfg_parse_int(label, v, 1, 256, &t->upload_concurrency, error);
    if (strcmp(key, "upload_delay") == 0)
        return parse_delay(label, v, &t->upload_delay_ms, error);
    if (strcmp(key, "compression") == 0)
        return cfg_parse_bool(label, v, &t->compression, error);
    if (strcmp(key, "dumpable") == 0)
        return cfg_parse_bool(label, v, &t->dumpable, error);
    if (strcmp(key, "mode") == 0) {
        if (strcmp(v, "write_back") == 0 || strcmp(v, "write_through") == 0) {
            t->write_through = strcmp(v, "write_through") == 0;
            return TRUE;
        }
        char *q = cfg_quote(v);
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': must be write_back or write_through", label, q);
        g_free(q);
        return FALSE;
    }
    if (strcmp(key, "authoritative_index") == 0) {
        static const char *const names[] = { "auto", "on", "off" };
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
            if (strcmp(v, names[i]) == 0) {
                t->authoritative_index = (SeaftierAuthoritativeIndex)i;
                return TRUE;
            }
        }
        char *q = cfg_quote(v);
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID, "%s '%s': must be auto, on or off", label,
                 q);
        g_free(q);
        return FALSE;
    }
    if (strcmp(key, "log_level") == 0) {
        static const char *const names[] = { "error", "warning", "info", "debug" };
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
            if (g_ascii_strcasecmp(v, names[i]) == 0) {
                g_free(t->log_level);
                t->log_level = g_strdup(names[i]);
                return TRUE;
            }
        }
        char *q = cfg_quote(v);
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': must be error, warning, info or debug", label, q);
        g_free(q);
        return FALSE;
    }
    return TRUE;    /* unknown keys were warned about already */
}

gboolean
cfg_tier_load(GKeyFile *kf, SeaftierTierConfig *t, GPtrArray *warnings, GError **error)
{
    set_defaults(t);
    if (!kf || !g_key_file_has_group(kf, SECTION))
        return TRUE;
    cfg_warn_unknown_keys(kf, SECTION, known_keys, warnings);

    /* Every key is read even after a problem: all of them are reported. */
    CfgProblems problems = { 0 };
    for (const char *const *k = known_keys; *k; k++) {
        char *v = cfg_kf_get(kf, SECTION, *k);
        /* An empty path means "the default"; an empty number is a mistake. */
        if (!v || (!*v && (strcmp(*k, "dir") == 0 || strcmp(*k, "socket") == 0))) {
            g_free(v);
            continue;
        }
        char *label = g_strdup_printf("[" SECTION "] %s", *k);
        GError *err = NULL;
        read_key(t, *k, v, label, &err);
        cfg_problems_add(&problems, err);
        g_free(label);
        g_free(v);
    }
    if (!cfg_problems_finish(&problems, error))
        return FALSE;

    if (t->low_watermark >= t->high_watermark) {
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "[" SECTION "] low_watermark '%d': must be below high_watermark (%d)",
                 t->low_watermark, t->high_watermark);
        return FALSE;
    }
    if (!t->socket_path && t->dir) {
        t->socket_path = g_build_filename(t->dir, SOCKET_NAME, NULL);
        if (!check_socket_length("[" SECTION "] socket (default, from dir)", t->socket_path,
                                 error))
            return FALSE;
    }
    return TRUE;
}

void
cfg_tier_clear(SeaftierTierConfig *t)
{
    g_free(t->dir);
    g_free(t->socket_path);
    g_free(t->log_level);
    memset(t, 0, sizeof *t);
}
