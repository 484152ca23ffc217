# build fragment for lib/tier, included by Makefile.am
lib_libseaftier_la_SOURCES += \
	lib/tier/tier.h lib/tier/tier-private.h \
	lib/tier/ids.c \
	lib/tier/dbid.c \
	lib/tier/crc32c.c lib/tier/crc32c.h \
	lib/tier/codec.c lib/tier/codec.h \
	lib/tier/ram.c lib/tier/ram.h \
	lib/tier/loc.c lib/tier/loc.h \
	lib/tier/db.c \
	lib/tier/mapvfs.c \
	lib/tier/objfile.c \
	lib/tier/pieces.c lib/tier/pieces.h \
	lib/tier/stream.c \
	lib/tier/commit.c \
	lib/tier/checkpoint.c \
	lib/tier/tier.c \
	lib/tier/atime.c \
	lib/tier/store.c \
	lib/tier/upload.c \
	lib/tier/tombstone.c \
	lib/tier/remote.c \
	lib/tier/evict.c \
	lib/tier/verify.c \
	lib/tier/nudge.c
EXTRA_DIST += lib/tier/README.md

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_tier_parts tests/unit/test_tier
TESTS += tests/unit/test_tier_parts tests/unit/test_tier

tests_unit_test_tier_parts_SOURCES = tests/unit/test_tier_parts.c
tests_unit_test_tier_parts_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_parts_LDADD = $(TEST_LIBS)

tests_unit_test_tier_SOURCES = tests/unit/test_tier.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_LDADD = $(TEST_LIBS)
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_tier_durability
TESTS += tests/unit/test_tier_durability
tests_unit_test_tier_durability_SOURCES = tests/unit/test_tier_durability.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_durability_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_durability_LDADD = $(TEST_LIBS)
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_tier_remote
TESTS += tests/unit/test_tier_remote
tests_unit_test_tier_remote_SOURCES = tests/unit/test_tier_remote.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_remote_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_remote_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_tier_snapshot
TESTS += tests/unit/test_tier_snapshot
tests_unit_test_tier_snapshot_SOURCES = tests/unit/test_tier_snapshot.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_snapshot_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_snapshot_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_tier_loc
TESTS += tests/unit/test_tier_loc
tests_unit_test_tier_loc_SOURCES = tests/unit/test_tier_loc.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_loc_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_loc_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_tier_mapvfs
TESTS += tests/unit/test_tier_mapvfs
tests_unit_test_tier_mapvfs_SOURCES = tests/unit/test_tier_mapvfs.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_mapvfs_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_mapvfs_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_tier_ids
TESTS += tests/unit/test_tier_ids
tests_unit_test_tier_ids_SOURCES = tests/unit/test_tier_ids.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_ids_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_ids_LDADD = $(TEST_LIBS)
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_tier_pieces
TESTS += tests/unit/test_tier_pieces
tests_unit_test_tier_pieces_SOURCES = tests/unit/test_tier_pieces.c tests/unit/tier-testutil.c \
	tests/unit/tier-testutil.h
tests_unit_test_tier_pieces_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tier_pieces_LDADD = $(TEST_LIBS)
endif
