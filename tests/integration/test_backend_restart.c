/*
 * tests/integration/test_backend_restart.c — acknowledged durable writes
 * survive the death of the process.
 *
 * A child process opens the backends and writes objects with need_sync
 * (commits, fs) and committed blocks, reporting each acknowledged id to the
 * parent through a pipe. It then either _exit()s without any cleanup, or is
 * killed with SIGKILL while still writing. The parent reopens the tier and
 * finds every acknowledged object, dirty (never uploaded) and intact, and
 * uploads them.
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seaftier/log.h>

#include "backend-testutil.h"

static guint32 seed;

#define N_OBJECTS 300

/* Object i of a run: its store, id and bytes, derived from the seed so the
 * parent can rebuild what the child wrote. */
static void
object_of(int run, int i, StoreKind *kind, char **repo, char **id, guint8 **data, gsize *len)
{
    GRand *r = g_rand_new_with_seed(seed ^ (guint32)(run * 7919) ^ (guint32)(i * 104729));
    GRand *rr = g_rand_new_with_seed(seed ^ (guint32)run);
    *kind = (StoreKind)(i % N_STORES);
    *repo = rand_repo_id(rr);      /* one repo per run */
    *id = rand_obj_id(r);
    *len = (gsize)g_rand_int_range(r, 0, i % 10 == 0 ? 300000 : 5000);
    *data = g_malloc(*len ? *len : 1);
    if (i % 2)
        fill_random(r, *data, *len);
    else
        fill_compressible(r, *data, *len);
    g_rand_free(r);
    g_rand_free(rr);
}

static void
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(3);
        p += n;
        len -= (size_t)n;
    }
}

/* The child: writes objects 0.. until told to stop (forever for SIGKILL
 * runs), acknowledging each one on `fd`. Never returns. */
static void G_GNUC_NORETURN
child(const char *dir, const char *conf, int run, int limit, int fd)
{
    GKeyFile *kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, conf, G_KEY_FILE_NONE, NULL))
        _exit(2);
    GError *err = NULL;
    ObjBackend *commits = obj_backend_tier_new(dir, "commits", kf, &err);
    ObjBackend *fs = obj_backend_tier_new(dir, "fs", kf, &err);
    BlockBackend *blocks = block_backend_tier_new(dir, kf, &err);
    if (!commits || !fs || !blocks)
        _exit(2);
    BeEnv env = { (char *)dir, (char *)conf, kf, commits, fs, blocks };
    for (int i = 0; limit < 0 || i < limit; i++) {
        StoreKind kind;
        char *repo, *id;
        guint8 *data;
        gsize len;
        object_of(run, i % (N_OBJECTS * 4), &kind, &repo, &id, &data, &len);
        if (store_write(&env, kind, repo, id, data, len, TRUE) != 0)
            _exit(4);
        gint32 ack = i;
        write_all(fd, &ack, sizeof ack);
        g_free(repo);
        g_free(id);
        g_free(data);
    }
    /* No free, no close: the process just ends. */
    _exit(0);
}

static void
run_child(BeEnv *env, int run, gboolean kill_it, int *acked)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(env->dir, env->conf_path, run, kill_it ? -1 : N_OBJECTS, fds[1]);
    }
    close(fds[1]);
    gint32 ack;
    int n = 0;
    for (;;) {
        ssize_t got = read(fds[0], &ack, sizeof ack);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)sizeof ack)
            break;
        if (ack != n)
            test_fail("child acknowledged object %d out of order (expected %d)", ack, n);
        n++;
        if (kill_it && n == N_OBJECTS) {
            kill(pid, SIGKILL);
            break;
        }
    }
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (kill_it) {
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    } else {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            test_fail("child failed (status 0x%x)", status);
        assert_int_equal(n, N_OBJECTS);
    }
    *acked = n;
}

static void
verify(BeEnv *env, int run, int acked)
{
    for (int i = 0; i < acked; i++) {
        StoreKind kind;
        char *repo, *id;
        guint8 *data;
        gsize len;
        object_of(run, i, &kind, &repo, &id, &data, &len);
        test_set_context("seed=%u run %d object %d (%s %s/%s)", seed, run, i, store_name(kind),
                         repo, id);
        SeaftierTierEntry e;
        if (!tier_row(env, kind, repo, id, &e) || e.state != SEAFTIER_STATE_DIRTY)
            test_fail("an acknowledged durable write is not dirty in the tier after the restart");
        void *got = NULL;
        gsize n = 0;
        if (store_read(env, kind, repo, id, &got, &n) != 0)
            test_fail("an acknowledged durable write cannot be read after the restart");
        assert_same("after restart", got, n, data, len);
        g_free(got);
        g_free(repo);
        g_free(id);
        g_free(data);
    }
}

static void
run_case(int run, gboolean kill_it)
{
    S3TestVariant variant = { TRUE, TRUE, FALSE, FALSE };
    /* The backends stay closed in the parent until the child is gone: the
     * child must be the only process that ever opened this tier. */
    BeEnv *env = beenv_prepare(kill_it ? "brkill" : "brexit", &variant, NULL);
    int acked = 0;
    run_child(env, run, kill_it, &acked);
    printf("# run %d: child %s after %d acknowledged writes\n", run,
           kill_it ? "killed with SIGKILL" : "exited without cleanup", acked);
    beenv_open(env);
    verify(env, run, acked);
    /* And they reach S3 like any dirty object. */
    beenv_flush(env);
    for (int i = 0; i < acked; i += 17) {
        StoreKind kind;
        char *repo, *id;
        guint8 *data;
        gsize len;
        object_of(run, i, &kind, &repo, &id, &data, &len);
        GBytes *raw = s3_object(env, kind, repo, id);
        if (!raw)
            test_fail("object %d not in S3 after the flush", i);
        gsize rlen;
        const void *rdata = g_bytes_get_data(raw, &rlen);
        assert_same("S3 copy after restart", rdata, rlen, data, len);
        g_bytes_unref(raw);
        g_free(repo);
        g_free(id);
        g_free(data);
    }
    beenv_free(env);
}

static void
test_exit_without_cleanup(void **state)
{
    run_case(1, FALSE);
}

static void
test_sigkill_while_writing(void **state)
{
    run_case(2, TRUE);
}

int
main(void)
{
    seed = (guint32)g_get_real_time();
    if (g_getenv("SEAFTIER_TEST_SEED"))
        seed = (guint32)strtoul(g_getenv("SEAFTIER_TEST_SEED"), NULL, 0);
    printf("# SEAFTIER_TEST_SEED=%u\n", seed);
    /* Quiet by default (the expected refusals log warnings); the
     * environment also wins over [tier] log_level in the backends. */
    g_setenv("SEAFTIER_LOG_LEVEL", "error", FALSE);
    /* Start the S3 server before any fork. */
    s3test_server();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_without_cleanup),
        cmocka_unit_test(test_sigkill_while_writing),
    };
    int failed = cmocka_run_group_tests_name("backend restart", tests, NULL, NULL);
    if (failed)
        printf("# failed with SEAFTIER_TEST_SEED=%u\n", seed);
    return failed ? 1 : 0;
}
