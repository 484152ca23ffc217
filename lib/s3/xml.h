/*
 * lib/s3/xml.h — parsing of the S3 XML documents the client reads (GMarkup).
 *
 * Every parser accepts only well-formed documents of the expected root
 * element and returns FALSE with a GError (SEAFTIER_S3_ERROR_BAD_RESPONSE)
 * for truncated, garbage or unexpected input; none crashes on any input.
 */
#ifndef SEAFTIER_S3_XML_H
#define SEAFTIER_S3_XML_H

#include <glib.h>
#include <seaftier/s3.h>

/* <Error><Code/><Message/><Resource/><RequestId/></Error>. Missing elements
 * are returned as NULL. */
typedef struct {
    char *code;
    char *message;
    char *resource;
    char *request_id;
} S3XmlError;
gboolean s3_xml_parse_error(const char *xml, gsize len, S3XmlError *out, GError **error);
void s3_xml_error_clear(S3XmlError *e);

/* <ListBucketResult> of ListObjectsV2: Contents/Key+Size, IsTruncated,
 * NextContinuationToken. A truncated result without a token is an error. */
gboolean s3_xml_parse_list_v2(const char *xml, gsize len, SeaftierS3ListPage **page, GError **error);

/* <InitiateMultipartUploadResult><UploadId/>. Returns a new string. */
char *s3_xml_parse_upload_id(const char *xml, gsize len, GError **error);

/* <CopyObjectResult> or <CompleteMultipartUploadResult>: succeeds only if the
 * root is the expected one (S3 can answer 200 with an <Error> body). */
gboolean s3_xml_check_root(const char *xml, gsize len, const char *root, GError **error);

/* <DeleteResult>: keys listed under <Error><Key> are appended to `failed`
 * (char*, newly allocated); `first_code` gets the first error code (may be NULL). */
gboolean s3_xml_parse_delete_result(const char *xml, gsize len, GPtrArray *failed,
                                    char **first_code, GError **error);

/* Builds the <Delete><Quiet>true</Quiet><Object><Key>…</Key></Object>…</Delete>
 * body with XML escaping. Returns a new string. */
char *s3_xml_build_delete(const char *const *keys, guint n_keys);

/* Builds <CompleteMultipartUpload> from part ETags (quoted as S3 returned them),
 * parts numbered from 1. */
char *s3_xml_build_complete(const char *const *etags, guint n_parts);

#endif
