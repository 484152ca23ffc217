# build fragment for lib/config.mk's component, included by Makefile.am
