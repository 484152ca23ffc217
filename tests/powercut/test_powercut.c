/*
 * tests/powercut/test_powercut.c — the power-cut torture of the tier.
 *
 * The tier directory lives on pcfs (the power-cut file system): what was
 * not fsynced is lost at a cut (mode "cut"), or a seeded random subset of
 * it survives (mode "reorder"). Each cycle runs, on one tier:
 *  - N_WORKERS worker processes (this program, "worker"), each with a
 *    mutating thread (durable and non-durable writes of all three types,
 *    rewrites, deletes, copies) and a reading thread (reads of anything,
 *    so read-through fills race deletes and evictions);
 *  - seaftierd uploading and deleting against the real RGW;
 *  - seaftier-admin evict --all-clean now and then;
 * then SIGKILLs everything at a random moment and cuts the power. After a
 * remount, seaftierd drains the tier and the invariants are checked:
 *  - every acknowledged durable write (need_sync write, committed block,
 *    copy) reads back with its exact bytes (LOST otherwise);
 *  - nothing whose delete was acknowledged comes back, from the tier or S3
 *    (RESURRECTED);
 *  - no read ever returns other bytes (CORRUPT: ids are SHA-1s);
 *  - no CLEAN row while S3 lacks the object (CLEAN-MISSING);
 *  - PRAGMA integrity_check, seaftier-admin verify, no temp file left.
 * An operation counts as acknowledged only once its worker logged it (and
 * fsynced the log, outside pcfs) after the call returned; the worker logs
 * its intent before the call, so an operation cut in flight leaves the
 * object's state open (either outcome is allowed) instead of being guessed.
 * Objects of one id are only mutated by one worker's one thread, so each
 * object's log is in the true order.
 *
 * Environment: POWERCUT_CUTS (cuts per mode, default 15), POWERCUT_MODES
 * ("cut,reorder"; "clean" runs the same cycles with a clean unmount
 * instead of a cut: failures there come from the kills and races alone), POWERCUT_KEEP (keep the scratch directory),
 * POWERCUT_STOP_AT_FIRST (stop at the first cycle with a failure).
 */
#include "seaftier-build.h"

#include "../torture/torture-util.h"
#include "../common/s3test.h"
#include "pc-util.h"
#include "tier/tier-private.h"     /* the index's id functions */

#include <seaftier/log.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_WORKERS 3
#define N_REPOS 4

static const char type_chars[] = "cfb";

/* ---- objects: bytes regenerated from (len, seed, compressible) ---- */

typedef struct {
    SeaftierObjType type;
    char repo[37];
    char id[41];
    gsize len;
    guint32 seed;
    int comp;
} Obj;

static guint8 *
obj_bytes(const Obj *o, char id[41])
{
    GRand *r = g_rand_new_with_seed(o->seed);
    guint8 *b = tt_make_object(r, o->len, o->comp, id);
    g_rand_free(r);
    return b;
}

static char *
obj_line(const Obj *o)
{
    return g_strdup_printf("%c %s %s %zu %u %d", type_chars[o->type], o->repo, o->id, o->len, o->seed,
                           o->comp);
}

static gboolean
obj_parse(const char *s, Obj *o)
{
    char t;
    memset(o, 0, sizeof *o);
    if (sscanf(s, "%c %36s %40s %zu %u %d", &t, o->repo, o->id, &o->len, &o->seed, &o->comp) != 6 ||
        !strchr(type_chars, t))
        return FALSE;
    o->type = (SeaftierObjType)(strchr(type_chars, t) - type_chars);
    return TRUE;
}

static char *
obj_key(const Obj *o)
{
    return g_strdup_printf("%c/%s/%s", type_chars[o->type], o->repo, o->id);
}

/* ---- the worker process ---- */

typedef struct {
    TTBackends *be;
    int log_fd;
    GMutex lock;                /* the tables below */
    GArray *present;            /* Obj: may be read, deleted, copied (this worker's) */
    GArray *absent;             /* Obj: deleted; may be written again */
    GArray *volatile_objs;      /* Obj: written without need_sync this cycle */
    GArray *readable;           /* Obj: anything to read (every worker's) */
    char repos[N_REPOS][37];
    guint32 seed;
    int index;
} Worker;

static void
wlog(Worker *w, char ev, char op, const Obj *o)
{
    char *ol = obj_line(o);
    char *line = g_strdup_printf("%c %c %s\n", ev, op, ol);
    gsize len = strlen(line);
    /* O_APPEND, one write a line; fsynced before the operation counts */
    if (write(w->log_fd, line, len) != (ssize_t)len || fsync(w->log_fd) != 0) {
        fprintf(stderr, "worker: cannot log: %s\n", g_strerror(errno));
        _exit(4);
    }
    g_free(line);
    g_free(ol);
}

static gboolean
do_delete(Worker *w, const Obj *o)
{
    if (o->type == SEAFTIER_TYPE_BLOCKS)
        return w->be->block->remove_block(w->be->block, o->repo, 1, o->id) == 0;
    ObjBackend *b = w->be->obj[o->type];
    b->delete(b, o->repo, 1, o->id);
    return TRUE;
}

static gboolean
do_copy(Worker *w, const Obj *src, const Obj *dst)
{
    if (src->type == SEAFTIER_TYPE_BLOCKS)
        return w->be->block->copy(w->be->block, src->repo, 1, dst->repo, 1, src->id) == 0;
    ObjBackend *b = w->be->obj[src->type];
    return b->copy(b, src->repo, 1, dst->repo, 1, src->id) == 0;
}

static gboolean
do_write(Worker *w, const Obj *o, gboolean need_sync)
{
    char id[41];
    guint8 *bytes = obj_bytes(o, id);
    gboolean ok = tt_be_write(w->be, o->type, o->repo, o->id, bytes, o->len, need_sync);
    g_free(bytes);
    return ok;
}

static Obj
take(GArray *a, GRand *r, gboolean remove)
{
    guint i = (guint)g_rand_int_range(r, 0, (gint32)a->len);
    Obj o = g_array_index(a, Obj, i);
    if (remove)
        g_array_remove_index_fast(a, i);
    return o;
}

static gpointer
mutator(gpointer data)
{
    Worker *w = data;
    GRand *r = g_rand_new_with_seed(w->seed);
    for (;;) {
        int dice = g_rand_int_range(r, 0, 100);
        Obj o = { 0 };
        char op;
        gboolean ok;
        g_mutex_lock(&w->lock);
        gboolean have_present = w->present->len > 0, have_absent = w->absent->len > 0,
                 have_volatile = w->volatile_objs->len > 0;
        g_mutex_unlock(&w->lock);
        if (dice < 15 && have_present) {
            /* delete */
            g_mutex_lock(&w->lock);
            o = take(w->present, r, TRUE);
            g_mutex_unlock(&w->lock);
            op = 'D';
            wlog(w, 'B', op, &o);
            ok = do_delete(w, &o);
            wlog(w, ok ? 'A' : 'F', op, &o);
            g_mutex_lock(&w->lock);
            g_array_append_val(w->absent, o);
            g_mutex_unlock(&w->lock);
        } else if (dice < 22 && have_absent) {
            /* the same object written again after its delete */
            g_mutex_lock(&w->lock);
            o = take(w->absent, r, TRUE);
            g_mutex_unlock(&w->lock);
            op = 'W';
            wlog(w, 'B', op, &o);
            ok = do_write(w, &o, TRUE);
            wlog(w, ok ? 'A' : 'F', op, &o);
            g_mutex_lock(&w->lock);
            g_array_append_val(ok ? w->present : w->absent, o);
            g_mutex_unlock(&w->lock);
        } else if (dice < 32 && have_volatile) {
            /* a durable write of an object stored without need_sync */
            g_mutex_lock(&w->lock);
            o = take(w->volatile_objs, r, TRUE);
            g_mutex_unlock(&w->lock);
            op = 'W';
            wlog(w, 'B', op, &o);
            ok = do_write(w, &o, TRUE);
            wlog(w, ok ? 'A' : 'F', op, &o);
            if (ok) {
                g_mutex_lock(&w->lock);
                g_array_append_val(w->present, o);
                g_mutex_unlock(&w->lock);
            }
        } else if (dice < 42 && have_present) {
            /* copy to another library */
            g_mutex_lock(&w->lock);
            Obj src = take(w->present, r, FALSE);
            g_mutex_unlock(&w->lock);
            o = src;
            memcpy(o.repo, w->repos[g_rand_int_range(r, 0, N_REPOS)], 37);
            if (strcmp(o.repo, src.repo) == 0)
                continue;
            op = 'C';
            wlog(w, 'B', op, &o);
            ok = do_copy(w, &src, &o);
            wlog(w, ok ? 'A' : 'F', op, &o);
            if (ok) {
                g_mutex_lock(&w->lock);
                g_array_append_val(w->present, o);
                g_array_append_val(w->readable, o);
                g_mutex_unlock(&w->lock);
            }
        } else {
            /* a new object; ids of worker w are those with id[0..1] % N_WORKERS == w */
            o.type = (SeaftierObjType)g_rand_int_range(r, 0, 3);
            memcpy(o.repo, w->repos[g_rand_int_range(r, 0, N_REPOS)], 37);
            gboolean big = g_rand_int_range(r, 0, 10) == 0;
            o.len = o.type == SEAFTIER_TYPE_BLOCKS ? (gsize)g_rand_int_range(r, 1000, big ? 300000 : 40000)
                                                   : (gsize)g_rand_int_range(r, 60, big ? 200000 : 9000);
            o.comp = g_rand_boolean(r);
            do {
                o.seed = g_rand_int(r);
                g_free(obj_bytes(&o, o.id));
            } while ((int)(strtoul((char[3]){ o.id[0], o.id[1], 0 }, NULL, 16) % N_WORKERS) != w->index);
            gboolean durable = o.type == SEAFTIER_TYPE_BLOCKS || g_rand_int_range(r, 0, 100) < 65;
            op = durable ? 'W' : 'N';
            wlog(w, 'B', op, &o);
            ok = do_write(w, &o, durable);
            wlog(w, ok ? 'A' : 'F', op, &o);
            if (ok) {
                g_mutex_lock(&w->lock);
                g_array_append_val(durable ? w->present : w->volatile_objs, o);
                g_array_append_val(w->readable, o);
                g_mutex_unlock(&w->lock);
            }
        }
        g_usleep((gulong)g_rand_int_range(r, 500, 6000));
    }
    return NULL;
}

static gpointer
reader(gpointer data)
{
    Worker *w = data;
    GRand *r = g_rand_new_with_seed(w->seed ^ 0x5bd1e995u);
    for (;;) {
        g_mutex_lock(&w->lock);
        gboolean any = w->readable->len > 0;
        Obj o = any ? take(w->readable, r, FALSE) : (Obj){ 0 };
        g_mutex_unlock(&w->lock);
        if (any) {
            guint8 *got = NULL;
            gsize len = 0;
            if (tt_be_read(w->be, o.type, o.repo, o.id, &got, &len) && !tt_bytes_match(o.id, got, len)) {
                char id[41];
                tt_sha1_hex(got, len, id);
                Obj bad = o;
                bad.len = len;
                wlog(w, 'X', 'R', &bad);
            }
            g_free(got);
        }
        g_usleep((gulong)g_rand_int_range(r, 200, 3000));
    }
    return NULL;
}

static void
load_objs(const char *path, char state, int only_worker, GArray *into)
{
    char *text = tt_slurp(path, NULL);
    if (!text)
        return;
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        Obj o;
        if ((*l)[0] != state || !obj_parse(*l + 2, &o))
            continue;
        if (only_worker >= 0 &&
            (int)(strtoul((char[3]){ o.id[0], o.id[1], 0 }, NULL, 16) % N_WORKERS) != only_worker)
            continue;
        g_array_append_val(into, o);
    }
    g_strfreev(lines);
    g_free(text);
}

static int
worker_main(const char *conf, const char *log_path, const char *settled, int index, guint32 seed,
            guint32 repo_seed)
{
    Worker *w = g_new0(Worker, 1);
    w->index = index;
    w->seed = seed;
    g_mutex_init(&w->lock);
    w->present = g_array_new(FALSE, FALSE, sizeof(Obj));
    w->absent = g_array_new(FALSE, FALSE, sizeof(Obj));
    w->volatile_objs = g_array_new(FALSE, FALSE, sizeof(Obj));
    w->readable = g_array_new(FALSE, FALSE, sizeof(Obj));
    GRand *rr = g_rand_new_with_seed(repo_seed);
    for (int i = 0; i < N_REPOS; i++)
        tt_random_repo(rr, w->repos[i]);
    g_rand_free(rr);
    load_objs(settled, 'P', index, w->present);
    load_objs(settled, 'A', index, w->absent);
    load_objs(settled, 'P', -1, w->readable);
    load_objs(settled, 'A', -1, w->readable);
    w->log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (w->log_fd < 0)
        return 2;
    w->be = tt_backends_open(conf);
    GThread *m = g_thread_new("mutator", mutator, w);
    GThread *rd = g_thread_new("reader", reader, w);
    g_thread_join(m);   /* never: the parent kills us */
    g_thread_join(rd);
    return 0;
}

/* ---- the parent: what must hold after each cut ---- */

typedef enum { ST_PRESENT, ST_ABSENT, ST_OPEN } KState;

typedef struct {
    Obj o;
    KState state;
    int pending_op;             /* op of a B line without its A/F yet, 0 none */
    KState before;              /* the state before that op */
    gboolean touched;           /* changed in this cycle */
    gboolean reported;          /* found lost or resurrected: counted once, not checked again */
    GString *history;
} Key;

typedef struct {
    const char *mode;
    int cuts;
    guint64 acked_durable, acked_deletes, acked_volatile, acked_copies, fills_checked;
    guint64 lost, resurrected, corrupt, clean_missing, integrity, tmp_left, verify, drain, clean_damaged;
    int fresh_tier_lost;        /* the write into a tier made just before the cut */
    double cycle_ms;
    gint64 lost_pages, lost_dir_ops, survived_pages, survived_dirs;
} Totals;

static GHashTable *keys;        /* key string -> Key */
static GPid workers[N_WORKERS], daemon_pid, evictor_pid;
static PcMount *pcm;
static char *scratch_dir;       /* of the running mode */
static int failures_shown;     /* CORRUPT reads reported by workers */

static void
kill_all(void *data)
{
    (void)data;
    for (int i = 0; i < N_WORKERS; i++)
        if (workers[i])
            tt_kill_wait(workers[i], SIGKILL, 10);
    if (daemon_pid)
        tt_kill_wait(daemon_pid, SIGKILL, 10);
    if (evictor_pid)
        tt_kill_wait(evictor_pid, SIGKILL, 10);
    memset(workers, 0, sizeof workers);
    daemon_pid = evictor_pid = 0;
    pc_abort(pcm);
    pcm = NULL;
    if (scratch_dir)
        pc_scratch_cleanup(scratch_dir);
}

/* SIGTERM/SIGINT (a timeout): the children and pcfs must not outlive us.
 * Only async-signal-safe calls. */
static void
on_signal(int sig)
{
    for (int i = 0; i < N_WORKERS; i++)
        if (workers[i] > 0)
            kill(workers[i], SIGKILL);
    if (daemon_pid > 0)
        kill(daemon_pid, SIGKILL);
    if (evictor_pid > 0)
        kill(evictor_pid, SIGKILL);
    if (pcm && pcm->pid > 0)
        kill(pcm->pid, SIGKILL);
    if (pcm)
        umount2(pcm->mnt, MNT_DETACH);
    _exit(128 + sig);
}

static void
key_free(gpointer p)
{
    Key *key = p;
    g_string_free(key->history, TRUE);
    g_free(key);
}

static Key *
key_of(const Obj *o)
{
    char *k = obj_key(o);
    Key *key = g_hash_table_lookup(keys, k);
    if (!key) {
        key = g_new0(Key, 1);
        key->o = *o;
        key->state = ST_ABSENT;         /* never written */
        key->history = g_string_new(NULL);
        g_hash_table_insert(keys, k, key);
    } else {
        g_free(k);
    }
    return key;
}

static const char *
state_name(KState s)
{
    return s == ST_PRESENT ? "present" : s == ST_ABSENT ? "absent" : "open";
}

/* An operation whose outcome is unknown (cut in flight, or failed). */
static void
resolve_unknown(Key *k)
{
    int op = k->pending_op;
    KState b = k->before;
    if ((op == 'W' || op == 'C' || op == 'N') && b == ST_PRESENT)
        k->state = ST_PRESENT;      /* content-addressed: a write of the same bytes */
    else
        k->state = ST_OPEN;
    k->pending_op = 0;
}

static void
apply_log(const char *path, int cycle, Totals *t)
{
    char *text = tt_slurp(path, NULL);
    if (!text)
        return;
    char **lines = g_strsplit(text, "\n", -1);
    GPtrArray *open_keys = g_ptr_array_new();
    for (char **l = lines; *l; l++) {
        Obj o;
        if (!(*l)[0])
            continue;       /* the end, or a line cut by the kill (never fsynced as a whole) */
        if (strlen(*l) < 5 || !obj_parse(*l + 4, &o))
            continue;
        char ev = (*l)[0], op = (*l)[2];
        Key *k = key_of(&o);
        k->touched = TRUE;
        g_string_append_printf(k->history, " c%d:%c%c", cycle, ev, op);
        if (ev == 'X') {
            t->corrupt++;
            if (failures_shown++ < 40)
                g_printerr("CORRUPT: cycle %d: a worker read %s %s/%s and got %zu other bytes; history:%s\n",
                           cycle, seaftier_type_name(o.type), o.repo, o.id, o.len, k->history->str);
            continue;
        }
        if (ev == 'B') {
            if (k->pending_op)
                resolve_unknown(k);
            k->pending_op = op;
            k->before = k->state;
            g_ptr_array_add(open_keys, k);
            continue;
        }
        if (ev == 'F') {
            resolve_unknown(k);
            continue;
        }
        /* acknowledged */
        k->pending_op = 0;
        switch (op) {
        case 'W':
            k->state = ST_PRESENT;
            t->acked_durable++;
            break;
        case 'C':
            k->state = ST_PRESENT;
            t->acked_copies++;
            break;
        case 'N':
            if (k->state != ST_PRESENT)
                k->state = ST_OPEN;
            t->acked_volatile++;
            break;
        case 'D':
            k->state = ST_ABSENT;
            t->acked_deletes++;
            break;
        }
    }
    for (guint i = 0; i < open_keys->len; i++) {
        Key *k = g_ptr_array_index(open_keys, i);
        if (k->pending_op) {
            g_string_append(k->history, "(cut in flight)");
            resolve_unknown(k);
        }
    }
    g_ptr_array_free(open_keys, TRUE);
    g_strfreev(lines);
    g_free(text);
}

/* Prints one failure; at most 40 of each kind (the totals count them all). */
static void
report(const char *what, int cycle, Key *k, const char *detail)
{
    static GHashTable *shown;
    if (!shown)
        shown = g_hash_table_new(g_str_hash, g_str_equal);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(shown, what));
    g_hash_table_insert(shown, (gpointer)what, GUINT_TO_POINTER(n + 1));
    if (n >= 40)
        return;
    g_printerr("%s: cycle %d: %s %s/%s (%zu bytes, expected %s): %s; history:%s\n", what, cycle,
               seaftier_type_name(k->o.type), k->o.repo, k->o.id, k->o.len, state_name(k->state), detail,
               k->history->str);
}

static gboolean
s3_has(SeaftierS3 *s3, const Obj *o, gboolean *error)
{
    char *key = g_strdup_printf("%s/%s", o->repo, o->id);
    GError *err = NULL;
    gboolean yes = seaftier_s3_head(s3, key, NULL, &err);
    *error = !yes && !g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_NOT_FOUND);
    g_clear_error(&err);
    g_free(key);
    return yes;
}

/* Copies index.db and its WAL to dir (from the mount: the live state; from
 * the backing directory after a cut: what the disk kept). */
static void
snapshot_index(const char *tier_dir, const char *dir)
{
    g_mkdir_with_parents(dir, 0700);
    static const char *const names[] = { "index.db", "index.db-wal" };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        char *from = g_build_filename(tier_dir, names[i], NULL);
        char *to = g_build_filename(dir, names[i], NULL);
        gsize len = 0;
        char *data = tt_slurp(from, &len);
        unlink(to);
        if (data && !g_file_set_contents(to, data, (gssize)len, NULL))
            g_printerr("warning: cannot copy %s\n", from);
        g_free(data);
        g_free(to);
        g_free(from);
    }
    char *shm = g_build_filename(dir, "index.db-shm", NULL);
    unlink(shm);
    g_free(shm);
}

/* An index row's state ("no row", "CLEAN", ...) in the index at db_path. */
static char *
index_row(const char *db_path, const Obj *o)
{
    static const char *const names[] = { "CLEAN", "DIRTY", "DELETED", "REMOTE" };
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    if (sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        seaftier_tier_register_id_sql(h) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT state, synced FROM objects WHERE type = ?1 AND repo_id = tier_id(?2)"
                              " AND obj_id = tier_id(?3)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, (int)o->type);
        sqlite3_bind_text(st, 2, o->repo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, o->id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            int state = sqlite3_column_int(st, 0);
            out = g_strdup_printf("%s synced=%d", state >= 0 && state <= 3 ? names[state] : "?",
                                  sqlite3_column_int(st, 1));
        } else {
            out = g_strdup("no row");
        }
    } else {
        out = g_strdup_printf("unknown (%s)", h ? sqlite3_errmsg(h) : "?");
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

/* The invariants; returns the number of failures of this cycle. */
static guint64
check_cycle(const char *conf, const char *tier_dir, const char *precut, const char *postcut, int cycle, Totals *t,
            GRand *r)
{
    char *precut_db = g_build_filename(precut, "index.db", NULL);
    char *postcut_db = g_build_filename(postcut, "index.db", NULL);
    guint64 fails = 0;
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    char *msg = NULL;
    if (!tt_integrity_check(db, &msg)) {
        g_printerr("INTEGRITY: cycle %d: %s\n", cycle, msg);
        t->integrity++;
        fails++;
    }
    g_free(msg);

    SeaftierConfig *cfg = tt_load_cfg(conf);
    SeaftierS3 *s3[3];
    for (int i = 0; i < 3; i++)
        s3[i] = tt_s3_direct(cfg, (SeaftierObjType)i);

    /* no row that says S3 holds the object (CLEAN, REMOTE) while S3 lacks it */
    {
        sqlite3 *h = NULL;
        h = tt_open_index(db, TRUE);
        sqlite3_stmt *st = NULL;
        TT_CHECK(sqlite3_prepare_v2(h, "SELECT type, tier_id_text(repo_id), tier_id_text(obj_id), state FROM objects"
                                       " WHERE state IN (0, 3)", -1, &st, NULL) == SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            Obj o = { .type = (SeaftierObjType)sqlite3_column_int(st, 0) };
            g_strlcpy(o.repo, (const char *)sqlite3_column_text(st, 1), sizeof o.repo);
            g_strlcpy(o.id, (const char *)sqlite3_column_text(st, 2), sizeof o.id);
            gboolean err = FALSE;
            if (!s3_has(s3[o.type], &o, &err) && !err) {
                Key *k = key_of(&o);
                report("CLEAN-MISSING", cycle, k,
                       sqlite3_column_int(st, 3) == 0 ? "the tier has a CLEAN row, S3 has no object"
                                                      : "the tier has a REMOTE row, S3 has no object");
                t->clean_missing++;
                fails++;
            }
        }
        sqlite3_finalize(st);
        sqlite3_close(h);
    }

    /* every touched object, and a sample of the others */
    sqlite3 *idx = NULL;
    sqlite3_stmt *row = NULL;
    idx = tt_open_index(db, TRUE);
    TT_CHECK(sqlite3_prepare_v2(idx, "SELECT state FROM objects WHERE type = ?1 AND repo_id = tier_id(?2)"
                                     " AND obj_id = tier_id(?3)", -1, &row, NULL) == SQLITE_OK);
    TTBackends *be = tt_backends_open(conf);
    GHashTableIter it;
    gpointer kk, vv;
    g_hash_table_iter_init(&it, keys);
    while (g_hash_table_iter_next(&it, &kk, &vv)) {
        Key *k = vv;
        if (k->reported || (!k->touched && g_rand_int_range(r, 0, 100) >= 5))
            continue;
        k->touched = FALSE;
        /* the row as the drain left it (the read below may fill it) */
        sqlite3_reset(row);
        sqlite3_bind_int(row, 1, (int)k->o.type);
        sqlite3_bind_text(row, 2, k->o.repo, -1, SQLITE_STATIC);
        sqlite3_bind_text(row, 3, k->o.id, -1, SQLITE_STATIC);
        int row_state = sqlite3_step(row) == SQLITE_ROW ? sqlite3_column_int(row, 0) : -1;
        static const char *const row_names[] = { "no row", "CLEAN", "DIRTY", "DELETED", "REMOTE" };
        const char *in_index = row_names[row_state + 1 < 5 && row_state >= -1 ? row_state + 1 : 0];
        guint8 *data = NULL;
        gsize len = 0;
        gboolean got = tt_be_read(be, k->o.type, k->o.repo, k->o.id, &data, &len);
        gboolean s3_err = FALSE, in_s3 = s3_has(s3[k->o.type], &k->o, &s3_err);
        char *detail = g_strdup_printf("index after the drain: %s; in S3: %s", in_index,
                                       s3_err ? "unknown (error)" : in_s3 ? "yes" : "no");
        t->fills_checked++;
        if (got && !tt_bytes_match(k->o.id, data, len)) {
            report("CORRUPT", cycle, k, "a read returned other bytes");
            t->corrupt++;
            fails++;
        } else if (k->state == ST_PRESENT && !got) {
            char *before = index_row(precut_db, &k->o), *after = index_row(postcut_db, &k->o);
            char *d = g_strdup_printf("acknowledged durable, cannot be read (%s; index just before the cut: %s, "
                                      "on the disk just after it: %s)", detail, before, after);
            g_free(before);
            g_free(after);
            report("LOST", cycle, k, d);
            g_free(d);
            t->lost++;
            fails++;
            k->reported = TRUE;
        } else if (k->state == ST_ABSENT && (got || in_s3)) {
            char *before = index_row(precut_db, &k->o), *after = index_row(postcut_db, &k->o);
            char *d = g_strdup_printf("its delete was acknowledged; reads back: %s (%s; index just before the cut: "
                                      "%s, on the disk just after it: %s)", got ? "yes" : "no", detail, before, after);
            g_free(before);
            g_free(after);
            report("RESURRECTED", cycle, k, d);
            g_free(d);
            t->resurrected++;
            fails++;
            k->reported = TRUE;
        } else if (k->state == ST_OPEN) {
            /* drained: whatever the outcome was, it is settled now */
            k->state = got ? ST_PRESENT : ST_ABSENT;
        }
        g_free(detail);
        g_free(data);
    }
    tt_backends_close(be);
    sqlite3_finalize(row);
    sqlite3_close(idx);
    for (int i = 0; i < 3; i++)
        seaftier_s3_free(s3[i]);
    seaftier_config_free(cfg);
    g_free(precut_db);
    g_free(postcut_db);
    g_free(db);
    return fails;
}

static void
write_settled(const char *path)
{
    GString *s = g_string_new(NULL);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, keys);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Key *k = v;
        if (k->state == ST_OPEN || k->reported)
            continue;
        char *ol = obj_line(&k->o);
        g_string_append_printf(s, "%c %s\n", k->state == ST_PRESENT ? 'P' : 'A', ol);
        g_free(ol);
    }
    TT_CHECK(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
    g_string_free(s, TRUE);
}

static int
count_tmp(const char *tier_dir)
{
    char *tmp = g_build_filename(tier_dir, "tmp", NULL);
    GDir *d = g_dir_open(tmp, 0, NULL);
    int n = 0;
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        n++;
    if (d)
        g_dir_close(d);
    g_free(tmp);
    return n;
}

/* seaftier-admin verify: a damaged CLEAN copy is expected after a cut (fills
 * and their files are not fsynced: a cache) and is dropped, to be fetched
 * again, so it is only counted; any other problem (a damaged DIRTY copy:
 * data only the tier has) fails. */
static guint64
run_verify(const char *conf_dir, int cycle, Totals *t)
{
    char *argv[] = { (char *)tt_admin(), "verify", "-c", (char *)conf_dir, NULL };
    char *out = NULL, *err = NULL;
    int rc = tt_run(argv, &out, &err);
    guint problems = 0, clean_dropped = 0;
    char **lines = g_strsplit(out ? out : "", "\n", -1);
    for (char **l = lines; *l; l++)
        problems += g_str_has_prefix(*l, "PROBLEM");
    g_strfreev(lines);
    lines = g_strsplit(err ? err : "", "\n", -1);
    for (char **l = lines; *l; l++)
        clean_dropped += strstr(*l, "warning: clean object") && strstr(*l, "dropped") ? 1 : 0;
    g_strfreev(lines);
    t->clean_damaged += clean_dropped;
    guint64 fails = 0;
    if ((rc != 0 && problems == 0) || problems > clean_dropped) {
        g_printerr("VERIFY: cycle %d: seaftier-admin verify: %u problems, %u of them damaged clean copies "
                   "(dropped):\n%s%s\n", cycle, problems, clean_dropped, out, err);
        t->verify++;
        fails = 1;
    }
    g_free(out);
    g_free(err);
    return fails;
}

/* Waits until seaftierd has no dirty or deleted row left (but those
 * already reported as stuck); gives up when the count has not moved for
 * 15 s (a dirty row whose copy is gone can never be uploaded). Returns the
 * rows left. */
static gint64
drain(const char *tier_dir, gint64 known_stuck)
{
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    gint64 left = -1;
    double since = tt_now_ms();
    for (;;) {
        gint64 n = tt_sql_int(db, "SELECT count(*) FROM objects WHERE state IN (1, 2)");
        if (n <= known_stuck || (n == left && tt_now_ms() - since > 15000)) {
            left = n;
            break;
        }
        if (n != left) {
            left = n;
            since = tt_now_ms();
        }
        g_usleep(100000);
    }
    g_free(db);
    return left;
}

static void
list_undrained(const char *tier_dir)
{
    char *db = g_build_filename(tier_dir, "index.db", NULL);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    h = tt_open_index(db, TRUE);
    TT_CHECK(sqlite3_prepare_v2(h, "SELECT state, type, tier_id_text(repo_id), tier_id_text(obj_id), size, last_error"
                                   " FROM objects WHERE state IN (1, 2)", -1, &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        Obj o = { .type = (SeaftierObjType)sqlite3_column_int(st, 1) };
        g_strlcpy(o.repo, (const char *)sqlite3_column_text(st, 2), sizeof o.repo);
        g_strlcpy(o.id, (const char *)sqlite3_column_text(st, 3), sizeof o.id);
        char *k = obj_key(&o);
        Key *key = g_hash_table_lookup(keys, k);
        g_free(k);
        g_printerr("  %s %s %s/%s (%d bytes): %s; history:%s\n", sqlite3_column_int(st, 0) == 1 ? "DIRTY" : "DELETED",
                   seaftier_type_name(o.type), o.repo, o.id, sqlite3_column_int(st, 4),
                   sqlite3_column_text(st, 5) ? (const char *)sqlite3_column_text(st, 5) : "",
                   key ? key->history->str : " (not written by the workers)");
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    g_free(db);
}

static void
sleep_ms(int ms)
{
    g_usleep((gulong)ms * 1000);
}

/* A new tier: a durable write into a tier created moments before must
 * survive a cut too. Returns the number of such writes lost (0 or 1). */
static int
fresh_tier_check(const char *conf, const char *tier_dir, const char *disk, const char *mnt, const char *scratch,
                 const char *mode)
{
    GRand *r = g_rand_new();
    Obj o = { .type = SEAFTIER_TYPE_COMMITS, .len = 3000, .seed = g_rand_int(r), .comp = 1 };
    tt_random_repo(r, o.repo);
    g_free(obj_bytes(&o, o.id));
    guint8 *bytes = obj_bytes(&o, o.id);
    TTBackends *be = tt_backends_open(conf);
    TT_CHECK_MSG(tt_be_write(be, o.type, o.repo, o.id, bytes, o.len, TRUE), "fresh tier: write refused");
    tt_backends_close(be);
    char *why = NULL;
    char *cmd = strcmp(mode, "reorder") == 0 ? g_strdup_printf("reorder %u", g_rand_int(r) | 1) : g_strdup("cut");
    char *answer = pc_end(pcm, cmd, &why);
    pcm = NULL;
    TT_CHECK_MSG(answer != NULL, "fresh tier: %s", why);
    g_free(answer);
    g_free(cmd);
    char *index = g_build_filename(disk, "tier", "index.db", NULL);
    gboolean index_kept = g_file_test(index, G_FILE_TEST_EXISTS);
    g_free(index);
    pcm = pc_mount(disk, mnt, scratch, &why);
    TT_CHECK_MSG(pcm != NULL, "fresh tier: remount: %s", why);
    be = tt_backends_open(conf);
    guint8 *got = NULL;
    gsize len = 0;
    gboolean ok = tt_be_read(be, o.type, o.repo, o.id, &got, &len) && tt_bytes_match(o.id, got, len);
    tt_backends_close(be);
    if (!ok)
        g_printerr("LOST: fresh tier: commits %s/%s (%zu bytes), stored with need_sync into a tier created just "
                   "before, is gone after a %s (%s): the new tier directory's name in its parent was never "
                   "fsynced\n", o.repo, o.id, o.len, mode,
                   index_kept ? "the index survived" : "tier/index.db itself is gone");
    g_free(got);
    g_free(bytes);
    g_rand_free(r);
    (void)tier_dir;
    return ok ? 0 : 1;
}

static gboolean
run_mode(const char *mode, int cuts, const char *self, Totals *t)
{
    t->mode = mode;
    char *scratch = s3test_tmpdir("powercut");
    scratch_dir = scratch;
    char *disk = g_build_filename(scratch, "disk", NULL);
    char *mnt = g_build_filename(scratch, "mnt", NULL);
    char *tier_dir = g_build_filename(mnt, "tier", NULL);
    TTConfOpts opts = { .bucket_prefix = "pcut", .tier_dir = tier_dir,
                        .extra_tier = "log_level = warning\nram_cache_size = 1M\n" };
    char *conf = tt_write_conf(scratch, &opts, NULL);
    char *settled = g_build_filename(scratch, "settled", NULL);
    char *precut = g_build_filename(scratch, "precut", NULL);
    char *postcut = g_build_filename(scratch, "postcut", NULL);
    char *daemon_log = g_build_filename(scratch, "seaftierd.log", NULL);
    char *worker_log = g_build_filename(scratch, "worker.log", NULL);
    char *admin_log = g_build_filename(scratch, "admin.log", NULL);
    char *repo_seed = g_strdup_printf("%u", g_random_int());
    char *admin_argv[] = { (char *)tt_admin(), "evict", "-c", scratch, "--all-clean", NULL };
    keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, key_free);
    GRand *r = g_rand_new();
    tt_at_fail(kill_all, NULL);
    TT_CHECK(g_file_set_contents(settled, "", 0, NULL));
    char *why = NULL;
    pcm = pc_mount(disk, mnt, scratch, &why);
    TT_CHECK_MSG(pcm != NULL, "%s", why);
    printf("powercut %s: %d cuts, tier %s on pcfs (disk %s)\n", mode, cuts, tier_dir, disk);
    fflush(stdout);
    if (strcmp(mode, "clean") != 0)
        t->fresh_tier_lost = fresh_tier_check(conf, tier_dir, disk, mnt, scratch, mode);
    /* The tier directory of a running system was created long ago: its
     * name is durable (the fresh-tier check above is about the first
     * minutes). "sync" makes everything so, as time would. */
    TT_CHECK_MSG(g_mkdir_with_parents(tier_dir, 0700) == 0, "%s: %s", tier_dir, g_strerror(errno));
    char *synced = pc_ctl(pcm, "sync");
    TT_CHECK_MSG(synced && strcmp(synced, "ok") == 0, "pcfs sync: %s", synced ? synced : "no answer");
    g_free(synced);
    guint64 fails = 0;
    gint64 stuck = 0;           /* rows the drain was already found unable to clear */
    double t_all = tt_now_ms();
    for (int c = 0; c < cuts; c++) {
        char *ack_logs[N_WORKERS];
        /* the daemon opens (or creates) the tier first: several processes
         * creating one index at once fail with "database is locked" (see
         * README.md), which is not what this test is about */
        daemon_pid = tt_spawn_daemon(scratch, daemon_log, NULL);
        TT_CHECK_MSG(tt_daemon_ready(tier_dir, 30), "cycle %d: seaftierd does not start: see %s", c, daemon_log);
        for (int i = 0; i < N_WORKERS; i++) {
            ack_logs[i] = g_strdup_printf("%s/acks-%d-%d.log", scratch, c, i);
            char idx[16], seed[16];
            g_snprintf(idx, sizeof idx, "%d", i);
            g_snprintf(seed, sizeof seed, "%u", g_rand_int(r));
            char *wargv[] = { (char *)self, "worker", conf, ack_logs[i], settled, idx, seed, repo_seed, NULL };
            workers[i] = tt_spawn(wargv, worker_log);
        }
        /* run, with evictions now and then, and cut at a random moment */
        double until = tt_now_ms() + g_rand_int_range(r, 300, 1500);
        while (tt_now_ms() < until) {
            if (!evictor_pid && g_rand_int_range(r, 0, 4) == 0)
                evictor_pid = tt_spawn(admin_argv, admin_log);
            if (evictor_pid && waitpid(evictor_pid, NULL, WNOHANG) == evictor_pid)
                evictor_pid = 0;
            sleep_ms(g_rand_int_range(r, 20, 120));
        }
        for (int i = 0; i < N_WORKERS; i++) {
            int st = tt_kill_wait(workers[i], SIGKILL, 10);
            workers[i] = 0;
            TT_CHECK_MSG(WIFSIGNALED(st), "cycle %d: worker %d ended by itself (0x%x): see %s", c, i, st,
                         worker_log);
        }
        tt_kill_wait(daemon_pid, SIGKILL, 10);
        daemon_pid = 0;
        if (evictor_pid)
            tt_kill_wait(evictor_pid, SIGKILL, 10);
        evictor_pid = 0;

        /* what the tier's index said just before the power went (read
         * through the mount: the live state), for the failure reports */
        snapshot_index(tier_dir, precut);

        /* the power cut, and a fresh mount of what the disk kept */
        char *cmd = strcmp(mode, "reorder") == 0 ? g_strdup_printf("reorder %u", g_rand_int(r) | 1)
                                                 : g_strdup(strcmp(mode, "cut") == 0 ? "cut" : "unmount");
        char *answer = pc_end(pcm, cmd, &why);
        pcm = NULL;
        TT_CHECK_MSG(answer != NULL, "cycle %d: %s", c, why);
        t->lost_pages += pc_stat(answer, "lost_pages");
        t->lost_dir_ops += pc_stat(answer, "lost_dir_ops");
        t->survived_pages += MAX(0, pc_stat(answer, "survived_pages"));
        t->survived_dirs += MAX(0, pc_stat(answer, "survived_dirs"));
        TT_CHECK_MSG(pc_stat(answer, "self_check_mismatches") <= 0,
                     "cycle %d: pcfs's disk differs from its live tree after a clean unmount (see %s/pcfs.log)", c,
                     scratch);
        g_free(answer);
        g_free(cmd);
        /* and what the disk kept, before anything opened it again */
        char *disk_tier = g_build_filename(disk, "tier", NULL);
        snapshot_index(disk_tier, postcut);
        g_free(disk_tier);
        pcm = pc_mount(disk, mnt, scratch, &why);
        TT_CHECK_MSG(pcm != NULL, "cycle %d: remount: %s", c, why);

        for (int i = 0; i < N_WORKERS; i++) {
            apply_log(ack_logs[i], c, t);
            g_free(ack_logs[i]);
        }
        /* drain: uploads and remote deletes done, then the daemon stops */
        guint64 before = fails;
        daemon_pid = tt_spawn_daemon(scratch, daemon_log, NULL);
        TT_CHECK_MSG(tt_daemon_ready(tier_dir, 30), "cycle %d: seaftierd does not start: see %s", c, daemon_log);
        gint64 left = drain(tier_dir, stuck);
        if (left > stuck) {
            g_printerr("DRAIN: cycle %d: seaftierd cannot drain %" G_GINT64_FORMAT " dirty/deleted rows (no progress "
                       "for 15 s; see %s):\n", c, left - stuck, daemon_log);
            list_undrained(tier_dir);
            t->drain += (guint64)(left - stuck);
            stuck = left;
            fails++;
        }
        int st = tt_daemon_term(daemon_pid, tier_dir);
        daemon_pid = 0;
        TT_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cycle %d: seaftierd exit 0x%x: see %s", c, st,
                     daemon_log);
        int tmp = count_tmp(tier_dir);
        if (tmp) {
            g_printerr("TMP-LEFT: cycle %d: %d files in %s/tmp after the daemon's open and close\n", c, tmp,
                       tier_dir);
            t->tmp_left++;
            fails++;
        }
        fails += run_verify(scratch, c, t);
        fails += check_cycle(conf, tier_dir, precut, postcut, c, t, r);
        write_settled(settled);
        t->cuts++;
        if ((c + 1) % 5 == 0 || fails != before) {
            printf("  %s cut %d: acknowledged durable %" G_GUINT64_FORMAT ", deletes %" G_GUINT64_FORMAT
                   ", failures so far %" G_GUINT64_FORMAT "\n",
                   mode, c + 1, t->acked_durable + t->acked_copies, t->acked_deletes, fails);
            fflush(stdout);
        }
        if (fails && g_getenv("POWERCUT_STOP_AT_FIRST"))
            break;
    }
    t->cycle_ms = (tt_now_ms() - t_all) / MAX(1, t->cuts);
    fails += (guint64)t->fresh_tier_lost;
    char *end = pc_end(pcm, "unmount", &why);
    pcm = NULL;
    TT_CHECK_MSG(end != NULL, "%s", why);
    g_free(end);
    tt_empty_buckets(conf);
    pc_scratch_cleanup(scratch);
    if (!g_getenv("POWERCUT_KEEP"))
        s3test_rm_rf(scratch);
    else
        printf("kept %s\n", scratch);
    g_hash_table_destroy(keys);
    g_rand_free(r);
    g_free(repo_seed);
    g_free(admin_log);
    g_free(worker_log);
    g_free(daemon_log);
    g_free(settled);
    g_free(precut);
    g_free(postcut);
    g_free(conf);
    g_free(tier_dir);
    g_free(mnt);
    g_free(disk);
    g_free(scratch);
    scratch_dir = NULL;
    return fails == 0;
}

int
main(int argc, char **argv)
{
    if (argc == 8 && strcmp(argv[1], "worker") == 0)
        return worker_main(argv[2], argv[3], argv[4], atoi(argv[5]), (guint32)strtoul(argv[6], NULL, 10),
                           (guint32)strtoul(argv[7], NULL, 10));
    seaftier_log_set_level(SEAFTIER_LOG_WARNING);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int cuts = g_getenv("POWERCUT_CUTS") ? atoi(g_getenv("POWERCUT_CUTS")) : 15;
    const char *modes = g_getenv("POWERCUT_MODES") ? g_getenv("POWERCUT_MODES") : "cut,reorder";
    char *self = g_file_read_link("/proc/self/exe", NULL);
    TT_CHECK(self != NULL);
    gboolean ok = TRUE;
    char **list = g_strsplit(modes, ",", -1);
    for (char **m = list; *m; m++) {
        /* "clean": the same cycles with a clean unmount instead of a cut, to
         * tell failures of the power cut from failures of the kills alone */
        TT_CHECK_MSG(!strcmp(*m, "cut") || !strcmp(*m, "reorder") || !strcmp(*m, "clean"),
                     "POWERCUT_MODES: unknown mode %s", *m);
        Totals t = { 0 };
        gboolean mode_ok = run_mode(*m, cuts, self, &t);
        printf("powercut %s: cuts %d, acknowledged durable writes %" G_GUINT64_FORMAT " (+ %" G_GUINT64_FORMAT
               " copies), non-durable %" G_GUINT64_FORMAT ", deletes %" G_GUINT64_FORMAT ", objects checked %"
               G_GUINT64_FORMAT ", %.1f s/cut; pcfs lost %" G_GINT64_FORMAT " pages + %" G_GINT64_FORMAT
               " dir ops, kept %" G_GINT64_FORMAT " pages + %" G_GINT64_FORMAT " dirs by reordering\n",
               *m, t.cuts, t.acked_durable, t.acked_copies, t.acked_volatile, t.acked_deletes, t.fills_checked,
               t.cycle_ms / 1000.0, t.lost_pages, t.lost_dir_ops, t.survived_pages, t.survived_dirs);
        printf("powercut %s: lost = %" G_GUINT64_FORMAT ", resurrected = %" G_GUINT64_FORMAT ", corrupt = %"
               G_GUINT64_FORMAT ", clean-missing-from-S3 = %" G_GUINT64_FORMAT ", integrity = %" G_GUINT64_FORMAT
               ", verify = %" G_GUINT64_FORMAT ", tmp-left = %" G_GUINT64_FORMAT ", drain = %" G_GUINT64_FORMAT
               ", fresh-tier lost = %d (damaged clean copies found and dropped: %" G_GUINT64_FORMAT ")\n",
               *m, t.lost, t.resurrected, t.corrupt, t.clean_missing, t.integrity, t.verify, t.tmp_left, t.drain,
               t.fresh_tier_lost, t.clean_damaged);
        fflush(stdout);
        ok = ok && mode_ok;
    }
    g_strfreev(list);
    g_free(self);
    return ok ? 0 : 1;
}
