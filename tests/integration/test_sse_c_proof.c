/*
 * tests/integration/test_sse_c_proof.c — SSE-C is proven, never assumed.
 *
 * A configuration with sse_c_key on the test server chosen by
 * SEAFTIER_S3_SERVER:
 *  - on a server that honours SSE-C (RGW): `seaftier-admin check` proves that
 *    a GET without the key is refused, seaftierd uploads, every object ends
 *    clean and is unreadable without the key;
 *  - on a server that ignores SSE-C (Swift's s3api answers 200 and stores
 *    plaintext): `check` fails naming it ("stores plaintext: SSE-C not
 *    honoured by this server"), seaftierd refuses the buckets and uploads
 *    nothing (no object of a library and no probe object is left in the
 *    buckets), a flush without the daemon probes and sends nothing either,
 *    and no object is ever marked clean — not even by the uploader itself
 *    when a PUT gets through (a server that changed after the probe): the
 *    answer without the echo is a failure for the whole bucket.
 */
#include "seaftier-build.h"

#include "daemon-testutil.h"
#include "../common/s3test.h"
#include "sync/remote-s3.h"
#include "sync/sync.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define N_OBJECTS 6
#define NOT_HONOURED "stores plaintext: SSE-C not honoured by this server"

static gboolean
count_key(const SeaftierS3ListEntry *e, void *user)
{
    (void)e;
    (*(guint *)user)++;
    return TRUE;
}

static guint
keys_under(DT *dt, int type, const char *prefix)
{
    guint n = 0;
    GError *err = NULL;
    DT_CHECK_MSG(seaftier_s3_list(dt->plain[type], prefix, 0, count_key, &n, &err), "list %s: %s",
                 prefix, err ? err->message : "");
    return n;
}

static void
write_objects(DT *dt, char repo[37], char ids[N_OBJECTS][41])
{
    dt_random_repo(repo);
    for (int i = 0; i < N_OBJECTS; i++) {
        dt_random_obj(ids[i]);
        char body[64];
        int n = g_snprintf(body, sizeof body, "object %d must never be stored in plaintext", i);
        dt_write(dt, i % 2 ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_COMMITS, repo, ids[i], body, (gsize)n);
    }
}

static void
assert_none_clean(DT *dt, const char *repo, char ids[N_OBJECTS][41], const char *when)
{
    for (int i = 0; i < N_OBJECTS; i++) {
        SeaftierTierEntry e;
        SeaftierObjType type = i % 2 ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_COMMITS;
        DT_CHECK(seaftier_tier_lookup(dt->tier, type, repo, ids[i], &e, NULL));
        DT_CHECK_MSG(e.state == SEAFTIER_STATE_DIRTY, "%s: %s/%s is %s on a server that ignores SSE-C",
                     when, repo, ids[i], seaftier_state_name(e.state));
    }
}

typedef struct {
    GMutex lock;
    int done, done_ok, bucket_calls;
    char *message;
    SeaftierObjType bucket_type;
    int bucket_code;
} UploadSeen;

static void
on_upload_done(const SeaftierTierEntry *e, gboolean ok, const char *message, void *user)
{
    (void)e;
    UploadSeen *s = user;
    g_mutex_lock(&s->lock);
    s->done++;
    s->done_ok += ok;
    g_free(s->message);
    s->message = g_strdup(message);
    g_mutex_unlock(&s->lock);
}

static void
on_bucket_failed(SeaftierObjType type, const GError *error, void *user)
{
    UploadSeen *s = user;
    g_mutex_lock(&s->lock);
    s->bucket_calls++;
    s->bucket_type = type;
    s->bucket_code = error->code;
    g_mutex_unlock(&s->lock);
}

/* The sync engine seaftierd's scheduler and flush jobs run, given a dirty
 * object as if the bucket had passed its probe: the PUT reaches the server,
 * its answer lacks the echo, the row stays dirty with the failure recorded,
 * and the whole bucket is reported. */
static void
uploader_refuses(DT *dt, const char *repo, const char *obj_id)
{
    SeaftierTierEntry before, after;
    DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_COMMITS, repo, obj_id, &before, NULL));
    SeaftierRemote *remotes[SEAFTIER_N_TYPES];
    GError *err = NULL;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        remotes[t] = seaftier_remote_s3_new(&dt->cfg->s3[t], &err);
        DT_CHECK_MSG(remotes[t], "%s", err ? err->message : "");
    }
    SeaftierSync *sync = seaftier_sync_new(dt->tier, remotes, 2);
    UploadSeen seen = { 0 };
    g_mutex_init(&seen.lock);
    SeaftierSyncObserver obs = { .bucket_failed = on_bucket_failed, .user_data = &seen };
    seaftier_sync_set_observer(sync, &obs);
    DT_CHECK(seaftier_sync_submit_upload(sync, &before, TRUE, on_upload_done, &seen) ==
             SEAFTIER_SUBMIT_OK);
    DT_CHECK(seaftier_sync_drain(sync, g_get_monotonic_time() + 20 * G_USEC_PER_SEC));
    seaftier_sync_free(sync);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        seaftier_remote_free(remotes[t]);
    DT_CHECK_MSG(seen.done == 1 && seen.done_ok == 0 && seen.message && strstr(seen.message, NOT_HONOURED),
                 "upload: %d done, %d ok, %s", seen.done, seen.done_ok, seen.message ? seen.message : "");
    DT_CHECK_MSG(seen.bucket_calls == 1 && seen.bucket_type == SEAFTIER_TYPE_COMMITS &&
                 seen.bucket_code == SEAFTIER_S3_ERROR_SSE_C_IGNORED,
                 "bucket hook: %d calls, code %d", seen.bucket_calls, seen.bucket_code);
    DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_COMMITS, repo, obj_id, &after, NULL));
    DT_CHECK_MSG(after.state == SEAFTIER_STATE_DIRTY && after.attempts == before.attempts + 1,
                 "after the upload: %s, %d attempts (before: %d)", seaftier_state_name(after.state),
                 after.attempts, before.attempts);
    g_free(seen.message);
    g_mutex_clear(&seen.lock);
}

static void
test_not_honoured(void)
{
    DT *dt = dt_setup("ssn", TRUE, NULL);
    char *out = NULL, *err = NULL;

    /* check: the probe proves the plaintext and says so, for every backend */
    int rc = dt_admin(dt, &out, NULL, "check", NULL);
    g_printerr("%s", out);
    DT_CHECK_MSG(rc != 0, "check passed on a server that ignores SSE-C");
    DT_CHECK(strstr(out, NOT_HONOURED) && !strstr(out, "check: all ok"));
    DT_CHECK(strstr(out, s3test_sse_c_key()) == NULL);
    g_free(out);
    DT_CHECK(dt_admin(dt, &out, NULL, "check", "--json", NULL) != 0);
    DT_CHECK(dt_json(out, "not d[\"ok\"] and not any(b[\"probe_ok\"] for b in d[\"backends\"].values())"));
    g_free(out);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        DT_CHECK_MSG(keys_under(dt, t, ".seaftier-probe/") == 0, "a plaintext probe object was left in %s",
                     dt->cfg->s3[t].bucket);

    /* the daemon: buckets refused, nothing uploaded, nothing clean */
    char repo[37], ids[N_OBJECTS][41];
    write_objects(dt, repo, ids);
    dt_start_daemon(dt, NULL);
    char *status = NULL;
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    const char *all_refused = "all(d[\"backends\"][t][\"state\"] == \"refused\" and \"" NOT_HONOURED
                              "\" in d[\"backends\"][t][\"message\"] for t in (\"commits\",\"fs\",\"blocks\"))";
    do {
        g_free(status);
        g_usleep(100000);
        status = dt_request(dt, "status");
    } while (g_get_monotonic_time() < deadline && !dt_json(status, all_refused));
    DT_CHECK_MSG(dt_json(status, all_refused), "status: %s", status);
    g_free(status);
    g_usleep(1500000);   /* a few scheduler ticks */
    assert_none_clean(dt, repo, ids, "with seaftierd");
    char *prefix = g_strconcat(repo, "/", NULL);
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        DT_CHECK_MSG(keys_under(dt, t, prefix) == 0, "seaftierd uploaded to %s, which stores plaintext",
                     dt->cfg->s3[t].bucket);
        DT_CHECK(keys_under(dt, t, ".seaftier-probe/") == 0);
    }
    int st = dt_stop_daemon(dt, SIGTERM, 10);
    DT_CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit status %d", st);

    /* a flush without the daemon probes first, like seaftierd: no object
     * is sent, each is reported with the reason; nothing turns clean */
    rc = dt_admin(dt, &out, &err, "flush", NULL);
    g_printerr("flush: %s%s", out, err);
    DT_CHECK_MSG(rc != 0, "flush succeeded on a server that ignores SSE-C");
    DT_CHECK(strstr(out, NOT_HONOURED) || strstr(err, NOT_HONOURED));
    g_free(out);
    g_free(err);
    assert_none_clean(dt, repo, ids, "after flush");
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        DT_CHECK_MSG(keys_under(dt, t, prefix) == 0, "flush uploaded to %s, which stores plaintext",
                     dt->cfg->s3[t].bucket);
        DT_CHECK(keys_under(dt, t, ".seaftier-probe/") == 0);
    }

    uploader_refuses(dt, repo, ids[0]);
    assert_none_clean(dt, repo, ids, "after the uploader's attempt");

    /* the client itself, as any caller would use it: a PUT answered without
     * the echo is an error (the object reached the server in plaintext) */
    char *key = g_strconcat(prefix, ids[0], NULL);
    GError *gerr = NULL;
    DT_CHECK(!seaftier_s3_put(dt->s3[SEAFTIER_TYPE_COMMITS], key, "x", 1, 0, &gerr));
    DT_CHECK_MSG(g_error_matches(gerr, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_SSE_C_IGNORED) &&
                 strstr(gerr->message, key) && strstr(gerr->message, NOT_HONOURED), "PUT: %s",
                 gerr ? gerr->message : "succeeded");
    g_clear_error(&gerr);
    g_free(key);
    g_free(prefix);
    dt_teardown(dt);
}

static void
test_honoured(void)
{
    DT *dt = dt_setup("ssh", TRUE, NULL);
    char *out = NULL;
    int rc = dt_admin(dt, &out, NULL, "check", NULL);
    DT_CHECK_MSG(rc == 0 && strstr(out, "check: all ok"), "check: %s", out);
    DT_CHECK(strstr(out, "a GET without the key is refused") && !strstr(out, NOT_HONOURED));
    g_free(out);

    char repo[37], ids[N_OBJECTS][41];
    write_objects(dt, repo, ids);
    dt_start_daemon(dt, NULL);
    DT_CHECK_MSG(dt_wait_settled(dt, FALSE, 30), "still %" G_GUINT64_FORMAT " dirty after 30 s",
                 dt_count(dt, SEAFTIER_STATE_DIRTY));
    for (int i = 0; i < N_OBJECTS; i++) {
        SeaftierObjType type = i % 2 ? SEAFTIER_TYPE_BLOCKS : SEAFTIER_TYPE_COMMITS;
        char *key = g_strconcat(repo, "/", ids[i], NULL);
        GError *gerr = NULL;
        DT_CHECK_MSG(seaftier_s3_prove_sse_c_enforced(dt->s3[type], key, &gerr), "%s: %s", key,
                     gerr ? gerr->message : "");
        g_free(key);
    }
    int st = dt_stop_daemon(dt, SIGTERM, 10);
    DT_CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit status %d", st);
    dt_teardown(dt);
}

int
main(void)
{
    const S3TestServer *srv = s3test_server();
    if (srv->honours_sse_c) {
        g_printerr("== %s honours SSE-C: check proves it, uploads end clean and encrypted\n", srv->name);
        test_honoured();
    } else {
        g_printerr("== %s ignores SSE-C: nothing uploaded, nothing clean, check names it\n", srv->name);
        test_not_honoured();
    }
    g_printerr("all SSE-C proof tests passed\n");
    return 0;
}
