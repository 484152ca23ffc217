/* lib/tier/objfile.c — objects too big to live inside SQLite, one file each.
 *
 * Layout: <dir>/objects/<type>/<repo_id>/<id[0:2]>/<id[2:]>.<generation hex>
 * (Seafile's own fan-out, so an operator finds a block where they expect it;
 * the generation suffix gives every stored version its own name — see
 * tier-private.h). Each file starts with a 24-byte header (magic "STF1",
 * version, codec, CRC32C and original size, little-endian) so a file can be
 * recognised and checked even without the index.
 *
 * Files are written under <dir>/tmp/<pid>-<start>-<boot>-<random>.tmp, fsynced
 * (durable stores), renamed into place; the directory is fsynced before the
 * index row commits (by the group committer, once per directory per batch),
 * and so is every directory above it whose entry this process has not synced
 * yet. Temporary files of dead processes are removed at open: a process is
 * named by its pid, its start time (clock ticks since boot, /proc/<pid>/stat)
 * and the boot id, so a leftover from before a reboot or of an earlier
 * process with the same pid is recognised at once.
 */
#include "seaftier-build.h"

#include "tier/tier-private.h"
#include "tier/codec.h"
#include "tier/crc32c.h"
#include "tier/pieces.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#define HEADER_LEN SEAFTIER_FILE_HEADER_LEN
/* Fits the L2 cache: the CRC reads what read() just wrote there. */
#define CRC_CHUNK (128 * 1024)
static const char file_magic[4] = { 'S', 'T', 'F', '1' };
/* A temporary file this old belongs to nobody, whatever its name says. */
#define TMP_MAX_AGE_S (24 * 3600)
/* Characters of the boot id (hex, dashes dropped) kept in a temp file name. */
#define BOOT_TAG_LEN 16

/* The start time of process `pid` in clock ticks since boot (field 22 of
 * /proc/<pid>/stat), 0 when the process does not exist or /proc says
 * nothing. The command name (field 2) may hold spaces and parentheses, so
 * fields are counted after its last ')'. */
static guint64
process_start_time(long pid)
{
    char path[64], *text = NULL;
    g_snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    guint64 start = 0;
    const char *p = strrchr(text, ')');
    /* after ')': state is field 3; starttime is field 22 */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p)
        start = g_ascii_strtoull(p + 1, NULL, 10);
    g_free(text);
    return start;
}

/* The first BOOT_TAG_LEN hex digits of the kernel's boot id ("0" * 16 when
 * unknown), written to `tag` (BOOT_TAG_LEN + 1 bytes). */
static void
boot_tag(char *tag)
{
    static char cached[BOOT_TAG_LEN + 1];
    static gsize once;
    if (g_once_init_enter(&once)) {
        char *text = NULL;
        memset(cached, '0', BOOT_TAG_LEN);
        if (g_file_get_contents("/proc/sys/kernel/random/boot_id", &text, NULL, NULL)) {
            int n = 0;
            for (const char *c = text; *c && n < BOOT_TAG_LEN; c++)
                if (g_ascii_isxdigit(*c))
                    cached[n++] = g_ascii_tolower(*c);
            g_free(text);
        }
        g_once_init_leave(&once, 1);
    }
    memcpy(tag, cached, BOOT_TAG_LEN + 1);
}

/* "<pid>-<start>-<boot>" of this process, computed once (a fork child
 * writing temp files would have another pid: it recomputes). */
static const char *
tmp_owner(void)
{
    static char owner[96];
    static pid_t owner_pid;
    static GMutex lock;
    pid_t pid = getpid();
    g_mutex_lock(&lock);
    if (owner_pid != pid) {
        char boot[BOOT_TAG_LEN + 1];
        boot_tag(boot);
        g_snprintf(owner, sizeof(owner), "%ld-%" G_GUINT64_FORMAT "-%s", (long)pid,
                   process_start_time((long)pid), boot);
        owner_pid = pid;
    }
    g_mutex_unlock(&lock);
    return owner;
}

/* Whether the process that named temp file `name` may still be writing it.
 * Names of this version carry pid, start time and boot id: alive only when
 * all three match a running process. Older names (<pid>-<random>.tmp) only
 * say the pid (as do names whose writer could not read its start time):
 * alive when such a process exists. */
static gboolean
tmp_owner_alive(const char *name)
{
    char **parts = g_strsplit(name, "-", 5);
    guint n = g_strv_length(parts);
    char *end = NULL;
    long pid = strtol(parts[0], &end, 10);
    gboolean alive = FALSE;
    if (pid > 0 && end && *end == '\0') {
        guint64 start = n == 4 ? g_ascii_strtoull(parts[1], NULL, 10) : 0;
        if (start != 0) {
            char boot[BOOT_TAG_LEN + 1];
            boot_tag(boot);
            alive = strcmp(parts[2], boot) == 0 && process_start_time(pid) == start;
        } else if (n == 2 || n == 4) {
            /* (a start time of 0: /proc could not tell the writer's) */
            alive = !(kill((pid_t)pid, 0) != 0 && errno == ESRCH);
        }
    }
    g_strfreev(parts);
    return alive;
}

static guint64
get_le64(const unsigned char *p)
{
    guint64 v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

char *
seaftier_tier_file_path(const SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                        const char *obj_id, gint64 generation)
{
    return g_strdup_printf("%s/%s/%s/%.2s/%s.%016" G_GINT64_MODIFIER "x", tier->objects_dir,
                           seaftier_tier_type_dir(type), repo_id, obj_id, obj_id + 2,
                           generation);
}

gboolean
seaftier_tier_fsync_path(const char *path, gboolean directory, GError **error)
{
    int fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, SEAFTIER_TIER_ERROR,
                    err == ENOSPC ? SEAFTIER_TIER_ERROR_FULL : SEAFTIER_TIER_ERROR_IO,
                    "cannot fsync %s: %s", path, g_strerror(err));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* mkdir -p for the object's directory (durability: seaftier_tier_sync_dir_path). */
static gboolean
make_dirs(const char *dir, GError **error)
{
    if (g_file_test(dir, G_FILE_TEST_IS_DIR))
        return TRUE;
    char *parent = g_path_get_dirname(dir);
    gboolean ok = make_dirs(parent, error);
    if (ok && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        g_set_error(error, SEAFTIER_TIER_ERROR,
                    errno == ENOSPC ? SEAFTIER_TIER_ERROR_FULL : SEAFTIER_TIER_ERROR_IO,
                    "cannot create directory %s: %s", dir, g_strerror(errno));
        ok = FALSE;
    }
    g_free(parent);
    return ok;
}

/* Beyond this many known directories the set starts over (a few more
 * fsyncs, bounded memory). */
#define DURABLE_DIRS_MAX 65536

/* Makes every directory entry on the path objects/…/`dir` durable: each
 * directory not known to be is fsynced in its parent, bottom up. Whoever
 * created a directory (a non-durable store of this or another process, or
 * a crash before the sync) may not have synced it, so "it exists" proves
 * nothing; "this process synced it" does. `dir`'s own entries are synced
 * by the group committer. objects/ itself is synced at open. */
gboolean
seaftier_tier_sync_dir_path(SeaftierTier *tier, const char *dir, GError **error)
{
    gsize root_len = strlen(tier->objects_dir);
    char *d = g_strdup(dir);
    gboolean ok = TRUE;
    while (ok && strlen(d) > root_len) {
        g_mutex_lock(&tier->dirs_lock);
        gboolean known = g_hash_table_contains(tier->durable_dirs, d);
        g_mutex_unlock(&tier->dirs_lock);
        if (known)
            break;
        char *parent = g_path_get_dirname(d);
        ok = seaftier_tier_fsync_path(parent, TRUE, error);
        if (ok) {
            g_mutex_lock(&tier->dirs_lock);
            if (g_hash_table_size(tier->durable_dirs) >= DURABLE_DIRS_MAX)
                g_hash_table_remove_all(tier->durable_dirs);
            g_hash_table_add(tier->durable_dirs, d);
            g_mutex_unlock(&tier->dirs_lock);
        } else {
            g_free(d);
        }
        d = parent;
    }
    g_free(d);
    return ok;
}

static gboolean
write_all(int fd, const struct iovec *iov_in, int n, const char *path, GError **error)
{
    struct iovec *iov = g_memdup2(iov_in, sizeof(struct iovec) * (gsize)n);
    int i = 0;
    gboolean ok = TRUE;
    while (i < n) {
        ssize_t w = writev(fd, iov + i, MIN(n - i, IOV_MAX));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            g_set_error(error, SEAFTIER_TIER_ERROR,
                        errno == ENOSPC || errno == EDQUOT ? SEAFTIER_TIER_ERROR_FULL
                                                           : SEAFTIER_TIER_ERROR_IO,
                        "cannot write %s: %s", path, g_strerror(errno));
            ok = FALSE;
            break;
        }
        while (i < n && (gsize)w >= iov[i].iov_len) {
            w -= (ssize_t)iov[i].iov_len;
            i++;
        }
        if (i < n) {
            iov[i].iov_base = (char *)iov[i].iov_base + w;
            iov[i].iov_len -= (gsize)w;
        }
    }
    g_free(iov);
    return ok;
}

/* Durable files larger than this are written in slices of this size, each
 * handed to the disk (sync_file_range WRITE: start writeback, do not wait)
 * as soon as it is in the page cache: the disk works while the rest is
 * copied, and the final fdatasync has only the last slice and the metadata
 * left to wait for. */
#define WRITEBACK_SLICE ((gsize)1 << 20)

static gboolean
write_durable_sliced(int fd, const struct iovec *iov, int n, const char *path, GError **error)
{
    /* The iovecs of one slice: pieces of the caller's, none crossing it. */
    struct iovec *slice = g_new(struct iovec, (gsize)n);
    int i = 0;
    gsize in_iov = 0;       /* bytes of iov[i] already written */
    off_t flushed = 0;
    gboolean ok = TRUE;
    while (ok && i < n) {
        int k = 0;
        gsize room = WRITEBACK_SLICE;
        while (i < n && room > 0) {
            gsize take = MIN(room, iov[i].iov_len - in_iov);
            slice[k++] = (struct iovec){ (char *)iov[i].iov_base + in_iov, take };
            room -= take;
            in_iov += take;
            if (in_iov == iov[i].iov_len) {
                i++;
                in_iov = 0;
            }
        }
        ok = write_all(fd, slice, k, path, error);
        off_t end = flushed + (off_t)(WRITEBACK_SLICE - room);
        /* Only a hint: on a file system without it the fdatasync does it all. */
        if (ok)
            (void)sync_file_range(fd, flushed, end - flushed, SYNC_FILE_RANGE_WRITE);
        flushed = end;
    }
    g_free(slice);
    return ok;
}

gboolean
seaftier_tier_file_write(SeaftierTier *tier, const char *path, const struct iovec *iov, int iov_n,
                         gboolean durable, GError **error)
{
    gsize total = 0;
    for (int i = 0; i < iov_n; i++)
        total += iov[i].iov_len;
    char *tmp = g_strdup_printf("%s/%s-%08x%08x.tmp", tier->tmp_dir, tmp_owner(),
                                g_random_int(), g_random_int());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, SEAFTIER_TIER_ERROR,
                    errno == ENOSPC ? SEAFTIER_TIER_ERROR_FULL : SEAFTIER_TIER_ERROR_IO,
                    "cannot create %s: %s", tmp, g_strerror(errno));
        g_free(tmp);
        return FALSE;
    }
    gboolean ok = durable && total > 2 * WRITEBACK_SLICE
                      ? write_durable_sliced(fd, iov, iov_n, tmp, error)
                      : write_all(fd, iov, iov_n, tmp, error);
    if (ok && durable && fdatasync(fd) != 0) {
        g_set_error(error, SEAFTIER_TIER_ERROR,
                    errno == ENOSPC ? SEAFTIER_TIER_ERROR_FULL : SEAFTIER_TIER_ERROR_IO,
                    "cannot fsync %s: %s", tmp, g_strerror(errno));
        ok = FALSE;
    }
    if (close(fd) != 0 && ok) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO, "cannot close %s: %s",
                    tmp, g_strerror(errno));
        ok = FALSE;
    }
    if (ok) {
        char *dir = g_path_get_dirname(path);
        ok = make_dirs(dir, error) && (!durable || seaftier_tier_sync_dir_path(tier, dir, error));
        g_free(dir);
    }
    if (ok && rename(tmp, path) != 0) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO,
                    "cannot rename %s to %s: %s", tmp, path, g_strerror(errno));
        ok = FALSE;
    }
    if (!ok)
        unlink(tmp);
    g_free(tmp);
    return ok;
}

static gboolean
read_all(int fd, void *buf, gsize len, goffset off)
{
    char *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return FALSE;
        p += r;
        off += r;
        len -= (gsize)r;
    }
    return TRUE;
}

/* Reads `len` bytes at `off` into `buf` in cache-sized chunks, folding each
 * chunk into a CRC32C while it is still in the CPU cache: one pass over
 * memory instead of two. */
static gboolean
read_all_crc(int fd, void *buf, gsize len, goffset off, guint32 *crc)
{
    char *p = buf;
    guint32 c = 0;
    while (len) {
        gsize n = MIN(len, (gsize)CRC_CHUNK);
        if (!read_all(fd, p, n, off))
            return FALSE;
        c = seaftier_crc32c(c, p, n);
        p += n;
        off += (goffset)n;
        len -= n;
    }
    *crc = c;
    return TRUE;
}

/* A whole piece file into a new buffer (seaftier_tier_file_read's codes). */
static int
read_pieces(int fd, const char *path, guint64 size, guint32 checksum, guint64 stored_size,
            void **data, const char **problem, GError **error)
{
    SeaftierPieceFile pf;
    int r = seaftier_piece_file_open(&pf, fd, path, size, checksum, stored_size, problem, error);
    if (r != 1)
        return r;
    guint8 *out = g_malloc(size ? size : 1);
    void *scratch = NULL;
    for (guint64 p = 0; r == 1 && p < pf.n; p++) {
        if (pf.pieces[p].lz4 && !scratch)
            scratch = g_malloc(SEAFTIER_PIECE_SIZE);
        guint8 *dst = out + (p << SEAFTIER_PIECE_SHIFT);
        /* (the previous piece right before it: lz4's fast prefix case) */
        r = seaftier_piece_file_read(&pf, p, dst, p ? dst - SEAFTIER_PIECE_SIZE : NULL, scratch,
                                     path, problem, error);
    }
    g_free(scratch);
    seaftier_piece_file_clear(&pf);
    if (r == 1)
        *data = out;
    else
        g_free(out);
    return r;
}

int
seaftier_tier_file_read(const char *path, int codec, guint64 size, guint32 checksum,
                        guint64 stored_size, void **data, guint32 *crc, gboolean *crc_done,
                        const char **problem, GError **error)
{
    *crc_done = FALSE;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO, "cannot open %s: %s",
                    path, g_strerror(errno));
        return -2;
    }
    int result = -1;
    struct stat st;
    unsigned char hdr[HEADER_LEN];
    void *stored = NULL;
    void *out = NULL;
    if (fstat(fd, &st) != 0) {
        g_set_error(error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_IO, "cannot stat %s: %s",
                    path, g_strerror(errno));
        result = -2;
        goto out;
    }
    if ((guint64)st.st_size != stored_size + HEADER_LEN) {
        *problem = "file size differs from the index";
        goto out;
    }
    if (codec == SEAFTIER_CODEC_PIECES) {
        result = read_pieces(fd, path, size, checksum, stored_size, &out, problem, error);
        if (result == 1) {
            /* every piece passed its CRC, and the pieces' CRCs combine to
             * the object's */
            *crc = checksum;
            *crc_done = TRUE;
            *data = out;
            out = NULL;
        }
        goto out;
    }
    if (!read_all(fd, hdr, HEADER_LEN, 0) || memcmp(hdr, file_magic, 4) != 0 ||
        hdr[5] != codec || get_le64(hdr + 16) != size) {
        *problem = "file header differs from the index";
        goto out;
    }
    out = g_malloc(size ? size : 1);
    if (codec == SEAFTIER_CODEC_RAW) {
        if (!read_all_crc(fd, out, size, HEADER_LEN, crc)) {
            *problem = "file shorter than its header says";
            goto out;
        }
        *crc_done = TRUE;
    } else {
        stored = g_malloc(stored_size ? stored_size : 1);
        if (!read_all(fd, stored, stored_size, HEADER_LEN)) {
            *problem = "file shorter than its header says";
            goto out;
        }
        if (!seaftier_codec_decode(codec, stored, stored_size, out, size, problem))
            goto out;
    }
    *data = out;
    out = NULL;
    result = 1;
out:
    g_free(stored);
    g_free(out);
    close(fd);
    return result;
}

void
seaftier_tier_file_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        seaftier_warning("cannot remove tier file %s: %s", path, g_strerror(errno));
}

void
seaftier_tier_tmp_cleanup(SeaftierTier *tier)
{
    GDir *d = g_dir_open(tier->tmp_dir, 0, NULL);
    if (!d)
        return;
    gint64 now = seaftier_tier_now();
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        char *path = g_build_filename(tier->tmp_dir, name, NULL);
        struct stat st;
        gboolean owner_gone = !tmp_owner_alive(name);
        if (lstat(path, &st) == 0 &&
            (owner_gone || now - (gint64)st.st_mtime > TMP_MAX_AGE_S)) {
            seaftier_info("removing leftover temporary file %s", path);
            seaftier_tier_file_remove(path);
        }
        g_free(path);
    }
    g_dir_close(d);
}

guint64
seaftier_tier_fs_free(SeaftierTier *tier, gboolean fresh)
{
    gint64 now = g_get_monotonic_time();
    /* statvfs costs a syscall; once a second is enough for a floor check. */
    if (!fresh && now - TIER_LOAD(&tier->fs_free_checked) < G_USEC_PER_SEC)
        return (guint64)TIER_LOAD(&tier->fs_free_cached);
    struct statvfs sv;
    guint64 free_bytes = G_MAXINT64;
    if (statvfs(tier->dir, &sv) == 0)
        free_bytes = (guint64)sv.f_bavail * (guint64)sv.f_frsize;
    TIER_STORE(&tier->fs_free_cached, (gint64)free_bytes);
    TIER_STORE(&tier->fs_free_checked, now);
    return free_bytes;
}

void
seaftier_tier_forget_data(SeaftierTier *tier, SeaftierObjType type, const char *repo_id,
                          const char *obj_id, int location, gint64 generation)
{
    if (location == LOC_FILE) {
        char *path = seaftier_tier_file_path(tier, type, repo_id, obj_id, generation);
        seaftier_tier_file_remove(path);
        g_free(path);
    }
    seaftier_ram_remove(tier->ram, type, repo_id, obj_id);
    seaftier_loc_remove(tier->loc, type, repo_id, obj_id);
}
