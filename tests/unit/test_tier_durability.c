/* Durability and race rules of the tier (lib/tier), each checked in a fixed
 * order of steps so that a regression fails every run:
 *  - a read-through fill (or the clean copy cached after a PUT or a
 *    server-side copy) never stores an object deleted since its ticket;
 *  - a durable store never trusts a file that was written without fdatasync;
 *  - a rewrite repairs a dirty object whose file is short or wrong;
 *  - a delete is on stable storage before the remote delete can be sent;
 *  - every directory on an object file's path is fsynced for a durable store.
 *
 * fsync() and fdatasync() are defined here: the library is linked statically
 * into this program and SQLite's shared library resolves them here too, so
 * every sync of the tier is recorded (by the path of its descriptor) before
 * it is passed to the kernel. A gate can hold one chosen sync, which is how
 * the group committer's batches are formed deterministically. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tier/tier.h"
#include "tier-testutil.h"
#include "tier/tier-private.h"     /* the commit queue, to see a batch form */

#define REPO "0ad8b22f-5a1b-4d3c-9a2e-3f1c2b4d5e6f"
#define FILE_LEN (16 * 1024)         /* above inline_max: an object file */
#define INLINE_LEN 512

/* ---- recording syncs ---- */

static GMutex sync_lock;
static GCond sync_cond;
static GPtrArray *sync_log;          /* char* paths, in order */
static GHashTable *synced_inodes;    /* inode numbers (as guint64*) ever synced */
static char *gate_path;              /* a sync of this path waits for the gate to open */
static gboolean gate_held;           /* a sync is waiting at the gate */

static void
record_sync(int fd)
{
    char link[64], path[4096];
    g_snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return;
    path[n] = '\0';
    struct stat st;
    gboolean have_ino = fstat(fd, &st) == 0;
    g_mutex_lock(&sync_lock);
    if (sync_log)
        g_ptr_array_add(sync_log, g_strdup(path));
    if (synced_inodes && have_ino) {
        guint64 *ino = g_new(guint64, 1);
        *ino = (guint64)st.st_ino;
        g_hash_table_add(synced_inodes, ino);
    }
    if (gate_path && strcmp(gate_path, path) == 0) {
        gate_held = TRUE;
        g_cond_broadcast(&sync_cond);
        while (gate_path)
            g_cond_wait(&sync_cond, &sync_lock);
        gate_held = FALSE;
    }
    g_mutex_unlock(&sync_lock);
}

int
fsync(int fd)
{
    record_sync(fd);
    return (int)syscall(SYS_fsync, fd);
}

int
fdatasync(int fd)
{
    record_sync(fd);
    return (int)syscall(SYS_fdatasync, fd);
}

static void
log_clear(void)
{
    g_mutex_lock(&sync_lock);
    g_ptr_array_set_size(sync_log, 0);
    g_mutex_unlock(&sync_lock);
}

static gboolean
log_has(const char *path)
{
    gboolean found = FALSE;
    g_mutex_lock(&sync_lock);
    for (guint i = 0; i < sync_log->len && !found; i++)
        found = strcmp(sync_log->pdata[i], path) == 0;
    g_mutex_unlock(&sync_lock);
    return found;
}

static void
log_dump(void)
{
    g_mutex_lock(&sync_lock);
    for (guint i = 0; i < sync_log->len; i++)
        print_message("  synced: %s\n", (const char *)sync_log->pdata[i]);
    g_mutex_unlock(&sync_lock);
}

static void
assert_synced(const char *path)
{
    if (!log_has(path)) {
        log_dump();
        fail_msg("%s was not synced", path);
    }
}

/* ---- fixture ---- */

typedef struct {
    char *dir;           /* canonical: paths compare with /proc/self/fd links */
    SeaftierConfig cfg;
    SeaftierTier *tier;
} Fx;

static int
setup(void **state)
{
    Fx *fx = g_new0(Fx, 1);
    char *tmp = g_dir_make_tmp("test_tier_dur-XXXXXX", NULL);
    assert_non_null(tmp);
    fx->dir = realpath(tmp, NULL);
    g_free(tmp);
    fx->cfg.tier.high_watermark = 90;
    fx->cfg.tier.low_watermark = 80;
    fx->cfg.tier.ram_cache_size = 0;
    fx->cfg.tier.compression = FALSE;
    fx->cfg.tier.inline_max = 4096;
    GError *err = NULL;
    fx->tier = seaftier_tier_open(&fx->cfg, fx->dir, &err);
    if (!fx->tier)
        fail_msg("open: %s", err->message);
    g_mutex_lock(&sync_lock);
    sync_log = g_ptr_array_new_with_free_func(g_free);
    synced_inodes = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_mutex_unlock(&sync_lock);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    Fx *fx = *state;
    seaftier_tier_close(fx->tier);
    g_mutex_lock(&sync_lock);
    g_ptr_array_free(sync_log, TRUE);
    sync_log = NULL;
    g_hash_table_destroy(synced_inodes);
    synced_inodes = NULL;
    g_mutex_unlock(&sync_lock);
    tu_rm_rf(fx->dir);
    free(fx->dir);
    g_free(fx);
    return 0;
}

/* An object id: `prefix` (hex) then a digest of `n`. */
static void
make_id(const char *prefix, int n, char out[41])
{
    char *h = g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guchar *)&n, sizeof n);
    gsize p = strlen(prefix);
    memcpy(out, prefix, p);
    memcpy(out + p, h, 40 - p);
    out[40] = '\0';
    g_free(h);
}

static void
store_ok(Fx *fx, const char *id, const void *data, gsize len, SeaftierState state,
         gboolean durable)
{
    tu_store_ok(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, len, state, durable);
}

static char *
object_path(Fx *fx, const char *id)
{
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
    return seaftier_tier_file_path(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, e.generation);
}

static void
assert_reads_back(Fx *fx, const char *id, const void *want, gsize want_len)
{
    tu_read_expect(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, want, want_len);
}

/* ---- a fill racing a delete ---- */

/* The remote delete is carried out and forgotten (what seaftierd does). */
static void
carry_remote_delete(Fx *fx, const char *id)
{
    GError *err = NULL;
    GPtrArray *batch = seaftier_tier_deleted_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, 100, &err);
    assert_non_null(batch);
    gboolean seen = FALSE;
    for (guint i = 0; i < batch->len; i++) {
        SeaftierTierEntry *e = batch->pdata[i];
        if (strcmp(e->obj_id, id) != 0)
            continue;
        seen = TRUE;
        if (!seaftier_tier_forget_deleted(fx->tier, e, &err))
            fail_msg("forget: %s", err->message);
    }
    g_ptr_array_free(batch, TRUE);
    assert_true(seen);
}

static void
test_fill_after_delete_is_not_stored(void **state)
{
    Fx *fx = *state;
    for (int size = 0; size < 2; size++) {
        gsize len = size ? FILE_LEN : INLINE_LEN;
        char id[41];
        make_id("", 100 + size, id);
        unsigned char *data = tu_random_bytes(len, 1 + size);
        store_ok(fx, id, data, len, SEAFTIER_STATE_CLEAN, FALSE);

        /* A reader misses (its copy was evicted) and takes its ticket
         * before the GET ... */
        GError *err = NULL;
        assert_true(seaftier_tier_evict_one(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &err));
        SeaftierTierFillTicket ticket;
        assert_true(seaftier_tier_fill_ticket(fx->tier, &ticket, &err));
        /* ... meanwhile the object is deleted, the delete reaches S3 and
         * the row is forgotten ... */
        assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &err));
        carry_remote_delete(fx, id);
        /* ... then the GET's bytes arrive: they must not be cached. */
        assert_true(seaftier_tier_store_fill(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, len,
                                             &ticket, &err));
        SeaftierTierEntry e;
        assert_false(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));

        /* A durable write of the id now really stores it. */
        store_ok(fx, id, data, len, SEAFTIER_STATE_DIRTY, TRUE);
        assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
        assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
        assert_reads_back(fx, id, data, len);
        g_free(data);
    }
}

static void
test_fill_with_fresh_ticket_is_stored(void **state)
{
    Fx *fx = *state;
    char id[41], other[41];
    make_id("", 200, id);
    make_id("", 201, other);
    unsigned char *data = tu_random_bytes(FILE_LEN, 7);
    GError *err = NULL;
    /* A delete of this id long done and forgotten before the ticket, and a
     * delete of another id after it, do not stop the fill. */
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &err));
    carry_remote_delete(fx, id);
    SeaftierTierFillTicket ticket;
    assert_true(seaftier_tier_fill_ticket(fx->tier, &ticket, &err));
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, other, &err));
    carry_remote_delete(fx, other);
    assert_true(seaftier_tier_store_fill(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, FILE_LEN,
                                         &ticket, &err));
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
    assert_int_equal(e.state, SEAFTIER_STATE_CLEAN);
    assert_reads_back(fx, id, data, FILE_LEN);
    /* A fill after a delete still pending (row DELETED) is refused too. */
    assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &err));
    assert_true(seaftier_tier_store_fill(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, data, FILE_LEN,
                                         &ticket, &err));
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
    assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
    g_free(data);
}

/* ---- a durable store never trusts an unsynced file ---- */

typedef struct {
    Fx *fx;
    const char *id;
    const void *data;
    gsize len;
    gboolean durable;
} StoreJob;

static gpointer
store_thread(gpointer p)
{
    StoreJob *j = p;
    store_ok(j->fx, j->id, j->data, j->len, SEAFTIER_STATE_DIRTY, j->durable);
    return NULL;
}

static guint
pending_stores(SeaftierTier *tier)
{
    return seaftier_tier_commit_pending(tier);
}

/* Runs a durable store (`first`, in the directory of the already stored
 * `warm`) whose batch leader is held in its directory sync until `a` and
 * then `b` have queued behind it: they form the next batch together. */
static void
run_batch_behind(Fx *fx, const char *warm, StoreJob *first, StoreJob *a, StoreJob *b)
{
    char *warm_path = object_path(fx, warm);
    char *dir = g_path_get_dirname(warm_path);
    g_mutex_lock(&sync_lock);
    gate_path = dir;
    g_mutex_unlock(&sync_lock);
    GThread *t1 = g_thread_new("first", store_thread, first);
    g_mutex_lock(&sync_lock);
    while (!gate_held)
        g_cond_wait(&sync_cond, &sync_lock);
    g_mutex_unlock(&sync_lock);
    GThread *t2 = g_thread_new("a", store_thread, a);
    while (pending_stores(fx->tier) < 1)
        g_usleep(1000);
    GThread *t3 = g_thread_new("b", store_thread, b);
    while (pending_stores(fx->tier) < 2)
        g_usleep(1000);
    g_mutex_lock(&sync_lock);
    gate_path = NULL;
    g_cond_broadcast(&sync_cond);
    g_mutex_unlock(&sync_lock);
    g_thread_join(t1);
    g_thread_join(t2);
    g_thread_join(t3);
    g_free(warm_path);
    g_free(dir);
}

static void
test_durable_store_syncs_file_of_batch_mate(void **state)
{
    Fx *fx = *state;
    char first[41], lazy[41], eager[41], warm[41];
    make_id("aa", 1, first);
    make_id("bb", 2, lazy);
    make_id("cc", 3, eager);
    make_id("aa", 4, warm);
    unsigned char *d1 = tu_random_bytes(FILE_LEN, 11), *d2 = tu_random_bytes(FILE_LEN, 12),
                  *d3 = tu_random_bytes(FILE_LEN, 13);
    /* The directory of `first` exists already, so the only sync of it is the
     * one its batch leader makes before committing. */
    store_ok(fx, warm, d1, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    /* A non-durable and a durable store share a (FULL) batch. */
    StoreJob j1 = { fx, first, d1, FILE_LEN, TRUE };
    StoreJob j2 = { fx, lazy, d2, FILE_LEN, FALSE };
    StoreJob j3 = { fx, eager, d3, FILE_LEN, TRUE };
    run_batch_behind(fx, warm, &j1, &j2, &j3);

    /* Now the writer of `lazy` asks for it to be durable: its file, never
     * fdatasynced, must be synced before this returns. */
    char *lazy_path = object_path(fx, lazy);
    log_clear();
    store_ok(fx, lazy, d2, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    assert_synced(lazy_path);
    assert_reads_back(fx, lazy, d2, FILE_LEN);
    assert_reads_back(fx, eager, d3, FILE_LEN);
    g_free(lazy_path);
    g_free(d1);
    g_free(d2);
    g_free(d3);
}

static void
test_durable_store_of_same_id_in_batch(void **state)
{
    Fx *fx = *state;
    char first[41], warm[41], twice[41];
    make_id("aa", 5, first);
    make_id("aa", 6, warm);
    make_id("dd", 7, twice);
    unsigned char *d1 = tu_random_bytes(FILE_LEN, 14), *d2 = tu_random_bytes(FILE_LEN, 15);
    store_ok(fx, warm, d1, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    /* The same object written twice at once, without and with need_sync:
     * the non-durable copy commits first in the shared batch. The durable
     * write returns only when the copy the row names was fdatasynced. */
    StoreJob j1 = { fx, first, d1, FILE_LEN, TRUE };
    StoreJob lazy = { fx, twice, d2, FILE_LEN, FALSE };
    StoreJob eager = { fx, twice, d2, FILE_LEN, TRUE };
    run_batch_behind(fx, warm, &j1, &lazy, &eager);
    char *path = object_path(fx, twice);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    guint64 ino = (guint64)st.st_ino;
    g_mutex_lock(&sync_lock);
    gboolean synced = g_hash_table_contains(synced_inodes, &ino);
    g_mutex_unlock(&sync_lock);
    if (!synced)
        fail_msg("%s, named by the row after a durable store, was never fdatasynced", path);
    assert_reads_back(fx, twice, d2, FILE_LEN);
    /* The replaced copy is gone: one file in that directory. */
    char *dir = g_path_get_dirname(path);
    GDir *d = g_dir_open(dir, 0, NULL);
    int files = 0;
    while (g_dir_read_name(d))
        files++;
    g_dir_close(d);
    assert_int_equal(files, 1);
    g_free(dir);
    g_free(path);
    g_free(d1);
    g_free(d2);
}

/* ---- a rewrite repairs a damaged dirty copy ---- */

static void
damage(const char *path, gboolean shorten)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    if (shorten) {
        assert_int_equal(ftruncate(fd, st.st_size / 2), 0);
    } else {
        unsigned char c;
        assert_int_equal(pread(fd, &c, 1, st.st_size - 10), 1);
        c ^= 0x5a;
        assert_int_equal(pwrite(fd, &c, 1, st.st_size - 10), 1);
    }
    close(fd);
}

static void
test_rewrite_repairs_damaged_dirty_file(void **state)
{
    Fx *fx = *state;
    for (int shorten = 0; shorten < 2; shorten++) {
        char id[41];
        make_id("", 300 + shorten, id);
        unsigned char *data = tu_random_bytes(FILE_LEN, 30 + shorten);
        store_ok(fx, id, data, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
        char *path = object_path(fx, id);
        damage(path, shorten);
        void *out = NULL;
        gsize len = 0;
        GError *err = NULL;
        assert_false(seaftier_tier_read(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &out, &len,
                                        &err));
        g_clear_error(&err);

        /* Seafile writes the same object again, not even asking for sync:
         * the copy is repaired, and durably. */
        log_clear();
        store_ok(fx, id, data, FILE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
        assert_reads_back(fx, id, data, FILE_LEN);
        char *repaired = object_path(fx, id);
        char *dir = g_path_get_dirname(repaired);
        char *wal = g_build_filename(fx->dir, "index.db-wal", NULL);
        assert_synced(dir);
        assert_synced(wal);
        g_free(wal);
        SeaftierTierEntry e;
        assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
        assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
        g_free(repaired);
        g_free(dir);
        g_free(path);
        g_free(data);
    }
}

static void
test_rewrite_repairs_damaged_dirty_inline(void **state)
{
    Fx *fx = *state;
    char id[41];
    make_id("", 310, id);
    unsigned char *data = tu_random_bytes(INLINE_LEN, 31);
    store_ok(fx, id, data, INLINE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    /* Damage the inline copy behind the tier's back (another connection). */
    char *sql = g_strdup_printf("UPDATE blobs SET data = substr(data, 1, 100) WHERE id ="
                                " (SELECT id FROM objects WHERE obj_id = tier_id('%s'))", id);
    tu_sql_exec(fx->dir, sql);
    g_free(sql);
    store_ok(fx, id, data, INLINE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
    assert_reads_back(fx, id, data, INLINE_LEN);
    g_free(data);
}

/* ---- other bytes under the same id ---- */

static int
count_blobs(Fx *fx)
{
    char *db_path = g_build_filename(fx->dir, "index.db", NULL);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM blobs", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    g_free(db_path);
    return n;
}

/* Seafile's commit ids hash root, creator, description and second, not the
 * bytes: two commits of one second share an id, and Seafile's fs backend keeps
 * the last one written. The tier must too, and upload it, whether the first
 * version is still dirty (its upload in flight must not mark the new one
 * clean) or already clean; the same bytes again stay a no-op. */
static void
test_other_bytes_under_same_id_replace(void **state)
{
    Fx *fx = *state;
    int blobs_before = count_blobs(fx);
    /* sizes: inline -> inline, inline -> file, file -> inline, file -> file */
    const gsize sizes[][2] = { { INLINE_LEN, INLINE_LEN + 7 }, { INLINE_LEN, FILE_LEN },
                               { FILE_LEN, INLINE_LEN }, { FILE_LEN, FILE_LEN } };
    for (int i = 0; i < 4; i++) {
        for (int clean_first = 0; clean_first < 2; clean_first++) {
            char id[41];
            make_id("", 400 + i * 2 + clean_first, id);
            unsigned char *a = tu_random_bytes(sizes[i][0], 40 + i);
            unsigned char *b = tu_random_bytes(sizes[i][1], 50 + i);
            store_ok(fx, id, a, sizes[i][0], SEAFTIER_STATE_DIRTY, TRUE);
            SeaftierTierEntry first;
            assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &first,
                                             NULL));
            char *first_path = sizes[i][0] == FILE_LEN ? object_path(fx, id) : NULL;
            GError *err = NULL;
            if (clean_first)
                assert_true(seaftier_tier_mark_clean(fx->tier, &first, &err));

            store_ok(fx, id, b, sizes[i][1], SEAFTIER_STATE_DIRTY, TRUE);
            assert_reads_back(fx, id, b, sizes[i][1]);
            SeaftierTierEntry now;
            assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &now,
                                             NULL));
            assert_int_equal(now.state, SEAFTIER_STATE_DIRTY);
            assert_int_equal(now.size, sizes[i][1]);
            assert_true(now.generation != first.generation);
            /* the first version's upload confirming late changes nothing */
            if (!clean_first) {
                assert_true(seaftier_tier_mark_clean(fx->tier, &first, &err));
                assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &now,
                                                 NULL));
                assert_int_equal(now.state, SEAFTIER_STATE_DIRTY);
            }
            if (first_path) {
                assert_false(g_file_test(first_path, G_FILE_TEST_EXISTS));
                g_free(first_path);
            }
            /* the same bytes again: a no-op */
            store_ok(fx, id, b, sizes[i][1], SEAFTIER_STATE_DIRTY, TRUE);
            SeaftierTierEntry again;
            assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &again,
                                             NULL));
            assert_true(again.generation == now.generation);
            assert_reads_back(fx, id, b, sizes[i][1]);
            g_free(a);
            g_free(b);
        }
    }
    /* inline copies of replaced versions are gone: one blob per inline object */
    assert_int_equal(count_blobs(fx) - blobs_before, 4);   /* i = 0 and 2, twice each */
}

/* ---- a non-durable write lost by a power cut ---- */

/* Reads `id`, which must fail with `code`. */
static void
assert_read_fails(Fx *fx, const char *id, int code)
{
    void *out = NULL;
    gsize len = 0;
    GError *err = NULL;
    assert_false(seaftier_tier_read(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &out, &len, &err));
    if (!g_error_matches(err, SEAFTIER_TIER_ERROR, code))
        fail_msg("read %s: wanted error %d, got %s", id, code, err ? err->message : "none");
    g_error_free(err);
}

static gboolean
in_dirty_batch(Fx *fx, const char *id)
{
    GError *err = NULL;
    GPtrArray *batch = seaftier_tier_dirty_batch(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, 1000,
                                                 G_MAXINT64, &err);
    assert_non_null(batch);
    gboolean seen = FALSE;
    for (guint i = 0; i < batch->len; i++)
        seen = seen || strcmp(((SeaftierTierEntry *)batch->pdata[i])->obj_id, id) == 0;
    g_ptr_array_free(batch, TRUE);
    return seen;
}

/* What a power cut leaves of a store made without need_sync when another
 * store's FULL commit synced the WAL: the row (synced = 0), but a file that
 * is short, wrong or absent. That write was never promised to survive: it
 * is dropped (not retried by the uploader for ever), while the same damage
 * to a synced row stays an error. */
static void
test_lost_nondurable_write_is_dropped(void **state)
{
    Fx *fx = *state;
    GError *err = NULL;
    for (int how = 0; how < 3; how++) {     /* short, corrupt, missing */
        char id[41];
        make_id("", 600 + how, id);
        unsigned char *data = tu_random_bytes(FILE_LEN, 60 + how);
        store_ok(fx, id, data, FILE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
        char *path = object_path(fx, id);
        if (how < 2)
            damage(path, how == 0);
        else
            assert_int_equal(g_unlink(path), 0);
        assert_true(in_dirty_batch(fx, id));
        assert_read_fails(fx, id, SEAFTIER_TIER_ERROR_NOT_FOUND);
        SeaftierTierEntry e;
        assert_false(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, &err));
        assert_null(err);
        assert_false(in_dirty_batch(fx, id));
        g_free(path);
        g_free(data);
    }

    /* Written over an evicted copy (S3 holds the same object): the lost
     * write leaves the REMOTE row it replaced, so the object still exists. */
    char again[41];
    make_id("", 610, again);
    unsigned char *data = tu_random_bytes(FILE_LEN, 61);
    store_ok(fx, again, data, FILE_LEN, SEAFTIER_STATE_CLEAN, FALSE);
    guint64 evicted = 0;
    assert_true(seaftier_tier_evict_clean(fx->tier, REPO, &evicted, &err));
    assert_int_equal(evicted, 1);
    store_ok(fx, again, data, FILE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
    char *path = object_path(fx, again);
    damage(path, FALSE);
    assert_read_fails(fx, again, SEAFTIER_TIER_ERROR_NOT_FOUND);
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, again, &e, NULL));
    assert_int_equal(e.state, SEAFTIER_STATE_REMOTE);
    assert_int_equal(e.size, FILE_LEN);
    assert_false(in_dirty_batch(fx, again));
    g_free(path);

    /* Durable (synced = 1), the same damage: an error, the row kept. */
    char durable[41];
    make_id("", 620, durable);
    store_ok(fx, durable, data, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    path = object_path(fx, durable);
    damage(path, FALSE);
    assert_read_fails(fx, durable, SEAFTIER_TIER_ERROR_CORRUPT);
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, durable, &e, NULL));
    assert_int_equal(e.state, SEAFTIER_STATE_DIRTY);
    assert_true(in_dirty_batch(fx, durable));
    g_free(path);
    g_free(data);
}

/* ---- deletes are durable ---- */

static void
test_delete_is_durable(void **state)
{
    Fx *fx = *state;
    char *wal = g_build_filename(fx->dir, "index.db-wal", NULL);
    char inline_id[41], absent_id[41], file_id[41];
    make_id("", 400, inline_id);
    make_id("", 401, absent_id);
    make_id("", 402, file_id);
    unsigned char *data = tu_random_bytes(FILE_LEN, 40);
    GError *err = NULL;
    /* An inline object (clean or dirty), an id the tier never saw, a file. */
    const char *ids[] = { inline_id, absent_id, file_id };
    for (int i = 0; i < 3; i++) {
        if (i == 0)
            store_ok(fx, ids[i], data, INLINE_LEN, SEAFTIER_STATE_CLEAN, FALSE);
        if (i == 2)
            store_ok(fx, ids[i], data, FILE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
        log_clear();
        assert_true(seaftier_tier_delete(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ids[i], &err));
        assert_synced(wal);
    }
    g_free(data);
    g_free(wal);
}

static guint
log_count(const char *path)
{
    guint n = 0;
    g_mutex_lock(&sync_lock);
    for (guint i = 0; i < sync_log->len; i++)
        n += strcmp(sync_log->pdata[i], path) == 0;
    g_mutex_unlock(&sync_lock);
    return n;
}

static void
assert_deleted(Fx *fx, const char *id)
{
    SeaftierTierEntry e;
    assert_true(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, id, &e, NULL));
    assert_int_equal(e.state, SEAFTIER_STATE_DELETED);
}

typedef struct {
    Fx *fx;
    char id[41];
} DeleteJob;

static gpointer
delete_thread(gpointer p)
{
    DeleteJob *j = p;
    GError *err = NULL;
    if (!seaftier_tier_delete(j->fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, j->id, &err))
        fail_msg("delete %s: %s", j->id, err->message);
    return NULL;
}

#define N_FOLLOWERS 8

/* Deletes arriving while another delete commits wait for it and then share
 * one FULL commit (one WAL fsync), still each durable before it returns. */
static void
test_concurrent_deletes_share_a_commit(void **state)
{
    Fx *fx = *state;
    DeleteJob jobs[N_FOLLOWERS + 1];
    unsigned char *data = tu_random_bytes(INLINE_LEN, 45);
    for (int i = 0; i <= N_FOLLOWERS; i++) {
        jobs[i].fx = fx;
        make_id("", 450 + i, jobs[i].id);
        store_ok(fx, jobs[i].id, data, INLINE_LEN, SEAFTIER_STATE_CLEAN, FALSE);
    }
    char *wal = g_build_filename(fx->dir, "index.db-wal", NULL);
    /* The first delete is held in its WAL fsync, inside its commit. */
    g_mutex_lock(&sync_lock);
    gate_path = wal;
    g_mutex_unlock(&sync_lock);
    GThread *threads[N_FOLLOWERS + 1];
    threads[0] = g_thread_new("del0", delete_thread, &jobs[0]);
    g_mutex_lock(&sync_lock);
    while (!gate_held)
        g_cond_wait(&sync_cond, &sync_lock);
    g_mutex_unlock(&sync_lock);
    log_clear();
    for (int i = 1; i <= N_FOLLOWERS; i++)
        threads[i] = g_thread_new("del", delete_thread, &jobs[i]);
    /* They queue for the group committer (not for SQLite's write lock). */
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    guint queued;
    while ((queued = pending_stores(fx->tier)) < N_FOLLOWERS &&
           g_get_monotonic_time() < deadline)
        g_usleep(1000);
    g_mutex_lock(&sync_lock);
    gate_path = NULL;
    g_cond_broadcast(&sync_cond);
    g_mutex_unlock(&sync_lock);
    for (int i = 0; i <= N_FOLLOWERS; i++)
        g_thread_join(threads[i]);
    if (queued < N_FOLLOWERS)
        fail_msg("only %u of %d concurrent deletes queued for a shared commit", queued,
                 N_FOLLOWERS);
    guint wal_syncs = log_count(wal);
    if (wal_syncs != 1) {
        log_dump();
        fail_msg("%d deletes queued together made %u WAL syncs, wanted 1", N_FOLLOWERS,
                 wal_syncs);
    }
    for (int i = 0; i <= N_FOLLOWERS; i++)
        assert_deleted(fx, jobs[i].id);
    g_free(wal);
    g_free(data);
}

#define N_MANY 300

/* A list of deletes (a repo's objects) commits many rows per transaction:
 * inline and file objects and ids the tier never saw, one WAL fsync, each
 * row DELETED and every file gone (after its row). */
static void
test_delete_many_one_commit(void **state)
{
    Fx *fx = *state;
    char ids[N_MANY][41];
    const char *ptrs[N_MANY];
    char *paths[N_MANY] = { NULL };
    unsigned char *data = tu_random_bytes(FILE_LEN, 46);
    for (int i = 0; i < N_MANY; i++) {
        make_id("", 1000 + i, ids[i]);
        ptrs[i] = ids[i];
        if (i % 3 == 0)
            store_ok(fx, ids[i], data, INLINE_LEN, SEAFTIER_STATE_CLEAN, FALSE);
        else if (i % 3 == 1) {
            store_ok(fx, ids[i], data, FILE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
            paths[i] = object_path(fx, ids[i]);
        }
    }
    char *wal = g_build_filename(fx->dir, "index.db-wal", NULL);
    log_clear();
    GError *err = NULL;
    if (!seaftier_tier_delete_many(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, ptrs, N_MANY, &err))
        fail_msg("delete_many: %s", err->message);
    assert_int_equal(log_count(wal), 1);
    for (int i = 0; i < N_MANY; i++) {
        assert_deleted(fx, ids[i]);
        if (paths[i])
            assert_false(g_file_test(paths[i], G_FILE_TEST_EXISTS));
        g_free(paths[i]);
    }
    /* A bad id anywhere: refused before anything is deleted. */
    char fresh[41];
    make_id("", 2000, fresh);
    const char *bad[] = { fresh, "not-an-id" };
    assert_false(seaftier_tier_delete_many(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, bad, 2, &err));
    assert_true(g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_INVALID_ID));
    g_clear_error(&err);
    SeaftierTierEntry e;
    assert_false(seaftier_tier_lookup(fx->tier, SEAFTIER_TYPE_BLOCKS, REPO, fresh, &e, NULL));
    g_free(wal);
    g_free(data);
}

/* ---- directories of object files ---- */

static void
test_durable_store_syncs_whole_path(void **state)
{
    Fx *fx = *state;
    char lazy[41], eager[41];
    make_id("ab", 500, lazy);
    make_id("ab", 501, eager);
    unsigned char *data = tu_random_bytes(FILE_LEN, 50);
    /* A non-durable store creates objects/blocks/<repo>/ab/ without syncs. */
    store_ok(fx, lazy, data, FILE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
    log_clear();
    store_ok(fx, eager, data, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    char *objects = g_build_filename(fx->dir, "objects", NULL);
    char *type_dir = g_build_filename(objects, "blocks", NULL);
    char *repo_dir = g_build_filename(type_dir, REPO, NULL);
    char *fan_dir = g_build_filename(repo_dir, "ab", NULL);
    /* Each directory's entry lives in its parent. */
    assert_synced(fan_dir);
    assert_synced(repo_dir);
    assert_synced(type_dir);
    assert_synced(objects);
    /* Known durable now: the next durable store pays its own directory only. */
    char next[41];
    make_id("ab", 502, next);
    log_clear();
    store_ok(fx, next, data, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    assert_synced(fan_dir);
    assert_false(log_has(repo_dir));
    g_free(objects);
    g_free(type_dir);
    g_free(repo_dir);
    g_free(fan_dir);
    g_free(data);
}

/* A durable write of an object first stored without sync (which made its
 * directories and never synced them) must make the whole path durable, not
 * only the file and its own directory. */
static void
test_durable_rewrite_syncs_whole_path(void **state)
{
    Fx *fx = *state;
    char id[41];
    make_id("cd", 510, id);
    unsigned char *data = tu_random_bytes(FILE_LEN, 51);
    store_ok(fx, id, data, FILE_LEN, SEAFTIER_STATE_DIRTY, FALSE);
    log_clear();
    store_ok(fx, id, data, FILE_LEN, SEAFTIER_STATE_DIRTY, TRUE);
    char *objects = g_build_filename(fx->dir, "objects", NULL);
    char *type_dir = g_build_filename(objects, "blocks", NULL);
    char *repo_dir = g_build_filename(type_dir, REPO, NULL);
    char *fan_dir = g_build_filename(repo_dir, "cd", NULL);
    char *path = object_path(fx, id);
    assert_synced(path);
    assert_synced(fan_dir);
    assert_synced(repo_dir);
    assert_synced(type_dir);
    assert_synced(objects);
    g_free(path);
    g_free(objects);
    g_free(type_dir);
    g_free(repo_dir);
    g_free(fan_dir);
    g_free(data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fill_after_delete_is_not_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_with_fresh_ticket_is_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_store_syncs_file_of_batch_mate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_durable_store_of_same_id_in_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_repairs_damaged_dirty_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_repairs_damaged_dirty_inline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lost_nondurable_write_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_is_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_deletes_share_a_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_many_one_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_store_syncs_whole_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_bytes_under_same_id_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_rewrite_syncs_whole_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
