/*
 * tests/unit/test_s3_addressing.c — how the S3 client addresses the bucket:
 * virtual-host style (<bucket>.<host>) only where <host> is a host name;
 * path style when configured, and whenever `host` is an IP address
 * (<bucket>.192.168.1.123 cannot resolve; botocore and Seafile's reader fall
 * back to path style there). seaftier_s3_new() does no network I/O.
 */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <seaftier/s3.h>

static gboolean
path_style_for(const char *host, gboolean configured)
{
    SeaftierS3Config cfg = {
        .section = "block_backend", .bucket = "seafile-blocks", .key_id = "id",
        .key = "secret-key-000", .aws_region = "us-east-1", .host = (char *)host, .port = 8080,
        .path_style_request = configured, .connect_timeout_s = 5, .low_speed_time_s = 10,
        .multipart_part_size = 64 * 1024 * 1024,
    };
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(&cfg, &err);
    if (!s3)
        fail_msg("seaftier_s3_new(%s): %s", host ? host : "(AWS)", err->message);
    gboolean path = seaftier_s3_uses_path_style(s3);
    seaftier_s3_free(s3);
    return path;
}

static void
test_ip_hosts_use_path_style(void **state)
{
    (void)state;
    assert_true(path_style_for("192.168.1.123", FALSE));
    assert_true(path_style_for("127.0.0.1", FALSE));
    assert_true(path_style_for("[::1]", FALSE));
    assert_true(path_style_for("[2001:db8::7]", FALSE));
    assert_true(path_style_for("::1", FALSE));
}

static void
test_host_names_keep_virtual_host(void **state)
{
    (void)state;
    assert_false(path_style_for("s3.example.com", FALSE));
    assert_false(path_style_for("localhost", FALSE));
    /* digits and dots but not an address */
    assert_false(path_style_for("192.168.1.123.nip.io", FALSE));
    assert_false(path_style_for("1.2.3", FALSE));
    assert_false(path_style_for(NULL, FALSE));   /* AWS */
}

static void
test_configured_path_style_is_kept(void **state)
{
    (void)state;
    assert_true(path_style_for("s3.example.com", TRUE));
    assert_true(path_style_for("10.0.0.1", TRUE));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_hosts_use_path_style),
        cmocka_unit_test(test_host_names_keep_virtual_host),
        cmocka_unit_test(test_configured_path_style_is_kept),
    };
    return cmocka_run_group_tests_name("s3-addressing", tests, NULL, NULL);
}
