/*
 * lib/tier/loc.h — the location cache: where each recently read object is
 * and how it is stored (row id, sizes, codec, checksum, inline or file and
 * its generation), so that a hit on it skips the index's key lookup (two
 * B-tree descents, whose leaves are cold in a large index) and reads the
 * data directly: the inline blob by its row id, or the object file whose
 * name the generation completes. What the kernel's dentry cache is to
 * Seafile's fs layout.
 *
 * Bounded in bytes: a fixed array of 8-way sets of 72-byte entries, each
 * object in the emptier of two sets of one stripe, least recently used
 * first out within a set; 16 stripes, each under its own mutex. Only objects whose ids are canonical (binary in the index) and
 * whose sizes fit 32 bits are kept.
 *
 * Validity (what the reader in tier.c relies on):
 *  - an entry is a hint, never the truth: any failure reading through it
 *    (no blob, no file, a size or CRC32C that differs) sends the read down
 *    the index path, which alone decides that a copy is damaged;
 *  - a row id names one object for as long as its row lives; an object row
 *    holding data is removed only by a transaction that bumps the shared
 *    delete epoch before it commits and again after (tier.c), or after its
 *    object was marked DELETED, which bumped it too. Each stripe remembers
 *    the epoch its entries were filled under and drops them all when the
 *    epoch has moved, so a row id freed and reused by another object is
 *    never read through a stale entry;
 *  - a file's name carries the generation of the version it holds, so an
 *    entry naming a file reads that version or nothing.
 */
#ifndef SEAFTIER_TIER_LOC_H
#define SEAFTIER_TIER_LOC_H

#include <glib.h>

typedef struct TierLoc TierLoc;

/* Where an object is and how it is stored, as its index row said. */
typedef struct {
    gint64 rowid;
    gint64 generation;
    guint64 size, stored_size;
    guint32 checksum;
    int codec;
    int location;
    gint64 atime_mark;          /* the access time last noted for it */
} TierLocation;

/* A cache of at most `capacity` bytes (at least one set); NULL when 0 (off). */
TierLoc *seaftier_loc_new(guint64 capacity);
void seaftier_loc_free(TierLoc *loc);

/* TRUE with *out filled when the object's location is cached and was filled
 * under `epoch` (the shared delete epoch read before this call). */
gboolean seaftier_loc_get(TierLoc *loc, int type, const char *repo_id, const char *obj_id,
                          guint64 epoch, TierLocation *out);
/* Remembers (or replaces) an object's location, read from the index after
 * `epoch` was read. Ignored for ids or sizes the cache does not keep. */
void seaftier_loc_put(TierLoc *loc, int type, const char *repo_id, const char *obj_id,
                      guint64 epoch, const TierLocation *where);
/* Updates the access time noted for a cached object. */
void seaftier_loc_touch(TierLoc *loc, int type, const char *repo_id, const char *obj_id,
                        gint64 atime_mark);
void seaftier_loc_remove(TierLoc *loc, int type, const char *repo_id, const char *obj_id);
/* Entries held and the most the cache can hold, for tests and stats. */
void seaftier_loc_usage(TierLoc *loc, guint64 *entries, guint64 *slots);

#endif
