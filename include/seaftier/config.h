/*
 * seaftier/config.h — seaftier's view of seafile.conf.
 *
 * Seafile Pro keeps each object type in its own S3 bucket, configured in the
 * sections [commit_object_backend], [fs_object_backend] and [block_backend]
 * (name = s3, bucket, key_id, key, use_v4_signature, use_https, aws_region,
 * host, sse_c_key, path_style_request). seaftier reads exactly those sections,
 * plus `ca_file` and a few client tunables, and its own [tier] section.
 * Seafile's S3_* environment variables (see SEAFILE-API.md) are honoured as
 * seafobj does.
 *
 * Invariant: a SeaftierConfig returned by the loaders has passed every check
 * (bucket naming, SSE-C rules, ports, sizes); problems that do not stop the
 * tier from working (unknown keys …) are kept as warnings.
 * Secrets (key, sse_c_key) are never copied into warnings or errors.
 */
#ifndef SEAFTIER_CONFIG_H
#define SEAFTIER_CONFIG_H

#include <glib.h>

G_BEGIN_DECLS

/* The three kinds of Seafile objects, each with its own bucket. */
typedef enum {
    SEAFTIER_TYPE_COMMITS = 0,
    SEAFTIER_TYPE_FS = 1,
    SEAFTIER_TYPE_BLOCKS = 2,
    SEAFTIER_N_TYPES = 3
} SeaftierObjType;

/* "commits", "fs", "blocks" — the names seaf-server uses for obj_type. */
const char *seaftier_type_name(SeaftierObjType type);
/* Inverse of seaftier_type_name(); also accepts "commit" and "block".
 * Returns FALSE for anything else. */
gboolean seaftier_type_from_name(const char *name, SeaftierObjType *type);
/* "commit_object_backend", "fs_object_backend", "block_backend". */
const char *seaftier_type_section(SeaftierObjType type);

/* One S3 backend section. All strings are owned by the config. */
typedef struct {
    char *section;          /* e.g. "block_backend", for messages */
    char *bucket;
    char *key_id;
    char *key;              /* secret: never log */
    gboolean use_v4_signature;
    gboolean use_https;
    char *aws_region;       /* "us-east-1" when unset */
    char *host;             /* host name or address without port; NULL = AWS */
    int port;               /* 0 = scheme default */
    char *sse_c_key;        /* secret, exactly 32 bytes, or NULL for no SSE-C */
    gboolean path_style_request;
    char *ca_file;          /* CA bundle for https, NULL = system store */
    /* client tunables (keys of the same section, documented in the example) */
    int connect_timeout_s;      /* connect_timeout, default 10 */
    int low_speed_time_s;       /* low_speed_time: abort below 1 KiB/s for this long, default 30 */
    int max_retries;            /* max_retries for transient errors, default 5 */
    guint64 multipart_part_size;/* multipart_part_size; bodies above it go multipart, default 64 MiB, min 5 MiB */
} SeaftierS3Config;

/* [tier] authoritative_index: whether an index known to be complete (it has
 * a row for every object the bucket holds) may answer "absent" without
 * asking S3. Only true while nobody but this site's tier writes the buckets. */
typedef enum {
    SEAFTIER_AUTHORITATIVE_AUTO = 0,   /* auto (default): yes in write_back mode, no in write_through */
    SEAFTIER_AUTHORITATIVE_ON,         /* on: yes in both modes (one node, write-through for safety) */
    SEAFTIER_AUTHORITATIVE_OFF,        /* off: never (the buckets are shared) */
} SeaftierAuthoritativeIndex;

/* The [tier] section (seaftier's own). */
typedef struct {
    char *dir;                  /* dir: tier directory (index + objects); NULL = <seafile data dir>/seaftier */
    guint64 max_size;           /* max_size: bytes of stored objects, default 10 GiB */
    int high_watermark;         /* high_watermark: % of max_size that starts eviction, default 90 */
    int low_watermark;          /* low_watermark: % eviction goes down to, default 80 */
    guint64 min_free_space;     /* min_free_space: bytes kept free on the tier's filesystem, default 1 GiB */
    guint64 ram_cache_size;     /* ram_cache_size: in-process RAM tier, default 128 MiB, 0 = off */
    guint64 location_cache_size; /* location_cache_size: where recently read objects are, default 12 MiB, 0 = off */
    gboolean compression;       /* compression: lz4 on/off, default true */
    gboolean write_through;     /* mode = write_through | write_back (default write_back) */
    SeaftierAuthoritativeIndex authoritative_index; /* authoritative_index = auto | on | off */
    int upload_concurrency;     /* upload_concurrency: PUTs in flight, default 16 */
    int upload_delay_ms;        /* upload_delay: ms a dirty object waits before upload, default 0 */
    guint64 inline_max;         /* inline_max: objects up to this size live inside SQLite, default 64 KiB */
    char *socket_path;          /* socket: daemon control/metrics socket, default <dir>/seaftierd.sock */
    char *log_level;            /* log_level: error|warning|info|debug, default info */
    gboolean dumpable;          /* dumpable: leave seaf-server able to dump core (the cores hold
                                 * the S3 secrets), default false */
} SeaftierTierConfig;

typedef struct {
    SeaftierS3Config s3[SEAFTIER_N_TYPES];
    SeaftierTierConfig tier;
    GPtrArray *warnings;        /* char*: non-fatal findings, e.g. unknown keys */
    char *source;               /* the file path, or "environment" */
} SeaftierConfig;

#define SEAFTIER_CONFIG_ERROR (seaftier_config_error_quark())
GQuark seaftier_config_error_quark(void);

typedef enum {
    SEAFTIER_CONFIG_ERROR_IO,        /* file unreadable / not a key file */
    SEAFTIER_CONFIG_ERROR_MISSING,   /* a required section or key is absent */
    SEAFTIER_CONFIG_ERROR_INVALID,   /* a value breaks a rule */
} SeaftierConfigError;

/* Loads seafile.conf from `path` and applies the S3_* environment when
 * SEAF_SERVER_STORAGE_TYPE=s3 (or USE_S3_STORAGE=true) is set.
 * Returns NULL with `error` set (naming section, key and value) on failure. */
SeaftierConfig *seaftier_config_load_file(const char *path, GError **error);

/* Same as seaftier_config_load_file() for an already parsed key file, as
 * seaf-server holds it. `kf` is not modified or kept. */
SeaftierConfig *seaftier_config_load_keyfile(GKeyFile *kf, GError **error);

/* Frees a config, wiping the secrets from memory. NULL is a no-op. */
void seaftier_config_free(SeaftierConfig *cfg);

/* Parses sizes such as "512", "64K", "10MB", "2 GiB" (binary units).
 * Returns FALSE for anything else. */
gboolean seaftier_parse_size(const char *text, guint64 *out);

G_END_DECLS

#endif
