/* lib/site-index.c — when the tier's index may answer "not in S3" without a
 * request: the configuration allows it ([tier] authoritative_index, mode) and
 * the index of the type is complete for its bucket (lib/tier/remote.c).
 *
 * An index becomes complete in two ways: the tier is opened on an empty
 * bucket (checked here with one ListObjectsV2 max-keys=1 by whichever process
 * opens the site first; racing openers are fine, the check is idempotent), or
 * an operator imports the bucket's listing (seaftier-admin index-remote).
 */
#include "seaftier-build.h"

#include "site.h"

#include <seaftier/log.h>

gboolean
seaftier_site_index_trusted(const SeaftierSite *site)
{
    switch (site->cfg->tier.authoritative_index) {
    case SEAFTIER_AUTHORITATIVE_ON:
        return TRUE;
    case SEAFTIER_AUTHORITATIVE_OFF:
        return FALSE;
    case SEAFTIER_AUTHORITATIVE_AUTO:
    default:
        /* write-through is how several nodes share buckets */
        return !site->cfg->tier.write_through;
    }
}

gboolean
seaftier_site_index_complete(SeaftierSite *site, SeaftierObjType type)
{
    if (!site->tier || !seaftier_site_index_trusted(site))
        return FALSE;
    gboolean complete = FALSE;
    GError *err = NULL;
    if (!seaftier_tier_is_complete(site->tier, type, site->cfg->s3[type].bucket, &complete,
                                   &err)) {
        seaftier_warning("tier %s: cannot read whether the %s index is complete (%s); asking S3",
                         site->tier_dir, seaftier_type_name(type), err->message);
        g_error_free(err);
        return FALSE;
    }
    return complete;
}

void
seaftier_site_mark_empty_buckets(SeaftierSite *site)
{
    if (!site->tier || !seaftier_site_index_trusted(site))
        return;
    for (int t = 0; t < SEAFTIER_N_TYPES; t++) {
        const char *bucket = site->cfg->s3[t].bucket;
        gboolean complete = FALSE;
        GError *err = NULL;
        if (!site->s3[t] ||
            !seaftier_tier_is_complete(site->tier, (SeaftierObjType)t, bucket, &complete, &err)) {
            g_clear_error(&err);
            continue;
        }
        if (complete)
            continue;
        SeaftierS3ListPage *page = NULL;
        if (!seaftier_s3_list_page(site->s3[t], NULL, NULL, 1, &page, &err)) {
            seaftier_info("%s bucket %s: cannot check whether it is empty (%s); exists() asks S3 "
                          "for objects the tier does not know", seaftier_type_name(t), bucket,
                          err->message);
            g_error_free(err);
            continue;
        }
        gboolean empty = page->entries->len == 0;
        seaftier_s3_list_page_free(page);
        if (!empty) {
            seaftier_debug("%s bucket %s holds objects: the index is complete only after "
                           "seaftier-admin index-remote", seaftier_type_name(t), bucket);
            continue;
        }
        /* Rows saying S3 holds an object contradict an empty bucket (the
         * configuration now names another bucket, or it was emptied behind
         * the tier's back): marking complete would keep answering "exists"
         * for them. Left incomplete, loudly. */
        SeaftierTierStats st;
        if (!seaftier_tier_stats(site->tier, &st, &err)) {
            seaftier_warning("tier %s: %s", site->tier_dir, err->message);
            g_error_free(err);
            continue;
        }
        guint64 in_s3 = st.objects[t][SEAFTIER_STATE_CLEAN] + st.objects[t][SEAFTIER_STATE_REMOTE];
        if (in_s3) {
            seaftier_warning("%s bucket %s is empty, but the tier's index records %" G_GUINT64_FORMAT
                             " objects as uploaded to it: was the bucket changed or emptied? The "
                             "index is not taken as complete (exists() asks S3).",
                             seaftier_type_name(t), bucket, in_s3);
            continue;
        }
        if (!seaftier_tier_set_complete(site->tier, (SeaftierObjType)t, bucket, TRUE, &err)) {
            seaftier_warning("%s bucket %s is empty, but marking the index complete failed: %s",
                             seaftier_type_name(t), bucket, err->message);
            g_error_free(err);
            continue;
        }
        seaftier_info("%s bucket %s is empty: the tier's index knows every object it will hold",
                      seaftier_type_name(t), bucket);
    }
}
