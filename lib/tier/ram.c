/* lib/tier/ram.c — see ram.h. */
#include "seaftier-build.h"

#include "tier/ram.h"

#include <string.h>

#define N_SHARDS 16
/* Bookkeeping per entry, counted against the capacity so that many tiny
 * objects cannot blow the bound. */
#define ENTRY_OVERHEAD 160

typedef struct {
    guint8 type;
    char repo_id[37];
    char obj_id[41];
} RamKey;

typedef struct {
    RamKey key;
    guint64 hash;
    gboolean referenced;    /* hit since it last reached the queue's head */
    GList link;             /* in the shard's LRU queue; data = the entry */
    gint64 rowid;
    guint64 epoch;
    gint64 atime_mark;
    gsize len;
    unsigned char data[];
} RamEntry;

typedef struct {
    GMutex lock;
    GHashTable *table;      /* RamKey* (inside the entry) -> RamEntry* */
    GQueue lru;             /* head = most recently inserted or given a second chance */
    guint64 bytes;
} RamShard;

struct TierRam {
    guint64 shard_capacity;
    guint64 max_object;
    RamShard shards[N_SHARDS];
};

static inline guint64
mix64(guint64 h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* The object id is a SHA-1 in hex, so 16 of its characters (64 bits) mixed
 * with the type and a part of the repo id spread the keys well; the same
 * object in many repos differs in the repo part. Two mixes, not ten: a RAM
 * hit computes it. */
static guint64
key_hash(const RamKey *k)
{
    guint64 a, b, r;
    memcpy(&a, k->obj_id, 8);
    memcpy(&b, k->obj_id + 8, 8);
    memcpy(&r, k->repo_id + 28, 8);
    return mix64(mix64(a ^ ((guint64)k->type << 56) ^ r) ^ b);
}

static guint
key_hash_g(gconstpointer p)
{
    return (guint)((const RamEntry *)((const char *)p - offsetof(RamEntry, key)))->hash;
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(RamKey)) == 0;
}

/* (every byte of the key is written: keys are compared with memcmp) */
static gboolean
make_key(RamKey *k, int type, const char *repo_id, const char *obj_id)
{
    if (strnlen(repo_id, 37) != 36 || strnlen(obj_id, 41) != 40)
        return FALSE;
    k->type = (guint8)type;
    memcpy(k->repo_id, repo_id, 37);
    memcpy(k->obj_id, obj_id, 41);
    return TRUE;
}

TierRam *
seaftier_ram_new(guint64 capacity, guint64 max_object)
{
    if (capacity == 0)
        return NULL;
    TierRam *ram = g_new0(TierRam, 1);
    ram->shard_capacity = capacity / N_SHARDS;
    /* One object may take at most a quarter of its shard, or a single big
     * object would flush everything else. */
    ram->max_object = MIN(max_object, ram->shard_capacity / 4);
    for (int i = 0; i < N_SHARDS; i++) {
        g_mutex_init(&ram->shards[i].lock);
        ram->shards[i].table = g_hash_table_new(key_hash_g, key_equal);
        g_queue_init(&ram->shards[i].lru);
    }
    return ram;
}

static void
shard_drop(RamShard *s, RamEntry *e)
{
    g_hash_table_remove(s->table, &e->key);
    g_queue_unlink(&s->lru, &e->link);
    s->bytes -= e->len + ENTRY_OVERHEAD;
    g_free(e);
}

void
seaftier_ram_free(TierRam *ram)
{
    if (!ram)
        return;
    for (int i = 0; i < N_SHARDS; i++) {
        RamShard *s = &ram->shards[i];
        while (s->lru.head)
            shard_drop(s, s->lru.head->data);
        g_hash_table_destroy(s->table);
        g_mutex_clear(&s->lock);
    }
    g_free(ram);
}

/* The table hashes through the entry that holds the key, so lookups use a
 * probe entry on the stack. */
typedef struct {
    RamEntry e;
} RamProbe;

static RamShard *
probe_init(TierRam *ram, RamProbe *p, int type, const char *repo_id, const char *obj_id)
{
    if (!ram || !make_key(&p->e.key, type, repo_id, obj_id))
        return NULL;
    p->e.hash = key_hash(&p->e.key);
    return &ram->shards[p->e.hash % N_SHARDS];
}

gboolean
seaftier_ram_get(TierRam *ram, int type, const char *repo_id, const char *obj_id, void **data,
                 gsize *len, gint64 *rowid, guint64 *epoch, gint64 *atime_mark)
{
    RamProbe p;
    RamShard *s = probe_init(ram, &p, type, repo_id, obj_id);
    if (!s)
        return FALSE;
    g_mutex_lock(&s->lock);
    RamEntry *e = g_hash_table_lookup(s->table, &p.e.key);
    if (!e) {
        g_mutex_unlock(&s->lock);
        return FALSE;
    }
    /* Second chance (CLOCK) instead of a move to the head: a hit writes
     * one flag instead of relinking the queue; eviction moves referenced
     * entries to the head when it reaches them. */
    e->referenced = TRUE;
    *data = g_malloc(e->len ? e->len : 1);
    memcpy(*data, e->data, e->len);
    *len = e->len;
    *rowid = e->rowid;
    *epoch = e->epoch;
    *atime_mark = e->atime_mark;
    g_mutex_unlock(&s->lock);
    return TRUE;
}

void
seaftier_ram_touch(TierRam *ram, int type, const char *repo_id, const char *obj_id,
                   guint64 epoch, gint64 atime_mark)
{
    RamProbe p;
    RamShard *s = probe_init(ram, &p, type, repo_id, obj_id);
    if (!s)
        return;
    g_mutex_lock(&s->lock);
    RamEntry *e = g_hash_table_lookup(s->table, &p.e.key);
    if (e) {
        if (epoch > e->epoch)
            e->epoch = epoch;
        if (atime_mark > e->atime_mark)
            e->atime_mark = atime_mark;
    }
    g_mutex_unlock(&s->lock);
}

void
seaftier_ram_put(TierRam *ram, int type, const char *repo_id, const char *obj_id,
                 const void *data, gsize len, gint64 rowid, guint64 epoch, gint64 atime_mark)
{
    RamProbe p;
    RamShard *s = probe_init(ram, &p, type, repo_id, obj_id);
    if (!s || len > ram->max_object)
        return;
    RamEntry *n = g_malloc(sizeof(RamEntry) + len);
    n->key = p.e.key;
    n->hash = p.e.hash;
    n->referenced = FALSE;
    n->link.data = n;
    n->link.prev = n->link.next = NULL;
    n->rowid = rowid;
    n->epoch = epoch;
    n->atime_mark = atime_mark;
    n->len = len;
    if (len)
        memcpy(n->data, data, len);

    g_mutex_lock(&s->lock);
    RamEntry *old = g_hash_table_lookup(s->table, &n->key);
    if (old)
        shard_drop(s, old);
    /* Room first, least recently used first out, approximately: the tail
     * goes unless it was hit since it was last at the head, then it gets
     * one more turn (a turn clears the flag, so this ends). */
    while (s->bytes + len + ENTRY_OVERHEAD > ram->shard_capacity && s->lru.tail) {
        RamEntry *victim = s->lru.tail->data;
        if (victim->referenced) {
            victim->referenced = FALSE;
            g_queue_unlink(&s->lru, &victim->link);
            g_queue_push_head_link(&s->lru, &victim->link);
            continue;
        }
        shard_drop(s, victim);
    }
    g_hash_table_add(s->table, &n->key);
    g_queue_push_head_link(&s->lru, &n->link);
    s->bytes += len + ENTRY_OVERHEAD;
    g_mutex_unlock(&s->lock);
}

void
seaftier_ram_remove(TierRam *ram, int type, const char *repo_id, const char *obj_id)
{
    RamProbe p;
    RamShard *s = probe_init(ram, &p, type, repo_id, obj_id);
    if (!s)
        return;
    g_mutex_lock(&s->lock);
    RamEntry *e = g_hash_table_lookup(s->table, &p.e.key);
    if (e)
        shard_drop(s, e);
    g_mutex_unlock(&s->lock);
}

void
seaftier_ram_remove_repo(TierRam *ram, const char *repo_id)
{
    if (!ram)
        return;
    for (int i = 0; i < N_SHARDS; i++) {
        RamShard *s = &ram->shards[i];
        g_mutex_lock(&s->lock);
        for (GList *l = s->lru.head; l;) {
            RamEntry *e = l->data;
            l = l->next;
            if (!repo_id || strcmp(e->key.repo_id, repo_id) == 0)
                shard_drop(s, e);
        }
        g_mutex_unlock(&s->lock);
    }
}

void
seaftier_ram_usage(TierRam *ram, guint64 *bytes, guint64 *entries)
{
    *bytes = 0;
    *entries = 0;
    if (!ram)
        return;
    for (int i = 0; i < N_SHARDS; i++) {
        RamShard *s = &ram->shards[i];
        g_mutex_lock(&s->lock);
        *bytes += s->bytes;
        *entries += s->lru.length;
        g_mutex_unlock(&s->lock);
    }
}
