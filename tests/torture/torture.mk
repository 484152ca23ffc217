# build fragment for tests/torture, included by Makefile.am.
#
# Torture tests: crash loop, S3 faults through a fault-injecting
# proxy (faultproxy.py), disk full on a tmpfs (needs root), hostile input,
# secrets under debug logging, load. Each prints its figures and is bounded
# in time. Environment:
#   SEAFTIER_TORTURE_SCALE   multiplies durations/counts (default 1, 0.5 under ASan)
#   SEAFTIER_TORTURE_CYCLES  crash-loop cycles (default 50)
#   SEAFTIER_FAULT_RATE      share of requests the proxy breaks (default 0.2)
#   SEAFTIER_TORTURE_KEEP    keep the scratch directories
#   SEAFTIER_TORTURE_VERBOSE show every seaftier-admin output (secrets test)
EXTRA_DIST += tests/torture/faultproxy.py

TORTURE_UTIL_SOURCES = tests/torture/torture-util.c tests/torture/torture-util.h \
	tests/common/s3test.c tests/common/s3test.h

TORTURE_TESTS = tests/torture/test_crash_loop tests/torture/test_s3_faults \
	tests/torture/test_disk_full tests/torture/test_hostile tests/torture/test_secrets \
	tests/torture/test_load tests/torture/test_fetch_integrity
check_PROGRAMS += $(TORTURE_TESTS)
TESTS += $(TORTURE_TESTS)

tests_torture_test_crash_loop_SOURCES = tests/torture/test_crash_loop.c $(TORTURE_UTIL_SOURCES)
tests_torture_test_crash_loop_CFLAGS = $(TEST_CFLAGS)
tests_torture_test_crash_loop_LDADD = $(TEST_LIBS)

tests_torture_test_s3_faults_SOURCES = tests/torture/test_s3_faults.c $(TORTURE_UTIL_SOURCES)
tests_torture_test_s3_faults_CFLAGS = $(TEST_CFLAGS)
tests_torture_test_s3_faults_LDADD = $(TEST_LIBS)
EXTRA_tests_torture_test_s3_faults_DEPENDENCIES = $(TORTURE_NEEDS)

tests_torture_test_disk_full_SOURCES = tests/torture/test_disk_full.c $(TORTURE_UTIL_SOURCES)
tests_torture_test_disk_full_CFLAGS = $(TEST_CFLAGS)
tests_torture_test_disk_full_LDADD = $(TEST_LIBS)
EXTRA_tests_torture_test_disk_full_DEPENDENCIES = $(TORTURE_NEEDS)

tests_torture_test_hostile_SOURCES = tests/torture/test_hostile.c $(TORTURE_UTIL_SOURCES)
tests_torture_test_hostile_CFLAGS = $(TEST_CFLAGS)
tests_torture_test_hostile_LDADD = $(TEST_LIBS)
EXTRA_tests_torture_test_hostile_DEPENDENCIES = $(TORTURE_NEEDS)

tests_torture_test_secrets_SOURCES = tests/torture/test_secrets.c $(TORTURE_UTIL_SOURCES)
tests_torture_test_secrets_CFLAGS = $(TEST_CFLAGS)
tests_torture_test_secrets_LDADD = $(TEST_LIBS)
EXTRA_tests_torture_test_secrets_DEPENDENCIES = $(TORTURE_NEEDS)

tests_torture_test_load_SOURCES = tests/torture/test_load.c $(TORTURE_UTIL_SOURCES)
tests_torture_test_load_CFLAGS = $(TEST_CFLAGS)
tests_torture_test_load_LDADD = $(TEST_LIBS)
EXTRA_tests_torture_test_load_DEPENDENCIES = $(TORTURE_NEEDS)

tests_torture_test_fetch_integrity_SOURCES = tests/torture/test_fetch_integrity.c $(TORTURE_UTIL_SOURCES)
tests_torture_test_fetch_integrity_CFLAGS = $(TEST_CFLAGS)
tests_torture_test_fetch_integrity_LDADD = $(TEST_LIBS)

# The tests run the daemon and the admin tool: build them first.
TORTURE_NEEDS = daemon/seaftierd$(EXEEXT) tools/seaftier-admin$(EXEEXT)
EXTRA_tests_torture_test_crash_loop_DEPENDENCIES = $(TORTURE_NEEDS)
