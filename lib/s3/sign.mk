# build fragment for lib/s3/sign.c: AWS SigV2/SigV4 signing and the hash,
# encoding and date helpers the S3 client shares (pure functions).
lib_libseaftier_la_SOURCES += lib/s3/sign.c lib/s3/sign.h

check_PROGRAMS += tests/unit/test_sign
TESTS += tests/unit/test_sign
tests_unit_test_sign_SOURCES = tests/unit/test_sign.c
tests_unit_test_sign_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sign_LDADD = $(TEST_LIBS)
