/*
 * tests/integration/test_daemon_sigterm.c — SIGTERM while seaftierd is busy
 * uploading, against the real test S3 server:
 *  - the daemon exits within a few seconds with status 0;
 *  - nothing is marked clean that S3 does not hold (every clean row is
 *    checked with HEAD: present, right size);
 *  - after a restart every object that was still dirty is uploaded exactly
 *    once more (the new daemon's upload count equals the dirty count it
 *    started with: no clean object is uploaded again), and all objects end
 *    clean with the right bytes in S3.
 */
#include "seaftier-build.h"

#include "daemon-testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define N_OBJECTS 1200
#define OBJ_SIZE (24 * 1024)

typedef struct {
    char repo[37];
    char id[41];
    guint8 *data;
} Obj;

int
main(void)
{
    DT *dt = dt_setup("dms", TRUE, "upload_concurrency = 3\n");
    Obj *objs = g_new0(Obj, N_OBJECTS);
    char repo[37];
    for (int i = 0; i < N_OBJECTS; i++) {
        if (i % 100 == 0)
            dt_random_repo(repo);
        memcpy(objs[i].repo, repo, sizeof repo);
        dt_random_obj(objs[i].id);
        objs[i].data = dt_random_bytes(OBJ_SIZE);
        dt_write(dt, SEAFTIER_TYPE_BLOCKS, objs[i].repo, objs[i].id, objs[i].data, OBJ_SIZE);
    }
    DT_CHECK(dt_count(dt, SEAFTIER_STATE_DIRTY) == N_OBJECTS);

    dt_start_daemon(dt, NULL);
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    /* Some uploads done and some in flight: between two of them (all slots
     * freed, the next fill not yet run) a sample can find none. */
    while ((dt_metric(dt, "seaftier_uploads_ok_total", NULL) < 60 ||
            dt_metric(dt, "seaftier_uploads_in_flight", NULL) == 0) &&
           g_get_monotonic_time() < deadline)
        g_usleep(2000);
    DT_CHECK_MSG(dt_metric(dt, "seaftier_uploads_in_flight", NULL) > 0, "no upload in flight at SIGTERM");
    gint64 t0 = g_get_monotonic_time();
    int st = dt_stop_daemon(dt, SIGTERM, 15);
    double took = (g_get_monotonic_time() - t0) / 1e6;
    g_printerr("seaftierd exited %.2f s after SIGTERM, status %d\n", took, st);
    DT_CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
    DT_CHECK_MSG(took < 6.0, "took %.2f s to exit", took);

    /* Nothing clean that S3 does not hold. */
    guint64 clean = 0, dirty = 0;
    for (int i = 0; i < N_OBJECTS; i++) {
        SeaftierTierEntry e;
        GError *err = NULL;
        DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_BLOCKS, objs[i].repo, objs[i].id, &e, &err));
        if (e.state == SEAFTIER_STATE_DIRTY) {
            dirty++;
            continue;
        }
        DT_CHECK(e.state == SEAFTIER_STATE_CLEAN);
        clean++;
        char *key = g_strconcat(objs[i].repo, "/", objs[i].id, NULL);
        SeaftierS3ObjectInfo info;
        DT_CHECK_MSG(seaftier_s3_head(dt->s3[SEAFTIER_TYPE_BLOCKS], key, &info, &err),
                     "%s is clean in the tier but S3 says: %s", key, err ? err->message : "");
        DT_CHECK_MSG(info.size == OBJ_SIZE, "%s: size %" G_GUINT64_FORMAT " in S3", key, info.size);
        g_free(key);
    }
    g_printerr("after SIGTERM: %" G_GUINT64_FORMAT " clean (all in S3), %" G_GUINT64_FORMAT " dirty\n",
               clean, dirty);
    DT_CHECK_MSG(dirty > 0, "everything was uploaded before SIGTERM: the test did not interrupt");

    /* Restart: the rest goes up, each exactly once. */
    dt_start_daemon(dt, NULL);
    DT_CHECK_MSG(dt_wait_settled(dt, FALSE, 120), "%" G_GUINT64_FORMAT " still dirty after restart",
                 dt_count(dt, SEAFTIER_STATE_DIRTY));
    double uploaded = dt_metric(dt, "seaftier_uploads_ok_total", NULL);
    DT_CHECK_MSG(uploaded == (double)dirty, "the restarted daemon uploaded %.0f objects, %" G_GUINT64_FORMAT
                 " were dirty", uploaded, dirty);
    st = dt_stop_daemon(dt, SIGTERM, 15);
    DT_CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
    for (int i = 0; i < N_OBJECTS; i++) {
        char *key = g_strconcat(objs[i].repo, "/", objs[i].id, NULL);
        void *back = NULL;
        gsize len = 0;
        GError *err = NULL;
        DT_CHECK_MSG(seaftier_s3_get(dt->s3[SEAFTIER_TYPE_BLOCKS], key, &back, &len, &err), "%s: %s",
                     key, err ? err->message : "");
        DT_CHECK_MSG(len == OBJ_SIZE && memcmp(back, objs[i].data, len) == 0, "%s: bytes differ", key);
        SeaftierTierEntry e;
        DT_CHECK(seaftier_tier_lookup(dt->tier, SEAFTIER_TYPE_BLOCKS, objs[i].repo, objs[i].id, &e, NULL));
        DT_CHECK(e.state == SEAFTIER_STATE_CLEAN);
        g_free(back);
        g_free(key);
        g_free(objs[i].data);
    }
    g_free(objs);
    dt_teardown(dt);
    g_printerr("SIGTERM test passed\n");
    return 0;
}
