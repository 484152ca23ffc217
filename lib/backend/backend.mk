# build fragment for the Seafile backends (lib/backend/), included by Makefile.am
lib_libseaftier_la_SOURCES += \
	lib/backend/registry.c lib/backend/common.c lib/backend/common.h \
	lib/backend/list.c lib/backend/obj.c lib/backend/block.c
EXTRA_DIST += lib/backend/README.md
seaftierinclude_HEADERS += include/seaftier/backend.h

# Integration tests against the real S3 server (tests/common/s3test.c).
BACKEND_TEST_SOURCES = tests/integration/backend-testutil.c tests/integration/backend-testutil.h \
	tests/common/s3test.c
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_backend_offline
TESTS += tests/unit/test_backend_offline
tests_unit_test_backend_offline_SOURCES = tests/unit/test_backend_offline.c
tests_unit_test_backend_offline_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_backend_offline_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/integration/test_backend_conformance
TESTS += tests/integration/test_backend_conformance
tests_integration_test_backend_conformance_SOURCES = tests/integration/test_backend_conformance.c $(BACKEND_TEST_SOURCES)
tests_integration_test_backend_conformance_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_integration_test_backend_conformance_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_backend_conformance_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/integration/test_backend_model
TESTS += tests/integration/test_backend_model
tests_integration_test_backend_model_SOURCES = tests/integration/test_backend_model.c $(BACKEND_TEST_SOURCES)
tests_integration_test_backend_model_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_integration_test_backend_model_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_backend_model_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/integration/test_backend_evict
TESTS += tests/integration/test_backend_evict
tests_integration_test_backend_evict_SOURCES = tests/integration/test_backend_evict.c $(BACKEND_TEST_SOURCES)
tests_integration_test_backend_evict_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_integration_test_backend_evict_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_backend_evict_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/integration/test_backend_restart
TESTS += tests/integration/test_backend_restart
tests_integration_test_backend_restart_SOURCES = tests/integration/test_backend_restart.c $(BACKEND_TEST_SOURCES)
tests_integration_test_backend_restart_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
tests_integration_test_backend_restart_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_backend_restart_LDADD = $(TEST_LIBS)
endif
