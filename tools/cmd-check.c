/* tools/cmd-check.c — `seaftier-admin check`: is this configuration safe to
 * run with?
 *
 * 1. The configuration passes every rule of the config module (errors stop
 *    here with exit 2; warnings are shown).
 * 2. Per backend: the bucket is reached and takes a probe object written,
 *    read back and deleted with the configured SSE-C (lib/sync/probe.c, the
 *    same probe seaftierd runs at start).
 * 3. Per backend, a sample of the objects already there is read back the
 *    way seaftier will read them: objects readable WITHOUT the SSE-C key in
 *    a bucket configured for SSE-C mean mixed encrypted/unencrypted data;
 *    objects readable neither with nor without the key are encrypted with
 *    another key; SSE-C objects in a bucket configured without a key cannot
 *    be read at all. Each finding says what to do.
 * With --create-missing, a bucket S3 reports missing is created before the
 * probe. A Go file server turned on is reported as a warning: it has its own
 * fs-only object store, so uploads and downloads through it bypass seaftier. */
#include "seaftier-build.h"

#include "admin.h"
#include "sync/probe.h"
#include "sync/remote-s3.h"

#include <stdio.h>
#include <string.h>

#define SAMPLE_KEYS 20

typedef struct {
    gboolean json;
    GString *out;           /* JSON of the current backend's findings */
    int findings;
    int total_problems;
} Check;

/* How requests address the bucket, as the client decides it (an IP address
 * as host means path style even when path_style_request is false). */
static const char *
addressing_of(const SeaftierS3Config *cfg)
{
    SeaftierS3 *s3 = seaftier_s3_new(cfg, NULL);   /* no network I/O */
    gboolean path = s3 ? seaftier_s3_uses_path_style(s3) : cfg->path_style_request;
    seaftier_s3_free(s3);
    if (path && !cfg->path_style_request)
        return "path style: host is an IP address";
    return path ? "path style" : "virtual host";
}

static void
finding(Check *c, const char *severity, const char *what, const char *advice)
{
    if (c->json) {
        g_string_append(c->out, c->findings ? ",{" : "{");
        seaftier_json_key(c->out, "severity", TRUE);
        seaftier_json_string(c->out, severity);
        seaftier_json_key(c->out, "problem", FALSE);
        seaftier_json_string(c->out, what);
        seaftier_json_key(c->out, "advice", FALSE);
        seaftier_json_string(c->out, advice);
        g_string_append_c(c->out, '}');
    } else {
        printf("  %s: %s\n", strcmp(severity, "error") == 0 ? "PROBLEM" : "warning", what);
        if (advice)
            printf("    what to do: %s\n", advice);
    }
    c->findings++;
    if (strcmp(severity, "error") == 0)
        c->total_problems++;
}

typedef struct {
    GPtrArray *keys;
} Sample;

static gboolean
sample_key(const SeaftierS3ListEntry *entry, void *user_data)
{
    Sample *s = user_data;
    if (g_str_has_prefix(entry->key, SEAFTIER_PROBE_PREFIX))
        return TRUE;
    g_ptr_array_add(s->keys, g_strdup(entry->key));
    return s->keys->len < SAMPLE_KEYS;
}

typedef struct {
    guint sampled;
    int unencrypted, other_key, encrypted_without_key;
} SampleResult;

static void
check_existing(Check *c, const SeaftierS3Config *cfg, SeaftierS3 *s3, SampleResult *res)
{
    Sample sample = { g_ptr_array_new_with_free_func(g_free) };
    GError *err = NULL;
    SeaftierS3ListPage *page = NULL;
    if (!seaftier_s3_list_page(s3, "", NULL, 100, &page, &err)) {
        char *what = g_strdup_printf("cannot list bucket %s: %s", cfg->bucket, err->message);
        finding(c, "error", what, seaftier_remote_s3_advice(err, cfg->sse_c_key != NULL, "list"));
        g_free(what);
        g_error_free(err);
        g_ptr_array_free(sample.keys, TRUE);
        return;
    }
    for (guint i = 0; i < page->entries->len && sample.keys->len < SAMPLE_KEYS; i++)
        sample_key(g_ptr_array_index(page->entries, i), &sample);
    seaftier_s3_list_page_free(page);

    /* A client without SSE-C reads the way a reader without the key would. */
    SeaftierS3Config plain_cfg = *cfg;
    plain_cfg.sse_c_key = NULL;
    SeaftierS3 *plain = seaftier_s3_new(&plain_cfg, &err);
    if (!plain) {
        finding(c, "error", err->message, NULL);
        g_error_free(err);
        g_ptr_array_free(sample.keys, TRUE);
        return;
    }
    int unencrypted = 0, other_key = 0, encrypted = 0, unreadable = 0;
    char *example_plain = NULL, *example_other = NULL, *example_err = NULL;
    for (guint i = 0; i < sample.keys->len; i++) {
        const char *key = g_ptr_array_index(sample.keys, i);
        GError *perr = NULL, *kerr = NULL;
        gboolean plain_ok = seaftier_s3_head(plain, key, NULL, &perr);
        if (cfg->sse_c_key) {
            if (plain_ok) {
                unencrypted++;
                if (!example_plain)
                    example_plain = g_strdup(key);
            } else if (!seaftier_s3_head(s3, key, NULL, &kerr)) {
                if (g_error_matches(kerr, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_MISMATCH) ||
                    g_error_matches(kerr, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INVALID_REQUEST)) {
                    other_key++;
                    if (!example_other)
                        example_other = g_strdup(key);
                } else {
                    unreadable++;
                    if (!example_err)
                        example_err = g_strdup_printf("%s: %s", key, kerr->message);
                }
            }
        } else if (!plain_ok) {
            if (g_error_matches(perr, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_MISMATCH) ||
                g_error_matches(perr, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INVALID_REQUEST)) {
                encrypted++;
                if (!example_other)
                    example_other = g_strdup(key);
            } else {
                unreadable++;
                if (!example_err)
                    example_err = g_strdup_printf("%s: %s", key, perr->message);
            }
        }
        g_clear_error(&perr);
        g_clear_error(&kerr);
    }
    if (!c->json)
        printf("  existing objects: %u sampled\n", sample.keys->len);
    if (unencrypted) {
        char *what = g_strdup_printf("bucket %s holds objects readable WITHOUT the SSE-C key "
                                     "(%d of %u sampled, e.g. %s): mixed encrypted and unencrypted data",
                                     cfg->bucket, unencrypted, sample.keys->len, example_plain);
        finding(c, "error", what,
                "these objects are not protected by sse_c_key; re-encrypt them (copy each with SSE-C, "
                "e.g. GET + PUT with the key) or use a bucket holding only SSE-C data; Seafile can "
                "still read them only while both kinds are handled");
        g_free(what);
    }
    if (other_key) {
        char *what = g_strdup_printf("bucket %s holds objects that cannot be read with the configured "
                                     "sse_c_key (%d of %u sampled, e.g. %s): they are encrypted with "
                                     "another key", cfg->bucket, other_key, sample.keys->len,
                                     example_other);
        finding(c, "error", what, "set sse_c_key to the key this bucket's data was written with");
        g_free(what);
    }
    if (encrypted) {
        char *what = g_strdup_printf("bucket %s holds SSE-C encrypted objects (%d of %u sampled, e.g. "
                                     "%s) but [%s] has no sse_c_key: they cannot be read",
                                     cfg->bucket, encrypted, sample.keys->len, example_other,
                                     cfg->section);
        finding(c, "error", what, "set sse_c_key (32 characters) to the key the data was written with");
        g_free(what);
    }
    if (unreadable) {
        char *what = g_strdup_printf("%d sampled objects could not be read: %s", unreadable, example_err);
        finding(c, "warning", what, NULL);
        g_free(what);
    }
    res->sampled = sample.keys->len;
    res->unencrypted = unencrypted;
    res->other_key = other_key;
    res->encrypted_without_key = encrypted;
    g_free(example_plain);
    g_free(example_other);
    g_free(example_err);
    seaftier_s3_free(plain);
    g_ptr_array_free(sample.keys, TRUE);
}

/* Why the Go file server would serve this installation, or NULL. seaf-server
 * reads the same switches (seafile-session.c): the environment wins. */
static char *
go_fileserver_reason(const char *conf_path)
{
    const char *env = g_getenv("ENABLE_GO_FILESERVER");
    if (env)
        return g_ascii_strcasecmp(env, "true") == 0 ? g_strdup("ENABLE_GO_FILESERVER=true") : NULL;
    GKeyFile *kf = g_key_file_new();
    char *reason = NULL;
    if (g_key_file_load_from_file(kf, conf_path, G_KEY_FILE_NONE, NULL) &&
        g_key_file_get_boolean(kf, "fileserver", "use_go_fileserver", NULL))
        reason = g_strdup("[fileserver] use_go_fileserver = true");
    g_key_file_free(kf);
    return reason;
}

/* --create-missing: creates the bucket when S3 says it does not exist.
 * TRUE unless the bucket is missing and could not be created. */
static gboolean
create_if_missing(Check *c, const SeaftierS3Config *cfg, SeaftierS3 *s3, gboolean *created)
{
    SeaftierS3ListPage *page = NULL;
    GError *err = NULL;
    *created = FALSE;
    if (seaftier_s3_list_page(s3, "", NULL, 1, &page, &err)) {
        seaftier_s3_list_page_free(page);
        return TRUE;
    }
    gboolean missing = g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NO_SUCH_BUCKET);
    g_clear_error(&err);
    if (!missing)
        return TRUE;        /* the probe reports whatever else is wrong */
    if (!seaftier_s3_create_bucket(s3, &err)) {
        char *what = g_strdup_printf("bucket %s is missing and cannot be created: %s", cfg->bucket,
                                     err->message);
        finding(c, "error", what, "create it by hand, or give key_id the right to create buckets");
        g_free(what);
        g_error_free(err);
        return FALSE;
    }
    *created = TRUE;
    if (!c->json)
        printf("  bucket %s was missing: created\n", cfg->bucket);
    return TRUE;
}

int
admin_cmd_check(int argc, char **argv)
{
    AdminCommon common = { 0 };
    gboolean no_network = FALSE, create_missing = FALSE;
    const GOptionEntry entries[] = {
        { "config-only", 0, 0, G_OPTION_ARG_NONE, &no_network, "Only check the configuration", NULL },
        { "create-missing", 0, 0, G_OPTION_ARG_NONE, &create_missing,
          "Create a bucket that does not exist (in the configured region), then probe it", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    SeaftierSite *env = NULL;
    if (!admin_parse(&argc, &argv, "check", NULL,
                     "Validates seafile.conf (every rule; all problems are listed at once), then\n"
                     "per backend: reaches the bucket,\n"
                     "writes/reads/deletes a probe object with the configured SSE-C, and samples\n"
                     "existing objects for mixed encrypted/unencrypted data or another SSE-C key.\n"
                     "Warns when the Go file server is on (it bypasses the tier).\n"
                     "Exits 0 when all is well, 1 when a problem was found, 2 for config errors.",
                     entries, TRUE, &common))
        goto out;
    if (argc > 1) {
        admin_error("check", "unexpected argument \"%s\"", argv[1]);
        goto out;
    }
    GError *err = NULL;
    env = seaftier_site_load(common.config_dir, common.seafile_dir, &err);
    if (!env) {
        /* The config module reports every problem of the file, one a line. */
        char **problems = g_strsplit(err->message, "\n", -1);
        if (common.json) {
            GString *o = g_string_new("{\"ok\":false,\"config\":{\"ok\":false,\"error\":");
            seaftier_json_string(o, err->message);
            g_string_append(o, ",\"problems\":[");
            for (char **p = problems; *p; p++) {
                if (p != problems)
                    g_string_append_c(o, ',');
                seaftier_json_string(o, *p);
            }
            g_string_append(o, "]}}");
            printf("%s\n", o->str);
            g_string_free(o, TRUE);
        } else if (g_strv_length(problems) == 1) {
            printf("config: ERROR: %s\n", err->message);
        } else {
            printf("config: ERROR: %u problems, fix all of them:\n", g_strv_length(problems));
            for (char **p = problems; *p; p++)
                printf("  PROBLEM: %s\n", *p);
        }
        g_strfreev(problems);
        g_error_free(err);
        rc = ADMIN_EXIT_USAGE;
        goto out;
    }
    Check c = { .json = common.json, .out = g_string_new(NULL) };
    GString *doc = g_string_new("{\"config\":{\"ok\":true,\"file\":");
    seaftier_json_string(doc, env->conf_path);
    g_string_append(doc, ",\"warnings\":[");
    if (!c.json)
        printf("config %s: ok\n", env->conf_path);
    for (guint i = 0; env->cfg->warnings && i < env->cfg->warnings->len; i++) {
        const char *w = g_ptr_array_index(env->cfg->warnings, i);
        if (c.json) {
            if (i)
                g_string_append_c(doc, ',');
            seaftier_json_string(doc, w);
        } else {
            printf("  warning: %s\n", w);
        }
    }
    char *go = go_fileserver_reason(env->conf_path);
    if (go) {
        char *w = g_strdup_printf("the Go file server is on (%s): it has its own object store that "
                                  "only knows the fs backend, so uploads and downloads through it "
                                  "bypass seaftier and S3; turn it off to use seaftier", go);
        if (c.json) {
            if (env->cfg->warnings && env->cfg->warnings->len)
                g_string_append_c(doc, ',');
            seaftier_json_string(doc, w);
        } else {
            printf("  warning: %s\n", w);
        }
        g_free(w);
        g_free(go);
    }
    g_string_append(doc, "]},\"backends\":{");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        const SeaftierS3Config *cfg = &env->cfg->s3[t];
        c.findings = 0;
        g_string_truncate(c.out, 0);
        if (!c.json)
            printf("\n[%s] bucket %s on %s (%s, signature %s, %s, %s)\n", cfg->section, cfg->bucket,
                   cfg->host ? cfg->host : "AWS", cfg->use_https ? "https" : "http",
                   cfg->use_v4_signature ? "V4" : "V2", addressing_of(cfg),
                   cfg->sse_c_key ? "SSE-C" : "no SSE-C");
        int before = c.total_problems;
        gboolean probe_ok = FALSE, created = FALSE;
        char *probe_msg = NULL;
        SampleResult sample = { 0 };
        if (!no_network) {
            SeaftierRemote *remote = seaftier_remote_s3_new(cfg, &err);
            SeaftierS3 *s3 = seaftier_remote_s3_client(remote);
            if (!remote) {
                finding(&c, "error", err->message, NULL);
                g_clear_error(&err);
            } else if (create_missing && !create_if_missing(&c, cfg, s3, &created)) {
                seaftier_remote_free(remote);
            } else {
                const char *advice = NULL;
                SeaftierProbeResult r = seaftier_probe_remote(remote, &probe_msg, &advice);
                probe_ok = r == SEAFTIER_PROBE_OK;
                if (probe_ok) {
                    if (!c.json)
                        printf("  probe: PUT/GET/DELETE%s ok%s\n", cfg->sse_c_key ? " with SSE-C" : "",
                               cfg->sse_c_key ? " (a GET without the key is refused)" : "");
                } else {
                    char *adv = g_strdup_printf("%s (%s)", advice ? advice : "see the error",
                                                r == SEAFTIER_PROBE_TRANSIENT
                                                ? "seaftierd keeps the data dirty and retries"
                                                : "seaftierd refuses to upload to this bucket until then");
                    finding(&c, "error", probe_msg, adv);
                    g_free(adv);
                }
                /* Existing data is only worth sampling when the bucket takes us. */
                if (probe_ok)
                    check_existing(&c, cfg, s3, &sample);
                seaftier_remote_free(remote);
            }
        }
        if (c.json) {
            seaftier_json_key(doc, seaftier_type_name(t), t == 0);
            g_string_append(doc, "{\"section\":");
            seaftier_json_string(doc, cfg->section);
            g_string_append(doc, ",\"bucket\":");
            seaftier_json_string(doc, cfg->bucket);
            g_string_append_printf(doc, ",\"created\":%s", created ? "true" : "false");
            g_string_append_printf(doc, ",\"sse_c\":%s,\"probe_ok\":%s,\"ok\":%s,\"sampled\":%u,"
                                   "\"unencrypted\":%d,\"other_key\":%d,\"encrypted_without_key\":%d,"
                                   "\"findings\":[%s]}",
                                   cfg->sse_c_key ? "true" : "false", probe_ok ? "true" : "false",
                                   c.total_problems == before ? "true" : "false", sample.sampled,
                                   sample.unencrypted, sample.other_key, sample.encrypted_without_key,
                                   c.out->str);
        } else if (c.total_problems == before) {
            printf("  ok\n");
        }
        g_free(probe_msg);
    }
    g_string_append_printf(doc, "},\"ok\":%s}", c.total_problems ? "false" : "true");
    if (c.json)
        printf("%s\n", doc->str);
    else
        printf("\n%s\n", c.total_problems ? "check: problems found (see above)" : "check: all ok");
    g_string_free(doc, TRUE);
    g_string_free(c.out, TRUE);
    rc = c.total_problems ? ADMIN_EXIT_PROBLEMS : ADMIN_EXIT_OK;
out:
    seaftier_site_free(env);
    admin_common_clear(&common);
    return rc;
}
