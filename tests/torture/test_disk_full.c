/*
 * tests/torture/test_disk_full.c — the tier on a file system that runs out
 * of space.
 *
 * The tier lives on an 8 MiB tmpfs mounted by the test (unmounted on every
 * exit path). Two rounds: without a free-space floor (the file system
 * itself says ENOSPC, SQLite included) and with min_free_space (the tier
 * refuses before the disk is full). In each, objects are written with no
 * daemon running until the tier cannot take them and a filler file takes
 * the last bytes; then:
 *  - every write is still acknowledged: a full tier sends it write-through
 *    to S3, and a store into the tier fails with an error saying so;
 *  - every acknowledged object reads back with its bytes, and the index
 *    passes integrity_check, while the disk is full;
 *  - once space is freed, seaftierd drains, new writes land in the tier
 *    again, and S3 holds every acknowledged object (lost = 0).
 */
#include "seaftier-build.h"

#include "torture-util.h"
#include "../common/s3test.h"
#include "backend/common.h"
#include "tier/tier.h"

#include <seaftier/log.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    gsize len;
} Obj;

static char mnt[256];           /* what is mounted now, "" when nothing */
static GPid daemon_pid;

static void
unmount_now(void)
{
    if (!mnt[0])
        return;
    char *argv[] = { "umount", "-l", mnt, NULL };
    int rc = tt_run(argv, NULL, NULL);
    if (rc != 0)
        g_printerr("umount %s failed (exit %d)\n", mnt, rc);
    mnt[0] = '\0';
}

static void
cleanup(void *data)
{
    (void)data;
    if (daemon_pid)
        tt_kill_wait(daemon_pid, SIGKILL, 5);
    daemon_pid = 0;
    unmount_now();
}

/* Killed by the test harness: still unmount (fork/exec are signal-safe). */
static void
on_signal(int sig)
{
    if (mnt[0]) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("umount", "umount", "-l", mnt, (char *)NULL);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static guint64
fs_free(const char *path)
{
    struct statvfs st;
    TT_CHECK(statvfs(path, &st) == 0);
    return (guint64)st.f_bavail * st.f_frsize;
}

/* Takes every byte left on the file system. */
static guint64
fill_up(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    TT_CHECK(fd >= 0);
    static char buf[16384];
    guint64 total = 0;
    gsize chunk = sizeof buf;
    while (chunk > 0) {
        ssize_t n = write(fd, buf, chunk);
        if (n > 0)
            total += (guint64)n;
        else if (n < 0 && errno == ENOSPC)
            chunk /= 2;
        else if (n < 0 && errno != EINTR)
            TT_CHECK_MSG(FALSE, "filler: %s", g_strerror(errno));
    }
    close(fd);
    return total;
}

static Obj
write_one(TTBackends *be, GRand *r, const char *repo, int i, gboolean small)
{
    Obj o = { .type = (SeaftierObjType)(i % 3) };
    memcpy(o.repo, repo, 37);
    o.len = o.type == SEAFTIER_TYPE_BLOCKS && !small ? (gsize)g_rand_int_range(r, 100000, 400000)
                                                     : (gsize)g_rand_int_range(r, 1000, 30000);
    guint8 *data = tt_make_object(r, o.len, FALSE, o.id);
    TT_CHECK_MSG(tt_be_write(be, o.type, o.repo, o.id, data, o.len, TRUE),
                 "write %d (%s %s/%s, %zu bytes) was refused although S3 can take it", i,
                 seaftier_type_name(o.type), o.repo, o.id, o.len);
    g_free(data);
    return o;
}

static void
verify_reads(TTBackends *be, GArray *objs, const char *when)
{
    for (guint i = 0; i < objs->len; i++) {
        Obj *o = &g_array_index(objs, Obj, i);
        guint8 *data = NULL;
        gsize len = 0;
        TT_CHECK_MSG(tt_be_read(be, o->type, o->repo, o->id, &data, &len), "%s: read of %s %s/%s failed",
                     when, seaftier_type_name(o->type), o->repo, o->id);
        TT_CHECK_MSG(len == o->len && tt_bytes_match(o->id, data, len),
                     "%s: read of %s %s/%s returned other bytes", when, seaftier_type_name(o->type),
                     o->repo, o->id);
        g_free(data);
    }
}

static void
round_full(const char *top, const char *name, const char *tier_lines)
{
    char *dir = g_build_filename(top, name, NULL);
    TT_CHECK(g_mkdir_with_parents(dir, 0700) == 0);
    char *m = g_build_filename(dir, "mnt", NULL);
    TT_CHECK(g_mkdir_with_parents(m, 0700) == 0);
    char *margv[] = { "mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", m, NULL };
    char *merr = NULL;
    TT_CHECK_MSG(tt_run(margv, NULL, &merr) == 0, "cannot mount a tmpfs on %s (root needed): %s", m,
                 merr);
    g_free(merr);
    g_strlcpy(mnt, m, sizeof mnt);

    char *tier_dir = g_build_filename(m, "tier", NULL);
    char *filler = g_build_filename(m, "filler", NULL);
    /* other data on the same file system, which the operator removes to
     * make room (what the tier itself holds is dirty: it cannot go until
     * uploaded, and marking it clean needs room in the index) */
    char *ballast = g_build_filename(m, "ballast", NULL);
    {
        char *zeros = g_malloc0(1536 * 1024);
        GError *ferr = NULL;
        TT_CHECK_MSG(g_file_set_contents(ballast, zeros, 1536 * 1024, &ferr), "%s", ferr->message);
        g_free(zeros);
    }
    TTConfOpts opts = { .bucket_prefix = "ttfull", .tier_dir = tier_dir, .extra_tier = tier_lines };
    char *conf = tt_write_conf(dir, &opts, NULL);
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    char *daemon_log = g_build_filename(dir, "seaftierd.log", NULL);

    TTBackends *be = tt_backends_open(conf);
    SeaftierBackendShared *sh = seaftier_obj_backend_shared(be->obj[0]);
    /* the production wait for uploads (5 s) would make this test slow; the
     * behaviour after it is what is under test */
    g_atomic_int_set(&sh->full_wait_ms, 200);
    GRand *r = g_rand_new();
    char repo[37];
    tt_random_repo(r, repo);
    GArray *objs = g_array_new(FALSE, FALSE, sizeof(Obj));

    /* 1. fill the tier until writes go write-through, then take the rest */
    int local = 0, through = 0, i = 0;
    guint64 filled = 0;
    double t0 = tt_now_ms();
    while (through < 12) {
        TT_CHECK_MSG(i < 400, "400 writes and the 8 MiB tier never filled up");
        Obj o = write_one(be, r, repo, i++, FALSE);
        g_array_append_val(objs, o);
        SeaftierTierEntry e;
        if (seaftier_tier_lookup(sh->site->tier, o.type, o.repo, o.id, &e, NULL) &&
            e.state == SEAFTIER_STATE_DIRTY)
            local++;
        else
            through++;
        if (through == 4 && !filled)
            filled = fill_up(filler) + 1;
    }
    double fill_ms = tt_now_ms() - t0;
    TT_CHECK_MSG(local > 0, "no write was kept in the tier");
    guint64 free_at_full = fs_free(m);

    /* 2. the tier itself says why it takes nothing */
    {
        Obj o = { .type = SEAFTIER_TYPE_BLOCKS, .len = 200000 };
        guint8 *data = tt_make_object(r, o.len, FALSE, o.id);
        GError *err = NULL;
        gboolean ok = seaftier_tier_store(sh->site->tier, o.type, repo, o.id, data, o.len,
                                          SEAFTIER_STATE_DIRTY, TRUE, &err);
        TT_CHECK_MSG(!ok, "a 200 KB store into a full tier succeeded");
        TT_CHECK_MSG(err->domain == SEAFTIER_TIER_ERROR &&
                         (err->code == SEAFTIER_TIER_ERROR_FULL || err->code == SEAFTIER_TIER_ERROR_IO),
                     "unexpected error: %s", err->message);
        char *lower = g_ascii_strdown(err->message, -1);
        TT_CHECK_MSG(strstr(lower, "full") || strstr(lower, "space"),
                     "the error does not say the disk is full: %s", err->message);
        TT_CHECK_MSG(strstr(err->message, tier_dir) || strstr(err->message, m),
                     "the error does not name the tier: %s", err->message);
        printf("%s: a store into the full tier: %s\n", name, err->message);
        g_free(lower);
        g_error_free(err);
        SeaftierTierEntry e;
        TT_CHECK_MSG(!seaftier_tier_lookup(sh->site->tier, o.type, repo, o.id, &e, NULL),
                     "the refused store left a row");
        g_free(data);
    }

    /* 3. still full: writes acknowledged (write-through), reads work */
    for (int k = 0; k < 6; k++) {
        Obj o = write_one(be, r, repo, i++, FALSE);
        g_array_append_val(objs, o);
    }
    verify_reads(be, objs, "disk full");
    char *msg = NULL;
    TT_CHECK_MSG(tt_integrity_check(db, &msg), "integrity_check on the full disk: %s", msg);
    g_free(msg);
    char *aargv[] = { (char *)tt_admin(), "status", "-c", dir, NULL };
    char *aout = NULL, *aerr = NULL;
    int arc = tt_run(aargv, &aout, &aerr);
    TT_CHECK_MSG(arc == 0, "seaftier-admin status on the full tier: exit %d: %s", arc, aerr);
    g_free(aout);
    g_free(aerr);

    /* 4. space comes back: the daemon drains, writes land locally again */
    TT_CHECK(unlink(filler) == 0);
    TT_CHECK(unlink(ballast) == 0);
    guint64 freed = fs_free(m);
    t0 = tt_now_ms();
    daemon_pid = tt_spawn_daemon(dir, daemon_log, NULL);
    TT_CHECK_MSG(tt_wait_drained(tier_dir, FALSE, 60), "seaftierd did not drain after space came back");
    double drain_ms = tt_now_ms() - t0;
    int st = tt_daemon_term(daemon_pid, tier_dir);
    daemon_pid = 0;
    TT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "seaftierd exit status 0x%x", st);
    int local_after = 0;
    for (int k = 0; k < 6; k++) {
        Obj o = write_one(be, r, repo, i++, TRUE);
        g_array_append_val(objs, o);
        SeaftierTierEntry e;
        if (seaftier_tier_lookup(sh->site->tier, o.type, o.repo, o.id, &e, NULL) &&
            e.state == SEAFTIER_STATE_DIRTY)
            local_after++;
    }
    TT_CHECK_MSG(local_after == 6, "after space came back only %d of 6 writes stayed in the tier",
                 local_after);
    GError *err = NULL;
    TT_CHECK_MSG(seaftier_sync_flush_all(sh->sync, &err),
                 "flush: %s", err->message);
    verify_reads(be, objs, "after recovery");
    TT_CHECK_MSG(tt_integrity_check(db, &msg), "integrity_check after recovery: %s", msg);
    g_free(msg);

    /* 5. S3 holds everything */
    SeaftierConfig *cfg = tt_load_cfg(conf);
    guint lost = 0;
    for (guint k = 0; k < objs->len; k++) {
        Obj *o = &g_array_index(objs, Obj, k);
        SeaftierS3 *s3 = tt_s3_direct(cfg, o->type);
        char *key = g_strdup_printf("%s/%s", o->repo, o->id);
        void *data = NULL;
        gsize len = 0;
        if (!seaftier_s3_get(s3, key, &data, &len, &err)) {
            g_printerr("LOST: %s %s: %s\n", seaftier_type_name(o->type), key, err->message);
            g_clear_error(&err);
            lost++;
        } else if (len != o->len || !tt_bytes_match(o->id, data, len)) {
            g_printerr("CORRUPT in S3: %s %s\n", seaftier_type_name(o->type), key);
            lost++;
        }
        g_free(data);
        g_free(key);
        seaftier_s3_free(s3);
    }
    printf("%s: writes %u (kept in the tier %d, write-through %d + %d while full, local again "
           "after freeing %d), filler %" G_GUINT64_FORMAT " bytes, free at full %" G_GUINT64_FORMAT
           " bytes, free after freeing %" G_GUINT64_FORMAT " bytes, filled in %.1f s, drained in %.1f s, lost %u\n",
           name, objs->len, local, through, 6, local_after, filled - 1, free_at_full, freed,
           fill_ms / 1000, drain_ms / 1000, lost);
    TT_CHECK(lost == 0);

    seaftier_config_free(cfg);
    tt_backends_close(be);
    unmount_now();
    tt_empty_buckets(conf);
    g_array_free(objs, TRUE);
    g_rand_free(r);
    g_free(daemon_log);
    g_free(db);
    g_free(conf);
    g_free(filler);
    g_free(ballast);
    g_free(tier_dir);
    g_free(m);
    g_free(dir);
}

int
main(void)
{
    tt_at_fail(cleanup, NULL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGHUP, on_signal);
    seaftier_log_set_level(SEAFTIER_LOG_ERROR);
    char *top = s3test_tmpdir("tt-full");
    round_full(top, "enospc", "min_free_space = 0\nmax_size = 1G\nram_cache_size = 0\nlog_level = error\n");
    round_full(top, "floor", "min_free_space = 1M\nmax_size = 1G\nram_cache_size = 0\nlog_level = error\n");
    if (!g_getenv("SEAFTIER_TORTURE_KEEP"))
        s3test_rm_rf(top);
    g_free(top);
    return 0;
}
