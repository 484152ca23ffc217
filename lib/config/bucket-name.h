/*
 * lib/config/bucket-name.h — S3 bucket naming rules (general purpose buckets), so
 * that a misspelt bucket is reported at start-up with the rule it breaks
 * rather than as an obscure 400 from the server later. Not installed.
 */
#ifndef SEAFTIER_BUCKET_NAME_H
#define SEAFTIER_BUCKET_NAME_H

#include <glib.h>

G_BEGIN_DECLS

/* Returns NULL when `name` is a valid S3 bucket name, else a newly allocated
 * sentence naming the first rule it breaks (e.g. "uppercase letters are not
 * allowed"); free it with g_free. */
char *seaftier_bucket_name_problem(const char *name);

G_END_DECLS

#endif
