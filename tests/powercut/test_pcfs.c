/*
 * tests/powercut/test_pcfs.c — the power-cut file system keeps its model
 * (README.md): what an fsync made durable survives a cut, nothing else
 * does; a reordering cut keeps a consistent subset; SQLite in WAL mode with
 * synchronous=FULL keeps every committed transaction; POSIX locks exclude
 * across processes on the mount. Needs root and /dev/fuse: without them it
 * fails (it never skips).
 */
#include "seaftier-build.h"

#include "pc-util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *scratch, *disk, *mnt;
static PcMount *cur;

#define CHECK(cond, ...) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); fail_cleanup(); exit(1); } } while (0)

static void
fail_cleanup(void)
{
    pc_abort(cur);
    cur = NULL;
    pc_scratch_cleanup(scratch);
}

static void
mount_disk(void)
{
    char *why = NULL;
    cur = pc_mount(disk, mnt, scratch, &why);
    CHECK(cur != NULL, "%s", why);
}

static char *
end_mount(const char *cmd)
{
    char *why = NULL;
    char *answer = pc_end(cur, cmd, &why);
    cur = NULL;
    CHECK(answer != NULL, "%s", why);
    return answer;
}

/* the cut and a fresh mount of what the disk kept */
static void
cut_and_remount(const char *cmd)
{
    g_free(end_mount(cmd));
    mount_disk();
}

/* A path on the mount; valid until 16 more calls (a ring, so that calls
 * can be nested in expressions without leaking). */
static const char *
p(const char *name)
{
    static char *ring[16];
    static guint next;
    guint i = next++ % G_N_ELEMENTS(ring);
    g_free(ring[i]);
    ring[i] = g_build_filename(mnt, name, NULL);
    return ring[i];
}

static void
put(const char *name, const char *text, gboolean sync)
{
    const char *path = p(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0, "%s: %s", path, g_strerror(errno));
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s", path);
    if (sync)
        CHECK(fsync(fd) == 0, "fsync %s: %s", path, g_strerror(errno));
    close(fd);
}

static void
sync_dir(const char *name)
{
    const char *path = p(name);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0 && fsync(fd) == 0, "fsync dir %s: %s", path, g_strerror(errno));
    close(fd);
}

/* contents of a file on the mount, NULL when absent */
static char *
get(const char *name)
{
    const char *path = p(name);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = NULL;
    return text;
}

static void
expect(const char *name, const char *want, const char *what)
{
    char *got = get(name);
    CHECK(g_strcmp0(got, want) == 0, "%s: %s is \"%s\", expected \"%s\"", what, name,
          got ? got : "(absent)", want ? want : "(absent)");
    g_free(got);
}

static void
test_model(void)
{
    /* 1. write without fsync + cut = gone */
    put("a", "durable", TRUE);
    sync_dir(".");
    const char *path = p("a");
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "LOST!!!", 7, 0) == 7, "overwrite a");
    close(fd);
    /* 2. write + fsync = kept */
    put("b", "kept", TRUE);
    /* 3. create + fsync of the file but not of its directory: name gone */
    put("c", "orphan", TRUE);
    sync_dir(".");      /* b, c, the name of a: durable */
    CHECK(mkdir(p("nd"), 0700) == 0, "mkdir");
    sync_dir(".");
    put("nd/d", "no dir fsync", TRUE);
    /* 4. rename + dir fsync = kept; rename without it = not */
    CHECK(mkdir(p("dir"), 0700) == 0, "mkdir");
    sync_dir(".");
    put("dir/x", "x-data", TRUE);
    put("dir/y", "y-data", TRUE);
    sync_dir("dir");
    CHECK(rename(p("dir/x"), p("dir/x2")) == 0, "rename x");
    sync_dir("dir");
    CHECK(rename(p("dir/y"), p("dir/y2")) == 0, "rename y");
    /* 5. unlink without dir fsync comes back; with it, not */
    CHECK(unlink(p("b")) == 0, "unlink b");
    CHECK(unlink(p("c")) == 0 && (sync_dir("."), 1), "unlink c");

    char *answer = end_mount("cut");
    CHECK(pc_stat(answer, "lost_pages") >= 1 && pc_stat(answer, "lost_dir_ops") >= 1,
          "counters: %s", answer);
    g_free(answer);
    mount_disk();
    expect("a", "durable", "write without fsync");
    expect("nd/d", NULL, "file fsynced, its directory not");
    expect("dir/x2", "x-data", "rename with dir fsync");
    expect("dir/x", NULL, "rename with dir fsync");
    expect("dir/y", "y-data", "rename without dir fsync");
    expect("dir/y2", NULL, "rename without dir fsync");
    /* b's unlink was followed by the fsync of c's unlink: same directory */
    expect("b", NULL, "unlink + dir fsync");
    expect("c", NULL, "unlink + dir fsync");

    /* a directory rename made durable carries its durable contents */
    CHECK(rename(p("dir"), p("moved")) == 0, "rename dir");
    sync_dir(".");
    /* a file whose data was synced before its name was */
    put("moved/late", "late name", TRUE);
    sync_dir("moved");
    /* hard links */
    CHECK(link(p("moved/late"), p("hard")) == 0, "link");
    sync_dir(".");
    cut_and_remount("cut");
    expect("moved/x2", "x-data", "directory rename");
    expect("moved/late", "late name", "data synced before the name");
    expect("hard", "late name", "hard link");
    struct stat a, b;
    CHECK(stat(p("hard"), &a) == 0 && stat(p("moved/late"), &b) == 0 && a.st_ino == b.st_ino &&
          a.st_nlink == 2, "hard link lost its identity");

    /* directories synced before their parents are (their durable copies
     * start outside the namespace and move in with the parent's sync) */
    CHECK(mkdir(p("o"), 0700) == 0 && mkdir(p("o/p"), 0700) == 0 && mkdir(p("o/p/q"), 0700) == 0, "mkdir");
    put("o/p/q/f", "deep", TRUE);
    sync_dir("o/p/q");
    sync_dir("o/p");
    sync_dir("o");
    put("o/p/g", "not in a synced dir", TRUE);
    sync_dir(".");
    cut_and_remount("cut");
    expect("o/p/q/f", "deep", "directories synced child first");
    expect("o/p/g", NULL, "a name whose directory was synced before it was made");

    /* a clean unmount keeps everything */
    put("clean", "all of it", FALSE);
    answer = end_mount("unmount");
    CHECK(pc_stat(answer, "self_check_mismatches") == 0, "%s", answer);
    g_free(answer);
    mount_disk();
    expect("clean", "all of it", "clean unmount");
}

/* each page of the file is the old or the new version, the name never lost */
static void
test_reorder(void)
{
    enum { N = 8, PAGES = 6 };
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < N; i++) {
            char *name = g_strdup_printf("r%d", i);
            char *text = g_strnfill(PAGES * 4096, 'o');
            put(name, text, TRUE);
            g_free(text);
            g_free(name);
        }
        sync_dir(".");
        for (int i = 0; i < N; i++) {
            char *name = g_strdup_printf("r%d", i);
            char *text = g_strnfill(PAGES * 4096, 'n');
            const char *path = p(name);
            int fd = open(path, O_WRONLY);
            CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "rewrite");
            close(fd);
            if (i % 2) {
                /* the rename: a reordering disk has the old or the new name */
                char *to = g_strdup_printf("%s/m%d", mnt, i);
                CHECK(rename(path, to) == 0, "rename");
                g_free(to);
            }
            g_free(text);
            g_free(name);
        }
        put("tmp-unsynced", "gone or whole or partial", FALSE);
        char *cmd = g_strdup_printf("reorder %d", 1000 + round);
        char *answer = end_mount(cmd);
        g_free(cmd);
        mount_disk();
        gint64 surv = pc_stat(answer, "survived_pages"), lost = pc_stat(answer, "lost_pages");
        CHECK(surv >= 0 && lost >= 0 && surv + lost >= N * PAGES, "counters: %s", answer);
        g_free(answer);
        for (int i = 0; i < N; i++) {
            char *n1 = g_strdup_printf("r%d", i), *n2 = g_strdup_printf("m%d", i);
            char *t1 = get(n1), *t2 = get(n2);
            CHECK(t1 || t2, "round %d: file %d lost both names", round, i);
            CHECK(!(t1 && t2), "round %d: file %d has both names", round, i);
            char *t = t1 ? t1 : t2;
            gsize len = strlen(t);
            CHECK(len == PAGES * 4096, "round %d: file %d has %zu bytes (size is not changed)", round, i,
                  len);
            for (gsize pg = 0; pg < PAGES; pg++) {
                char c = t[pg * 4096];
                for (gsize k = 0; k < 4096; k++)
                    CHECK(t[pg * 4096 + k] == c && (c == 'o' || c == 'n'),
                          "round %d: file %d page %zu is torn inside", round, i, pg);
            }
            if (t2)
                CHECK(unlink(p(n2)) == 0, "unlink");
            g_free(t1);
            g_free(t2);
            g_free(n1);
            g_free(n2);
        }
        unlink(p("tmp-unsynced"));
        sync_dir(".");
    }
}

/* ---- SQLite ---- */

static void
sql(sqlite3 *db, const char *q)
{
    char *err = NULL;
    CHECK(sqlite3_exec(db, q, NULL, NULL, &err) == SQLITE_OK, "%s: %s", q, err ? err : "?");
}

/* Child: commits rows 1, 2, ... (each its own transaction) and reports
 * each commit to the parent after it returned, until killed. */
static void
sqlite_writer(const char *path, int report_fd, const char *synchronous)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        _exit(2);
    sqlite3_busy_timeout(db, 5000);
    sql(db, "PRAGMA journal_mode=WAL");
    char *sync_pragma = g_strdup_printf("PRAGMA synchronous=%s", synchronous);
    sql(db, sync_pragma);
    g_free(sync_pragma);
    sql(db, "PRAGMA wal_autocheckpoint=50");
    sql(db, "CREATE TABLE IF NOT EXISTS t(i INTEGER PRIMARY KEY, pad BLOB)");
    for (int n = 1;; n++) {
        char *q = g_strdup_printf("INSERT INTO t(pad) VALUES(randomblob(%d))", 100 + (n * 37) % 3000);
        sql(db, q);
        g_free(q);
        int i = (int)sqlite3_last_insert_rowid(db);
        if (write(report_fd, &i, sizeof i) != sizeof i)
            _exit(3);
    }
}

static void
test_sqlite(const char *mode)
{
    for (int round = 0; round < 4; round++) {
        const char *path = p("wal.db");
        int fds[2];
        CHECK(pipe(fds) == 0, "pipe");
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            close(fds[0]);
            sqlite_writer(path, fds[1], "FULL");
        }
        close(fds[1]);
        g_usleep((gulong)(200000 + g_random_int_range(0, 400000)));
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        int acked = 0, first = 0, v;
        while (read(fds[0], &v, sizeof v) == sizeof v) {
            if (!first)
                first = v;
            acked = v;
        }
        close(fds[0]);
        CHECK(acked - first > 20, "%s round %d: only %d commits in the time (SQLite on pcfs too slow?)", mode, round,
              acked - first);
        char *cmd = strcmp(mode, "cut") == 0 ? g_strdup("cut") : g_strdup_printf("reorder %d", 77 + round);
        cut_and_remount(cmd);
        g_free(cmd);
        sqlite3 *db = NULL;
        CHECK(sqlite3_open(path, &db) == SQLITE_OK, "open after cut");
        sqlite3_stmt *st;
        CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK, "prepare");
        CHECK(sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0,
              "%s round %d: integrity_check: %s", mode, round, sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        CHECK(sqlite3_prepare_v2(db, "SELECT count(*), coalesce(max(i), 0) FROM t", -1, &st, NULL) ==
                  SQLITE_OK, "prepare");
        CHECK(sqlite3_step(st) == SQLITE_ROW, "count");
        int count = sqlite3_column_int(st, 0), max = sqlite3_column_int(st, 1);
        sqlite3_finalize(st);
        sqlite3_close(db);
        printf("  sqlite %s round %d: %d commits acknowledged (last row %d), %d rows after the cut\n", mode,
               round, acked - first + 1, acked, count);
        CHECK(count == max && count >= acked, "%s round %d: %d acknowledged commits, %d rows (max %d) after the cut",
              mode, round, acked, count, max);
    }
}

/* The control: without fsyncs (synchronous=OFF) a cut loses commits, so
 * the file system is not durable by accident. */
static void
test_sqlite_unsynced(void)
{
    const char *path = p("nosync.db");
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        sqlite_writer(path, fds[1], "OFF");
    }
    close(fds[1]);
    int acked = 0, v;
    while (acked < 300 && read(fds[0], &v, sizeof v) == sizeof v)
        acked = v;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    while (read(fds[0], &v, sizeof v) == sizeof v)
        acked = v;
    close(fds[0]);
    cut_and_remount("cut");
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rows = 0;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK, "open");
    /* the table itself may be gone: nothing was ever synced */
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        rows = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("  sqlite synchronous=OFF: %d commits acknowledged, %d rows after the cut\n", acked, rows);
    CHECK(rows < acked, "a cut kept all %d unsynced commits: pcfs lost nothing", acked);
}

/* POSIX locks taken through the mount exclude another process */
static void
test_locks(void)
{
    put("lockfile", "x", TRUE);
    const char *path = p("lockfile");
    int ready[2], done[2];
    CHECK(pipe(ready) == 0 && pipe(done) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int fd = open(path, O_RDWR);
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
        char c = fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
            _exit(1);
        _exit(0);
    }
    char c = 0;
    CHECK(read(ready[0], &c, 1) == 1 && c == 'y', "the child could not lock");
    int fd = open(path, O_RDWR);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    CHECK(fcntl(fd, F_SETLK, &fl) == -1 && (errno == EAGAIN || errno == EACCES),
          "a second process got a write lock held by another");
    CHECK(write(done[1], "x", 1) == 1, "pipe to the lock holder: %s", g_strerror(errno));
    waitpid(child, NULL, 0);
    CHECK(fcntl(fd, F_SETLK, &fl) == 0, "lock not free after the holder exited: %s", g_strerror(errno));
    close(fd);
    close(ready[0]); close(ready[1]); close(done[0]); close(done[1]);

    /* and so SQLite's: one writer at a time */
    sqlite3 *a = NULL, *b = NULL;
    const char *db = p("locks.db");
    CHECK(sqlite3_open(db, &a) == SQLITE_OK && sqlite3_open(db, &b) == SQLITE_OK, "open");
    sql(a, "PRAGMA journal_mode=WAL");
    sql(a, "CREATE TABLE IF NOT EXISTS t(x)");
    int go[2];
    CHECK(pipe(go) == 0, "pipe");
    fflush(stdout);
    pid_t holder = fork();
    if (holder == 0) {
        sqlite3 *h = NULL;
        sqlite3_open(db, &h);
        char *err = NULL;
        char k = sqlite3_exec(h, "BEGIN IMMEDIATE; INSERT INTO t VALUES(1)", NULL, NULL, &err) == SQLITE_OK ? 'y' : 'n';
        if (write(go[1], &k, 1) != 1)
            _exit(1);
        sleep(30);
        _exit(0);
    }
    CHECK(read(go[0], &c, 1) == 1 && c == 'y', "the holder could not begin");
    int rc = sqlite3_exec(b, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    CHECK(rc == SQLITE_BUSY, "a second SQLite writer was not excluded (rc %d)", rc);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    sqlite3_busy_timeout(b, 5000);
    sql(b, "BEGIN IMMEDIATE; INSERT INTO t VALUES(2); COMMIT");
    sqlite3_close(a);
    sqlite3_close(b);
    close(go[0]);
    close(go[1]);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);      /* a broken pipe is an error to report, not a silent death */
    scratch = g_dir_make_tmp("pcfs-XXXXXX", NULL);
    CHECK(scratch != NULL, "tmpdir");
    disk = g_build_filename(scratch, "disk", NULL);
    mnt = g_build_filename(scratch, "mnt", NULL);
    mount_disk();
    double t0 = (double)g_get_monotonic_time();
    test_model();
    printf("model: ok\n");
    test_locks();
    printf("locks: ok\n");
    test_reorder();
    printf("reorder: ok\n");
    test_sqlite_unsynced();
    test_sqlite("cut");
    test_sqlite("reorder");
    printf("sqlite: ok\n");
    char *last = end_mount("unmount");
    CHECK(pc_stat(last, "self_check_mismatches") == 0, "the disk differs from the live tree: %s", last);
    g_free(last);
    printf("test_pcfs: all passed in %.1f s\n", ((double)g_get_monotonic_time() - t0) / 1e6);
    pc_scratch_cleanup(scratch);
    char *argv[] = { "rm", "-rf", "--", scratch, NULL };
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    return 0;
}
