/*
 * lib/config/config-values.c — the object type names, the error domain and
 * the value parsers every part of the loader uses (config-internal.h). A
 * leaf: it calls into no other file of the loader, so calls go one way,
 * config.c → config-s3.c / config-tier.c / config-env.c → here.
 */
#include "seaftier-build.h"

#include "config-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

static const char *const type_names[SEAFTIER_N_TYPES] = { "commits", "fs", "blocks" };
static const char *const type_sections[SEAFTIER_N_TYPES] = {
    "commit_object_backend", "fs_object_backend", "block_backend"
};

const char *
seaftier_type_name(SeaftierObjType type)
{
    return (unsigned)type < SEAFTIER_N_TYPES ? type_names[type] : NULL;
}

gboolean
seaftier_type_from_name(const char *name, SeaftierObjType *type)
{
    if (!name)
        return FALSE;
    for (int i = 0; i < SEAFTIER_N_TYPES; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *type = (SeaftierObjType)i;
            return TRUE;
        }
    }
    if (strcmp(name, "commit") == 0) {
        *type = SEAFTIER_TYPE_COMMITS;
        return TRUE;
    }
    if (strcmp(name, "block") == 0) {
        *type = SEAFTIER_TYPE_BLOCKS;
        return TRUE;
    }
    return FALSE;
}

const char *
seaftier_type_section(SeaftierObjType type)
{
    return (unsigned)type < SEAFTIER_N_TYPES ? type_sections[type] : NULL;
}

G_DEFINE_QUARK(seaftier-config-error-quark, seaftier_config_error)

/* ---- shared helpers (config-internal.h) ---- */

char *
cfg_quote(const char *value)
{
    /* g_strescape escapes control characters, quotes and bytes >= 0x80;
     * keeping UTF-8 readable is not worth a forged log line. */
    return g_strescape(value ? value : "", NULL);
}

void
cfg_fail(GError **error, SeaftierConfigError code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, SEAFTIER_CONFIG_ERROR, code, msg);
    g_free(msg);
}

void
cfg_problems_add(CfgProblems *p, GError *err)
{
    if (!err)
        return;
    if (!p->text) {
        p->text = g_string_new(NULL);
        p->code = (SeaftierConfigError)err->code;
    } else {
        g_string_append_c(p->text, '\n');
    }
    g_string_append(p->text, err->message);
    g_error_free(err);
}

gboolean
cfg_problems_finish(CfgProblems *p, GError **error)
{
    if (!p->text)
        return TRUE;
    g_set_error_literal(error, SEAFTIER_CONFIG_ERROR, p->code, p->text->str);
    explicit_bzero(p->text->str, p->text->len);
    g_string_free(p->text, TRUE);
    p->text = NULL;
    return FALSE;
}

void
cfg_wipe_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    g_free(s);
}

gboolean
cfg_parse_bool(const char *label, const char *value, gboolean *out, GError **error)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(value, yes[i]) == 0) {
            *out = TRUE;
            return TRUE;
        }
        if (g_ascii_strcasecmp(value, no[i]) == 0) {
            *out = FALSE;
            return TRUE;
        }
    }
    char *q = cfg_quote(value);
    cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
             "%s '%s': not a boolean (use true or false)", label, q);
    g_free(q);
    return FALSE;
}

/* Parses an unsigned decimal number with nothing around it. */
static gboolean
parse_decimal(const char *text, const char **end, guint64 *out)
{
    guint64 v = 0;
    const char *p = text;
    if (!g_ascii_isdigit(*p))
        return FALSE;
    for (; g_ascii_isdigit(*p); p++) {
        guint d = (guint)(*p - '0');
        if (v > (G_MAXUINT64 - d) / 10)
            return FALSE;
        v = v * 10 + d;
    }
    *end = p;
    *out = v;
    return TRUE;
}

gboolean
cfg_parse_int(const char *label, const char *value, int min, int max, int *out,
              GError **error)
{
    guint64 v;
    const char *end;
    char *q = cfg_quote(value);
    gboolean ok = FALSE;
    if (!parse_decimal(value, &end, &v) || *end != '\0')
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': not a whole number", label, q);
    else if (v < (guint64)(gint64)min || v > (guint64)(gint64)max)
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': must be between %d and %d", label, q, min, max);
    else {
        *out = (int)v;
        ok = TRUE;
    }
    g_free(q);
    return ok;
}

gboolean
seaftier_parse_size(const char *text, guint64 *out)
{
    static const struct { const char *unit; guint shift; } units[] = {
        { "", 0 }, { "b", 0 },
        { "k", 10 }, { "kb", 10 }, { "kib", 10 },
        { "m", 20 }, { "mb", 20 }, { "mib", 20 },
        { "g", 30 }, { "gb", 30 }, { "gib", 30 },
        { "t", 40 }, { "tb", 40 }, { "tib", 40 },
    };
    if (!text)
        return FALSE;
    while (g_ascii_isspace(*text))
        text++;
    guint64 v;
    const char *p;
    if (!parse_decimal(text, &p, &v))
        return FALSE;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t ulen = strlen(p);
    while (ulen > 0 && g_ascii_isspace(p[ulen - 1]))
        ulen--;
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
        if (strlen(units[i].unit) == ulen && g_ascii_strncasecmp(p, units[i].unit, ulen) == 0) {
            if (units[i].shift && v > (G_MAXUINT64 >> units[i].shift))
                return FALSE;
            *out = v << units[i].shift;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
cfg_parse_size_range(const char *label, const char *value, guint64 min, guint64 max,
                     guint64 *out, GError **error)
{
    guint64 v;
    char *q = cfg_quote(value);
    gboolean ok = FALSE;
    if (!seaftier_parse_size(value, &v))
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': not a size (a number of bytes, optionally with K, M, G or T, "
                 "e.g. 512K or 10 GiB)", label, q);
    else if (v < min)
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': must be at least %" G_GUINT64_FORMAT " bytes", label, q, min);
    else if (v > max)
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': must be at most %" G_GUINT64_FORMAT " bytes", label, q, max);
    else {
        *out = v;
        ok = TRUE;
    }
    g_free(q);
    return ok;
}

static gboolean
is_host_name_char(char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
}

static gboolean
parse_port(const char *label, const char *value, const char *text, int *port, GError **error)
{
    guint64 v;
    const char *end;
    char *q = cfg_quote(value);
    char *pq = cfg_quote(text);
    gboolean ok = FALSE;
    if (!parse_decimal(text, &end, &v) || *end != '\0')
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': port '%s' is not a number", label, q, pq);
    else if (v < 1 || v > 65535)
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': port %s is out of range (1-65535)", label, q, pq);
    else {
        *port = (int)v;
        ok = TRUE;
    }
    g_free(q);
    g_free(pq);
    return ok;
}

gboolean
cfg_parse_host(const char *label, const char *value, char **host, int *port, GError **error)
{
    char *q = cfg_quote(value);
    const char *port_text = NULL;
    char *name = NULL;
    gboolean ok = FALSE;

    *port = 0;
    if (strstr(value, "://")) {
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                 "%s '%s': give host or host:port without a scheme (https is chosen "
                 "with use_https)", label, q);
        goto out;
    }
    if (value[0] == '[') {
        const char *close = strchr(value, ']');
        if (!close) {
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s '%s': missing ']' after the IPv6 address", label, q);
            goto out;
        }
        char *addr = g_strndup(value + 1, (gsize)(close - value - 1));
        gboolean is_v6 = strchr(addr, ':') && g_hostname_is_ip_address(addr);
        g_free(addr);
        if (!is_v6) {
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s '%s': not an IPv6 address between the brackets", label, q);
            goto out;
        }
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0') {
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s '%s': expected ':port' after ']'", label, q);
            goto out;
        }
        name = g_strndup(value, (gsize)(close - value + 1));
    } else {
        const char *colon = strchr(value, ':');
        if (colon && strchr(colon + 1, ':')) {
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s '%s': an IPv6 address must be written in brackets, e.g. "
                     "[2001:db8::1]:8080", label, q);
            goto out;
        }
        name = colon ? g_strndup(value, (gsize)(colon - value)) : g_strdup(value);
        if (colon)
            port_text = colon + 1;
        if (!*name) {
            cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                     "%s '%s': the host name is empty", label, q);
            goto out;
        }
        for (const char *p = name; *p; p++) {
            if (!is_host_name_char(*p)) {
                cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID,
                         "%s '%s': not a host name (only letters, digits, '.', '-' and "
                         "'_' are allowed, then an optional :port)", label, q);
                goto out;
            }
        }
    }
    if (port_text && !parse_port(label, value, port_text, port, error))
        goto out;
    *host = name;
    name = NULL;
    ok = TRUE;
out:
    g_free(name);
    g_free(q);
    return ok;
}

gboolean
cfg_check_readable_file(const char *label, const char *path, GError **error)
{
    char *q = cfg_quote(path);
    gboolean ok = FALSE;
    /* Opening, not access(): it is what curl will do, as this user. */
    int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
    struct stat st;
    if (fd < 0) {
        int e = errno;
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID, "%s '%s': cannot be read: %s",
                 label, q, g_strerror(e));
    } else if (fstat(fd, &st) != 0) {
        int e = errno;
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID, "%s '%s': cannot be read: %s",
                 label, q, g_strerror(e));
    } else if (!S_ISREG(st.st_mode)) {
        cfg_fail(error, SEAFTIER_CONFIG_ERROR_INVALID, "%s '%s': not a regular file",
                 label, q);
    } else {
        ok = TRUE;
    }
    if (fd >= 0)
        close(fd);
    g_free(q);
    return ok;
}

char *
cfg_kf_get(GKeyFile *kf, const char *section, const char *key)
{
    /* The raw value, as Python's configparser (seafobj) sees it: no GLib
     * escape processing, surrounding whitespace removed. */
    char *v = g_key_file_get_value(kf, section, key, NULL);
    return v ? g_strstrip(v) : NULL;
}

void
cfg_warn_unknown_keys(GKeyFile *kf, const char *section, const char *const *known,
                      GPtrArray *warnings)
{
    gsize n = 0;
    char **keys = g_key_file_get_keys(kf, section, &n, NULL);
    for (gsize i = 0; keys && i < n; i++) {
        if (!g_strv_contains(known, keys[i])) {
            char *q = cfg_quote(keys[i]);
            g_ptr_array_add(warnings,
                            g_strdup_printf("[%s] %s: unknown key, ignored", section, q));
            g_free(q);
        }
    }
    g_strfreev(keys);
}

