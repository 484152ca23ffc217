# build fragment for tests/torture (issue 5), included by Makefile.am
