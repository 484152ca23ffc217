# build fragment for lib/s3/xml.mk's component, included by Makefile.am
