/* lib/sync/remote-fs.c — see remote-fs.h. */
#include "seaftier-build.h"

#include "sync/remote-fs.h"
#include "tier/tier.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    SeaftierRemote base;
    char *dir;
    char *name;                 /* "storage dir DIR" */
    gboolean writable;
} RemoteFs;

/* "<dir>/<repo>/<id[0:2]>/<id[2:]>" for a key "<repo>/<id>"; NULL (error
 * set) when the key has another shape. */
static char *
key_path(RemoteFs *rf, const char *key, GError **error)
{
    const char *slash = strchr(key, '/');
    if (!slash || slash == key || strlen(slash + 1) < 3 || strchr(slash + 1, '/') ||
        strstr(key, "..")) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: \"%s\" is not an object key <repo_id>/<obj_id>", rf->name, key);
        return NULL;
    }
    char *repo = g_strndup(key, (gsize)(slash - key));
    char sub[3] = { slash[1], slash[2], 0 };
    char *path = g_build_filename(rf->dir, repo, sub, slash + 3, NULL);
    g_free(repo);
    return path;
}

static gboolean
file_error(GError **error, int err, const char *what, const char *path)
{
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "cannot %s %s: %s", what, path,
                g_strerror(err));
    return FALSE;
}

static gboolean
read_only(RemoteFs *rf, const char *op, GError **error)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM, "%s is a read-only source: no %s",
                rf->name, op);
    return FALSE;
}

static gboolean
write_all(int fd, const guint8 *p, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static gboolean
fsr_put(SeaftierRemote *r, const char *key, const void *data, gsize len,
        const SeaftierRemoteMeta *meta, GError **error)
{
    RemoteFs *rf = (RemoteFs *)r;
    if (!rf->writable)
        return read_only(rf, "writes", error);
    char *path = key_path(rf, key, error);
    if (!path)
        return FALSE;
    char *parent = g_path_get_dirname(path);
    char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    gboolean ok = FALSE;
    int fd = -1;
    if (g_mkdir_with_parents(parent, 0755) != 0) {
        file_error(error, errno, "create directory", parent);
        goto out;
    }
    fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        file_error(error, errno, "create", tmp);
        goto out;
    }
    if (!write_all(fd, data, len) || fsync(fd) != 0) {
        file_error(error, errno ? errno : EIO, "write", tmp);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        file_error(error, errno, "write", tmp);
        goto out;
    }
    fd = -1;
    if (meta && meta->ctime > 0) {
        struct timespec times[2] = { { meta->ctime, 0 }, { meta->ctime, 0 } };
        utimensat(AT_FDCWD, tmp, times, 0);     /* cosmetic: keep the object's age */
    }
    if (rename(tmp, path) != 0) {
        file_error(error, errno, "rename into place", path);
        goto out;
    }
    /* The rename is durable once its directory is synced. */
    int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    ok = TRUE;
out:
    if (fd >= 0)
        close(fd);
    if (!ok)
        g_unlink(tmp);
    g_free(tmp);
    g_free(parent);
    g_free(path);
    return ok;
}

static gboolean
fsr_get(SeaftierRemote *r, const char *key, void **data, gsize *len, SeaftierRemoteMeta *meta,
        GError **error)
{
    char *path = key_path((RemoteFs *)r, key, error);
    if (!path)
        return FALSE;
    gchar *contents = NULL;
    gboolean ok = g_file_get_contents(path, &contents, len, error);
    if (ok) {
        *data = contents;
        if (meta) {
            GStatBuf st;
            memset(meta, 0, sizeof *meta);
            if (g_stat(path, &st) == 0)
                meta->ctime = st.st_mtime;
        }
    }
    g_free(path);
    return ok;
}

static gboolean
fsr_head(SeaftierRemote *r, const char *key, SeaftierRemoteInfo *info, GError **error)
{
    char *path = key_path((RemoteFs *)r, key, error);
    if (!path)
        return FALSE;
    GStatBuf st;
    gboolean ok = g_stat(path, &st) == 0;
    if (!ok)
        file_error(error, errno, "stat", path);
    else if (!S_ISREG(st.st_mode))
        ok = file_error(error, EISDIR, "read", path);
    else if (info) {
        memset(info, 0, sizeof *info);
        info->size = (guint64)st.st_size;
        info->mtime = st.st_mtime;
        info->meta.ctime = st.st_mtime;
    }
    g_free(path);
    return ok;
}

static gboolean
fsr_delete_many(SeaftierRemote *r, const char *const *keys, guint n_keys, GPtrArray *failed,
                GError **error)
{
    RemoteFs *rf = (RemoteFs *)r;
    if (!rf->writable)
        return read_only(rf, "deletes", error);
    gboolean ok = TRUE;
    for (guint i = 0; i < n_keys; i++) {
        char *path = key_path(rf, keys[i], NULL);
        if (!path || (g_unlink(path) != 0 && errno != ENOENT)) {
            g_ptr_array_add(failed, g_strdup(keys[i]));
            ok = FALSE;
        }
        g_free(path);
    }
    return ok;
}

static gboolean
is_hex(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isxdigit(s[i]))
            return FALSE;
    return s[n] == 0;
}

/* Lists one repo directory: <repo>/<xx>/<rest>. Temporary files of an
 * interrupted export (".tmp-") and anything not shaped like an object id
 * are not objects. FALSE when the callback stopped or on error. */
static gboolean
list_repo(RemoteFs *rf, const char *repo, SeaftierRemoteListFunc func, void *user_data,
          gboolean *stopped, GError **error)
{
    char *rdir = g_build_filename(rf->dir, repo, NULL);
    GDir *d = g_dir_open(rdir, 0, error);
    if (!d) {
        g_free(rdir);
        return FALSE;
    }
    const char *sub;
    gboolean ok = TRUE;
    while (ok && !*stopped && (sub = g_dir_read_name(d))) {
        if (strlen(sub) != 2 || !is_hex(sub, 2))
            continue;
        char *sdir = g_build_filename(rdir, sub, NULL);
        GDir *s = g_dir_open(sdir, 0, error);
        if (!s) {
            g_free(sdir);
            ok = FALSE;
            break;
        }
        const char *rest;
        while (!*stopped && (rest = g_dir_read_name(s))) {
            if (strlen(rest) != 38 || !is_hex(rest, 38))
                continue;
            char *path = g_build_filename(sdir, rest, NULL);
            GStatBuf st;
            /* An entry that cannot be stat'ed is still listed (size 0): the
             * read that follows reports it by name. */
            guint64 size = g_lstat(path, &st) == 0 ? (guint64)st.st_size : 0;
            g_free(path);
            char *key = g_strconcat(repo, "/", sub, rest, NULL);
            if (!func(key, size, user_data))
                *stopped = TRUE;
            g_free(key);
        }
        g_dir_close(s);
        g_free(sdir);
    }
    g_dir_close(d);
    g_free(rdir);
    return ok;
}

static gboolean
fsr_list(SeaftierRemote *r, const char *prefix, SeaftierRemoteListFunc func, void *user_data,
         GError **error)
{
    RemoteFs *rf = (RemoteFs *)r;
    gboolean stopped = FALSE;
    /* A prefix is "" or "<repo_id>/" (the only ones the engine's callers use). */
    if (prefix && *prefix) {
        char *repo = g_strndup(prefix, strcspn(prefix, "/"));
        char *rdir = g_build_filename(rf->dir, repo, NULL);
        gboolean ok = !g_file_test(rdir, G_FILE_TEST_IS_DIR) ||
                      list_repo(rf, repo, func, user_data, &stopped, error);
        g_free(rdir);
        g_free(repo);
        return ok;
    }
    GDir *d = g_dir_open(rf->dir, 0, error);
    if (!d)
        return FALSE;
    const char *repo;
    gboolean ok = TRUE;
    while (ok && !stopped && (repo = g_dir_read_name(d))) {
        if (strlen(repo) != 36 || !seaftier_valid_repo_id(repo))
            continue;
        ok = list_repo(rf, repo, func, user_data, &stopped, error);
    }
    g_dir_close(d);
    return ok;
}

static gboolean
fsr_copy(SeaftierRemote *r, const char *src_key, const char *dst_key, GError **error)
{
    RemoteFs *rf = (RemoteFs *)r;
    void *data = NULL;
    gsize len = 0;
    SeaftierRemoteMeta meta;
    if (!rf->writable)
        return read_only(rf, "copies", error);
    if (!fsr_get(r, src_key, &data, &len, &meta, error))
        return FALSE;
    gboolean ok = fsr_put(r, dst_key, data, len, &meta, error);
    g_free(data);
    return ok;
}

/* A file holds what was written: the read-back is all the proof there is. */
static gboolean
fsr_prove_storage(SeaftierRemote *r, const char *key, GError **error)
{
    return TRUE;
}

/* A failed put removed its temporary file and never renamed it. */
static gboolean
fsr_failed_put_stored(const GError *error)
{
    return FALSE;
}

static SeaftierRemoteErrorClass
fsr_classify(const GError *error)
{
    if (error && error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOENT)
        return SEAFTIER_REMOTE_ERR_NOT_FOUND;
    return SEAFTIER_REMOTE_ERR_PERMANENT;
}

static const char *
fsr_advice(SeaftierRemote *r, const GError *error, const char *op)
{
    if (error && error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOSPC)
        return "the file system is full: free space or choose another directory";
    return "check the file's permissions and the storage directory";
}

static const char *
fsr_name(SeaftierRemote *r)
{
    return ((RemoteFs *)r)->name;
}

static void
fsr_free(SeaftierRemote *r)
{
    RemoteFs *rf = (RemoteFs *)r;
    g_free(rf->dir);
    g_free(rf->name);
    g_free(rf);
}

static const SeaftierRemoteOps fs_ops = {
    .kind = "fs",
    .put = fsr_put,
    .get = fsr_get,
    .head = fsr_head,
    .delete_many = fsr_delete_many,
    .list = fsr_list,
    .copy = fsr_copy,
    .classify = fsr_classify,
    .prove_storage = fsr_prove_storage,
    .failed_put_stored = fsr_failed_put_stored,
    .advice = fsr_advice,
    .name = fsr_name,
    .free = fsr_free,
};

SeaftierRemote *
seaftier_remote_fs_new(const char *dir, gboolean writable, GError **error)
{
    if (writable && g_mkdir_with_parents(dir, 0755) != 0) {
        file_error(error, errno, "create directory", dir);
        return NULL;
    }
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "storage directory %s does not exist", dir);
        return NULL;
    }
    RemoteFs *rf = g_new0(RemoteFs, 1);
    rf->base.ops = &fs_ops;
    rf->dir = g_strdup(dir);
    rf->writable = writable;
    rf->name = g_strdup_printf("storage dir %s", dir);
    return &rf->base;
}
