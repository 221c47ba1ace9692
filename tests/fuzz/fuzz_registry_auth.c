/*
 * libFuzzer target for what the registry's auth flow reads from servers: the WWW-Authenticate
 * challenge (v2_challenge_parse() in updater/registry_v2.c) and token and login answers
 * (registry_token_answer() in updater/registry_common.c).
 *
 * The input's first line is the header, the rest the answer's body (with a status picked by
 * the header's length: 200 most of the time). For any input: no crash, leak or sanitizer
 * report; a challenge is Bearer or Basic, not both, and has fields only when it is one of
 * them; a token is accepted only when it is a non-empty printable ASCII string that can go
 * into a header, with expires_in between 0 and a day; a refusal is DB_EAUTH, another status
 * DB_ENET, a bad answer DB_EPARSE, each with a message naming the URL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/http.h"
#include "updater/registry_int.h"
#include "fuzz_registry.h"

#define SHOWN "https://auth.example.com/token"

static void check_challenge(const char *header)
{
	struct v2_challenge c;

	v2_challenge_parse(&c, header);
	fuzz_require(!(c.bearer && c.basic), "both Bearer and Basic");
	fuzz_require(c.bearer || c.basic || (!c.realm && !c.service && !c.scope),
	             "fields on an unknown scheme");
	v2_challenge_release(&c);
}

static void check_token(const char *body, size_t len, long status)
{
	static const char *const keys[] = {"token", "access_token", NULL};
	struct http_response res = HTTP_RESPONSE_INIT;
	struct db_err err = DB_ERR_INIT;
	char *token = NULL;
	long expires_in = -1;
	int ret;

	res.status = status;
	buf_add(&res.body, body, len);
	ret =
	    registry_token_answer(&res, SHOWN, keys, "anonymous access", &token, &expires_in, &err);
	if (!ret) {
		fuzz_require(status / 100 == 2, "a token from a non-2xx answer");
		fuzz_require(token && *token && registry_header_value_ok(token),
		             "a token that cannot go into a header");
		fuzz_require(expires_in >= 0 && expires_in <= 86400, "expires_in out of range");
	} else {
		fuzz_require(!token, "a token with an error");
		fuzz_require(ret == DB_EAUTH  ? status == 401 || status == 403
		             : ret == DB_ENET ? status / 100 != 2
		                              : ret == DB_EPARSE,
		             "the wrong error code");
		fuzz_require(strstr(err.msg, SHOWN) != NULL, "an error that does not name the URL");
	}
	free(token);
	http_response_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 200, 200, 200, 201, 401, 403, 500};
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size;
	char *header = xstrndup((const char *)data, hlen);

	check_challenge(header);
	if (nl)
		check_token((const char *)nl + 1, size - hlen - 1, statuses[hlen % 8]);
	free(header);
	return 0;
}
