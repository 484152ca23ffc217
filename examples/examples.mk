# build fragment for examples/, included by Makefile.am
