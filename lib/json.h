/*
 * lib/json.h — the little JSON writing seaftierd and seaftier-admin need
 * (status, --json output). Output only; nothing here parses JSON.
 */
#ifndef SEAFTIER_JSON_H
#define SEAFTIER_JSON_H

#include <glib.h>

/* Appends `s` as a JSON string literal (quoted, escaped; invalid UTF-8
 * bytes become U+FFFD). NULL appends null. */
void seaftier_json_string(GString *out, const char *s);

/* Appends `"key":` (with a leading comma unless `first`). */
void seaftier_json_key(GString *out, const char *key, gboolean first);

#endif
