/* lib/json.c — see json.h. */
#include "seaftier-build.h"

#include "json.h"

void
seaftier_json_string(GString *out, const char *s)
{
    if (!s) {
        g_string_append(out, "null");
        return;
    }
    g_string_append_c(out, '"');
    const char *p = s;
    while (*p) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append(out, "\\ufffd");
            p++;
            continue;
        }
        switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (c < 0x20)
                g_string_append_printf(out, "\\u%04x", (unsigned)c);
            else
                g_string_append_unichar(out, c);
        }
        p = g_utf8_next_char(p);
    }
    g_string_append_c(out, '"');
}

void
seaftier_json_key(GString *out, const char *key, gboolean first)
{
    if (!first)
        g_string_append_c(out, ',');
    seaftier_json_string(out, key);
    g_string_append_c(out, ':');
}
