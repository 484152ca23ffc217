# build fragment for lib/s3/xml.mk's component, included by Makefile.am
# S3 XML responses and request bodies (GMarkup).
lib_libseaftier_la_SOURCES += lib/s3/xml.c lib/s3/xml.h

check_PROGRAMS += tests/unit/test_xml
TESTS += tests/unit/test_xml
tests_unit_test_xml_SOURCES = tests/unit/test_xml.c
tests_unit_test_xml_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_xml_LDADD = $(TEST_LIBS)

# libFuzzer target, built and run by tests/fuzz/run-fuzz.sh (clang), not by make.
EXTRA_DIST += tests/fuzz/run-fuzz.sh tests/fuzz/fuzz_xml.c tests/fuzz/corpus/xml
