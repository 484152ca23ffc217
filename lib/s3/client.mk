# build fragment for lib/s3/client.mk's component, included by Makefile.am
