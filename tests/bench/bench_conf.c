/*
 * tests/bench/bench_conf.c — writes the seafile.conf the benchmarks use:
 *
 *   bench_conf DIR PREFIX [https-sse-c]
 *
 * Three new buckets "<PREFIX>-commits/-fs/-blocks" on the project's test S3
 * server (tests/common/s3test.c starts it if needed), SigV4, path style, plain
 * http on loopback and no SSE-C — the same transport `aws s3 cp` gets in the
 * upload benchmark — and a [tier] section with dir = DIR/tier and the
 * defaults (128 MiB RAM tier, lz4 on, write-back). With "https-sse-c": https
 * (the server's CA in ca_file) and SSE-C, the configuration Seafile documents
 * for SSE-C (the seaf-server phase, bench-seafile.sh).
 * Prints the path of the file.
 */
#include "seaftier-build.h"

#include "s3test.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    gboolean secure = argc == 4 && strcmp(argv[3], "https-sse-c") == 0;
    if (argc != 3 && !secure) {
        fprintf(stderr, "usage: bench_conf DIR BUCKET_PREFIX [https-sse-c]\n");
        return 2;
    }
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE, .https = secure, .sse_c = secure };
    char *path = s3test_write_seafile_conf(argv[1], argv[2], &v, NULL);
    printf("%s\n", path);
    g_free(path);
    return 0;
}
