# build fragment for the config loader (seafile.conf + S3_* environment), included by Makefile.am
lib_libseaftier_la_SOURCES += lib/config/config.c lib/config/config-s3.c lib/config/config-tier.c lib/config/config-env.c \
	lib/config/config-values.c lib/config/bucket-name.c lib/config/config-internal.h lib/config/bucket-name.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_config_LDADD = $(TEST_LIBS)
endif

# The libFuzzer target (tests/fuzz/fuzz_config.c) is built by tests/fuzz/run-fuzz.sh
# with clang; here the same file is built with its own main() that replays the
# seed corpus, so every seed is checked under the sanitizers by `make check`.
check_PROGRAMS += tests/fuzz/fuzz_config_replay
TESTS += tests/fuzz/fuzz_config_replay
tests_fuzz_fuzz_config_replay_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_replay_CPPFLAGS = $(AM_CPPFLAGS) -DSEAFTIER_FUZZ_REPLAY
tests_fuzz_fuzz_config_replay_LDADD = lib/libseaftier.la $(DEPS_LIBS)
EXTRA_DIST += tests/fuzz/corpus/config
EXTRA_DIST += lib/config/README.md
