/*
 * lib/config/bucket-name.c — S3 bucket naming rules, as AWS documents them for
 * general purpose buckets ("Bucket naming rules", Amazon S3 User Guide).
 * Other S3 servers are laxer, but Seafile's docs ask for names that work
 * everywhere, and one rule per message tells the operator exactly what to fix.
 */
#include "seaftier-build.h"

#include "bucket-name.h"

#include <string.h>

static gboolean
is_lower_or_digit(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Four dot-separated groups of 1-3 digits: S3 refuses names that look like
 * an IPv4 address because they would be ambiguous in virtual-host URLs. */
static gboolean
looks_like_ipv4(const char *name)
{
    int groups = 0, digits = 0;
    for (const char *p = name;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 3)
                return FALSE;
        } else if (*p == '.' || *p == '\0') {
            if (digits == 0)
                return FALSE;
            groups++;
            digits = 0;
            if (*p == '\0')
                break;
        } else {
            return FALSE;
        }
    }
    return groups == 4;
}

static const char *const reserved_prefixes[] = { "xn--", "sthree-", "amzn-s3-demo-" };
static const char *const reserved_suffixes[] = { "-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3" };

char *
seaftier_bucket_name_problem(const char *name)
{
    if (!name || !*name)
        return g_strdup("must not be empty");

    size_t len = strlen(name);
    if (len < 3)
        return g_strdup_printf("must be at least 3 characters long (got %zu)", len);
    if (len > 63)
        return g_strdup_printf("must be at most 63 characters long (got %zu)", len);

    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (is_lower_or_digit((char)c) || c == '.' || c == '-')
            continue;
        if (c >= 'A' && c <= 'Z')
            return g_strdup("uppercase letters are not allowed");
        if (c == '_')
            return g_strdup("underscores are not allowed");
        if (c > 0x20 && c < 0x7f)
            return g_strdup_printf("character '%c' is not allowed (only lowercase letters, "
                                   "digits, '.' and '-')", c);
        return g_strdup_printf("byte 0x%02x is not allowed (only lowercase letters, "
                               "digits, '.' and '-')", c);
    }

    if (!is_lower_or_digit(name[0]))
        return g_strdup("must begin with a lowercase letter or digit");
    if (!is_lower_or_digit(name[len - 1]))
        return g_strdup("must end with a lowercase letter or digit");
    if (strstr(name, ".."))
        return g_strdup("must not contain two adjacent periods");
    if (looks_like_ipv4(name))
        return g_strdup("must not be formatted as an IP address");

    for (size_t i = 0; i < G_N_ELEMENTS(reserved_prefixes); i++)
        if (g_str_has_prefix(name, reserved_prefixes[i]))
            return g_strdup_printf("must not start with the reserved prefix '%s'",
                                   reserved_prefixes[i]);
    for (size_t i = 0; i < G_N_ELEMENTS(reserved_suffixes); i++)
        if (g_str_has_suffix(name, reserved_suffixes[i]))
            return g_strdup_printf("must not end with the reserved suffix '%s'",
                                   reserved_suffixes[i]);
    return NULL;
}
