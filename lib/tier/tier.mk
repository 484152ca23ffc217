# build fragment for lib/tier, included by Makefile.am
