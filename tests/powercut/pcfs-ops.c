/*
 * tests/powercut/pcfs-ops.c — the FUSE operations: each is passed through
 * to the live tree, and namespace changes and written pages are recorded
 * as pending until an fsync makes them durable (pcfs-durable.c).
 */
#include "seaftier-build.h"

#include "pcfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
    int fd;
    PcInode *pi;
    DIR *dir;
} PcHandle;

#define DEAD_CHECK() do { if (g_atomic_int_get(&pc.dead)) return -EIO; } while (0)
#define FH(fi) ((PcHandle *)(uintptr_t)(fi)->fh)

/* "/a/b" -> "a/b", "/" -> "." (relative to the live directory) */
static const char *
rel(const char *path)
{
    return path[1] ? path + 1 : ".";
}

static PcInode *
parent_of(const char *path)
{
    char *d = g_path_get_dirname(path);
    PcInode *pi = pc_inode_at(pc.lfd, rel(d));
    g_free(d);
    return pi;
}

static void
note_parent(const char *path)
{
    PcInode *p = parent_of(path);
    if (p)
        p->pending_ops++;
    pc.meta_ops++;
}

/* A new inode at path (just created in the live tree). */
static void
born(const char *path)
{
    struct stat st;
    if (fstatat(pc.lfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return;
    int fd = S_ISDIR(st.st_mode) ? openat(pc.lfd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    pc_inode_new(st.st_ino, st.st_mode & S_IFMT, fd);
    if (fd >= 0)
        close(fd);
}

/* The inode about to lose the name at path: does it lose its last one? */
static void
losing_name(const char *path)
{
    struct stat st;
    if (fstatat(pc.lfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return;
    PcInode *pi = pc_inode_at(pc.lfd, rel(path));
    if (!pi)
        return;
    if (S_ISDIR(st.st_mode)) {
        pi->alive = FALSE;
        if (pi->dir_fd >= 0)
            close(pi->dir_fd);
        pi->dir_fd = -1;
    } else if (st.st_nlink <= 1) {
        pi->alive = FALSE;
    }
}

static void *
pc_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->use_ino = 1;
    cfg->hard_remove = 1;       /* no .fuse_hidden files: they would become durable names */
    cfg->nullpath_ok = 1;
    cfg->direct_io = 0;         /* the page cache is needed for shared mmap (SQLite's -shm) */
    conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;   /* every write() reaches us at once */
    return NULL;
}

static int
pc_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    int rc = fi && FH(fi)->fd >= 0 ? fstat(FH(fi)->fd, st)
                                   : fstatat(pc.lfd, rel(path), st, AT_SYMLINK_NOFOLLOW);
    return rc ? -errno : 0;
}

static int
pc_access(const char *path, int mask)
{
    DEAD_CHECK();
    return faccessat(pc.lfd, rel(path), mask, 0) ? -errno : 0;
}

static int
pc_readlink(const char *path, char *buf, size_t size)
{
    DEAD_CHECK();
    ssize_t n = readlinkat(pc.lfd, rel(path), buf, size - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

static int
pc_mknod(const char *path, mode_t mode, dev_t rdev)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    int rc = mknodat(pc.lfd, rel(path), mode, rdev) ? -errno : 0;
    if (!rc) {
        born(path);
        note_parent(path);
    }
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_mkdir(const char *path, mode_t mode)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    int rc = mkdirat(pc.lfd, rel(path), mode) ? -errno : 0;
    if (!rc) {
        born(path);
        note_parent(path);
    }
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_symlink(const char *target, const char *path)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    int rc = symlinkat(target, pc.lfd, rel(path)) ? -errno : 0;
    if (!rc) {
        born(path);
        note_parent(path);
    }
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_unlink(const char *path)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    losing_name(path);
    int rc = unlinkat(pc.lfd, rel(path), 0) ? -errno : 0;
    if (!rc)
        note_parent(path);
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_rmdir(const char *path)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    PcInode *pi = pc_inode_at(pc.lfd, rel(path));
    int rc = unlinkat(pc.lfd, rel(path), AT_REMOVEDIR) ? -errno : 0;
    if (!rc) {
        if (pi) {
            pi->alive = FALSE;
            if (pi->dir_fd >= 0)
                close(pi->dir_fd);
            pi->dir_fd = -1;
        }
        note_parent(path);
    }
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_rename(const char *from, const char *to, unsigned int flags)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    /* make sure both inodes are known before the names move */
    pc_inode_at(pc.lfd, rel(from));
    if (!(flags & RENAME_EXCHANGE) && strcmp(from, to) != 0) {
        struct stat a, b;
        if (fstatat(pc.lfd, rel(from), &a, AT_SYMLINK_NOFOLLOW) == 0 &&
            fstatat(pc.lfd, rel(to), &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino != b.st_ino)
            losing_name(to);
    } else {
        pc_inode_at(pc.lfd, rel(to));
    }
    int rc = renameat2(pc.lfd, rel(from), pc.lfd, rel(to), flags) ? -errno : 0;
    if (!rc) {
        note_parent(from);
        note_parent(to);
    }
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_link(const char *from, const char *to)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    pc_inode_at(pc.lfd, rel(from));
    int rc = linkat(pc.lfd, rel(from), pc.lfd, rel(to), 0) ? -errno : 0;
    if (!rc)
        note_parent(to);
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    int rc = fi ? fchmod(FH(fi)->fd, mode) : fchmodat(pc.lfd, rel(path), mode, 0);
    return rc ? -errno : 0;
}

static int
pc_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    int rc = fi ? fchown(FH(fi)->fd, uid, gid)
                : fchownat(pc.lfd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
    return rc ? -errno : 0;
}

static int
pc_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    int fd = fi ? FH(fi)->fd : openat(pc.lfd, rel(path), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    g_mutex_lock(&pc.lock);
    int rc = ftruncate(fd, size) ? -errno : 0;
    if (!rc) {
        PcInode *pi = pc_inode_of_fd(fd);
        if (pi)
            pc_mark_trunc(pi, fd, size);
    }
    g_mutex_unlock(&pc.lock);
    if (!fi)
        close(fd);
    return rc;
}

static int
pc_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    DEAD_CHECK();
    int rc = fi ? futimens(FH(fi)->fd, tv) : utimensat(pc.lfd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
    return rc ? -errno : 0;
}

/* Live files are always opened read-write when written (pending pages are
 * read back from them at sync), at explicit offsets (no O_APPEND: the
 * kernel already gives each write its offset), never O_DIRECT (tmpfs). */
static int
live_flags(int flags)
{
    int f = flags & ~(O_APPEND | O_CREAT | O_EXCL | O_TRUNC | O_DIRECT | O_ACCMODE);
    return f | ((flags & O_ACCMODE) == O_RDONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC;
}

static int
open_common(const char *path, struct fuse_file_info *fi, gboolean creating, mode_t mode)
{
    g_mutex_lock(&pc.lock);
    struct stat st;
    gboolean existed = fstatat(pc.lfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
    int rc = 0;
    int fd = -1;
    if (creating && existed && (fi->flags & O_EXCL)) {
        rc = -EEXIST;
        goto out;
    }
    fd = openat(pc.lfd, rel(path), live_flags(fi->flags) | (creating ? O_CREAT : 0), mode);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    PcInode *pi;
    if (creating && !existed) {
        struct stat nst;
        fstat(fd, &nst);
        pi = pc_inode_new(nst.st_ino, S_IFREG, -1);
        note_parent(path);
    } else {
        pi = pc_inode_of_fd(fd);
    }
    if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
        if (ftruncate(fd, 0) != 0) {
            rc = -errno;
            close(fd);
            goto out;
        }
        pc_mark_trunc(pi, fd, 0);
    }
    PcHandle *h = g_new0(PcHandle, 1);
    h->fd = fd;
    h->pi = pi;
    fi->fh = (uint64_t)(uintptr_t)h;
out:
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_open(const char *path, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    return open_common(path, fi, FALSE, 0);
}

static int
pc_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    return open_common(path, fi, TRUE, mode);
}

static int
pc_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    ssize_t n = pread(FH(fi)->fd, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static int
pc_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    PcHandle *h = FH(fi);
    g_mutex_lock(&pc.lock);
    ssize_t n = pwrite(h->fd, buf, size, off);
    int rc = n < 0 ? -errno : (int)n;
    if (n > 0)
        pc_mark_dirty(h->pi, h->fd, off, (size_t)n);
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_statfs(const char *path, struct statvfs *st)
{
    DEAD_CHECK();
    return fstatvfs(pc.lfd, st) ? -errno : 0;
}

static int
pc_release(const char *path, struct fuse_file_info *fi)
{
    PcHandle *h = FH(fi);
    close(h->fd);
    g_free(h);
    return 0;
}

static int
pc_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    int rc = pc_sync_file(FH(fi)->pi, FH(fi)->fd);
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    PcHandle *h = FH(fi);
    g_mutex_lock(&pc.lock);
    int rc = fallocate(h->fd, mode, off, len) ? -errno : 0;
    if (!rc)
        pc_mark_dirty(h->pi, h->fd, off, (size_t)len);
    g_mutex_unlock(&pc.lock);
    return rc;
}

static int
pc_opendir(const char *path, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    int fd = openat(pc.lfd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    g_mutex_lock(&pc.lock);
    PcInode *pi = pc_inode_of_fd(fd);
    g_mutex_unlock(&pc.lock);
    PcHandle *h = g_new0(PcHandle, 1);
    h->fd = -1;
    h->pi = pi;
    h->dir = fdopendir(fd);
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static int
pc_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
           enum fuse_readdir_flags flags)
{
    DEAD_CHECK();
    PcHandle *h = FH(fi);
    rewinddir(h->dir);
    struct dirent *e;
    while ((e = readdir(h->dir))) {
        struct stat st = { .st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type) };
        if (filler(buf, e->d_name, &st, 0, 0))
            break;
    }
    return 0;
}

static int
pc_releasedir(const char *path, struct fuse_file_info *fi)
{
    PcHandle *h = FH(fi);
    closedir(h->dir);
    g_free(h);
    return 0;
}

static int
pc_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    DEAD_CHECK();
    g_mutex_lock(&pc.lock);
    int rc = pc_sync_dir(FH(fi)->pi, FALSE);
    g_mutex_unlock(&pc.lock);
    return rc;
}

const struct fuse_operations pc_ops = {
    .init = pc_init,
    .getattr = pc_getattr,
    .access = pc_access,
    .readlink = pc_readlink,
    .mknod = pc_mknod,
    .mkdir = pc_mkdir,
    .symlink = pc_symlink,
    .unlink = pc_unlink,
    .rmdir = pc_rmdir,
    .rename = pc_rename,
    .link = pc_link,
    .chmod = pc_chmod,
    .chown = pc_chown,
    .truncate = pc_truncate,
    .utimens = pc_utimens,
    .open = pc_open,
    .create = pc_create,
    .read = pc_read,
    .write = pc_write,
    .statfs = pc_statfs,
    .release = pc_release,
    .fsync = pc_fsync,
    .fallocate = pc_fallocate,
    .opendir = pc_opendir,
    .readdir = pc_readdir,
    .releasedir = pc_releasedir,
    .fsyncdir = pc_fsyncdir,
};
