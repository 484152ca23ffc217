# build fragment for the sync engine (lib/sync/), included by Makefile.am
lib_libseaftier_la_SOURCES += \
	lib/sync/remote.c lib/sync/remote.h lib/sync/remote-s3.c lib/sync/remote-s3.h \
	lib/sync/sync.h lib/sync/sync-private.h lib/sync/engine.c \
	lib/sync/inflight.c lib/sync/inflight.h lib/sync/workers.c lib/sync/workers.h \
	lib/sync/upload.c lib/sync/delete.c lib/sync/flush-job.c lib/sync/fetch.c \
	lib/sync/probe.c lib/sync/probe.h \
	lib/sync/objid.c lib/sync/objid.h lib/sync/remote-fs.c lib/sync/remote-fs.h \
	lib/sync/transfer.c lib/sync/transfer.h lib/sync/migrate-state.c lib/sync/migrate-state.h
EXTRA_DIST += lib/sync/README.md


if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_sync
TESTS += tests/unit/test_sync
tests_unit_test_sync_SOURCES = tests/unit/test_sync.c
tests_unit_test_sync_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sync_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_migrate_parts
TESTS += tests/unit/test_migrate_parts
tests_unit_test_migrate_parts_SOURCES = tests/unit/test_migrate_parts.c
tests_unit_test_migrate_parts_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_migrate_parts_LDADD = $(TEST_LIBS)
endif
