# build fragment for seaftierd (daemon/), included by Makefile.am
#
sbin_PROGRAMS += daemon/seaftierd
daemon_seaftierd_SOURCES = \
	daemon/main.c daemon/daemon.h \
	daemon/scheduler.c daemon/housekeeping.c daemon/prober.c daemon/evictor.c \
	daemon/control-socket.c daemon/metrics.c daemon/metrics.h
daemon_seaftierd_LDADD = lib/libseaftier.la $(DEPS_LIBS)
EXTRA_DIST += daemon/README.md

# The systemd unit (installed when systemd's unit directory is known).
systemdsystemunitdir = $(prefix)/lib/systemd/system
dist_systemdsystemunit_DATA = conf/seaftierd.service

# Integration tests of the daemon and the admin tool (real S3 server).
# Shell tests run with $(SHELL); they find the programs through these
# variables.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	SEAFTIER_SRCDIR='$(abs_top_srcdir)'; export SEAFTIER_SRCDIR; \
	SEAFTIER_BUILDDIR='$(abs_top_builddir)'; export SEAFTIER_BUILDDIR;

check_PROGRAMS += tests/integration/test_daemon tests/integration/test_daemon_sigterm \
	tests/integration/test_admin
TESTS += tests/integration/test_daemon tests/integration/test_daemon_sigterm \
	tests/integration/test_admin
DAEMON_TEST_SOURCES = tests/integration/daemon-testutil.c tests/integration/daemon-testutil.h \
	tests/common/s3test.c
tests_integration_test_daemon_SOURCES = tests/integration/test_daemon.c $(DAEMON_TEST_SOURCES)
tests_integration_test_daemon_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_daemon_LDADD = $(TEST_LIBS)
tests_integration_test_daemon_sigterm_SOURCES = tests/integration/test_daemon_sigterm.c \
	$(DAEMON_TEST_SOURCES)
tests_integration_test_daemon_sigterm_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_daemon_sigterm_LDADD = $(TEST_LIBS)
tests_integration_test_admin_SOURCES = tests/integration/test_admin.c $(DAEMON_TEST_SOURCES)
tests_integration_test_admin_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_admin_LDADD = $(TEST_LIBS)
# SSE-C proven on the chosen test server (SEAFTIER_S3_SERVER): honoured on
# RGW, refused loudly on Swift's s3api (which stores plaintext).
check_PROGRAMS += tests/integration/test_sse_c_proof
TESTS += tests/integration/test_sse_c_proof
tests_integration_test_sse_c_proof_SOURCES = tests/integration/test_sse_c_proof.c $(DAEMON_TEST_SOURCES)
tests_integration_test_sse_c_proof_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_sse_c_proof_LDADD = $(TEST_LIBS)
# migrate and export (seaftier-admin) with Seafile-format objects.
check_PROGRAMS += tests/integration/test_migrate
TESTS += tests/integration/test_migrate
tests_integration_test_migrate_SOURCES = tests/integration/test_migrate.c $(DAEMON_TEST_SOURCES)
tests_integration_test_migrate_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_migrate_LDADD = $(TEST_LIBS)
# The tests run the programs they check.
tests/integration/test_daemon.log tests/integration/test_daemon_sigterm.log \
tests/integration/test_admin.log tests/integration/test_sse_c_proof.log \
tests/integration/test_migrate.log: daemon/seaftierd$(EXEEXT) tools/seaftier-admin$(EXEEXT)


if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_daemon_core
TESTS += tests/unit/test_daemon_core
tests_unit_test_daemon_core_SOURCES = tests/unit/test_daemon_core.c daemon/metrics.c daemon/metrics.h
tests_unit_test_daemon_core_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_daemon_core_LDADD = $(TEST_LIBS)
endif
