# build fragment for the S3 client (lib/s3/client*.c)
lib_libseaftier_la_SOURCES += lib/s3/client.c lib/s3/client-ops.c lib/s3/client-multipart.c \
	lib/s3/client-internal.h
