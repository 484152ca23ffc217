/* lib/tier/mapvfs.c — the index's memory map, kept for the process's life
 * of the file instead of each read transaction's.
 *
 * SQLite (3.40) drops a connection's whole map of the database at the start
 * of every read transaction that follows a commit by any other connection
 * (`pagerBeginReadTransaction` → `xUnfetch(0, NULL)`), and maps it again at
 * the next fetch. Every commit anywhere — seaftierd's marks, the background
 * thread's access times and counters, another writer — thus costs each other
 * connection an `munmap` (a TLB shootdown across CPUs) and a page fault for
 * every page it touches again; at 10 M objects the hot pages are spread over
 * 1.3 GB of index.
 *
 * This VFS is SQLite's "unix" VFS with one change: the main database file is
 * served from one read-only MAP_SHARED map per file (device, inode) and
 * process, shared by the process's connections and kept until the last of
 * them closes the file. Everything else — reads, writes, locks, the WAL and
 * its shared memory — is the unix VFS's own code.
 *
 * Invariants (why keeping the map is as safe as SQLite's own):
 * - A MAP_SHARED map shows the page cache, so it sees every write to the file
 *   the moment it is made, exactly like SQLite's own map (also MAP_SHARED).
 *   Which page versions a reader may see is SQLite's locking, unchanged.
 * - What SQLite's unmap achieved was to learn the file's size again. Each
 *   connection keeps the size it knows (`valid`); `xUnfetch(0, NULL)` (the
 *   unmap request) makes it look again (one `fstat`) before its next fetch, a
 *   fetch past it looks again too, and a truncate through the connection
 *   lowers it. A pointer is handed out only for bytes below that size, so the
 *   map is never read past the end of the file; anything else is answered
 *   NULL and SQLite reads it with `pread`, as it does past its own map.
 * - The map is never written through (PROT_READ) and never unmapped while a
 *   connection of the process has the file open.
 * - No file descriptor of the database is ever opened or closed here: closing
 *   any descriptor of a file drops every POSIX lock the process holds on it.
 *   The map is made from the unix VFS's own descriptor of the connection.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAPVFS_NAME "seaftier-map"

/* One map of one file in this process. */
typedef struct SharedMap {
    dev_t dev;
    ino_t ino;
    guint8 *base;
    gint64 reserved;        /* bytes of address space mapped (≥ the file) */
    guint refs;             /* connections of this process attached to it */
    struct SharedMap *next;
} SharedMap;

/* A file opened through this VFS; the unix VFS's file follows it. */
typedef struct {
    sqlite3_file base;
    sqlite3_file *real;
    int fd;                 /* the unix VFS's descriptor (main database), or -1 */
    dev_t dev;
    ino_t ino;
    gint64 limit;           /* SQLITE_FCNTL_MMAP_SIZE as the unix VFS clamped it */
    SharedMap *map;         /* attached at the first fetch */
    gboolean map_failed;    /* mmap refused: every fetch answers NULL */
    gint64 valid;           /* bytes of the file known to exist */
    gboolean sized;         /* valid is current (reset by an unmap request) */
} MapFile;

static GMutex maps_lock;
static SharedMap *maps;
static sqlite3_vfs *unix_vfs;
static sqlite3_vfs map_vfs;

/* The unix VFS's `unixFile` begins with its methods, its VFS, its inode
 * record and then the descriptor (unchanged since SQLite 3.7). Read that way
 * and accepted only when the descriptor is open on the very file opened
 * (device and inode of the path); otherwise the file is served without the
 * shared map, through the unix VFS's own fetch. */
typedef struct {
    const sqlite3_io_methods *methods;
    sqlite3_vfs *vfs;
    void *inode;
    int h;
} UnixFileHead;

static int
descriptor_of(sqlite3_file *real, const char *path, dev_t *dev, ino_t *ino)
{
    struct stat by_path, by_fd;
    int h = ((const UnixFileHead *)real)->h;
    if (!path || stat(path, &by_path) != 0 || h < 0 || fstat(h, &by_fd) != 0 ||
        by_path.st_dev != by_fd.st_dev || by_path.st_ino != by_fd.st_ino)
        return -1;
    *dev = by_fd.st_dev;
    *ino = by_fd.st_ino;
    return h;
}

static SharedMap *
map_attach(MapFile *f)
{
    g_mutex_lock(&maps_lock);
    SharedMap *m;
    for (m = maps; m; m = m->next)
        if (m->dev == f->dev && m->ino == f->ino)
            break;
    if (!m) {
        /* Address space for the largest size SQLite may ask for; pages
         * past the end of the file are mapped but never handed out. */
        gint64 reserved = (f->limit + 4095) & ~(gint64)4095;
        void *base = mmap(NULL, (size_t)reserved, PROT_READ, MAP_SHARED, f->fd, 0);
        if (base == MAP_FAILED) {
            seaftier_debug("no shared map of the tier index (%s); SQLite reads it instead",
                           g_strerror(errno));
            g_mutex_unlock(&maps_lock);
            return NULL;
        }
        m = g_new0(SharedMap, 1);
        m->dev = f->dev;
        m->ino = f->ino;
        m->base = base;
        m->reserved = reserved;
        m->next = maps;
        maps = m;
    }
    m->refs++;
    g_mutex_unlock(&maps_lock);
    return m;
}

static void
map_detach(SharedMap *m)
{
    g_mutex_lock(&maps_lock);
    if (--m->refs == 0) {
        SharedMap **p = &maps;
        while (*p != m)
            p = &(*p)->next;
        *p = m->next;
        munmap(m->base, (size_t)m->reserved);
        g_free(m);
    }
    g_mutex_unlock(&maps_lock);
}

/* ---- the io methods: all the unix VFS's but the map ---- */

#define REAL(file) (((MapFile *)(file))->real)

static int
map_close(sqlite3_file *file)
{
    MapFile *f = (MapFile *)file;
    int rc = f->real->pMethods->xClose(f->real);
    if (f->map)
        map_detach(f->map);
    f->map = NULL;
    return rc;
}

static int
map_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
    return REAL(file)->pMethods->xRead(REAL(file), buf, amt, off);
}

static int
map_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
    return REAL(file)->pMethods->xWrite(REAL(file), buf, amt, off);
}

static int
map_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    MapFile *f = (MapFile *)file;
    int rc = f->real->pMethods->xTruncate(f->real, size);
    if (f->valid > size)
        f->valid = size;
    return rc;
}

static int
map_sync(sqlite3_file *file, int flags)
{
    return REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int
map_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    return REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int
map_lock(sqlite3_file *file, int level)
{
    return REAL(file)->pMethods->xLock(REAL(file), level);
}

static int
map_unlock(sqlite3_file *file, int level)
{
    return REAL(file)->pMethods->xUnlock(REAL(file), level);
}

static int
map_check_reserved_lock(sqlite3_file *file, int *out)
{
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

/* Takes over the map's size limit from the unix VFS: the limit is set on
 * it only to have it clamped the way SQLite clamps it, then set back to 0,
 * so that it never maps the file itself (it would, for example, when a
 * checkpoint announces the file's final size). */
static int
take_mmap_limit(MapFile *f, sqlite3_int64 wanted)
{
    const sqlite3_io_methods *m = f->real->pMethods;
    sqlite3_int64 v = wanted, clamped = -1, none = 0;
    int rc = m->xFileControl(f->real, SQLITE_FCNTL_MMAP_SIZE, &v);
    if (rc == SQLITE_OK)
        rc = m->xFileControl(f->real, SQLITE_FCNTL_MMAP_SIZE, &clamped);
    if (rc == SQLITE_OK)
        rc = m->xFileControl(f->real, SQLITE_FCNTL_MMAP_SIZE, &none);
    if (rc == SQLITE_OK)
        f->limit = clamped;
    return rc;
}

static int
map_file_control(sqlite3_file *file, int op, void *arg)
{
    MapFile *f = (MapFile *)file;
    if (op != SQLITE_FCNTL_MMAP_SIZE || f->fd < 0)
        return f->real->pMethods->xFileControl(f->real, op, arg);
    sqlite3_int64 *value = arg, old = f->limit;
    int rc = *value >= 0 ? take_mmap_limit(f, *value) : SQLITE_OK;
    *value = old;
    return rc;
}

static int
map_sector_size(sqlite3_file *file)
{
    return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int
map_device_characteristics(sqlite3_file *file)
{
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

static int
map_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    return REAL(file)->pMethods->xShmMap(REAL(file), region, size, extend, out);
}

static int
map_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void
map_shm_barrier(sqlite3_file *file)
{
    REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int
map_shm_unmap(sqlite3_file *file, int delete_flag)
{
    return REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

static int
map_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
    MapFile *f = (MapFile *)file;
    *out = NULL;
    if (f->fd < 0)
        return f->real->pMethods->xFetch(f->real, off, amt, out);
    if (f->limit <= 0 || f->map_failed || off < 0 || amt <= 0)
        return SQLITE_OK;
    if (!f->map && !(f->map = map_attach(f))) {
        f->map_failed = TRUE;
        return SQLITE_OK;
    }
    gint64 end = off + amt;
    if (end > MIN(f->limit, f->map->reserved))
        return SQLITE_OK;
    if (!f->sized || end > f->valid) {
        struct stat st;
        if (fstat(f->fd, &st) != 0)
            return SQLITE_OK;       /* SQLite reads it instead */
        f->valid = MIN((gint64)st.st_size, f->map->reserved);
        f->sized = TRUE;
        if (end > f->valid)
            return SQLITE_OK;
    }
    *out = f->map->base + off;
    return SQLITE_OK;
}

static int
map_unfetch(sqlite3_file *file, sqlite3_int64 off, void *page)
{
    MapFile *f = (MapFile *)file;
    if (f->fd < 0)
        return f->real->pMethods->xUnfetch(f->real, off, page);
    /* A page handed back needs nothing. NULL is SQLite asking to unmap,
     * which it does when the file may have changed size: look again. */
    if (!page)
        f->sized = FALSE;
    return SQLITE_OK;
}

static const sqlite3_io_methods map_io_methods = {
    .iVersion = 3,
    .xClose = map_close,
    .xRead = map_read,
    .xWrite = map_write,
    .xTruncate = map_truncate,
    .xSync = map_sync,
    .xFileSize = map_file_size,
    .xLock = map_lock,
    .xUnlock = map_unlock,
    .xCheckReservedLock = map_check_reserved_lock,
    .xFileControl = map_file_control,
    .xSectorSize = map_sector_size,
    .xDeviceCharacteristics = map_device_characteristics,
    .xShmMap = map_shm_map,
    .xShmLock = map_shm_lock,
    .xShmBarrier = map_shm_barrier,
    .xShmUnmap = map_shm_unmap,
    .xFetch = map_fetch,
    .xUnfetch = map_unfetch,
};

static int
map_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    MapFile *f = (MapFile *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    f->fd = -1;
    int rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        file->pMethods = NULL;
        return rc;
    }
    if ((flags & SQLITE_OPEN_MAIN_DB) && f->real->pMethods->iVersion >= 3) {
        f->fd = descriptor_of(f->real, name, &f->dev, &f->ino);
        sqlite3_int64 initial = -1;     /* -1 asks without changing it */
        if (f->fd >= 0 &&
            (f->real->pMethods->xFileControl(f->real, SQLITE_FCNTL_MMAP_SIZE, &initial) != SQLITE_OK ||
             take_mmap_limit(f, initial) != SQLITE_OK))
            f->fd = -1;                 /* left to the unix VFS, map and all */
    }
    file->pMethods = &map_io_methods;
    return SQLITE_OK;
}

static void
before_fork(void)
{
    g_mutex_lock(&maps_lock);
}

static void
after_fork(void)
{
    g_mutex_unlock(&maps_lock);
}

static gpointer
register_vfs(gpointer unused)
{
    (void)unused;
    unix_vfs = sqlite3_vfs_find("unix");
    if (!unix_vfs)
        return NULL;
    map_vfs = *unix_vfs;
    map_vfs.szOsFile = (int)sizeof(MapFile) + unix_vfs->szOsFile;
    map_vfs.zName = MAPVFS_NAME;
    map_vfs.pNext = NULL;
    map_vfs.xOpen = map_open;
    /* A fork copies the maps but not the threads: the child must not find
     * the list locked by a thread that no longer exists. */
    pthread_atfork(before_fork, after_fork, after_fork);
    if (sqlite3_vfs_register(&map_vfs, 0) != SQLITE_OK)
        return NULL;
    return (gpointer)MAPVFS_NAME;
}

const char *
seaftier_tier_map_vfs(void)
{
    static GOnce once = G_ONCE_INIT;
    return g_once(&once, register_vfs, NULL);
}
