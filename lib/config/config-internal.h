/*
 * lib/config/config-internal.h — helpers shared by the config loader's modules
 * (config-values.c, for config.c, config-s3.c, config-tier.c, config-env.c). Not installed.
 *
 * Messages name where a value came from with a "label": "[section] key" for
 * seafile.conf, or the variable name (e.g. "S3_FS_BUCKET") for the
 * environment. Functions taking `secret` never put the value in a message.
 */
#ifndef SEAFTIER_CONFIG_INTERNAL_H
#define SEAFTIER_CONFIG_INTERNAL_H

#include <seaftier/config.h>

G_BEGIN_DECLS

/* Returns `value` escaped for a message (control and non-ASCII bytes as
 * C escapes), so a hostile file cannot forge log lines. Free with g_free. */
char *cfg_quote(const char *value);

/* Sets a SEAFTIER_CONFIG_ERROR with a printf-style message. */
void cfg_fail(GError **error, SeaftierConfigError code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Independent problems of one configuration, reported together (one line
 * each, every line naming its section or variable and key) so an operator
 * fixes them in one pass. Zero-initialise. */
typedef struct {
    GString *text;
    SeaftierConfigError code;       /* of the first problem */
} CfgProblems;

/* Adds `err` (taken; NULL is a no-op). */
void cfg_problems_add(CfgProblems *p, GError *err);

/* TRUE when nothing was added; else sets `error` to all problems and
 * returns FALSE. Either way `p` is emptied. */
gboolean cfg_problems_finish(CfgProblems *p, GError **error);

/* Overwrites a string's bytes with zeros, then frees it. NULL is a no-op. */
void cfg_wipe_free(char *s);

/* Booleans as Python's configparser.getboolean() reads them (seafobj's
 * reader): true/false, yes/no, on/off, 1/0, case-insensitive. */
gboolean cfg_parse_bool(const char *label, const char *value, gboolean *out, GError **error);

/* A decimal integer within [min, max]. */
gboolean cfg_parse_int(const char *label, const char *value, int min, int max,
                       int *out, GError **error);

/* A size (seaftier_parse_size) within [min, max]. */
gboolean cfg_parse_size_range(const char *label, const char *value, guint64 min,
                              guint64 max, guint64 *out, GError **error);

/* "host", "host:port", "[v6addr]" or "[v6addr]:port". `*host` keeps the
 * brackets of an IPv6 address (ready for a URL or Host header); `*port` is 0
 * when absent. */
gboolean cfg_parse_host(const char *label, const char *value, char **host, int *port,
                        GError **error);

/* Fails unless `path` names a regular file this process can open for reading. */
gboolean cfg_check_readable_file(const char *label, const char *path, GError **error);

/* Returns the trimmed value of a key, NULL when absent; empty values are
 * returned as "" (the caller decides what empty means). */
char *cfg_kf_get(GKeyFile *kf, const char *section, const char *key);

/* Adds a warning for each key of `section` that is not in `known` (NULL-terminated). */
void cfg_warn_unknown_keys(GKeyFile *kf, const char *section, const char *const *known,
                           GPtrArray *warnings);

/* How the S3 sections are configured (see config-env.c). */
typedef enum {
    CFG_S3_FROM_FILE,       /* seafile.conf sections */
    CFG_S3_FROM_ENV,        /* S3_* variables, as seafobj does for SEAF_SERVER_STORAGE_TYPE=s3 */
} CfgS3Source;

/* Decides where the S3 settings come from, from SEAF_SERVER_STORAGE_TYPE and
 * USE_S3_STORAGE. Fails for storage types seaftier cannot front. */
gboolean cfg_env_s3_source(CfgS3Source *source, GPtrArray *warnings, GError **error);

/* The variable that holds `key` (a seafile.conf key name) of section `type`
 * in environment mode, or NULL when the key has no variable. */
const char *cfg_env_var_for(SeaftierObjType type, const char *key);

/* Fills `out` for one object type. `kf` may be NULL (environment mode
 * without a file). In environment mode the connection settings come from
 * S3_* variables and only ca_file and the client tunables from the file. */
gboolean cfg_s3_load(GKeyFile *kf, SeaftierObjType type, CfgS3Source source,
                     SeaftierS3Config *out, GPtrArray *warnings, GError **error);

/* Checks that no two object types share a bucket on the same endpoint. */
gboolean cfg_s3_check_distinct(const SeaftierConfig *cfg, CfgS3Source source, GError **error);

/* Frees the strings of one S3 section, wiping the secrets. */
void cfg_s3_clear(SeaftierS3Config *s3);

/* Fills `out` from [tier] (defaults when `kf` is NULL or has no [tier]). */
gboolean cfg_tier_load(GKeyFile *kf, SeaftierTierConfig *out, GPtrArray *warnings,
                       GError **error);

/* Frees the strings of the [tier] section. */
void cfg_tier_clear(SeaftierTierConfig *tier);

G_END_DECLS

#endif
