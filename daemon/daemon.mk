# build fragment for seaftierd (daemon/), included by Makefile.am
#
# daemon/libseaftierd-core.la holds what seaftierd and seaftier-admin share:
# configuration/tier/S3 set-up, the uploader and flush job, remote deletes,
# the bucket probe, metrics and JSON output.
noinst_LTLIBRARIES += daemon/libseaftierd-core.la
daemon_libseaftierd_core_la_SOURCES = \
	daemon/env.c daemon/env.h \
	daemon/inflight.c daemon/inflight.h \
	daemon/workers.c daemon/workers.h \
	daemon/uploader.c daemon/uploader.h \
	daemon/flush-job.c daemon/flush-job.h \
	daemon/deleter.c daemon/deleter.h \
	daemon/probe.c daemon/probe.h \
	daemon/metrics.c daemon/metrics.h \
	daemon/json.c daemon/json.h
daemon_libseaftierd_core_la_LIBADD = lib/libseaftier.la

sbin_PROGRAMS += daemon/seaftierd
daemon_seaftierd_SOURCES = \
	daemon/main.c daemon/daemon.h \
	daemon/scheduler.c daemon/housekeeping.c daemon/evictor.c \
	daemon/control-socket.c
daemon_seaftierd_LDADD = daemon/libseaftierd-core.la lib/libseaftier.la $(DEPS_LIBS)

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
tests_integration_test_sse_c_proof_LDADD = daemon/libseaftierd-core.la $(TEST_LIBS)
# The tests run the programs they check.
tests/integration/test_daemon.log tests/integration/test_daemon_sigterm.log \
tests/integration/test_admin.log tests/integration/test_sse_c_proof.log: \
	daemon/seaftierd$(EXEEXT) tools/seaftier-admin$(EXEEXT)


if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_daemon_core
TESTS += tests/unit/test_daemon_core
tests_unit_test_daemon_core_SOURCES = tests/unit/test_daemon_core.c
tests_unit_test_daemon_core_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_daemon_core_LDADD = daemon/libseaftierd-core.la $(TEST_LIBS)
endif
