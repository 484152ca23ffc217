# build fragment for tests/bench, included by Makefile.am
