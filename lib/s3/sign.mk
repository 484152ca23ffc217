# build fragment for lib/s3/sign.mk's component, included by Makefile.am
