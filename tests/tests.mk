# build fragment for tests shared across components: the S3 test helper and
# the S3 client's integration matrix. Component tests live in their own .mk.
EXTRA_DIST += tests/s3server/rgw-up.sh tests/s3server/rgw-down.sh tests/s3server/ensure-rgw.sh \
	tests/s3server/swift-up.sh tests/s3server/swift-down.sh tests/s3server/ensure-swift.sh \
	tests/s3server/stop-pids.sh tests/s3server/test-ensure-rgw.sh \
	tests/s3server/README.md tests/common/s3test.h

# ensure-rgw.sh never rebuilds, stops or wipes an instance that a live
# process uses (on an instance of the test's own, never the shared one).
TESTS += tests/s3server/test-ensure-rgw.sh

check_PROGRAMS += tests/integration/test_s3_matrix
TESTS += tests/integration/test_s3_matrix
tests_integration_test_s3_matrix_SOURCES = tests/integration/test_s3_matrix.c tests/common/s3test.c
tests_integration_test_s3_matrix_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_s3_matrix_LDADD = $(TEST_LIBS)

# Answers RGW never gives (a rewriting proxy in the test), and secrets out of
# core files.
check_PROGRAMS += tests/integration/test_s3_answers
TESTS += tests/integration/test_s3_answers
tests_integration_test_s3_answers_SOURCES = tests/integration/test_s3_answers.c tests/common/s3test.c
tests_integration_test_s3_answers_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_s3_answers_LDADD = $(TEST_LIBS)
