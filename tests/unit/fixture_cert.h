/*
 * Test fixtures shared by unit tests: a throwaway self-signed P-256
 * certificate (CN test-a) and its key.
 */
#ifndef FIXTURE_CERT_H
#define FIXTURE_CERT_H

static const char cert_a[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBeTCCAR+gAwIBAgIUAMNhADoGkWT97hLtqIx0SlRjxLUwCgYIKoZIzj0EAwIw\n"
	"ETEPMA0GA1UEAwwGdGVzdC1hMCAXDTI2MTEyNzEwNDc0NloYDzIxMjYxMTAzMTA0\n"
	"NzQ2WjARMQ8wDQYDVQQDDAZ0ZXN0LWEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
	"AASTjNtF+HTMo5evFFRxklN/jdidpn1oUpi+BvNHKz0+79niIM+X/yFlgEkKpnzS\n"
	"LLcX1GPD8LDAPzN+psfC4b7Ho1MwUTAdBgNVHQ4EFgQUHAqmLRMZOlPjRGeidGmo\n"
	"ktoPAcowHwYDVR0jBBgwFoAUHAqmLRMZOlPjRGeidGmoktoPAcowDwYDVR0TAQH/\n"
	"BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAt5hg2d1OdXs9nakf2RUXB6rQcKIF\n"
	"4Stgp5zF7A7FGGICIFUZIvlb4f8kM2hE0mcy3f3w40HwzjoiQ6GvLyqeDTs7\n"
	"-----END CERTIFICATE-----\n";
static const char key_a[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYP9ZSs3WL4JvFAo+\n"
	"aXY7cWRsSYcGb64pfUq7LF4wSnihRANCAASTjNtF+HTMo5evFFRxklN/jdidpn1o\n"
	"Upi+BvNHKz0+79niIM+X/yFlgEkKpnzSLLcX1GPD8LDAPzN+psfC4b7H\n"
	"-----END PRIVATE KEY-----\n";

#endif
