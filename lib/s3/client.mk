# build fragment for the S3 client (lib/s3/client*.c)
lib_libseaftier_la_SOURCES += lib/s3/client.c lib/s3/client-ops.c lib/s3/client-multipart.c \
	lib/s3/client-internal.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_s3_addressing
TESTS += tests/unit/test_s3_addressing
tests_unit_test_s3_addressing_SOURCES = tests/unit/test_s3_addressing.c
tests_unit_test_s3_addressing_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_s3_addressing_LDADD = $(TEST_LIBS)
endif
