# build fragment for tools, included by Makefile.am
