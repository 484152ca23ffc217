/*
 * lib/backend/common.c — the object operations behind both Seafile vtables:
 * read-through with single-flight, write-back / write-through, exists,
 * size, delete and copy. foreach and remove_store are in backend-list.c.
 */
#include "seaftier-build.h"

#include "backend/common.h"
#include "tier/crc32c.h"

#include <seaftier/log.h>

#include <string.h>

static GRWLock *
id_lock(SeaftierBackendShared *sh, const char *repo_id, const char *obj_id)
{
    guint h = g_str_hash(repo_id) * 31u + g_str_hash(obj_id);
    return &sh->id_locks[h % SEAFTIER_BACKEND_ID_STRIPES];
}

/* ---- single-flight fetch ---- */

/* One GET in progress; the threads that missed the same object wait on
 * `cond` instead of issuing their own GET. Guarded by sh->fetch_lock. */
typedef struct {
    int refs;
    gboolean done;
    gboolean found;
    GCond cond;
    void *data;
    gsize len;
} Fetch;

/* Takes a participant's result out of a finished fetch: the last one to
 * leave gets the buffer itself, the others a copy. Called under the lock. */
static gboolean
fetch_release(Fetch *f, void **data, gsize *len)
{
    gboolean found = f->found;
    if (found) {
        *len = f->len;
        if (f->refs == 1) {
            *data = f->data;
            f->data = NULL;
        } else {
            *data = g_memdup2(f->data ? f->data : "", f->len ? f->len : 1);
        }
    }
    if (--f->refs == 0) {
        g_free(f->data);
        g_cond_clear(&f->cond);
        g_free(f);
    }
    return found;
}

static const char *
type_name(SeaftierObjType type)
{
    return seaftier_type_name(type);
}

/* The remote answered that the object (not its bucket) does not exist. */
static gboolean
is_not_found(SeaftierBackendShared *sh, SeaftierObjType type, const GError *err)
{
    return err && seaftier_remote_classify(seaftier_sync_remote(sh->sync, type), err) ==
                      SEAFTIER_REMOTE_ERR_NOT_FOUND;
}

/* The leader's work: re-check the tier (another leader may have filled it
 * since our miss), GET, store clean. The re-check looks at the index first
 * so that the miss the caller already counted is not counted again. */
static gboolean
fetch_from_s3(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
              const char *obj_id, void **data, gsize *len)
{
    GError *err = NULL;
    SeaftierTierEntry entry;
    if (seaftier_tier_lookup(sh->site->tier, type, repo_id, obj_id, &entry, NULL)) {
        if (entry.state == SEAFTIER_STATE_DELETED)
            return FALSE;
        /* (a REMOTE row has no local copy to read: straight to the GET) */
        if (entry.state != SEAFTIER_STATE_REMOTE &&
            seaftier_tier_read(sh->site->tier, type, repo_id, obj_id, data, len, &err))
            return TRUE;
        if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED)) {
            g_error_free(err);
            return FALSE;
        }
        g_clear_error(&err);
    }

    /* Taken before the GET: a delete carried out while it is in flight
     * makes the store below a no-op instead of a resurrection. */
    SeaftierTierFillTicket ticket;
    gboolean have_ticket = seaftier_tier_fill_ticket(sh->site->tier, &ticket, NULL);
    char *key = seaftier_remote_key(repo_id, obj_id);
    gboolean ok = seaftier_sync_fetch(sh->sync, type, repo_id, obj_id, data, len, &err);
    if (!ok) {
        if (is_not_found(sh, type, err))
            seaftier_debug("read %s %s: not in the tier nor in S3", type_name(type), key);
        else
            seaftier_error("read %s %s: fetch from S3 failed: %s", type_name(type), key, err->message);
        g_error_free(err);
        g_free(key);
        return FALSE;
    }
    /* A clean copy is a cache entry: not durable (S3 has it), and a full
     * tier only means we serve it without keeping it (so does a failed
     * ticket). */
    if (have_ticket && !seaftier_tier_store_fill(sh->site->tier, type, repo_id, obj_id, *data,
                                                 *len, &ticket, &err)) {
        if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL))
            seaftier_debug("read %s %s: tier full, served without caching", type_name(type), key);
        else
            seaftier_warning("read %s %s: could not cache the object: %s", type_name(type), key,
                             err->message);
        g_error_free(err);
    }
    g_free(key);
    return TRUE;
}

static gboolean
fetch_single_flight(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                    const char *obj_id, void **data, gsize *len)
{
    char *fkey = g_strdup_printf("%d/%s/%s", (int)type, repo_id, obj_id);
    g_mutex_lock(&sh->fetch_lock);
    Fetch *f = g_hash_table_lookup(sh->inflight, fkey);
    if (f) {
        f->refs++;
        while (!f->done)
            g_cond_wait(&f->cond, &sh->fetch_lock);
        gboolean found = fetch_release(f, data, len);
        g_mutex_unlock(&sh->fetch_lock);
        g_free(fkey);
        return found;
    }
    f = g_new0(Fetch, 1);
    f->refs = 1;
    g_cond_init(&f->cond);
    g_hash_table_insert(sh->inflight, g_strdup(fkey), f);
    g_mutex_unlock(&sh->fetch_lock);

    void *got = NULL;
    gsize got_len = 0;
    gboolean found = fetch_from_s3(sh, type, repo_id, obj_id, &got, &got_len);

    g_mutex_lock(&sh->fetch_lock);
    f->found = found;
    f->data = got;
    f->len = got_len;
    f->done = TRUE;
    g_hash_table_remove(sh->inflight, fkey);
    g_cond_broadcast(&f->cond);
    found = fetch_release(f, data, len);
    g_mutex_unlock(&sh->fetch_lock);
    g_free(fkey);
    return found;
}

/* ---- read ---- */

gboolean
seaftier_be_read(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                 const char *obj_id, void **data, gsize *len)
{
    if (!seaftier_be_check_ids("read", repo_id, obj_id))
        return FALSE;
    GError *err = NULL;
    if (seaftier_tier_read(sh->site->tier, type, repo_id, obj_id, data, len, &err))
        return TRUE;
    return seaftier_be_read_after_miss(sh, type, repo_id, obj_id, err, data, len);
}

gboolean
seaftier_be_read_after_miss(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                            const char *obj_id, GError *err, void **data, gsize *len)
{
    if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_DELETED)) {
        /* A pending delete: fetching would resurrect a collected object. */
        seaftier_debug("read %s %s/%s: deleted", type_name(type), repo_id, obj_id);
        g_error_free(err);
        return FALSE;
    }
    if (!g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_NOT_FOUND))
        seaftier_warning("read %s %s/%s: local copy unusable (%s); fetching from S3",
                         type_name(type), repo_id, obj_id, err->message);
    g_error_free(err);

    if (fetch_single_flight(sh, type, repo_id, obj_id, data, len))
        return TRUE;
    /* A write may have landed between our miss and S3's 404. */
    return seaftier_tier_read(sh->site->tier, type, repo_id, obj_id, data, len, NULL);
}

/* ---- write ---- */

/* Whether the tier's row stands for exactly these bytes. fs objects and
 * blocks are named by the hash of their bytes, so any live row of theirs
 * does (a REMOTE row included). Seafile's commit ids hash root, creator,
 * description and second, not the bytes: two commits of one second share an
 * id, Seafile's fs backend keeps the last write, and so must we. */
static gboolean
row_holds(SeaftierObjType type, const SeaftierTierEntry *entry, const void *data, gsize len)
{
    if (entry->state == SEAFTIER_STATE_REMOTE)
        return type != SEAFTIER_TYPE_COMMITS;
    return (entry->state == SEAFTIER_STATE_CLEAN || entry->state == SEAFTIER_STATE_DIRTY) &&
           entry->size == len && entry->checksum == seaftier_crc32c(0, data, len);
}

/* After S3 confirmed a PUT of an object (write-through, or write-back with a
 * full tier): cache it, and make sure neither a pending remote delete recorded
 * earlier nor another version of the object held by the tier can outlive the
 * new copy. */
static gboolean
cache_after_put(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                const char *obj_id, const void *data, gsize len, const char *key,
                const SeaftierTierFillTicket *ticket)
{
    SeaftierTierEntry entry;
    GError *err = NULL;
    gboolean have_row = seaftier_tier_lookup(sh->site->tier, type, repo_id, obj_id, &entry, NULL);
    if (!have_row || row_holds(type, &entry, data, len)) {
        /* The index must know that S3 holds it even when no copy can be
         * cached (a full tier): a complete index would otherwise answer
         * exists() with "absent". Durable: so must a power cut. */
        if (!have_row && ticket && seaftier_site_index_trusted(sh->site) &&
            !seaftier_tier_remember_remote(sh->site->tier, type, repo_id, obj_id, len, ticket,
                                           &err)) {
            seaftier_warning("write %s %s: in S3, but not recorded in the tier's index (%s); "
                             "exists() may answer \"absent\" for it until seaftier-admin "
                             "index-remote", type_name(type), key, err->message);
            g_clear_error(&err);
        }
        /* A delete that comes after this point is newer than our write, and
         * a clean store over it does nothing: the delete wins, as it should. */
        if (!have_row && ticket &&
            !seaftier_tier_store_fill(sh->site->tier, type, repo_id, obj_id, data, len, ticket,
                                      &err)) {
            seaftier_debug("write %s %s: in S3, not cached locally: %s", type_name(type), key,
                           err->message);
            g_clear_error(&err);
        }
        return TRUE;
    }
    /* A DELETED row: seaftierd would delete the copy we just uploaded. (A
     * row of another version: it would serve, and may upload, the old bytes.)
     * Storing it DIRTY replaces the row (new generation), so even a remote
     * delete already in flight is followed by a re-upload — which is why
     * the row stays dirty although our PUT succeeded: marking it clean here
     * could let that in-flight DELETE leave a clean row with nothing in S3.
     * Durable because losing this row on a crash would bring the pending
     * delete back. */
    if (!seaftier_tier_store(sh->site->tier, type, repo_id, obj_id, data, len, SEAFTIER_STATE_DIRTY,
                             TRUE, &err)) {
        seaftier_error("write %s %s: uploaded, but a pending delete of the same object could "
                       "not be cancelled (%s); failing the write so Seafile retries it",
                       type_name(type), key, err->message);
        g_error_free(err);
        return FALSE;
    }
    seaftier_tier_nudge(sh->site->tier);
    return TRUE;
}

static gboolean
put_direct(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
           const char *obj_id, const void *data, gsize len, const char *why)
{
    char *key = seaftier_remote_key(repo_id, obj_id);
    GError *err = NULL;
    /* Before the PUT: a delete carried out after it is not undone by the
     * clean copy cached below. */
    SeaftierTierFillTicket ticket;
    gboolean have_ticket = seaftier_tier_fill_ticket(sh->site->tier, &ticket, NULL);
    gboolean ok = seaftier_sync_put_now(sh->sync, type, repo_id, obj_id, data, len, &err);
    if (!ok) {
        seaftier_error("write %s %s (%" G_GSIZE_FORMAT " bytes): %s, and the S3 PUT failed: %s",
                       type_name(type), key, len, why, err->message);
        g_error_free(err);
        g_free(key);
        return FALSE;
    }
    ok = cache_after_put(sh, type, repo_id, obj_id, data, len, key,
                         have_ticket ? &ticket : NULL);
    g_free(key);
    return ok;
}

static gboolean
store_dirty(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
            const char *obj_id, const void *data, gsize len, gboolean need_sync, GError **error)
{
    if (!seaftier_tier_store(sh->site->tier, type, repo_id, obj_id, data, len, SEAFTIER_STATE_DIRTY,
                             need_sync, error))
        return FALSE;
    seaftier_tier_nudge(sh->site->tier);
    return TRUE;
}

/* Dirty data fills the tier: wake seaftierd (it uploads, making objects
 * clean and evictable), evict what is clean, and retry with growing pauses
 * for up to sh->full_wait_ms. FALSE with the last error when still full.
 * Once a wait has ended in a direct upload, the writes of the next
 * SEAFTIER_BACKEND_BYPASS_S seconds skip the wait (the uploader is not
 * keeping up, or not running): they would all end the same way, each after
 * a full wait. The first full write after that window waits again. */
static gboolean
store_with_backpressure(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                        const char *obj_id, const void *data, gsize len, gboolean need_sync,
                        GError **error)
{
    gint64 now = g_get_monotonic_time();
    gint64 wait_us = (gint64)g_atomic_int_get(&sh->full_wait_ms) * 1000;
    if (now - (gint64)g_atomic_int_get(&sh->bypass_since_s) * G_USEC_PER_SEC <
        (gint64)SEAFTIER_BACKEND_BYPASS_S * G_USEC_PER_SEC)
        wait_us = 0;
    gint64 deadline = now + wait_us;
    gulong pause_us = 10000;
    for (;;) {
        seaftier_tier_nudge(sh->site->tier);
        seaftier_tier_evict(sh->site->tier, NULL, NULL, NULL);
        g_clear_error(error);
        if (store_dirty(sh, type, repo_id, obj_id, data, len, need_sync, error))
            return TRUE;
        if (!g_error_matches(*error, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL))
            return FALSE;
        now = g_get_monotonic_time();
        if (now >= deadline) {
            if (wait_us > 0)
                g_atomic_int_set(&sh->bypass_since_s, (gint)(now / G_USEC_PER_SEC));
            return FALSE;
        }
        g_usleep(MIN(pause_us, (gulong)(deadline - now)));
        pause_us = MIN(pause_us * 2, 500000);
    }
}

/* One warning per SEAFTIER_BACKEND_BYPASS_S seconds, with the number of
 * direct uploads since the last one: a full tier must show in the log
 * without flooding it. */
static void
report_direct(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
              const char *obj_id, const char *why)
{
    gint now_s = (gint)(g_get_monotonic_time() / G_USEC_PER_SEC);
    int n = g_atomic_int_add(&sh->direct_unreported, 1) + 1;
    gint last = g_atomic_int_get(&sh->direct_logged_s);
    if (now_s - last < SEAFTIER_BACKEND_BYPASS_S && last != 0)
        return;
    if (!g_atomic_int_compare_and_exchange(&sh->direct_logged_s, last, now_s))
        return;
    g_atomic_int_add(&sh->direct_unreported, -n);
    seaftier_warning("write %s %s/%s: %s; uploading it directly to S3 (write-through) "
                     "[%d such write(s) in the last %d s; is seaftierd running?]",
                     type_name(type), repo_id, obj_id, why, n, SEAFTIER_BACKEND_BYPASS_S);
}

static gboolean write_locked(SeaftierBackendShared *sh, SeaftierObjType type,
                             const char *repo_id, const char *obj_id, const void *data,
                             gsize len, gboolean need_sync);

gboolean
seaftier_be_write(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                  const char *obj_id, const void *data, gsize len, gboolean need_sync)
{
    if (!seaftier_be_check_ids("write", repo_id, obj_id))
        return FALSE;
    if (!data && len > 0)
        return FALSE;
    GRWLock *lock = id_lock(sh, repo_id, obj_id);
    g_rw_lock_reader_lock(lock);
    gboolean ok = write_locked(sh, type, repo_id, obj_id, data ? data : "", len, need_sync);
    g_rw_lock_reader_unlock(lock);
    return ok;
}

static gboolean
write_locked(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
             const char *obj_id, const void *data, gsize len, gboolean need_sync)
{

    if (sh->site->cfg->tier.write_through) {
        /* Other nodes only see S3: upload before acknowledging. */
        SeaftierTierEntry entry;
        if (seaftier_tier_lookup(sh->site->tier, type, repo_id, obj_id, &entry, NULL) &&
            row_holds(type, &entry, data, len))
            return TRUE;
        return put_direct(sh, type, repo_id, obj_id, data, len, "write-through");
    }

    GError *err = NULL;
    if (store_dirty(sh, type, repo_id, obj_id, data, len, need_sync, &err))
        return TRUE;
    if (g_error_matches(err, SEAFTIER_TIER_ERROR, SEAFTIER_TIER_ERROR_FULL)) {
        g_clear_error(&err);
        if (store_with_backpressure(sh, type, repo_id, obj_id, data, len, need_sync, &err))
            return TRUE;
    }
    /* Never drop an acknowledged write: if the tier cannot take it (still
     * full after the wait, or failing), S3 can. */
    char *why = g_strdup_printf("the tier could not store it (%s)",
                                err ? err->message : "unknown error");
    report_direct(sh, type, repo_id, obj_id, why);
    g_clear_error(&err);
    gboolean ok = put_direct(sh, type, repo_id, obj_id, data, len, why);
    g_free(why);
    return ok;
}

/* ---- exists / size ---- */

/* HEAD with one extra round for transient errors (the client has already
 * retried with backoff; a short pause rides out a restart of the gateway). */
static gboolean
head_with_retry(SeaftierBackendShared *sh, SeaftierObjType type, const char *key,
                SeaftierRemoteInfo *info, GError **error)
{
    SeaftierRemote *remote = seaftier_sync_remote(sh->sync, type);
    if (seaftier_remote_head(remote, key, info, error))
        return TRUE;
    if (seaftier_remote_classify(remote, *error) != SEAFTIER_REMOTE_ERR_TRANSIENT)
        return FALSE;
    g_clear_error(error);
    g_usleep(250000);
    return seaftier_remote_head(remote, key, info, error);
}

/*
 * When S3 cannot answer, exists() says FALSE. Seafile asks exists() to
 * decide whether it may skip storing data: seaf-server skips writing a
 * block that "exists", and tells sync clients to upload only the blocks and
 * fs objects that do not. A wrong TRUE would let an upload finish without
 * its data — silent loss. A wrong FALSE only makes the data be sent and
 * written again, which is idempotent for content-addressed objects. (seaf-fsck
 * also uses exists(); the loud error line below tells the operator that a
 * "missing" report during the outage is not to be trusted.)
 */
/* What the tier and, when needed, S3 know about an object: TRUE with its
 * size when it exists. The index answers alone for any row (DIRTY, CLEAN
 * and REMOTE exist, DELETED does not) and, when the index is complete and
 * trusted (site-index.c), for an id without a row: not in S3, no request.
 * Otherwise one HEAD; an object found is remembered as a REMOTE row, so the
 * next question about it is answered locally. */
static gboolean
locate(SeaftierBackendShared *sh, const char *op, SeaftierObjType type, const char *repo_id,
       const char *obj_id, guint64 *size)
{
    SeaftierTierEntry entry;
    GError *err = NULL;
    if (seaftier_tier_lookup(sh->site->tier, type, repo_id, obj_id, &entry, &err)) {
        *size = entry.size;
        return entry.state != SEAFTIER_STATE_DELETED;
    }
    if (err) {
        seaftier_warning("%s %s %s/%s: index lookup failed (%s); asking S3", op, type_name(type),
                         repo_id, obj_id, err->message);
        g_clear_error(&err);
    } else if (seaftier_site_index_complete(sh->site, type)) {
        return FALSE;
    }
    /* Before the HEAD: a delete carried out while it is in flight must not
     * leave a REMOTE row behind (tombstone.c). */
    SeaftierTierFillTicket ticket;
    gboolean have_ticket = seaftier_tier_fill_ticket(sh->site->tier, &ticket, NULL);
    char *key = seaftier_remote_key(repo_id, obj_id);
    SeaftierRemoteInfo info = { 0 };
    gboolean found = head_with_retry(sh, type, key, &info, &err);
    if (found) {
        *size = info.size;
        if (have_ticket &&
            !seaftier_tier_remember_remote(sh->site->tier, type, repo_id, obj_id, info.size,
                                           &ticket, &err)) {
            seaftier_debug("%s %s %s: in S3, not remembered in the index: %s", op,
                           type_name(type), key, err->message);
            g_clear_error(&err);
        }
    } else if (!is_not_found(sh, type, err)) {
        seaftier_error("%s %s %s: S3 HEAD failed (%s); answering \"absent\" so that Seafile "
                       "sends the data again rather than skipping it", op, type_name(type), key,
                       err ? err->message : "unknown error");
    }
    g_clear_error(&err);
    g_free(key);
    return found;
}

gboolean
seaftier_be_exists(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                   const char *obj_id)
{
    if (!seaftier_be_check_ids("exists", repo_id, obj_id))
        return FALSE;
    guint64 size = 0;
    return locate(sh, "exists", type, repo_id, obj_id, &size);
}

gboolean
seaftier_be_size(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                 const char *obj_id, guint64 *size)
{
    if (!seaftier_be_check_ids("stat", repo_id, obj_id))
        return FALSE;
    return locate(sh, "stat", type, repo_id, obj_id, size);
}

/* ---- delete ---- */

gboolean
seaftier_be_delete(SeaftierBackendShared *sh, SeaftierObjType type, const char *repo_id,
                   const char *obj_id)
{
    if (!seaftier_be_check_ids("delete", repo_id, obj_id))
        return FALSE;
    GRWLock *lock = id_lock(sh, repo_id, obj_id);
    g_rw_lock_writer_lock(lock);
    GError *err = NULL;
    /* The tier always leaves a pending remote delete (tier.h). The id lock
     * still orders this delete against a write of the same id in flight
     * (write-through PUT, then caching it), so neither undoes the other. */
    gboolean ok = seaftier_tier_delete(sh->site->tier, type, repo_id, obj_id, &err);
    g_rw_lock_writer_unlock(lock);
    if (!ok) {
        seaftier_error("delete %s %s/%s: %s", type_name(type), repo_id, obj_id, err->message);
        g_error_free(err);
        return FALSE;
    }
    seaftier_tier_nudge(sh->site->tier);
    return TRUE;
}

/* ---- copy ---- */

/* Copies through our own read and write paths: the result is a DIRTY
 * (durable) object under the new repo, uploaded by seaftierd. */
static gboolean
copy_via_data(SeaftierBackendShared *sh, SeaftierObjType type, const char *src_repo_id,
              const char *dst_repo_id, const char *obj_id)
{
    void *data = NULL;
    gsize len = 0;
    if (!seaftier_be_read(sh, type, src_repo_id, obj_id, &data, &len)) {
        seaftier_warning("copy %s %s/%s -> %s: source cannot be read", type_name(type),
                         src_repo_id, obj_id, dst_repo_id);
        return FALSE;
    }
    gboolean ok = seaftier_be_write(sh, type, dst_repo_id, obj_id, data, len, TRUE);
    g_free(data);
    return ok;
}

gboolean
seaftier_be_copy(SeaftierBackendShared *sh, SeaftierObjType type, const char *src_repo_id,
                 const char *dst_repo_id, const char *obj_id)
{
    if (!seaftier_be_check_ids("copy", src_repo_id, obj_id) ||
        !seaftier_be_check_ids("copy", dst_repo_id, obj_id))
        return FALSE;

    SeaftierTierEntry dst, src;
    gboolean have_dst = seaftier_tier_lookup(sh->site->tier, type, dst_repo_id, obj_id, &dst, NULL);
    if (have_dst && dst.state != SEAFTIER_STATE_DELETED)
        return TRUE;    /* content-addressed: already there */
    if (strcmp(src_repo_id, dst_repo_id) == 0)
        return seaftier_be_exists(sh, type, src_repo_id, obj_id);

    gboolean have_src = seaftier_tier_lookup(sh->site->tier, type, src_repo_id, obj_id, &src, NULL);
    if (have_src && src.state == SEAFTIER_STATE_DELETED) {
        /* The destination may still be in S3 (evicted): then it is there. */
        if (!have_dst && seaftier_be_exists(sh, type, dst_repo_id, obj_id))
            return TRUE;
        seaftier_warning("copy %s %s/%s -> %s: the source is deleted", type_name(type),
                         src_repo_id, obj_id, dst_repo_id);
        return FALSE;
    }
    /* A source with a local copy (DIRTY: only this tier has it; CLEAN:
     * cached) is copied from it: one PUT in write-through, a local dirty
     * store in write-back — a server-side copy would cost a request that
     * RGW answers 501 for SSE-C objects, then a GET and a PUT. A pending
     * delete of the destination must be overridden by a dirty row (see
     * cache_after_put). All these go through the data; only a source known
     * to S3 alone (REMOTE, or not in the index) is copied by S3. */
    if ((have_src && (src.state == SEAFTIER_STATE_DIRTY || src.state == SEAFTIER_STATE_CLEAN)) ||
        have_dst)
        return copy_via_data(sh, type, src_repo_id, dst_repo_id, obj_id);

    char *src_key = seaftier_remote_key(src_repo_id, obj_id);
    char *dst_key = seaftier_remote_key(dst_repo_id, obj_id);
    GError *err = NULL;
    /* Before the copy: the clean destination cached below must not undo a
     * delete of it carried out meanwhile. */
    SeaftierTierFillTicket ticket;
    gboolean have_ticket = seaftier_tier_fill_ticket(sh->site->tier, &ticket, NULL);
    gboolean ok = seaftier_remote_copy(seaftier_sync_remote(sh->sync, type), src_key, dst_key,
                                       &err);
    if (!ok) {
        if (is_not_found(sh, type, err)) {
            /* No source in S3: the destination may be there already (only
             * evicted here), or the source may have been written locally
             * meanwhile. */
            g_clear_error(&err);
            ok = seaftier_be_exists(sh, type, dst_repo_id, obj_id) ||
                 copy_via_data(sh, type, src_repo_id, dst_repo_id, obj_id);
        } else {
            seaftier_error("copy %s %s -> %s: %s", type_name(type), src_key, dst_key,
                           err->message);
            g_clear_error(&err);
        }
    } else if (have_src && have_ticket) {
        /* The index must know the new key (a complete index answers
         * exists() from its rows alone); durable, as for a direct PUT. */
        if (!seaftier_tier_remember_remote(sh->site->tier, type, dst_repo_id, obj_id, src.size,
                                           &ticket, &err)) {
            seaftier_warning("copy %s %s -> %s: copied, but not recorded in the tier's index "
                             "(%s)", type_name(type), src_key, dst_key, err->message);
            g_clear_error(&err);
        }
    }
    g_free(src_key);
    g_free(dst_key);
    return ok;
}
