# build fragment for examples/: seaftier-demo drives the library as seaf-server does
noinst_PROGRAMS += examples/seaftier-demo
examples_seaftier_demo_SOURCES = examples/seaftier-demo.c
examples_seaftier_demo_LDADD = lib/libseaftier.la $(DEPS_LIBS)
