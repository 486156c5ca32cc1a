/* test-digest.c
 *
 * Digest computations against the published examples.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "hark-digest.h"

/* RFC 7616 §3.9.1 */
#define RFC7616_USER "Mufasa"
#define RFC7616_PASSWORD "Circle of Life"
#define RFC7616_REALM "http-auth@example.org"
#define RFC7616_URI "/dir/index.html"
#define RFC7616_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC7616_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC7616_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

static void
test_rfc7616_sha256 (void)
{
  g_autofree char *response = NULL;

  response = hark_digest_compute_response (HARK_DIGEST_ALGORITHM_SHA256,
                                           RFC7616_USER, RFC7616_REALM, RFC7616_PASSWORD,
                                           "GET", RFC7616_URI, RFC7616_NONCE,
                                           "auth", "00000001", RFC7616_CNONCE);
  g_assert_cmpstr (response, ==,
                   "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void
test_rfc7616_md5 (void)
{
  g_autofree char *response = NULL;

  response = hark_digest_compute_response (HARK_DIGEST_ALGORITHM_MD5,
                                           RFC7616_USER, RFC7616_REALM, RFC7616_PASSWORD,
                                           "GET", RFC7616_URI, RFC7616_NONCE,
                                           "auth", "00000001", RFC7616_CNONCE);
  g_assert_cmpstr (response, ==, "8ca523f5e9506fed4657c9700eebdbec");
}

/* RFC 2617 §3.5, the classic MD5 example */
static void
test_rfc2617_md5 (void)
{
  g_autofree char *response = NULL;

  response = hark_digest_compute_response (HARK_DIGEST_ALGORITHM_MD5,
                                           "Mufasa", "testrealm@host.com", "Circle Of Life",
                                           "GET", "/dir/index.html",
                                           "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                           "auth", "00000001", "0a4f113b");
  g_assert_cmpstr (response, ==, "6629fae49393a05397450978507c4ef1");
}

/* Without qop (RFC 2069): H(HA1:nonce:HA2), computed by hand with GChecksum */
static void
test_no_qop (void)
{
  g_autofree char *response = NULL;
  g_autofree char *ha1 = NULL;
  g_autofree char *ha2 = NULL;
  g_autofree char *a1 = NULL;
  g_autofree char *a2 = NULL;
  g_autofree char *r = NULL;
  g_autofree char *expected = NULL;

  a1 = g_strdup ("alice:example.org:secret");
  ha1 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, a1, -1);
  a2 = g_strdup ("REGISTER:sip:example.org");
  ha2 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, a2, -1);
  r = g_strdup_printf ("%s:abc:%s", ha1, ha2);
  expected = g_compute_checksum_for_string (G_CHECKSUM_SHA256, r, -1);

  response = hark_digest_compute_response (HARK_DIGEST_ALGORITHM_SHA256,
                                           "alice", "example.org", "secret",
                                           "REGISTER", "sip:example.org", "abc",
                                           NULL, NULL, NULL);
  g_assert_cmpstr (response, ==, expected);

  /* qop needs nc and cnonce */
  g_assert_null (hark_digest_compute_response (HARK_DIGEST_ALGORITHM_SHA256,
                                               "alice", "example.org", "secret",
                                               "REGISTER", "sip:example.org", "abc",
                                               "auth", NULL, NULL));
  g_assert_null (hark_digest_compute_response (HARK_DIGEST_ALGORITHM_UNKNOWN,
                                               "alice", "example.org", "secret",
                                               "REGISTER", "sip:example.org", "abc",
                                               NULL, NULL, NULL));
}

static void
test_algorithm_names (void)
{
  g_assert_cmpint (hark_digest_algorithm_from_string (NULL), ==, HARK_DIGEST_ALGORITHM_MD5);
  g_assert_cmpint (hark_digest_algorithm_from_string ("md5"), ==, HARK_DIGEST_ALGORITHM_MD5);
  g_assert_cmpint (hark_digest_algorithm_from_string ("SHA-256"), ==,
                   HARK_DIGEST_ALGORITHM_SHA256);
  g_assert_cmpint (hark_digest_algorithm_from_string ("sha-256-sess"), ==,
                   HARK_DIGEST_ALGORITHM_SHA256_SESS);
  g_assert_cmpint (hark_digest_algorithm_from_string ("SHA-512-256"), ==,
                   HARK_DIGEST_ALGORITHM_UNKNOWN);
  g_assert_cmpint (hark_digest_algorithm_strength (HARK_DIGEST_ALGORITHM_SHA256), >,
                   hark_digest_algorithm_strength (HARK_DIGEST_ALGORITHM_MD5));
  g_assert_cmpint (hark_digest_algorithm_strength (HARK_DIGEST_ALGORITHM_UNKNOWN), ==, 0);
}

static void
test_challenge_parse (void)
{
  const char * const params[] = {
    "realm=\"" RFC7616_REALM "\"",
    "qop=\"auth, auth-int\"",
    "algorithm=SHA-256",
    "nonce=\"" RFC7616_NONCE "\"",
    "opaque=\"" RFC7616_OPAQUE "\"",
    "stale=TRUE",
    NULL
  };
  const char * const escaped[] = { "realm=\"a\\\"b\"", "nonce=n", NULL };
  const char * const no_nonce[] = { "realm=\"x\"", NULL };
  g_autoptr(HarkDigestChallenge) challenge = NULL;
  g_autoptr(HarkDigestChallenge) other = NULL;

  challenge = hark_digest_challenge_parse ("Digest", params);
  g_assert_nonnull (challenge);
  g_assert_cmpint (challenge->algorithm, ==, HARK_DIGEST_ALGORITHM_SHA256);
  g_assert_cmpstr (challenge->realm, ==, RFC7616_REALM);
  g_assert_cmpstr (challenge->nonce, ==, RFC7616_NONCE);
  g_assert_cmpstr (challenge->opaque, ==, RFC7616_OPAQUE);
  g_assert_true (challenge->qop_offered);
  g_assert_true (challenge->qop_auth);
  g_assert_true (challenge->stale);

  other = hark_digest_challenge_parse ("digest", escaped);
  g_assert_nonnull (other);
  g_assert_cmpstr (other->realm, ==, "a\"b");
  g_assert_cmpint (other->algorithm, ==, HARK_DIGEST_ALGORITHM_MD5);
  g_assert_false (other->qop_offered);

  g_assert_null (hark_digest_challenge_parse ("Basic", params));
  g_assert_null (hark_digest_challenge_parse ("Digest", no_nonce));
}

/* The whole header for the RFC 7616 example: the response must be the
 * published one and every part the server needs must be echoed */
static void
test_build_authorization (void)
{
  const char * const params[] = {
    "realm=\"" RFC7616_REALM "\"",
    "qop=\"auth, auth-int\"",
    "algorithm=SHA-256",
    "nonce=\"" RFC7616_NONCE "\"",
    "opaque=\"" RFC7616_OPAQUE "\"",
    NULL
  };
  const char * const auth_int_only[] = {
    "realm=\"r\"", "nonce=\"n\"", "qop=\"auth-int\"", NULL
  };
  g_autoptr(HarkDigestChallenge) challenge = hark_digest_challenge_parse ("Digest", params);
  g_autoptr(HarkDigestChallenge) unanswerable = NULL;
  g_autofree char *header = NULL;
  g_autofree char *fresh1 = NULL;
  g_autofree char *fresh2 = NULL;

  header = hark_digest_build_authorization (challenge, RFC7616_USER, RFC7616_PASSWORD,
                                            "GET", RFC7616_URI, 1, RFC7616_CNONCE);
  g_assert_nonnull (header);
  g_assert_true (g_str_has_prefix (header, "Digest username=\"Mufasa\""));
  g_assert_nonnull (strstr (header, "realm=\"" RFC7616_REALM "\""));
  g_assert_nonnull (strstr (header, "nonce=\"" RFC7616_NONCE "\""));
  g_assert_nonnull (strstr (header, "uri=\"" RFC7616_URI "\""));
  g_assert_nonnull (strstr (header, "response=\"753927fa0e85d155564e2e272a28d180"
                                    "2ca10daf4496794697cf8db5856cb6c1\""));
  g_assert_nonnull (strstr (header, "algorithm=SHA-256"));
  g_assert_nonnull (strstr (header, "opaque=\"" RFC7616_OPAQUE "\""));
  g_assert_nonnull (strstr (header, "cnonce=\"" RFC7616_CNONCE "\""));
  g_assert_nonnull (strstr (header, "qop=auth"));
  g_assert_nonnull (strstr (header, "nc=00000001"));

  /* without a given cnonce, each answer is a fresh one */
  fresh1 = hark_digest_build_authorization (challenge, "a", "b", "REGISTER", "sip:x", 1, NULL);
  fresh2 = hark_digest_build_authorization (challenge, "a", "b", "REGISTER", "sip:x", 1, NULL);
  g_assert_cmpstr (fresh1, !=, fresh2);

  unanswerable = hark_digest_challenge_parse ("Digest", auth_int_only);
  g_assert_null (hark_digest_build_authorization (unanswerable, "a", "b", "REGISTER", "sip:x",
                                                  1, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hark/sip/digest/rfc7616-sha256", test_rfc7616_sha256);
  g_test_add_func ("/hark/sip/digest/rfc7616-md5", test_rfc7616_md5);
  g_test_add_func ("/hark/sip/digest/rfc2617-md5", test_rfc2617_md5);
  g_test_add_func ("/hark/sip/digest/no-qop", test_no_qop);
  g_test_add_func ("/hark/sip/digest/algorithm-names", test_algorithm_names);
  g_test_add_func ("/hark/sip/digest/challenge-parse", test_challenge_parse);
  g_test_add_func ("/hark/sip/digest/build-authorization", test_build_authorization);

  return g_test_run ();
}
