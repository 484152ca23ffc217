# build fragment for daemon, included by Makefile.am
