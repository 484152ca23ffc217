# build fragment for lib/ (core modules: logging, secrets protection, the
# site object, JSON output); see also lib/config, lib/s3, lib/tier, lib/sync,
# lib/backend.
lib_libseaftier_la_SOURCES += lib/log.c lib/secrets.c lib/site.c lib/site.h lib/json.c lib/json.h
seaftierinclude_HEADERS += include/seaftier/log.h include/seaftier/config.h include/seaftier/s3.h \
	include/seaftier/secrets.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(TEST_LIBS)
endif
