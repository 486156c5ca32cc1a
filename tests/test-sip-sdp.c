/* test-sip-sdp.c — what Hark reads back from an offer/answer: SRTP (SDES)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "hark-sip-sdp.h"

#define KEY_A "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoZ"
#define KEY_B "UVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoZ"

static void
test_offer (void)
{
  g_autofree char *plain = hark_sip_sdp_make_local_full ("192.0.2.1", 4000, NULL, FALSE);
  g_autofree char *optional = hark_sip_sdp_make_local_full ("192.0.2.1", 4000, KEY_A, FALSE);
  g_autofree char *required = hark_sip_sdp_make_local_full ("192.0.2.1", 4000, KEY_A, TRUE);
  g_autofree char *legacy = hark_sip_sdp_make_local ("192.0.2.1", 4000);

  g_assert_cmpstr (plain, ==, legacy);
  g_assert_nonnull (strstr (plain, "m=audio 4000 RTP/AVP "));
  g_assert_null (strstr (plain, "a=crypto"));
  g_assert_nonnull (strstr (optional, "m=audio 4000 RTP/AVP "));
  g_assert_nonnull (strstr (optional, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n"));
  g_assert_nonnull (strstr (required, "m=audio 4000 RTP/SAVP "));
  g_assert_nonnull (strstr (required, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A));
}

/* Both Harks: each side's own line, tag 1. */
static void
test_agreed (void)
{
  g_autofree char *a = hark_sip_sdp_make_local_full ("192.0.2.1", 4000, KEY_A, TRUE);
  g_autofree char *b = hark_sip_sdp_make_local_full ("192.0.2.2", 5000, KEY_B, TRUE);
  g_auto(HarkSipSdpAudio) at_a = { 0, };
  g_auto(HarkSipSdpAudio) at_b = { 0, };

  g_assert_true (hark_sip_sdp_get_audio (a, b, FALSE, &at_a));
  g_assert_cmpstr (at_a.srtp_suite, ==, "AES_CM_128_HMAC_SHA1_80");
  g_assert_cmpstr (at_a.srtp_local_key, ==, KEY_A);
  g_assert_cmpstr (at_a.srtp_remote_key, ==, KEY_B);

  g_assert_true (hark_sip_sdp_get_audio (b, a, TRUE, &at_b));
  g_assert_cmpstr (at_b.srtp_suite, ==, "AES_CM_128_HMAC_SHA1_80");
  g_assert_cmpstr (at_b.srtp_local_key, ==, KEY_B);
  g_assert_cmpstr (at_b.srtp_remote_key, ==, KEY_A);
}

/* A peer that offers several suites and lifetimes; the answer takes tag 2. */
static void
test_peer_choice (void)
{
  g_autofree char *offer = g_strdup_printf (
    "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
    "m=audio 6000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:%s\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20|1:4\r\n", KEY_A, KEY_B);
  g_autofree char *answer = g_strdup_printf (
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", KEY_A);
  g_auto(HarkSipSdpAudio) audio = { 0, };

  g_assert_true (hark_sip_sdp_get_audio (answer, offer, TRUE, &audio));
  g_assert_cmpstr (audio.srtp_suite, ==, "AES_CM_128_HMAC_SHA1_80");
  g_assert_cmpstr (audio.srtp_local_key, ==, KEY_A);
  g_assert_cmpstr (audio.srtp_remote_key, ==, KEY_B);
}

/* No crypto in the answer, or one that matches no offered line: plain. */
static void
test_plain (void)
{
  g_autofree char *a = hark_sip_sdp_make_local_full ("192.0.2.1", 4000, KEY_A, FALSE);
  g_autofree char *b = hark_sip_sdp_make_local_full ("192.0.2.2", 5000, NULL, FALSE);
  g_autofree char *c = NULL;
  g_auto(HarkSipSdpAudio) audio = { 0, };
  char *tag;

  g_assert_true (hark_sip_sdp_get_audio (a, b, FALSE, &audio));
  g_assert_cmpstr (audio.encoding, ==, "opus");
  g_assert_null (audio.srtp_suite);
  g_assert_null (audio.srtp_local_key);
  hark_sip_sdp_audio_clear (&audio);

  c = hark_sip_sdp_make_local_full ("192.0.2.2", 5000, KEY_B, FALSE);
  tag = strstr (c, "a=crypto:1");
  tag[9] = '7';
  g_assert_true (hark_sip_sdp_get_audio (a, c, FALSE, &audio));
  g_assert_null (audio.srtp_suite);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hark/media/sdp/offer", test_offer);
  g_test_add_func ("/hark/media/sdp/srtp-agreed", test_agreed);
  g_test_add_func ("/hark/media/sdp/srtp-peer-choice", test_peer_choice);
  g_test_add_func ("/hark/media/sdp/srtp-plain", test_plain);

  return g_test_run ();
}
