# build fragment for lib/ (core modules); see also lib/s3/*.mk and lib/tier/*.mk
lib_libseaftier_la_SOURCES += lib/log.c lib/secrets.c
seaftierinclude_HEADERS += include/seaftier/log.h include/seaftier/config.h include/seaftier/s3.h \
	include/seaftier/secrets.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(TEST_LIBS)
endif
