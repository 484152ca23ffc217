# build fragment for tests/tests.mk's component, included by Makefile.am
