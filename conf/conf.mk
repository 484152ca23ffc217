# build fragment for conf, included by Makefile.am
