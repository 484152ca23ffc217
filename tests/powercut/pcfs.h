/*
 * tests/powercut/pcfs.h — the power-cut file system (pcfs): what its parts
 * share. The model is described in tests/powercut/README.md; in short:
 *
 *  - the LIVE tree (a private directory, on tmpfs by default) holds the
 *    state processes see through the mount: every operation is passed
 *    through to it;
 *  - the BACKING directory holds what a disk would hold after a power cut:
 *    file data reaches it on fsync/fdatasync of the file, a directory's
 *    entries on fsync of that directory;
 *  - while mounted, every durable regular file of the backing directory is
 *    also hard-linked as <backing>/.powercut-inodes/<id>, so data made
 *    durable before the file's name is reaches the name once its directory
 *    is synced; that area is removed at unmount (an inode without a durable
 *    name is freed, as fsck would).
 *
 * One lock (PcState.lock) serialises every change of the inode table and of
 * the backing directory; writes of data only take it to mark dirty pages.
 */
#ifndef SEAFTIER_PCFS_H
#define SEAFTIER_PCFS_H

#define FUSE_USE_VERSION 35
#include <fuse3/fuse.h>
#include <glib.h>
#include <sys/stat.h>
#include <sys/types.h>

#define PC_PAGE 4096
#define PC_AREA ".powercut-inodes"

/* One live inode (identified by its inode number in the live tree). */
typedef struct PcInode {
    guint64 id;             /* its name in the area: <id> (files) or d<id> (orphan directories) */
    ino_t live_ino;
    mode_t type;            /* S_IFREG, S_IFDIR, S_IFLNK, S_IFSOCK, S_IFIFO */
    gboolean alive;         /* still has a name (directories: not removed) in the live tree */
    /* regular files */
    gboolean in_area;       /* <area>/<id> exists */
    GHashTable *dirty;      /* page numbers + 1 written since the last sync of the file */
    off_t trunc_floor;      /* smallest size set since the last sync, -1 when none */
    gboolean size_dirty;
    int keep_fd;            /* live fd kept while the file has pending data (-1 none) */
    /* directories */
    int dir_fd;             /* the live directory (-1 once removed) */
    char *dpath;            /* where its durable copy is in the backing dir ("" = root), NULL none */
    guint pending_ops;      /* namespace operations in it since its last sync */
} PcInode;

typedef struct {
    GMutex lock;
    char *backing;
    char *live;
    char *mountpoint;
    int dfd;                /* the backing directory */
    int lfd;                /* the live directory */
    GHashTable *by_ino;     /* live ino -> PcInode (the current owner of that number) */
    GPtrArray *all;         /* every PcInode ever made (owned) */
    guint64 next_id;
    gboolean dead;          /* cut or unmounting: every operation fails with EIO */
    struct fuse *fuse;
    /* counters */
    guint64 file_syncs, dir_syncs, pages_synced, meta_ops;
    guint64 self_check_mismatches;
    guint64 lost_pages, lost_dir_ops, survived_pages, survived_dirs, lost_sizes, survived_sizes;
} PcState;

extern PcState pc;

/* ---- pcfs-durable.c: the backing directory as the disk ---- */

/* Copies the backing directory into the (emptied) live directory and
 * builds the inode table and the area. FALSE with a message on stderr. */
gboolean pc_load(void);
/* Registers a new live inode (after create/mkdir/...); `fd` is a live
 * descriptor of it (directories: kept). Called with the lock held. */
PcInode *pc_inode_new(ino_t ino, mode_t type, int fd);
PcInode *pc_inode_of_fd(int fd);
PcInode *pc_inode_at(int dirfd, const char *name);
/* Marks [off, off+len) of a file written (lock held). `fd` is a live fd of
 * it, duplicated when the file gets its first pending data. */
void pc_mark_dirty(PcInode *pi, int fd, off_t off, size_t len);
void pc_mark_trunc(PcInode *pi, int fd, off_t size);
/* fsync of a file / of a directory (lock held). 0 or -errno. */
int pc_sync_file(PcInode *pi, int fd);
int pc_sync_dir(PcInode *pi, gboolean keep_live_names);
/* Syncs every pending file and directory (lock held). */
void pc_sync_all(void);
/* The power cut (lock held): seed 0 = everything not durable is lost,
 * else a seeded random subset of it survives. Then the area is removed. */
void pc_cut(guint32 seed);
/* After pc_sync_all(): the number of differences between the live tree
 * and the disk (each printed on stderr); 0 unless the model is broken. */
guint64 pc_self_check(void);
/* Removes the area (unmount). */
void pc_drop_area(void);
/* Pending pages and directory operations right now (lock held). */
void pc_pending(guint64 *pages, guint64 *dir_ops);

/* ---- pcfs-ops.c ---- */
extern const struct fuse_operations pc_ops;

/* ---- pcfs-ctl.c: the control socket ---- */
/* Starts the control thread listening on `path`. */
gboolean pc_ctl_start(const char *path);
/* After the loop ended: answers the client that asked for the end. */
void pc_ctl_finish(void);

#endif
