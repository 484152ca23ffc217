# build fragment for tests/powercut, included by Makefile.am.
#
# pcfs is the power-cut file system (FUSE; model in tests/powercut/README.md).
# test_pcfs checks its model (needs root and /dev/fuse: it fails, never
# skips, without them). test_powercut is the power-cut torture of the tier:
# a bounded run with `make check`, the full one with `make powercut-torture`.
# Environment:
#   POWERCUT_CUTS   cuts per mode (default 15 in make check, 150 in powercut-torture)
#   POWERCUT_MODES  "cut", "reorder" or "cut,reorder" (default both)
#   POWERCUT_KEEP   keep the scratch directory
EXTRA_DIST += tests/powercut/README.md

PCFS_UTIL_SOURCES = tests/powercut/pc-util.c tests/powercut/pc-util.h

check_PROGRAMS += tests/powercut/pcfs tests/powercut/test_pcfs tests/powercut/test_powercut
TESTS += tests/powercut/test_pcfs tests/powercut/test_powercut

tests_powercut_pcfs_SOURCES = tests/powercut/pcfs.h tests/powercut/pcfs-main.c \
	tests/powercut/pcfs-ops.c tests/powercut/pcfs-durable.c tests/powercut/pcfs-ctl.c
tests_powercut_pcfs_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS)
tests_powercut_pcfs_LDADD = $(GLIB_LIBS) $(FUSE3_LIBS)

tests_powercut_test_pcfs_SOURCES = tests/powercut/test_pcfs.c $(PCFS_UTIL_SOURCES)
tests_powercut_test_pcfs_CFLAGS = $(AM_CFLAGS)
tests_powercut_test_pcfs_LDADD = $(GLIB_LIBS) $(SQLITE_LIBS)
EXTRA_tests_powercut_test_pcfs_DEPENDENCIES = tests/powercut/pcfs

tests_powercut_test_powercut_SOURCES = tests/powercut/test_powercut.c $(PCFS_UTIL_SOURCES) \
	$(TORTURE_UTIL_SOURCES)
tests_powercut_test_powercut_CFLAGS = $(TEST_CFLAGS)
tests_powercut_test_powercut_LDADD = $(TEST_LIBS)
EXTRA_tests_powercut_test_powercut_DEPENDENCIES = tests/powercut/pcfs daemon/seaftierd \
	tools/seaftier-admin

.PHONY: powercut-torture
powercut-torture: tests/powercut/test_powercut tests/powercut/pcfs daemon/seaftierd tools/seaftier-admin
	POWERCUT_CUTS=$${POWERCUT_CUTS:-150} tests/powercut/test_powercut
