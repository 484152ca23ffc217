/*
 * tests/unit/test_tier_mapvfs.c — the index's memory map (lib/tier/mapvfs.c):
 * one map per process, kept across other connections' commits; reads stay
 * right (and never touch the map past the end of the file) when another
 * connection shrinks the index and when it grows again; a forked child that
 * opens the tier reads through a map of its own. Real SQLite index in a
 * temporary directory; no network.
 */
#include "seaftier-build.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "tier/tier.h"
#include "tier-testutil.h"

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define OBJ_SIZE 1500

static const TuFixtureSpec fixture = {
    .name = "test_tier_mapvfs",
    .ram_cache_size = 0,            /* every read is a disk hit */
    .inline_max = 64 * 1024,        /* every object lives in the index */
    .second_handle = TRUE,          /* `second` reads, `tier` writes */
};

static char *
index_path(TuFixture *fx)
{
    return g_build_filename(fx->dir, "index.db", NULL);
}

static unsigned char *
object(int i)
{
    return tu_random_bytes(OBJ_SIZE, (guint32)i + 1);
}

static void
store_range(TuFixture *fx, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[41];
        tu_make_id(i, id);
        unsigned char *data = object(i);
        tu_store_ok(fx->tier, SEAFTIER_TYPE_FS, REPO, id, data, OBJ_SIZE, SEAFTIER_STATE_DIRTY,
                    FALSE);
        g_free(data);
    }
}

static void
read_range(SeaftierTier *t, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[41];
        tu_make_id(i, id);
        unsigned char *data = object(i);
        tu_read_expect(t, SEAFTIER_TYPE_FS, REPO, id, data, OBJ_SIZE);
        g_free(data);
    }
}

/* The maps of `path` in this process (lines of /proc/self/maps); the start
 * address of the last one in *start. */
static int
maps_of(const char *path, unsigned long *start)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[4096];
    int n = 0;
    gsize plen = strlen(path);
    while (fgets(line, sizeof line, f)) {
        gsize len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len >= plen && strcmp(line + len - plen, path) == 0) {
            n++;
            *start = strtoul(line, NULL, 16);
        }
    }
    fclose(f);
    return n;
}

/* Two handles (each with its own connections) share one map, and it stays
 * where it is while the other handle commits between reads: SQLite's own
 * map would be one per connection, dropped after each foreign commit. */
static void
test_one_map_kept_across_commits(void **state)
{
    TuFixture *fx = *state;
    char *index = index_path(fx);
    store_range(fx, 0, 200);
    read_range(fx->second, 0, 200);
    read_range(fx->tier, 0, 200);
    unsigned long first = 0, now = 0;
    assert_int_equal(maps_of(index, &first), 1);
    for (int round = 0; round < 20; round++) {
        store_range(fx, 200 + round * 10, 210 + round * 10);    /* commits */
        read_range(fx->second, round * 10, round * 10 + 10);
        assert_int_equal(maps_of(index, &now), 1);
        assert_true(now == first);
    }
    read_range(fx->second, 0, 400);
    tu_fixture_close(fx);
    assert_int_equal(maps_of(index, &now), 0);      /* let go with the last connection */
    g_free(index);
}

static gint64
file_size(const char *path)
{
    struct stat st;
    assert_int_equal(g_stat(path, &st), 0);
    return (gint64)st.st_size;
}

/* Another connection deletes most rows, VACUUMs and checkpoints, so the
 * file shrinks under the map the reader made while it was large; the
 * reader must read the rest right (a page past the new end handed out
 * from the map would be SIGBUS), then see the file grow again. */
static void
test_reads_across_shrink_and_growth(void **state)
{
    TuFixture *fx = *state;
    char *index = index_path(fx);
    store_range(fx, 0, 3000);
    read_range(fx->second, 0, 3000);
    gint64 large = file_size(index);

    /* The deletes' rows stay as DELETED until forgotten: drop them
     * directly, as a forget does, to make room for the VACUUM to free. */
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    for (int i = 100; i < 3000; i++) {
        char id[41];
        tu_make_id(i, id);
        g_ptr_array_add(ids, g_strdup(id));
    }
    GError *err = NULL;
    assert_true(seaftier_tier_delete_many(fx->tier, SEAFTIER_TYPE_FS, REPO,
                                          (const char *const *)ids->pdata, ids->len, &err));
    g_ptr_array_free(ids, TRUE);
    tu_sql_exec(fx->dir, "DELETE FROM objects WHERE state = 2;"
                         "DELETE FROM blobs WHERE id NOT IN (SELECT id FROM objects);");
    g_usleep(300 * 1000);       /* the reader's snapshot is let go (100 ms) */
    tu_sql_exec(fx->dir, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE);");
    gint64 small = file_size(index);
    assert_true(small < large / 4);

    read_range(fx->second, 0, 100);
    for (int i = 100; i < 3000; i += 97) {
        char id[41];
        tu_make_id(i, id);
        tu_read_fails(fx->second, SEAFTIER_TYPE_FS, REPO, id, SEAFTIER_TIER_ERROR_NOT_FOUND);
    }
    store_range(fx, 5000, 8000);
    tu_sql_exec(fx->dir, "PRAGMA wal_checkpoint(TRUNCATE);");
    assert_true(file_size(index) > small * 4);
    read_range(fx->second, 5000, 8000);
    read_range(fx->second, 0, 100);
    g_free(index);
}

/* A child forked while the parent's map is up opens the tier and reads
 * through a map of its own; the parent reads on afterwards. */
static void
test_forked_child_reads(void **state)
{
    TuFixture *fx = *state;
    store_range(fx, 0, 500);
    read_range(fx->second, 0, 500);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        SeaftierTier *t = seaftier_tier_open(&fx->cfg, fx->dir, NULL);
        int bad = t ? 0 : 1;
        for (int i = 0; t && i < 500 && !bad; i++) {
            char id[41];
            tu_make_id(i, id);
            unsigned char *want = object(i);
            void *data = NULL;
            gsize len = 0;
            bad = !seaftier_tier_read(t, SEAFTIER_TYPE_FS, REPO, id, &data, &len, NULL) ||
                  len != OBJ_SIZE || memcmp(data, want, OBJ_SIZE) != 0;
            g_free(data);
            g_free(want);
        }
        if (t)
            seaftier_tier_close(t);
        _exit(bad);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    store_range(fx, 500, 600);
    read_range(fx->second, 0, 600);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TU_FIXTURE_TEST(test_one_map_kept_across_commits, &fixture),
        TU_FIXTURE_TEST(test_reads_across_shrink_and_growth, &fixture),
        TU_FIXTURE_TEST(test_forked_child_reads, &fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
