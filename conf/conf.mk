# build fragment for conf, included by Makefile.am
dist_doc_DATA += conf/seafile.conf.example
