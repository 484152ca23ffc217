/* lib/tier/loc.c — see loc.h. */
#include "seaftier-build.h"

#include "tier/loc.h"
#include "tier/tier-private.h"

#include <string.h>

#define N_STRIPES 16
#define WAYS 8

/* 72 bytes: ids in the index's binary form, sizes and the access time in
 * 32 bits (unix seconds last until 2106). */
typedef struct {
    guint8 obj[20];
    guint8 repo[16];
    guint8 type;
    guint8 codec;
    guint8 location;
    guint8 used;
    guint32 checksum;
    guint32 size;
    guint32 stored_size;
    guint32 atime_mark;
    gint64 rowid;
    gint64 generation;
} LocEntry;

G_STATIC_ASSERT(sizeof(LocEntry) == 72);

typedef struct {
    GMutex lock;
    guint64 epoch;          /* the delete epoch its entries were filled under */
    guint64 entries;
} LocStripe;

struct TierLoc {
    guint64 n_sets;
    LocEntry *sets;         /* n_sets * WAYS; set s belongs to stripe s % N_STRIPES */
    LocStripe stripes[N_STRIPES];
};

/* An object may live in either of two sets of the same stripe (the one
 * with more room takes it): with one choice, a cache filled to 60% of its
 * slots would drop ~2% of what it is given to full sets; with two, almost
 * nothing. */
typedef struct {
    LocEntry key;           /* obj, repo, type filled */
    guint64 set[2];
} LocProbe;

TierLoc *
seaftier_loc_new(guint64 capacity)
{
    if (capacity == 0)
        return NULL;
    TierLoc *loc = g_new0(TierLoc, 1);
    loc->n_sets = MAX(capacity / (WAYS * sizeof(LocEntry)), 1);
    if (loc->n_sets >= N_STRIPES)
        loc->n_sets -= loc->n_sets % N_STRIPES;     /* every stripe has as many sets */
    /* Zeroed pages are only made resident as sets are used. */
    loc->sets = g_new0(LocEntry, loc->n_sets * WAYS);
    for (int i = 0; i < N_STRIPES; i++)
        g_mutex_init(&loc->stripes[i].lock);
    return loc;
}

void
seaftier_loc_free(TierLoc *loc)
{
    if (!loc)
        return;
    for (int i = 0; i < N_STRIPES; i++)
        g_mutex_clear(&loc->stripes[i].lock);
    g_free(loc->sets);
    g_free(loc);
}

/* The probe for an object; FALSE when its ids are not kept (not canonical). */
static gboolean
probe_init(const TierLoc *loc, LocProbe *p, int type, const char *repo_id, const char *obj_id)
{
    unsigned char buf[TIER_ID_MAX_BYTES];
    if (!loc || type < 0 || type > 255)
        return FALSE;
    memset(&p->key, 0, sizeof p->key);
    if (seaftier_tier_id_encode(obj_id, strlen(obj_id), buf) != 20)
        return FALSE;
    memcpy(p->key.obj, buf, 20);
    if (seaftier_tier_id_encode(repo_id, strlen(repo_id), buf) != 16)
        return FALSE;
    memcpy(p->key.repo, buf, 16);
    p->key.type = (guint8)type;
    /* An object id is a SHA-1: its bytes are already uniform; the repo and
     * type parts separate the same object in different repos. */
    guint64 a, r;
    memcpy(&a, p->key.obj, 8);
    memcpy(&r, p->key.repo + 8, 8);
    guint64 h = a ^ (r * 0x9e3779b97f4a7c15ULL) ^ ((guint64)type << 59);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    p->set[0] = (guint64)(((unsigned __int128)h * loc->n_sets) >> 64);
    p->set[1] = p->set[0];
    if (loc->n_sets >= N_STRIPES) {
        guint64 per_stripe = loc->n_sets / N_STRIPES, h2 = h * 0x94d049bb133111ebULL;
        h2 ^= h2 >> 31;
        p->set[1] = (guint64)(((unsigned __int128)h2 * per_stripe) >> 64) * N_STRIPES +
                    p->set[0] % N_STRIPES;
    }
    return TRUE;
}

static gboolean
same_key(const LocEntry *e, const LocEntry *k)
{
    return e->used && memcmp(e->obj, k->obj, 20) == 0 && memcmp(e->repo, k->repo, 16) == 0 &&
           e->type == k->type;
}

static LocStripe *
stripe_of(TierLoc *loc, guint64 set)
{
    return &loc->stripes[set % N_STRIPES];
}

/* Drops every entry of a stripe (its sets are every N_STRIPES-th). */
static void
stripe_clear(TierLoc *loc, LocStripe *s, guint64 first_set)
{
    if (s->entries)
        for (guint64 set = first_set % N_STRIPES; set < loc->n_sets; set += N_STRIPES)
            memset(&loc->sets[set * WAYS], 0, WAYS * sizeof(LocEntry));
    s->entries = 0;
}

/* Brings a stripe (locked) to `epoch`: its entries were filled under an
 * older one, so a delete happened since; FALSE when `epoch` is older than the
 * stripe's (the caller read the epoch before another thread's fill). */
static gboolean
stripe_at(TierLoc *loc, LocStripe *s, guint64 set, guint64 epoch)
{
    if (epoch < s->epoch)
        return FALSE;
    if (epoch > s->epoch) {
        stripe_clear(loc, s, set);
        s->epoch = epoch;
    }
    return TRUE;
}

/* Moves entry i of a set to its front (most recently used). */
static void
to_front(LocEntry *set, int i)
{
    if (i == 0)
        return;
    LocEntry e = set[i];
    memmove(&set[1], &set[0], (gsize)i * sizeof(LocEntry));
    set[0] = e;
}

static int
find(LocEntry *set, const LocEntry *key)
{
    for (int i = 0; i < WAYS && set[i].used; i++)
        if (same_key(&set[i], key))
            return i;
    return -1;
}

/* The object's way in either of its sets (*set_out: that set), or -1. */
static int
find_either(TierLoc *loc, const LocProbe *p, LocEntry **set_out)
{
    for (int c = 0; c < 2; c++) {
        LocEntry *set = &loc->sets[p->set[c] * WAYS];
        int i = find(set, &p->key);
        if (i >= 0) {
            *set_out = set;
            return i;
        }
        if (p->set[1] == p->set[0])
            break;
    }
    return -1;
}

/* Used ways of a set (they are its first ones). */
static int
used_ways(const LocEntry *set)
{
    int n = 0;
    while (n < WAYS && set[n].used)
        n++;
    return n;
}

gboolean
seaftier_loc_get(TierLoc *loc, int type, const char *repo_id, const char *obj_id,
                 guint64 epoch, TierLocation *out)
{
    LocProbe p;
    if (!probe_init(loc, &p, type, repo_id, obj_id))
        return FALSE;
    LocStripe *s = stripe_of(loc, p.set[0]);
    gboolean hit = FALSE;
    g_mutex_lock(&s->lock);
    LocEntry *set;
    int i;
    if (stripe_at(loc, s, p.set[0], epoch) && (i = find_either(loc, &p, &set)) >= 0) {
        to_front(set, i);
        const LocEntry *e = &set[0];
        out->rowid = e->rowid;
        out->generation = e->generation;
        out->size = e->size;
        out->stored_size = e->stored_size;
        out->checksum = e->checksum;
        out->codec = e->codec;
        out->location = e->location;
        out->atime_mark = e->atime_mark;
        hit = TRUE;
    }
    g_mutex_unlock(&s->lock);
    return hit;
}

void
seaftier_loc_put(TierLoc *loc, int type, const char *repo_id, const char *obj_id,
                 guint64 epoch, const TierLocation *where)
{
    LocProbe p;
    if (where->size > G_MAXUINT32 || where->stored_size > G_MAXUINT32 || where->codec < 0 ||
        where->codec > 255 || where->location < 0 || where->location > 255 ||
        where->atime_mark < 0 || where->atime_mark > G_MAXUINT32 ||
        !probe_init(loc, &p, type, repo_id, obj_id))
        return;
    LocEntry e = p.key;
    e.used = 1;
    e.codec = (guint8)where->codec;
    e.location = (guint8)where->location;
    e.checksum = where->checksum;
    e.size = (guint32)where->size;
    e.stored_size = (guint32)where->stored_size;
    e.atime_mark = (guint32)where->atime_mark;
    e.rowid = where->rowid;
    e.generation = where->generation;
    LocStripe *s = stripe_of(loc, p.set[0]);
    g_mutex_lock(&s->lock);
    LocEntry *set;
    if (stripe_at(loc, s, p.set[0], epoch)) {
        int i = find_either(loc, &p, &set);
        if (i < 0) {
            /* The first free way of the emptier set; in a full set the
             * last, least recently used, falls out. */
            LocEntry *a = &loc->sets[p.set[0] * WAYS], *b = &loc->sets[p.set[1] * WAYS];
            set = used_ways(b) < used_ways(a) ? b : a;
            i = MIN(used_ways(set), WAYS - 1);
            if (!set[i].used)
                s->entries++;
        }
        set[i] = e;
        to_front(set, i);
    }
    g_mutex_unlock(&s->lock);
}

void
seaftier_loc_touch(TierLoc *loc, int type, const char *repo_id, const char *obj_id,
                   gint64 atime_mark)
{
    LocProbe p;
    if (atime_mark < 0 || atime_mark > G_MAXUINT32 || !probe_init(loc, &p, type, repo_id, obj_id))
        return;
    LocStripe *s = stripe_of(loc, p.set[0]);
    LocEntry *set;
    g_mutex_lock(&s->lock);
    int i = find_either(loc, &p, &set);
    if (i >= 0)
        set[i].atime_mark = (guint32)atime_mark;
    g_mutex_unlock(&s->lock);
}

void
seaftier_loc_remove(TierLoc *loc, int type, const char *repo_id, const char *obj_id)
{
    LocProbe p;
    if (!probe_init(loc, &p, type, repo_id, obj_id))
        return;
    LocStripe *s = stripe_of(loc, p.set[0]);
    LocEntry *set;
    g_mutex_lock(&s->lock);
    int i = find_either(loc, &p, &set);
    if (i >= 0) {
        /* (the used entries stay a prefix of the set) */
        memmove(&set[i], &set[i + 1], (gsize)(WAYS - 1 - i) * sizeof(LocEntry));
        memset(&set[WAYS - 1], 0, sizeof(LocEntry));
        s->entries--;
    }
    g_mutex_unlock(&s->lock);
}

void
seaftier_loc_usage(TierLoc *loc, guint64 *entries, guint64 *slots)
{
    guint64 n = 0;
    if (loc)
        for (int i = 0; i < N_STRIPES; i++) {
            g_mutex_lock(&loc->stripes[i].lock);
            n += loc->stripes[i].entries;
            g_mutex_unlock(&loc->stripes[i].lock);
        }
    *entries = n;
    *slots = loc ? loc->n_sets * WAYS : 0;
}
