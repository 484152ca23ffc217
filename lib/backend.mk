# build fragment for the Seafile backends (lib/backend-*.c) and lib/flush.c,
# included by Makefile.am
lib_libseaftier_la_SOURCES += \
	lib/backend-shared.c lib/backend-common.c lib/backend-common.h \
	lib/backend-list.c lib/backend-obj.c lib/backend-block.c \
	lib/flush.c lib/flush.h
seaftierinclude_HEADERS += include/seaftier/backend.h
