# build fragment for tests/bench (`make bench`), included by Makefile.am
#
# The bench programs are noinst (built with the rest, so they cannot rot) and
# never part of `make check`: `make bench` runs them through run-bench.sh,
# which starts the peers (memcached, Redis, the test S3 server, awscli) on
# loopback and prints the ratios against them. They need libmemcached and
# hiredis (configure's HAVE_BENCH_PEERS). tests/bench/upload/ (the seaftier
# side of the upload benchmark) belongs to the daemon's engineers; it times
# tools/seaftier-admin.
EXTRA_DIST += tests/bench/run-bench.sh tests/bench/RESULTS.md tests/bench/bench-util.h \
	tests/bench/bench-seafile.sh tests/bench/seafile-client.py tests/bench/bench-migrate.sh \
	tests/bench/bench-upload.sh tests/bench/free-port.sh

# gnuplot script for the plots beside bench-results.json
EXTRA_DIST += tests/bench/plot-bench.sh

BENCH_COMMON = tests/bench/bench-util.c tests/bench/bench-util.h
BENCH_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common -I$(top_srcdir)/tests/bench
BENCH_LIBS = lib/libseaftier.la $(DEPS_LIBS)

if HAVE_BENCH_PEERS
BENCH_PROGS = tests/bench/bench_conf tests/bench/bench_small tests/bench/bench_block \
	tests/bench/bench_write tests/bench/bench_scale tests/bench/upload/bench_upload \
	tests/bench/latency-proxy
noinst_PROGRAMS += $(BENCH_PROGS)

tests_bench_bench_conf_SOURCES = tests/bench/bench_conf.c tests/common/s3test.c
tests_bench_bench_conf_CPPFLAGS = $(BENCH_CPPFLAGS)
tests_bench_bench_conf_LDADD = $(BENCH_LIBS)

tests_bench_bench_small_SOURCES = tests/bench/bench_small.c $(BENCH_COMMON)
tests_bench_bench_small_CPPFLAGS = $(BENCH_CPPFLAGS)
tests_bench_bench_small_CFLAGS = $(AM_CFLAGS) $(MEMCACHED_CFLAGS) $(HIREDIS_CFLAGS)
tests_bench_bench_small_LDADD = $(BENCH_LIBS) $(MEMCACHED_LIBS) $(HIREDIS_LIBS)

tests_bench_bench_block_SOURCES = tests/bench/bench_block.c $(BENCH_COMMON)
tests_bench_bench_block_CPPFLAGS = $(BENCH_CPPFLAGS)
tests_bench_bench_block_LDADD = $(BENCH_LIBS)

tests_bench_bench_write_SOURCES = tests/bench/bench_write.c $(BENCH_COMMON)
tests_bench_bench_write_CPPFLAGS = $(BENCH_CPPFLAGS)
tests_bench_bench_write_LDADD = $(BENCH_LIBS)

tests_bench_bench_scale_SOURCES = tests/bench/bench_scale.c $(BENCH_COMMON)
tests_bench_bench_scale_CPPFLAGS = $(BENCH_CPPFLAGS)
tests_bench_bench_scale_LDADD = $(BENCH_LIBS)

# a TCP relay adding a fixed delay each way (S3 "20 ms away" for the seaf-server phase)
tests_bench_latency_proxy_SOURCES = tests/bench/latency-proxy.c
tests_bench_latency_proxy_LDADD = -lpthread

tests_bench_upload_bench_upload_SOURCES = tests/bench/upload/bench_upload.c $(BENCH_COMMON)
tests_bench_upload_bench_upload_CPPFLAGS = $(BENCH_CPPFLAGS)
tests_bench_upload_bench_upload_LDADD = $(BENCH_LIBS)

bench: $(BENCH_PROGS) tools/seaftier-admin daemon/seaftierd
	@BENCH_BUILDDIR='$(abs_top_builddir)' BENCH_SRCDIR='$(abs_top_srcdir)' \
	BENCH_SAN_CFLAGS='$(SAN_CFLAGS)' \
	$(SHELL) $(top_srcdir)/tests/bench/run-bench.sh
	@$(MAKE) $(AM_MAKEFLAGS) bench-migrate

# seaftier-admin migrate vs aws s3 cp (tests/bench/bench-migrate.sh).
bench-migrate: tests/bench/bench_conf tools/seaftier-admin
	@BENCH_BUILDDIR='$(abs_top_builddir)' BENCH_SRCDIR='$(abs_top_srcdir)' \
	$(SHELL) $(top_srcdir)/tests/bench/bench-migrate.sh
else
bench:
	@echo "make bench needs libmemcached and hiredis (apt-get install libmemcached-dev libhiredis-dev), then ./configure again" >&2; exit 1
endif
.PHONY: bench bench-migrate
