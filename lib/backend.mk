# build fragment for lib/backend.mk's component, included by Makefile.am
