# build fragment for lib/ (core modules); see also lib/s3/*.mk and lib/tier/*.mk
lib_libseaftier_la_SOURCES += lib/log.c lib/secrets.c
seaftierinclude_HEADERS += include/seaftier/log.h include/seaftier/config.h include/seaftier/s3.h \
	include/seaftier/secrets.h
