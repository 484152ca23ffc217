/*
 * tests/powercut/pcfs-durable.c — the backing directory as the disk: what
 * an fsync makes durable, what a power cut leaves (model: README.md).
 */
#include "seaftier-build.h"

#include "pcfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PcState pc;

/* backing-dir inode number of an area file -> its PcInode */
static GHashTable *by_dino;

static char *
join(const char *dpath, const char *name)
{
    return dpath && *dpath ? g_strdup_printf("%s/%s", dpath, name) : g_strdup(name);
}

static const char *
dot(const char *dpath)
{
    return dpath && *dpath ? dpath : ".";
}

static void
warn(const char *what, const char *path)
{
    fprintf(stderr, "pcfs: %s %s: %s\n", what, path, g_strerror(errno));
}

PcInode *
pc_inode_new(ino_t ino, mode_t type, int fd)
{
    PcInode *pi = g_new0(PcInode, 1);
    pi->id = pc.next_id++;
    pi->live_ino = ino;
    pi->type = type;
    pi->alive = TRUE;
    pi->trunc_floor = -1;
    pi->keep_fd = -1;
    pi->dir_fd = -1;
    if (type == S_IFDIR)
        pi->dir_fd = fd >= 0 ? dup(fd) : -1;
    if (type == S_IFREG)
        pi->dirty = g_hash_table_new(g_direct_hash, g_direct_equal);
    /* a number the live tree hands out again belongs to a new inode: the
     * old one is gone (the live tree is private, every inode is born here) */
    g_hash_table_replace(pc.by_ino, GSIZE_TO_POINTER((gsize)ino), pi);
    g_ptr_array_add(pc.all, pi);
    return pi;
}

static PcInode *
inode_of_stat(const struct stat *st, int fd_for_dir)
{
    PcInode *pi = g_hash_table_lookup(pc.by_ino, GSIZE_TO_POINTER((gsize)st->st_ino));
    if (pi && pi->type == (st->st_mode & S_IFMT))
        return pi;
    return pc_inode_new(st->st_ino, st->st_mode & S_IFMT, fd_for_dir);
}

PcInode *
pc_inode_of_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return NULL;
    return inode_of_stat(&st, fd);
}

PcInode *
pc_inode_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return NULL;
    PcInode *pi = g_hash_table_lookup(pc.by_ino, GSIZE_TO_POINTER((gsize)st.st_ino));
    if (pi && pi->type == (st.st_mode & S_IFMT))
        return pi;
    int fd = S_ISDIR(st.st_mode) ? openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    pi = pc_inode_new(st.st_ino, st.st_mode & S_IFMT, fd);
    if (fd >= 0)
        close(fd);
    return pi;
}

static gboolean
file_pending(const PcInode *pi)
{
    return pi->type == S_IFREG &&
           (g_hash_table_size(pi->dirty) > 0 || pi->trunc_floor >= 0 || pi->size_dirty);
}

static void
keep(PcInode *pi, int fd)
{
    if (pi->keep_fd < 0 && fd >= 0)
        pi->keep_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

void
pc_mark_dirty(PcInode *pi, int fd, off_t off, size_t len)
{
    if (pi->type != S_IFREG || len == 0)
        return;
    keep(pi, fd);
    for (guint64 p = (guint64)off / PC_PAGE; p <= ((guint64)off + len - 1) / PC_PAGE; p++)
        g_hash_table_add(pi->dirty, GSIZE_TO_POINTER((gsize)(p + 1)));
    pi->size_dirty = TRUE;
}

void
pc_mark_trunc(PcInode *pi, int fd, off_t size)
{
    if (pi->type != S_IFREG)
        return;
    keep(pi, fd);
    if (pi->trunc_floor < 0 || size < pi->trunc_floor)
        pi->trunc_floor = size;
    pi->size_dirty = TRUE;
}

static gboolean
ensure_area(PcInode *pi)
{
    if (pi->in_area)
        return TRUE;
    char *name = g_strdup_printf(PC_AREA "/%" G_GUINT64_FORMAT, pi->id);
    int fd = openat(pc.dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        warn("creating", name);
        g_free(name);
        return FALSE;
    }
    struct stat st;
    if (fstat(fd, &st) == 0)
        g_hash_table_replace(by_dino, GSIZE_TO_POINTER((gsize)st.st_ino), pi);
    close(fd);
    g_free(name);
    pi->in_area = TRUE;
    return TRUE;
}

static void
clear_pending_file(PcInode *pi)
{
    g_hash_table_remove_all(pi->dirty);
    pi->trunc_floor = -1;
    pi->size_dirty = FALSE;
    if (pi->keep_fd >= 0)
        close(pi->keep_fd);
    pi->keep_fd = -1;
}

/* Copies a file's pending data from the live fd to its area file: all of
 * it (r == NULL), or a random subset: the size (with any truncation) as one
 * unit, each page on its own. */
static int
apply_file(PcInode *pi, int fd, GRand *r)
{
    if (!ensure_area(pi))
        return -EIO;
    char *name = g_strdup_printf(PC_AREA "/%" G_GUINT64_FORMAT, pi->id);
    int dfd = openat(pc.dfd, name, O_WRONLY | O_CLOEXEC);
    int rc = 0;
    struct stat lst, dst;
    if (dfd < 0 || fstat(fd, &lst) != 0 || fstat(dfd, &dst) != 0) {
        warn("syncing", name);
        rc = -EIO;
        goto out;
    }
    off_t final_size = dst.st_size;
    gboolean size_ok = !r || g_rand_boolean(r);
    if (size_ok) {
        if (pi->trunc_floor >= 0 && pi->trunc_floor < dst.st_size && ftruncate(dfd, pi->trunc_floor) != 0)
            rc = -errno;
        if (ftruncate(dfd, lst.st_size) != 0)
            rc = -errno;
        final_size = lst.st_size;
        if (r && pi->size_dirty)
            pc.survived_sizes++;
    } else if (pi->size_dirty) {
        pc.lost_sizes++;
    }
    GHashTableIter it;
    gpointer key;
    guint8 buf[PC_PAGE];
    g_hash_table_iter_init(&it, pi->dirty);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        off_t start = (off_t)(GPOINTER_TO_SIZE(key) - 1) * PC_PAGE;
        if (r && !g_rand_boolean(r)) {
            pc.lost_pages++;
            continue;
        }
        off_t end = MIN(MIN(start + PC_PAGE, final_size), lst.st_size);
        if (start >= end)
            continue;
        ssize_t n = pread(fd, buf, (size_t)(end - start), start);
        if (n > 0 && pwrite(dfd, buf, (size_t)n, start) != n)
            rc = -errno;
        if (n < 0)
            rc = -errno;
        if (r)
            pc.survived_pages++;
        else
            pc.pages_synced++;
    }
    if (fchmod(dfd, lst.st_mode & 07777) != 0)
        rc = -errno;
    clear_pending_file(pi);
out:
    if (dfd >= 0)
        close(dfd);
    g_free(name);
    return rc;
}

int
pc_sync_file(PcInode *pi, int fd)
{
    if (pi->type != S_IFREG)
        return 0;
    pc.file_syncs++;
    if (!file_pending(pi) && pi->in_area)
        return 0;
    return apply_file(pi, fd, NULL);
}

/* A directory's durable copy moved from `from` to `to`: so did its subdirectories'. */
static void
rewrite_dpaths(const char *from_arg, const char *to)
{
    char *from = g_strdup(from_arg);    /* from_arg may be one of the paths rewritten */
    gsize fl = strlen(from);
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *d = g_ptr_array_index(pc.all, i);
        if (d->type != S_IFDIR || !d->dpath)
            continue;
        if (strcmp(d->dpath, from) == 0 || (g_str_has_prefix(d->dpath, from) && d->dpath[fl] == '/')) {
            char *n = g_strconcat(to, d->dpath + fl, NULL);
            g_free(d->dpath);
            d->dpath = n;
        }
    }
    g_free(from);
}

static PcInode *
dir_owning(const char *dpath)
{
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *d = g_ptr_array_index(pc.all, i);
        if (d->type == S_IFDIR && d->dpath && strcmp(d->dpath, dpath) == 0)
            return d;
    }
    return NULL;
}

/* Moves a live directory's durable copy out of the namespace (its name is
 * gone, the directory lives on elsewhere in the live tree). */
static void
orphan_dir(PcInode *d)
{
    char *to = g_strdup_printf(PC_AREA "/d%" G_GUINT64_FORMAT, d->id);
    if (renameat(pc.dfd, d->dpath, pc.dfd, to) != 0)
        warn("orphaning", d->dpath);
    else
        rewrite_dpaths(d->dpath, to);
    g_free(to);
}

/* Removes a durable directory tree whose live directory is gone; live
 * subdirectories in it (moved elsewhere, not yet durable there) are kept
 * as orphans. */
static void
remove_durable_tree(const char *dpath)
{
    int fd = openat(pc.dfd, dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        DIR *dir = fdopendir(fd);
        struct dirent *e;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        while (dir && (e = readdir(dir)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                g_ptr_array_add(names, g_strdup(e->d_name));
        for (guint i = 0; i < names->len; i++) {
            char *sub = join(dpath, g_ptr_array_index(names, i));
            struct stat st;
            if (fstatat(pc.dfd, sub, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                PcInode *owner = dir_owning(sub);
                if (owner && owner->dir_fd >= 0)
                    orphan_dir(owner);
                else
                    remove_durable_tree(sub);
            } else if (unlinkat(pc.dfd, sub, 0) != 0) {
                warn("removing", sub);
            }
            g_free(sub);
        }
        g_ptr_array_free(names, TRUE);
        if (dir)
            closedir(dir);
        else
            close(fd);
    }
    PcInode *owner = dir_owning(dpath);
    if (owner) {
        g_free(owner->dpath);
        owner->dpath = NULL;
    }
    if (unlinkat(pc.dfd, dpath, AT_REMOVEDIR) != 0)
        warn("removing", dpath);
}

static GHashTable *
list_dir(int fd, gboolean durable_root)
{
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (durable_root && !strcmp(e->d_name, PC_AREA)))
            continue;
        struct stat *st = g_new(struct stat, 1);
        if (fstatat(fd, e->d_name, st, AT_SYMLINK_NOFOLLOW) != 0) {
            g_free(st);
            continue;
        }
        g_hash_table_insert(names, g_strdup(e->d_name), st);
    }
    if (dir)
        closedir(dir);
    return names;
}

static gboolean
same_symlink(int dd, const char *name, int ld)
{
    char a[4096], b[4096];
    ssize_t na = readlinkat(dd, name, a, sizeof a), nb = readlinkat(ld, name, b, sizeof b);
    return na >= 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
}

/* Is the durable entry (st, at dpath/name) the durable form of live inode c? */
static gboolean
entry_matches(const struct stat *st, const char *dname, PcInode *c, int dd, int ld, const char *name)
{
    if ((st->st_mode & S_IFMT) != c->type)
        return FALSE;
    switch (c->type) {
    case S_IFREG:
        return c->in_area && g_hash_table_lookup(by_dino, GSIZE_TO_POINTER((gsize)st->st_ino)) == c;
    case S_IFDIR:
        return c->dpath && strcmp(c->dpath, dname) == 0;
    case S_IFLNK:
        return same_symlink(dd, name, ld);
    default:
        return TRUE;
    }
}

int
pc_sync_dir(PcInode *pi, gboolean keep_live_names)
{
    if (pi->type != S_IFDIR || pi->dir_fd < 0)
        return 0;
    pc.dir_syncs++;
    if (!pi->dpath) {
        char *at = g_strdup_printf(PC_AREA "/d%" G_GUINT64_FORMAT, pi->id);
        if (mkdirat(pc.dfd, at, 0700) != 0 && errno != EEXIST) {
            warn("creating", at);
            g_free(at);
            return -EIO;
        }
        pi->dpath = at;
    }
    char *here = g_strdup(pi->dpath);
    int dd = openat(pc.dfd, dot(here), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dd < 0) {
        warn("opening", dot(here));
        g_free(here);
        return -EIO;
    }
    GHashTable *live = list_dir(pi->dir_fd, FALSE);
    GHashTable *durable = list_dir(dd, *here == '\0');
    g_hash_table_remove(live, PC_AREA);
    GHashTable *kept = g_hash_table_new(g_str_hash, g_str_equal);   /* names left as they were */
    GHashTable *named_here = g_hash_table_new(g_direct_hash, g_direct_equal); /* live inodes named here */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, live);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_hash_table_add(named_here, pc_inode_at(pi->dir_fd, k));

    /* names the live directory no longer has (or has for another inode) */
    g_hash_table_iter_init(&it, durable);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *name = k;
        struct stat *dst = v;
        struct stat *lst = g_hash_table_lookup(live, name);
        char *dname = join(here, name);
        PcInode *c = lst ? pc_inode_at(pi->dir_fd, name) : NULL;
        if (c && entry_matches(dst, dname, c, dd, pi->dir_fd, name)) {
            g_free(dname);
            continue;
        }
        if (S_ISDIR(dst->st_mode)) {
            PcInode *owner = dir_owning(dname);
            if (owner && owner->dir_fd >= 0) {
                if (keep_live_names)
                    g_hash_table_add(kept, (gpointer)name);
                else
                    orphan_dir(owner);
            } else {
                remove_durable_tree(dname);
            }
        } else {
            PcInode *owner = S_ISREG(dst->st_mode)
                                 ? g_hash_table_lookup(by_dino, GSIZE_TO_POINTER((gsize)dst->st_ino))
                                 : NULL;
            /* a reordering disk never loses a file's only name while the
             * file lives on: the rename that moved it is one operation
             * (within this directory, its new name comes with this sync) */
            if (keep_live_names && owner && owner->alive && dst->st_nlink <= 2 &&
                !g_hash_table_contains(named_here, owner))
                g_hash_table_add(kept, (gpointer)name);
            else if (unlinkat(dd, name, 0) != 0)
                warn("removing", dname);
        }
        g_free(dname);
    }

    /* names the durable directory lacks */
    g_hash_table_iter_init(&it, live);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *name = k;
        struct stat *dst = g_hash_table_lookup(durable, name);
        PcInode *c = pc_inode_at(pi->dir_fd, name);
        if (!c || g_hash_table_contains(kept, name))
            continue;
        char *dname = join(here, name);
        if (dst && entry_matches(dst, dname, c, dd, pi->dir_fd, name)) {
            g_free(dname);
            continue;
        }
        switch (c->type) {
        case S_IFREG: {
            char *area = g_strdup_printf(PC_AREA "/%" G_GUINT64_FORMAT, c->id);
            if (!ensure_area(c) || linkat(pc.dfd, area, dd, name, 0) != 0)
                warn("linking", dname);
            g_free(area);
            break;
        }
        case S_IFDIR:
            if (c->dpath) {
                if (renameat(pc.dfd, c->dpath, pc.dfd, dname) != 0)
                    warn("moving to", dname);
                else
                    rewrite_dpaths(c->dpath, dname);
            } else if (mkdirat(dd, name, ((struct stat *)v)->st_mode & 07777) != 0) {
                warn("creating", dname);
            } else {
                c->dpath = g_strdup(dname);
            }
            break;
        case S_IFLNK: {
            char target[4096];
            ssize_t n = readlinkat(pi->dir_fd, name, target, sizeof target - 1);
            if (n >= 0) {
                target[n] = '\0';
                if (symlinkat(target, dd, name) != 0)
                    warn("creating symlink", dname);
            }
            break;
        }
        default:
            if (mknodat(dd, name, ((struct stat *)v)->st_mode, 0) != 0)
                warn("creating node", dname);
        }
        g_free(dname);
    }
    if (keep_live_names)
        pc.survived_dirs++;
    pi->pending_ops = 0;
    g_hash_table_destroy(kept);
    g_hash_table_destroy(named_here);
    g_hash_table_destroy(live);
    g_hash_table_destroy(durable);
    close(dd);
    g_free(here);
    return 0;
}

void
pc_sync_all(void)
{
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *pi = g_ptr_array_index(pc.all, i);
        if (pi->type == S_IFREG && file_pending(pi) && pi->keep_fd >= 0)
            apply_file(pi, pi->keep_fd, NULL);
    }
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *pi = g_ptr_array_index(pc.all, i);
        if (pi->type == S_IFDIR && pi->dir_fd >= 0 && pi->pending_ops)
            pc_sync_dir(pi, FALSE);
    }
}

void
pc_pending(guint64 *pages, guint64 *dir_ops)
{
    *pages = *dir_ops = 0;
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *pi = g_ptr_array_index(pc.all, i);
        if (pi->type == S_IFREG)
            *pages += g_hash_table_size(pi->dirty);
        else if (pi->type == S_IFDIR && pi->dir_fd >= 0)
            *dir_ops += pi->pending_ops;
    }
}

void
pc_cut(guint32 seed)
{
    GRand *r = seed ? g_rand_new_with_seed(seed) : NULL;
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *pi = g_ptr_array_index(pc.all, i);
        if (pi->type == S_IFREG && file_pending(pi)) {
            if (r && pi->keep_fd >= 0) {
                apply_file(pi, pi->keep_fd, r);
            } else {
                pc.lost_pages += g_hash_table_size(pi->dirty);
                pc.lost_sizes += pi->size_dirty;
                clear_pending_file(pi);
            }
        }
    }
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *pi = g_ptr_array_index(pc.all, i);
        if (pi->type != S_IFDIR || pi->dir_fd < 0 || !pi->pending_ops)
            continue;
        if (r && g_rand_boolean(r))
            pc_sync_dir(pi, TRUE);
        else
            pc.lost_dir_ops += pi->pending_ops;
        pi->pending_ops = 0;
    }
    if (r)
        g_rand_free(r);
    pc_drop_area();
}

static void
rm_rf_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *dir = fdopendir(fd);
        struct dirent *e;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        while (dir && (e = readdir(dir)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                g_ptr_array_add(names, g_strdup(e->d_name));
        for (guint i = 0; i < names->len; i++)
            rm_rf_at(fd, g_ptr_array_index(names, i));
        g_ptr_array_free(names, TRUE);
        if (dir)
            closedir(dir);
        else
            close(fd);
        unlinkat(dirfd, name, AT_REMOVEDIR);
    } else {
        unlinkat(dirfd, name, 0);
    }
}

void
pc_drop_area(void)
{
    rm_rf_at(pc.dfd, PC_AREA);
    g_hash_table_remove_all(by_dino);
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *pi = g_ptr_array_index(pc.all, i);
        pi->in_area = FALSE;
        if (pi->dpath && g_str_has_prefix(pi->dpath, PC_AREA "/")) {
            g_free(pi->dpath);
            pi->dpath = NULL;
        }
    }
}

/* ---- mount: the live tree starts as a copy of the disk ---- */

static gboolean
copy_file(int dfd, const char *name, int ldir, mode_t mode, int *out_fd)
{
    int in = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    int out = openat(ldir, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
    gboolean ok = in >= 0 && out >= 0;
    char buf[65536];
    ssize_t n;
    while (ok && (n = read(in, buf, sizeof buf)) != 0)
        ok = n > 0 && write(out, buf, (size_t)n) == n;
    if (in >= 0)
        close(in);
    *out_fd = out;
    return ok;
}

/* D ino -> live path of the first copy (hard links) */
static gboolean
load_dir(const char *dpath, int ddir, int ldir, GHashTable *links)
{
    GHashTable *entries = list_dir(ddir, *dpath == '\0');
    GHashTableIter it;
    gpointer k, v;
    gboolean ok = TRUE;
    g_hash_table_iter_init(&it, entries);
    while (ok && g_hash_table_iter_next(&it, &k, &v)) {
        const char *name = k;
        struct stat *st = v;
        char *dname = join(dpath, name);
        if (S_ISDIR(st->st_mode)) {
            int sub_d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            int sub_l = -1;
            if (mkdirat(ldir, name, st->st_mode & 07777) == 0)
                sub_l = openat(ldir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            ok = sub_d >= 0 && sub_l >= 0;
            if (ok) {
                PcInode *pi = pc_inode_of_fd(sub_l);
                pi->dpath = g_strdup(dname);
                ok = load_dir(dname, sub_d, sub_l, links);
            }
            if (sub_d >= 0)
                close(sub_d);
            if (sub_l >= 0)
                close(sub_l);
        } else if (S_ISREG(st->st_mode)) {
            PcInode *first = g_hash_table_lookup(links, GSIZE_TO_POINTER((gsize)st->st_ino));
            if (first) {
                /* another name of a file already copied: link its live copy */
                char *lpath = g_strdup_printf("/proc/self/fd/%d", first->keep_fd);
                ok = linkat(AT_FDCWD, lpath, ldir, name, AT_SYMLINK_FOLLOW) == 0;
                g_free(lpath);
            } else {
                int out = -1;
                ok = copy_file(ddir, name, ldir, st->st_mode, &out);
                PcInode *pi = ok ? pc_inode_of_fd(out) : NULL;
                if (pi) {
                    char *area = g_strdup_printf(PC_AREA "/%" G_GUINT64_FORMAT, pi->id);
                    ok = linkat(pc.dfd, dname, pc.dfd, area, 0) == 0;
                    g_free(area);
                    pi->in_area = TRUE;
                    g_hash_table_replace(by_dino, GSIZE_TO_POINTER((gsize)st->st_ino), pi);
                    pi->keep_fd = out;      /* only while loading, for the links */
                    out = -1;
                    g_hash_table_insert(links, GSIZE_TO_POINTER((gsize)st->st_ino), pi);
                }
                if (out >= 0)
                    close(out);
            }
        } else if (S_ISLNK(st->st_mode)) {
            char target[4096];
            ssize_t n = readlinkat(ddir, name, target, sizeof target - 1);
            ok = n >= 0;
            if (ok) {
                target[n] = '\0';
                ok = symlinkat(target, ldir, name) == 0;
            }
            if (ok)
                pc_inode_at(ldir, name);
        } else {
            ok = mknodat(ldir, name, st->st_mode, 0) == 0;
            if (ok)
                pc_inode_at(ldir, name);
        }
        if (!ok)
            warn("loading", dname);
        g_free(dname);
    }
    g_hash_table_destroy(entries);
    return ok;
}

gboolean
pc_load(void)
{
    by_dino = g_hash_table_new(g_direct_hash, g_direct_equal);
    pc.by_ino = g_hash_table_new(g_direct_hash, g_direct_equal);
    pc.all = g_ptr_array_new();
    pc.next_id = 1;
    /* the live tree starts empty, the disk without a previous area */
    GHashTable *old = list_dir(pc.lfd, FALSE);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, old);
    while (g_hash_table_iter_next(&it, &k, NULL))
        rm_rf_at(pc.lfd, k);
    g_hash_table_destroy(old);
    rm_rf_at(pc.dfd, PC_AREA);
    if (mkdirat(pc.dfd, PC_AREA, 0700) != 0) {
        warn("creating", PC_AREA);
        return FALSE;
    }
    PcInode *root = pc_inode_of_fd(pc.lfd);
    root->dpath = g_strdup("");
    GHashTable *links = g_hash_table_new(g_direct_hash, g_direct_equal);
    gboolean ok = load_dir("", pc.dfd, pc.lfd, links);
    g_hash_table_destroy(links);
    for (guint i = 0; i < pc.all->len; i++) {
        PcInode *pi = g_ptr_array_index(pc.all, i);
        if (pi->type == S_IFREG && pi->keep_fd >= 0) {
            close(pi->keep_fd);
            pi->keep_fd = -1;
        }
    }
    return ok;
}

/* ---- self-check: after a full sync the disk must equal the live tree ---- */

static gboolean
same_file(int d1, int d2, const char *name)
{
    int a = openat(d1, name, O_RDONLY | O_CLOEXEC), b = openat(d2, name, O_RDONLY | O_CLOEXEC);
    gboolean same = a >= 0 && b >= 0;
    char ba[65536], bb[65536];
    while (same) {
        ssize_t na = read(a, ba, sizeof ba), nb = read(b, bb, sizeof bb);
        same = na == nb && na >= 0 && memcmp(ba, bb, (size_t)MAX(na, 0)) == 0;
        if (na <= 0)
            break;
    }
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    return same;
}

static guint64
compare_dirs(int ld, int dd, const char *path, gboolean root)
{
    guint64 bad = 0;
    GHashTable *l = list_dir(ld, FALSE), *d = list_dir(dd, root);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, l);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct stat *ls = v, *ds = g_hash_table_lookup(d, k);
        char *sub = join(path, k);
        if (!ds || (ls->st_mode & S_IFMT) != (ds->st_mode & S_IFMT)) {
            fprintf(stderr, "pcfs: self-check: %s: %s on the disk\n", sub, ds ? "another type" : "missing");
            bad++;
        } else if (S_ISREG(ls->st_mode) && (ls->st_size != ds->st_size || !same_file(ld, dd, k))) {
            fprintf(stderr, "pcfs: self-check: %s: other contents on the disk\n", sub);
            bad++;
        } else if (S_ISDIR(ls->st_mode)) {
            int a = openat(ld, k, O_RDONLY | O_DIRECTORY | O_CLOEXEC), b = openat(dd, k, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (a >= 0 && b >= 0)
                bad += compare_dirs(a, b, sub, FALSE);
            if (a >= 0)
                close(a);
            if (b >= 0)
                close(b);
        }
        g_free(sub);
    }
    g_hash_table_iter_init(&it, d);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        if (!g_hash_table_contains(l, k)) {
            char *sub = join(path, k);
            fprintf(stderr, "pcfs: self-check: %s: on the disk only\n", sub);
            g_free(sub);
            bad++;
        }
    }
    g_hash_table_destroy(l);
    g_hash_table_destroy(d);
    return bad;
}

guint64
pc_self_check(void)
{
    return compare_dirs(pc.lfd, pc.dfd, "", TRUE);
}
