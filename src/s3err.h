/*
 * s3err: the proxy's own error replies, as S3-style XML documents so that
 * S3 SDKs parse them like the backend's.  Pure functions, any thread.
 */
#ifndef S3ERR_H
#define S3ERR_H

#include <stddef.h>

/* The largest document s3err_format() writes, resource included. */
#define S3ERR_MAX	2048

/* Errors the proxy itself answers with. */
enum s3err {
	S3ERR_BAD_REQUEST,	/* 400 InvalidRequest */
	S3ERR_INVALID_URI,	/* 400 InvalidURI */
	S3ERR_HEADERS_TOO_LARGE,/* 431 RequestHeaderSectionTooLarge */
	S3ERR_INTERNAL,		/* 500 InternalError */
	S3ERR_NOT_IMPLEMENTED,	/* 501 NotImplemented */
	S3ERR_BAD_GATEWAY,	/* 502 BadGateway */
	S3ERR_UNAVAILABLE,	/* 503 ServiceUnavailable */
	S3ERR_SLOW_DOWN,	/* 503 SlowDown (max-connections) */
	S3ERR_GATEWAY_TIMEOUT,	/* 504 GatewayTimeout */
};

/* HTTP status of an error. */
unsigned	s3err_status(enum s3err);
/* S3 error code string of an error, e.g. "BadGateway". */
const char	*s3err_code(enum s3err);

/* Writes the XML document for err into buf (cap bytes, NUL-terminated):
 * Code, Message (detail, may be NULL for the default text), Resource
 * (the request-target, XML-escaped and cut to fit) and RequestId.
 * Returns its length, or -1 if cap is too small for the fixed parts. */
int	s3err_format(char *buf, size_t cap, enum s3err err, const char *detail,
	    const char *resource, const char *request_id);

#endif
