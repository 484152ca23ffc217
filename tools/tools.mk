# build fragment for seaftier-admin (tools/), included by Makefile.am
bin_PROGRAMS += tools/seaftier-admin
tools_seaftier_admin_SOURCES = \
	tools/admin.c tools/admin.h tools/common.c \
	tools/progress.c tools/progress.h \
	tools/cmd-status.c tools/cmd-flush.c tools/cmd-objects.c \
	tools/cmd-evict.c tools/cmd-warmup.c tools/cmd-verify.c tools/cmd-check.c \
	tools/copy-run.c tools/copy-run.h tools/cmd-migrate.c tools/cmd-export.c
tools_seaftier_admin_LDADD = lib/libseaftier.la $(DEPS_LIBS)

