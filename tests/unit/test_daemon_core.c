/*
 * tests/unit/test_daemon_core.c — the parts of seaftierd that need no S3
 * server: JSON output and the metrics' rates, backend states and rendering.
 * (The sync engine's own unit tests are in test_sync.c; uploads, deletes,
 * probes and flushes are covered against the real S3 server by
 * tests/integration/test_daemon*.c, test_admin.c and the backend tests.)
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "json.h"
#include "site.h"
#include "../../daemon/metrics.h"

static char *
json_of(const char *s)
{
    GString *out = g_string_new(NULL);
    seaftier_json_string(out, s);
    return g_string_free(out, FALSE);
}

static void
test_json_string(void **state)
{
    (void)state;
    char *j = json_of("a\"b\\c\nd\te\x01");
    assert_string_equal(j, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
    g_free(j);
    j = json_of(NULL);
    assert_string_equal(j, "null");
    g_free(j);
    j = json_of("caf\xc3\xa9 \xff!");      /* valid UTF-8 kept, a stray byte replaced */
    assert_string_equal(j, "\"caf\xc3\xa9 \\ufffd!\"");
    g_free(j);
    GString *out = g_string_new("{");
    seaftier_json_key(out, "a", TRUE);
    g_string_append(out, "1");
    seaftier_json_key(out, "b", FALSE);
    g_string_append(out, "2}");
    assert_string_equal(out->str, "{\"a\":1,\"b\":2}");
    g_string_free(out, TRUE);
}

static void
test_metrics(void **state)
{
    (void)state;
    SeaftierMetrics *m = seaftier_metrics_new();
    seaftier_metrics_upload_done(m, 1000, TRUE, FALSE);
    seaftier_metrics_upload_done(m, 3000, TRUE, FALSE);
    seaftier_metrics_upload_done(m, 0, FALSE, TRUE);
    seaftier_metrics_upload_done(m, 0, FALSE, FALSE);
    assert_int_equal(seaftier_metrics_get(&m->uploads_ok), 2);
    assert_int_equal(seaftier_metrics_get(&m->uploads_failed), 2);
    assert_int_equal(seaftier_metrics_get(&m->upload_retries), 1);
    assert_int_equal(seaftier_metrics_get(&m->upload_bytes), 4000);

    /* The current second does not count yet; shift the ring by one second. */
    double bps = -1, ops = -1;
    seaftier_metrics_upload_rate(m, &bps, &ops);
    assert_true(bps == 0 && ops == 0);
    for (int i = 0; i < SEAFTIER_RATE_SLOTS; i++)
        if (m->rate_objects[i])
            m->rate_second[i]--;
    seaftier_metrics_upload_rate(m, &bps, &ops);
    assert_true(bps == 400.0 && ops == 0.2);

    seaftier_metrics_set_backend(m, SEAFTIER_TYPE_BLOCKS, SEAFTIER_BACKEND_REFUSED, "no \"bucket\"");
    char *msg = NULL;
    assert_int_equal(seaftier_metrics_get_backend(m, SEAFTIER_TYPE_BLOCKS, &msg), SEAFTIER_BACKEND_REFUSED);
    assert_string_equal(msg, "no \"bucket\"");
    g_free(msg);
    assert_int_equal(seaftier_metrics_get_backend(m, SEAFTIER_TYPE_FS, NULL), SEAFTIER_BACKEND_UNKNOWN);

    SeaftierConfig cfg = { 0 };
    const char *buckets[] = { "c-bucket", "f-bucket", "b-bucket" };
    for (int t = 0; t < SEAFTIER_N_TYPES; t++)
        cfg.s3[t].bucket = (char *)buckets[t];
    SeaftierSite env = { .cfg = &cfg, .tier_dir = (char *)"/srv/tier" };
    char *text = seaftier_metrics_prometheus(m, &env, 3);
    assert_non_null(strstr(text, "# TYPE seaftier_uploads_ok_total counter\nseaftier_uploads_ok_total 2\n"));
    assert_non_null(strstr(text, "seaftier_upload_bytes_total 4000\n"));
    assert_non_null(strstr(text, "seaftier_uploads_in_flight 3\n"));
    assert_non_null(strstr(text, "seaftier_backend_up{type=\"blocks\",bucket=\"b-bucket\",state=\"refused\"} 0\n"));
    assert_non_null(strstr(text, "seaftier_backend_up{type=\"fs\",bucket=\"f-bucket\",state=\"unknown\"} 0\n"));
    /* No tier: no tier gauges rather than made-up zeros. */
    assert_null(strstr(text, "seaftier_tier_objects"));
    g_free(text);
    char *json = seaftier_metrics_status_json(m, &env, 3);
    assert_non_null(strstr(json, "\"uploads_ok\":2,"));
    assert_non_null(strstr(json, "\"blocks\":{\"bucket\":\"b-bucket\",\"state\":\"refused\","
                                 "\"message\":\"no \\\"bucket\\\"\"}"));
    assert_non_null(strstr(json, "\"tier_dir\":\"/srv/tier\""));
    g_free(json);
    seaftier_metrics_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
