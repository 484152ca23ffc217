/*
 * lib/tier/ram.h — the in-process RAM tier: decoded small objects, bounded
 * in bytes, least recently used first out (approximately: a hit only flags
 * its entry, which eviction then moves to the head once, as CLOCK does).
 *
 * 16 shards, each a hash table plus an LRU list under its own mutex, so that
 * threads reading different objects rarely meet. Each entry remembers the
 * shared delete epoch (see tier.c) at which its bytes were known valid, so a
 * delete in another process makes the next hit re-check the index.
 */
#ifndef SEAFTIER_TIER_RAM_H
#define SEAFTIER_TIER_RAM_H

#include <glib.h>

typedef struct TierRam TierRam;

/* A RAM tier holding at most `capacity` bytes (data plus bookkeeping);
 * objects above `max_object` bytes are never kept. NULL when capacity is 0. */
TierRam *seaftier_ram_new(guint64 capacity, guint64 max_object);
void seaftier_ram_free(TierRam *ram);

/* On a hit, copies the object into a new buffer (*data, g_free) and returns
 * TRUE with the row id, the epoch the entry was validated at, and the last
 * access time noted for it (which the caller may update through *atime_mark). */
gboolean seaftier_ram_get(TierRam *ram, int type, const char *repo_id, const char *obj_id,
                          void **data, gsize *len, gint64 *rowid, guint64 *epoch,
                          gint64 *atime_mark);
/* Updates an entry's epoch and access mark after the caller re-validated it. */
void seaftier_ram_touch(TierRam *ram, int type, const char *repo_id, const char *obj_id,
                        guint64 epoch, gint64 atime_mark);
/* Inserts (or replaces) an object. */
void seaftier_ram_put(TierRam *ram, int type, const char *repo_id, const char *obj_id,
                      const void *data, gsize len, gint64 rowid, guint64 epoch, gint64 atime_mark);
void seaftier_ram_remove(TierRam *ram, int type, const char *repo_id, const char *obj_id);
/* Removes the objects of one repo (all when repo_id is NULL). */
void seaftier_ram_remove_repo(TierRam *ram, const char *repo_id);
/* Bytes accounted and entries held, for tests and stats. */
void seaftier_ram_usage(TierRam *ram, guint64 *bytes, guint64 *entries);

#endif
