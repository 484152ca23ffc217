/* tools/cmd-migrate.c — `seaftier-admin migrate`: existing Seafile objects
 * into the configured buckets, through the sync engine. Sources:
 *
 *  --from-storage DIR   Seafile's fs layout (seafile-data/storage), read-only;
 *  --from-config DIR    the buckets of another seafile.conf;
 *  --reencrypt          the configured buckets themselves, read without
 *                       SSE-C and rewritten with it, in place.
 *
 * Every object is checked against its id before it is written (a corrupt
 * source is reported, never copied), written with the engine's key claim
 * and metadata, and read back when --verify is given (always when
 * re-encrypting: a plain object is replaced by its encrypted copy under the
 * same key, so the copy must be proven). What was confirmed is kept in a
 * SQLite state file, so a run killed at any point resumes without sending a
 * confirmed object again. */
#include "seaftier-build.h"

#include "admin.h"
#include "copy-run.h"
#include "sync/remote-fs.h"
#include "sync/remote-s3.h"
#include "sync/transfer.h"

#include <seaftier/log.h>

#include <stdio.h>
#include <string.h>

typedef struct {
    SeaftierSite *site;
    SeaftierRemote *src[SEAFTIER_N_TYPES];   /* NULL: type not migrated */
    gboolean reencrypt;
    gboolean verify;
} Migrate;

typedef struct {
    GArray *items;
    SeaftierObjType type;
} ListCtx;

static gboolean
list_entry(const char *key, guint64 size, void *user_data)
{
    ListCtx *lc = user_data;
    CopyItem it;
    if (copy_item_from_key(lc->type, key, size, &it))    /* else the probe, foreign keys */
        g_array_append_val(lc->items, it);
    return TRUE;
}

/* Re-encryption: the plain GET failed. If the configured (SSE-C) client can
 * read the object's head, it is already encrypted with our key (migrated by
 * an earlier run whose record was lost, or written by seaftier since). */
static gboolean
already_encrypted(Migrate *m, SeaftierObjType type, const char *key)
{
    SeaftierS3ObjectInfo info;
    SeaftierS3 *s3 = seaftier_remote_s3_client(m->site->remote[type]);
    return s3 && seaftier_s3_head(s3, key, &info, NULL) && info.sse_c;
}

static CopyOutcome
migrate_one(const CopyItem *it, guint64 *bytes, GError **error, void *user_data)
{
    Migrate *m = user_data;
    SeaftierRemote *src = m->src[it->type];
    char *key = seaftier_remote_key(it->repo_id, it->obj_id);
    void *data = NULL;
    gsize len = 0;
    SeaftierRemoteMeta meta = { 0 };
    GError *err = NULL;
    CopyOutcome outcome = COPY_FAILED;
    /* Seafile deleted it through seaftier (a pending remote delete): copying
     * it now could race that delete and leave it in the bucket. */
    SeaftierTierEntry row;
    if (seaftier_tier_lookup(m->site->tier, it->type, it->repo_id, it->obj_id, &row, NULL) &&
        row.state == SEAFTIER_STATE_DELETED) {
        outcome = COPY_GONE;
        goto out;
    }
    if (!seaftier_remote_get(src, key, &data, &len, &meta, &err)) {
        if (m->reencrypt && already_encrypted(m, it->type, key)) {
            outcome = COPY_ALREADY;
        } else if (m->reencrypt &&
                   seaftier_remote_classify(src, err) == SEAFTIER_REMOTE_ERR_NOT_FOUND) {
            outcome = COPY_GONE;        /* deleted by Seafile since the listing */
        } else {
            g_set_error(error, err->domain, err->code, "cannot read it from %s: %s",
                        seaftier_remote_name(src), err->message);
        }
        g_error_free(err);
        goto out;
    }
    gint64 ctime = meta.ctime > 0 ? meta.ctime : g_get_real_time() / G_USEC_PER_SEC;
    /* Before the PUT: a delete carried out and forgotten after it must not
     * be undone by the row recorded below. */
    SeaftierTierFillTicket ticket;
    gboolean have_ticket = seaftier_tier_fill_ticket(m->site->tier, &ticket, NULL);
    if (!seaftier_sync_transfer_in(seaftier_site_sync(m->site), it->type, it->repo_id,
                                   it->obj_id, data, len, ctime, m->verify || m->reencrypt,
                                   error)) {
        if (seaftier_remote_classify(m->site->remote[it->type], *error) ==
            SEAFTIER_REMOTE_ERR_BUCKET)
            outcome = COPY_FAILED_ALL;  /* every other object would fail the same way */
        goto out;
    }
    /* Some servers accept SSE-C headers and store plaintext: the proof that
     * the object is now encrypted is a read without the key being refused. */
    if (m->reencrypt && !seaftier_remote_prove_storage(m->site->remote[it->type], key, &err)) {
        g_set_error(error, err->domain, err->code, "after its encrypted PUT: %s (the object is "
                    "intact, but not encrypted)", err->message);
        g_clear_error(&err);
        outcome = COPY_FAILED_ALL;
        goto out;
    }
    *bytes = len;
    outcome = COPY_COPIED;
    /* The tier's index records it (a REMOTE row, unless it has a row
     * already): Seafile's exists() then answers from the index, and an index
     * marked complete (the buckets were empty when seaf-server or seaftierd
     * first opened them) stays complete. One transaction per object without
     * an fsync; the run ends with a durable commit (see admin_cmd_migrate). */
    SeaftierTierRemoteObject o = { it->repo_id, it->obj_id, len };
    if (!have_ticket ||
        !seaftier_tier_remember_remote_batch(m->site->tier, it->type, &o, 1, &ticket, NULL,
                                             &err)) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "copied, but not recorded in the tier's index: %s (run seaftier-admin "
                    "index-remote afterwards)", err ? err->message : "no fill ticket");
        g_clear_error(&err);
        /* A complete index without this object would answer "absent" for it:
         * no longer complete (index-remote makes it complete again). */
        seaftier_tier_set_complete(m->site->tier, it->type, m->site->cfg->s3[it->type].bucket,
                                   FALSE, NULL);
        outcome = COPY_FAILED;
    }
out:
    g_free(data);
    g_free(key);
    return outcome;
}

static char *
bucket_list(SeaftierSite *site)
{
    return g_strdup_printf("%s, %s, %s", site->cfg->s3[0].bucket, site->cfg->s3[1].bucket,
                           site->cfg->s3[2].bucket);
}

static gboolean
stop_listing(const char *key, guint64 size, void *user_data)
{
    return FALSE;
}

/* The target buckets must answer before anything is read: a missing bucket
 * or a wrong secret is one error naming the bucket, not one per object. (A
 * listing, not a HEAD: a HEAD's 404 cannot tell a missing bucket from a
 * missing key.) */
static gboolean
check_targets(Migrate *m)
{
    gboolean ok = TRUE;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (!m->src[t])
            continue;
        GError *err = NULL;
        SeaftierRemote *dst = m->site->remote[t];
        if (!seaftier_remote_list(dst, ".seaftier-migrate-check/", stop_listing, NULL, &err)) {
            admin_error("migrate", "target %s ([%s]) cannot be used: %s (%s)",
                        seaftier_remote_name(dst), seaftier_type_section(t), err->message,
                        seaftier_remote_advice(dst, err, "list"));
            ok = FALSE;
        }
        g_clear_error(&err);
    }
    return ok;
}

/* After the run: a durable commit, so that the REMOTE rows recorded without
 * an fsync during the run are on stable storage (one WAL, in order). */
static gboolean
sync_index(void *user_data)
{
    Migrate *m = user_data;
    GError *err = NULL;
    char *when = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    gboolean ok = seaftier_tier_meta_set(m->site->tier, "migrate/last-run", when, &err);
    g_free(when);
    if (!ok) {
        admin_error("migrate", "%s", err->message);
        g_error_free(err);
    }
    return ok;
}

int
admin_cmd_migrate(int argc, char **argv)
{
    AdminCommon common = { 0 };
    CopyOptions opt = { 0 };
    char *from_storage = NULL, *from_config = NULL;
    gboolean reencrypt = FALSE;
    const GOptionEntry entries[] = {
        { "from-storage", 0, 0, G_OPTION_ARG_FILENAME, &from_storage,
          "Seafile's storage dir (holding commits/, fs/, blocks/)", "DIR" },
        { "from-config", 0, 0, G_OPTION_ARG_FILENAME, &from_config,
          "The buckets of another seafile.conf (in DIR)", "DIR" },
        { "reencrypt", 0, 0, G_OPTION_ARG_NONE, &reencrypt,
          "Rewrite the configured buckets' unencrypted objects with SSE-C, in place", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    int rc = ADMIN_EXIT_USAGE;
    Migrate m = { 0 };
    SeaftierSite *other = NULL;
    SeaftierMigrateState *state = NULL;
    GArray *items = g_array_new(FALSE, FALSE, sizeof(CopyItem));
    char *job = NULL, *buckets = NULL;
    GError *err = NULL;
    if (!copy_options_parse(&argc, &argv, "migrate", NULL,
                            "Copies existing Seafile objects into the configured buckets, exactly as\n"
                            "Seafile stores them (<repo_id>/<obj_id>, raw bytes, SSE-C when configured).\n"
                            "Exactly one source: --from-storage, --from-config or --reencrypt.\n"
                            "Interrupted runs resume (same source, same state file). Exits 1 if any\n"
                            "object failed (each is named) or a bucket cannot be used.",
                            entries, "Resume state (default: <tier dir>/migrate-<job>.db)", &opt,
                            &common))
        goto out;
    if (argc != 1 || (!!from_storage + !!from_config + !!reencrypt) != 1) {
        admin_error("migrate", "give exactly one source: --from-storage DIR, --from-config DIR "
                    "or --reencrypt");
        goto out;
    }
    m.site = admin_open(&common, FALSE, TRUE, &rc);
    if (!m.site)
        goto out;
    rc = ADMIN_EXIT_PROBLEMS;
    m.reencrypt = reencrypt;
    m.verify = opt.verify;
    buckets = bucket_list(m.site);
    if (from_storage) {
        char *abs = g_canonicalize_filename(from_storage, NULL);
        if (!g_file_test(abs, G_FILE_TEST_IS_DIR)) {
            admin_error("migrate", "storage dir %s does not exist", abs);
            g_free(abs);
            goto out;
        }
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            char *dir = g_build_filename(abs, seaftier_type_name(t), NULL);
            if ((opt.type < 0 || t == opt.type) && g_file_test(dir, G_FILE_TEST_IS_DIR))
                m.src[t] = seaftier_remote_fs_new(dir, FALSE, NULL);
            g_free(dir);
        }
        job = g_strdup_printf("storage %s -> buckets %s", abs, buckets);
        g_free(abs);
    } else if (from_config) {
        other = seaftier_site_load(from_config, NULL, &err);
        if (!other || !seaftier_site_open_remotes(other, &err)) {
            admin_error("migrate", "source configuration: %s", err->message);
            goto out;
        }
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            seaftier_log_add_secret(other->cfg->s3[t].key);
            seaftier_log_add_secret(other->cfg->s3[t].sse_c_key);
        }
        for (int t = 0; t < SEAFTIER_N_TYPES; t++)
            if ((opt.type < 0 || t == opt.type) && g_strcmp0(other->cfg->s3[t].bucket, m.site->cfg->s3[t].bucket) == 0 &&
                g_strcmp0(other->cfg->s3[t].host, m.site->cfg->s3[t].host) == 0) {
                admin_error("migrate", "[%s] of %s is the configured bucket %s itself (to encrypt "
                            "it in place, use --reencrypt)", seaftier_type_section(t),
                            other->conf_path, m.site->cfg->s3[t].bucket);
                goto out;
            }
        char *src_buckets = bucket_list(other);
        job = g_strdup_printf("buckets %s of %s -> buckets %s", src_buckets, other->conf_path,
                              buckets);
        g_free(src_buckets);
        for (int t = 0; t < SEAFTIER_N_TYPES; t++)
            if (opt.type < 0 || t == opt.type) {
                m.src[t] = other->remote[t];
                other->remote[t] = NULL;        /* now ours to free */
                other->s3[t] = NULL;
            }
    } else {
        for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
            if (!m.site->cfg->s3[t].sse_c_key) {
                admin_error("migrate", "--reencrypt needs sse_c_key in [%s]: nothing to encrypt "
                            "with", seaftier_type_section(t));
                goto out;
            }
            if (opt.type >= 0 && t != opt.type)
                continue;
            SeaftierS3Config plain = m.site->cfg->s3[t];
            plain.sse_c_key = NULL;
            m.src[t] = seaftier_remote_s3_new(&plain, &err);
            if (!m.src[t]) {
                admin_error("migrate", "%s", err->message);
                goto out;
            }
        }
        job = g_strdup_printf("reencrypt buckets %s", buckets);
    }
    if (!check_targets(&m))
        goto out;

    /* The state lives in the tier dir: the engine needs the tier open anyway. */
    if (!copy_open_tier("migrate", m.site))
        goto out;
    if (!opt.state_path) {
        char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA1, job, -1);
        char *name = g_strdup_printf("migrate-%.12s.db", sum);
        opt.state_path = g_build_filename(m.site->tier_dir, name, NULL);
        g_free(name);
        g_free(sum);
    }
    state = copy_state_open("migrate", opt.state_path, job);
    if (!state)
        goto out;

    char *prefix = opt.repo ? g_strconcat(opt.repo, "/", NULL) : g_strdup("");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        if (!m.src[t])
            continue;
        ListCtx lc = { items, t };
        if (!seaftier_remote_list(m.src[t], prefix, list_entry, &lc, &err)) {
            admin_error("migrate", "cannot list the source %s: %s (%s)", seaftier_remote_name(m.src[t]),
                        err->message, seaftier_remote_advice(m.src[t], err, "list"));
            g_free(prefix);
            goto out;
        }
    }
    g_free(prefix);
    /* Migrating into empty buckets is how an installation starts: the tier's
     * index is marked complete for them now, while they are empty (as seaf-server
     * or seaftierd would on their first start), and stays complete because every
     * object copied gets its REMOTE row. Without this, seaf-server would find the
     * buckets full and its exists() would ask S3 for every unknown id until
     * `seaftier-admin index-remote`. */
    if (!opt.dry_run)
        seaftier_site_mark_empty_buckets(m.site);

    CopyRun run;
    copy_run_init(&run, "migrate", &opt, common.json, m.site, state, migrate_one, &m);
    run.verified = opt.verify || reencrypt;
    run.finish = sync_index;
    GString *extra = g_string_new("\"source\":");
    seaftier_json_string(extra, job);
    g_string_append(extra, ",\"state\":");
    seaftier_json_string(extra, opt.state_path);
    rc = copy_run_report(&run, items, extra->str);
    g_string_free(extra, TRUE);
out:
    g_clear_error(&err);
    rc = copy_state_close("migrate", state, rc);
    g_array_free(items, TRUE);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        seaftier_remote_free(m.src[t]);
    seaftier_site_free(other);
    seaftier_site_free(m.site);
    admin_common_clear(&common);
    copy_options_clear(&opt);
    g_free(job);
    g_free(buckets);
    g_free(from_storage);
    g_free(from_config);
    return rc;
}
