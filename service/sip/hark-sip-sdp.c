/* hark-sip-sdp.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session description Hark gives soa (SOATAG_USER_SDP_STR): one audio
 * stream with every codec the media layer can run, in order of preference.
 * soa does the offer/answer itself (RFC 3264); this file only writes our
 * capabilities and reads back which codec won. soa knows nothing of SDES
 * (RFC 4568): it copies our a=crypto line into an answer as it is and only
 * matches streams of the same transport (RTP/AVP, RTP/SAVP), so an answer's
 * SDP is written from the offer (hark_sip_sdp_read_offer()) and the keys
 * both sides chose are read back from the SDP soa settled on.
 */

#define G_LOG_DOMAIN "hark-sip"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/sdp.h>

#include "hark-sip-sdp.h"

/* Dynamic payload types: 96 for Opus, 101 for telephone-event (the values
 * most peers use, which makes traces easier to read; they are negotiable). */
static const char local_sdp_template[] =
  "v=0\r\n"
  "o=- 0 0 IN IP4 %s\r\n"
  "s=Hark\r\n"
  "c=IN IP4 %s\r\n"
  "t=0 0\r\n"
  "m=audio %u %s 96 9 0 8 101\r\n"
  "a=rtpmap:96 opus/48000/2\r\n"
  "a=fmtp:96 useinbandfec=1\r\n"
  "a=rtpmap:9 G722/8000\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:8 PCMA/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\n"
  "a=fmtp:101 0-16\r\n"
  "a=ptime:20\r\n"
  "a=sendrecv\r\n"
  "%s";

static HarkSipSdpCodecFilter codec_filter;

/**
 * hark_sip_sdp_set_codec_filter:
 * @filter: (nullable): decides which encodings our SDP lists
 *
 * Set once at start-up by the daemon (the media layer knows which codecs
 * the installed GStreamer plugins can run; this layer does not).
 */
void
hark_sip_sdp_set_codec_filter (HarkSipSdpCodecFilter filter)
{
  codec_filter = filter;
}

static gboolean
pt_in (GPtrArray  *pts,
       const char *pt)
{
  return g_ptr_array_find_with_equal_func (pts, pt, g_str_equal, NULL);
}

/* @sdp (taken) without the payload types whose encoding the filter refuses:
 * out of the m= line, with their a=rtpmap and a=fmtp lines. */
static char *
apply_codec_filter (char *sdp)
{
  g_auto(GStrv) lines = g_strsplit (sdp, "\r\n", -1);
  g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func (g_free);
  GString *out;

  for (guint i = 0; codec_filter != NULL && lines[i] != NULL; i++)
    {
      g_auto(GStrv) map = NULL;
      g_autofree char *encoding = NULL;

      if (!g_str_has_prefix (lines[i], "a=rtpmap:"))
        continue;
      map = g_strsplit (lines[i] + strlen ("a=rtpmap:"), " ", 2);
      if (map[0] == NULL || map[1] == NULL)
        continue;
      encoding = g_strndup (map[1], strcspn (map[1], "/"));
      if (!codec_filter (encoding))
        g_ptr_array_add (dropped, g_strdup (map[0]));
    }
  if (dropped->len == 0)
    return sdp;

  out = g_string_new (NULL);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      const char *line = lines[i];

      if (g_str_has_prefix (line, "m="))
        {
          g_auto(GStrv) fields = g_strsplit (line, " ", -1);

          for (guint j = 0; fields[j] != NULL; j++)
            if (j < 3 || !pt_in (dropped, fields[j]))
              g_string_append_printf (out, "%s%s", j > 0 ? " " : "", fields[j]);
          g_string_append (out, "\r\n");
          continue;
        }
      if (g_str_has_prefix (line, "a=rtpmap:") || g_str_has_prefix (line, "a=fmtp:"))
        {
          g_autofree char *pt = g_strndup (strchr (line, ':') + 1,
                                           strcspn (strchr (line, ':') + 1, " "));

          if (pt_in (dropped, pt))
            continue;
        }
      g_string_append_printf (out, "%s\r\n", line);
    }
  g_free (sdp);
  return g_string_free (out, FALSE);
}

/**
 * hark_sip_sdp_make_local:
 * @address: the IPv4 address media is received on
 * @rtp_port: the (even) RTP port; RTCP is the next one
 *
 * Returns: (transfer full): our capabilities as SDP, for SOATAG_USER_SDP_STR()
 */
char *
hark_sip_sdp_make_local (const char *address,
                         guint       rtp_port)
{
  return hark_sip_sdp_make_local_full (address, rtp_port, NULL, FALSE);
}

/**
 * hark_sip_sdp_make_local_full:
 * @address: the IPv4 address media is received on
 * @rtp_port: the (even) RTP port; RTCP is the next one
 * @srtp_key: (nullable): base64 SRTP master key and salt (30 bytes) to
 *   offer with SDES (RFC 4568), as `a=crypto:1 AES_CM_128_HMAC_SHA1_80`
 * @savp: whether the stream is RTP/SAVP (SRTP required) rather than
 *   RTP/AVP (SRTP if the peer takes it up)
 *
 * Returns: (transfer full): our capabilities as SDP, for SOATAG_USER_SDP_STR()
 */
char *
hark_sip_sdp_make_local_full (const char *address,
                              guint       rtp_port,
                              const char *srtp_key,
                              gboolean    savp)
{
  return hark_sip_sdp_make_local_crypto (address, rtp_port, 1, HARK_SIP_SDP_SRTP_SUITE, srtp_key,
                                         savp);
}

/**
 * hark_sip_sdp_make_local_crypto:
 * @address: the IPv4 address media is received on
 * @rtp_port: the (even) RTP port; RTCP is the next one
 * @crypto_tag: the a=crypto tag: 1 in an offer, the accepted line's in an
 *   answer (RFC 4568 section 5.1.2)
 * @crypto_suite: the crypto suite of that line
 * @srtp_key: (nullable): base64 SRTP master key and salt (30 bytes); %NULL
 *   for no a=crypto line
 * @savp: whether the stream is RTP/SAVP rather than RTP/AVP. soa only
 *   matches streams of the same transport, so an answer takes the offer's.
 *
 * Returns: (transfer full): our capabilities as SDP, for SOATAG_USER_SDP_STR()
 */
char *
hark_sip_sdp_make_local_crypto (const char *address,
                                guint       rtp_port,
                                guint       crypto_tag,
                                const char *crypto_suite,
                                const char *srtp_key,
                                gboolean    savp)
{
  g_autofree char *crypto = NULL;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (rtp_port > 0 && rtp_port < G_MAXUINT16, NULL);
  g_return_val_if_fail (!savp || srtp_key != NULL, NULL);
  g_return_val_if_fail (srtp_key == NULL || crypto_suite != NULL, NULL);

  if (srtp_key != NULL)
    crypto = g_strdup_printf ("a=crypto:%u %s inline:%s\r\n", crypto_tag, crypto_suite, srtp_key);
  return apply_codec_filter (g_strdup_printf (local_sdp_template, address, address, rtp_port,
                                              savp ? "RTP/SAVP" : "RTP/AVP",
                                              crypto ? crypto : ""));
}

static gboolean
udp_port_is_free (guint port)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (any, port);

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, NULL);
  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

/**
 * hark_sip_sdp_pick_rtp_port:
 *
 * An even UDP port that is free right now, with its odd neighbour free too
 * (RTP and RTCP, RFC 3550 section 11). Until the media layer binds its
 * sockets this is only what the SDP announces.
 *
 * Returns: the port, or 0 if none was found
 */
guint
hark_sip_sdp_pick_rtp_port (void)
{
  for (guint attempt = 0; attempt < 50; attempt++)
    {
      /* The range GNOME Calls and most softphones use by default. */
      guint port = 16384 + 2 * g_random_int_range (0, (32768 - 16384) / 2);

      if (udp_port_is_free (port) && udp_port_is_free (port + 1))
        return port;
    }

  return 0;
}

/**
 * hark_sip_sdp_dup_codec:
 * @sdp: (nullable): a negotiated session description
 *
 * Returns: (transfer full) (nullable): the first audio codec of @sdp that
 *   carries sound (not telephone-event), as "PCMU/8000"; %NULL if none
 */
char *
hark_sip_sdp_dup_codec (const char *sdp)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  sdp_parser_t *parser;
  sdp_session_t *session;
  char *codec = NULL;

  if (sdp == NULL || *sdp == '\0')
    return NULL;

  parser = sdp_parse (home, sdp, strlen (sdp), sdp_f_anynet);
  session = sdp_session (parser);

  for (sdp_media_t *m = session ? session->sdp_media : NULL; m != NULL && codec == NULL;
       m = m->m_next)
    {
      if (m->m_type != sdp_media_audio || m->m_port == 0 || m->m_rejected)
        continue;

      for (sdp_rtpmap_t *rm = m->m_rtpmaps; rm != NULL; rm = rm->rm_next)
        {
          if (rm->rm_encoding == NULL ||
              g_ascii_strcasecmp (rm->rm_encoding, "telephone-event") == 0)
            continue;
          /* Names come from the network: only keep them if they are text. */
          if (!g_utf8_validate (rm->rm_encoding, -1, NULL))
            continue;
          codec = g_strdup_printf ("%s/%lu", rm->rm_encoding, rm->rm_rate);
          break;
        }
    }

  sdp_parser_free (parser);
  su_home_deinit (home);
  return codec;
}

/* The first audio stream of @session that is not rejected. */
static sdp_media_t *
first_audio (sdp_session_t *session)
{
  for (sdp_media_t *m = session ? session->sdp_media : NULL; m != NULL; m = m->m_next)
    if (m->m_type == sdp_media_audio && m->m_port != 0 && !m->m_rejected)
      return m;
  return NULL;
}

static gboolean
is_telephone_event (const sdp_rtpmap_t *rm)
{
  return rm->rm_encoding != NULL && g_ascii_strcasecmp (rm->rm_encoding, "telephone-event") == 0;
}

static const sdp_rtpmap_t *
find_rtpmap (const sdp_media_t *m,
             const char        *encoding,
             unsigned long      rate)
{
  for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm != NULL; rm = rm->rm_next)
    if (rm->rm_encoding != NULL && g_ascii_strcasecmp (rm->rm_encoding, encoding) == 0 &&
        (rate == 0 || rm->rm_rate == rate))
      return rm;
  return NULL;
}

static guint
attribute_uint (const sdp_media_t *m,
                const char        *name)
{
  sdp_attribute_t *a = sdp_attribute_find (m->m_attributes, name);

  return a != NULL && a->a_value != NULL ? (guint) g_ascii_strtoull (a->a_value, NULL, 10) : 0;
}

/* An a=crypto value: "TAG SUITE inline:KEY[|lifetime][|MKI:len] [params]". */
static gboolean
parse_crypto (const char  *value,
              guint64     *tag,
              char       **suite,
              char       **key)
{
  g_auto(GStrv) fields = NULL;
  const char *inline_key;

  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    return FALSE;
  fields = g_strsplit_set (value, " \t", -1);
  if (g_strv_length (fields) < 3 || !g_ascii_string_to_unsigned (fields[0], 10, 0, 999999999,
                                                                   tag, NULL) ||
      !g_str_has_prefix (fields[2], "inline:"))
    return FALSE;
  inline_key = fields[2] + strlen ("inline:");
  *suite = g_strdup (fields[1]);
  *key = g_strndup (inline_key, strcspn (inline_key, "|"));
  return TRUE;
}

/* The SDES crypto both sides agreed: the answer carries one a=crypto line,
 * whose tag names the offered line it accepts (RFC 4568 section 5.1.2). */
static void
find_crypto (const sdp_media_t *local,
             const sdp_media_t *remote,
             gboolean           local_is_answer,
             HarkSipSdpAudio   *audio)
{
  const sdp_media_t *answer = local_is_answer ? local : remote;
  const sdp_media_t *offer = local_is_answer ? remote : local;
  sdp_attribute_t *a;
  guint64 answer_tag = 0;
  g_autofree char *answer_suite = NULL, *answer_key = NULL;

  for (a = answer->m_attributes; a != NULL; a = a->a_next)
    if (a->a_name != NULL && g_ascii_strcasecmp (a->a_name, "crypto") == 0 &&
        parse_crypto (a->a_value, &answer_tag, &answer_suite, &answer_key))
      break;
  if (a == NULL)
    return;

  for (a = offer->m_attributes; a != NULL; a = a->a_next)
    {
      guint64 tag = 0;
      g_autofree char *suite = NULL, *key = NULL;

      if (a->a_name == NULL || g_ascii_strcasecmp (a->a_name, "crypto") != 0 ||
          !parse_crypto (a->a_value, &tag, &suite, &key) || tag != answer_tag ||
          g_strcmp0 (suite, answer_suite) != 0)
        continue;
      audio->srtp_suite = g_steal_pointer (&answer_suite);
      audio->srtp_local_key = local_is_answer ? g_steal_pointer (&answer_key)
                                              : g_steal_pointer (&key);
      audio->srtp_remote_key = local_is_answer ? g_steal_pointer (&key)
                                               : g_steal_pointer (&answer_key);
      return;
    }
}

/* The suites the media layer runs (hark_media_srtp_suite_is_supported()). */
static const char * const srtp_suites[] = {
  "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", NULL
};

/* An offered a=crypto line we can answer: a suite we run, one inline key
 * of 30 bytes (AES-128 key and salt), no MKI (srtpdec expects none) and no
 * session parameters (RFC 4568 section 6.3: unknown ones make the line
 * unusable). A lifetime is fine: no call lasts 2^31 packets. */
static gboolean
crypto_is_usable (const char  *value,
                  guint64     *tag,
                  char       **suite)
{
  g_auto(GStrv) fields = NULL;
  g_auto(GStrv) key_params = NULL;
  g_autofree guchar *key = NULL;
  gsize length = 0;

  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    return FALSE;
  fields = g_strsplit (value, " ", -1);
  if (g_strv_length (fields) != 3 ||
      !g_ascii_string_to_unsigned (fields[0], 10, 0, 999999999, tag, NULL) ||
      !g_strv_contains (srtp_suites, fields[1]) ||
      !g_str_has_prefix (fields[2], "inline:") || strchr (fields[2], ';') != NULL)
    return FALSE;

  key_params = g_strsplit (fields[2] + strlen ("inline:"), "|", -1);
  if (g_strv_length (key_params) > 2 ||
      (key_params[1] != NULL && strchr (key_params[1], ':') != NULL) ||
      strlen (key_params[0]) != 40)
    return FALSE;
  key = g_base64_decode (key_params[0], &length);
  if (length != 30)
    return FALSE;

  *suite = g_strdup (fields[1]);
  return TRUE;
}

/**
 * hark_sip_sdp_read_offer:
 * @sdp: a peer's offer
 * @offer: (out caller-allocates): what it asks of media encryption, from
 *   its first active audio stream
 *
 * Returns: %FALSE if @sdp does not parse (then @offer is left empty)
 */
gboolean
hark_sip_sdp_read_offer (const char      *sdp,
                         HarkSipSdpOffer *offer)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  sdp_parser_t *parser;
  sdp_session_t *session;
  sdp_media_t *m;

  g_return_val_if_fail (offer != NULL, FALSE);

  *offer = (HarkSipSdpOffer) { 0, };
  if (sdp == NULL)
    return FALSE;

  parser = sdp_parse (home, sdp, strlen (sdp), sdp_f_anynet);
  session = sdp_session (parser);
  m = first_audio (session);
  if (m != NULL)
    {
      offer->has_audio = TRUE;
      offer->savp = m->m_proto == sdp_proto_srtp;
      for (sdp_attribute_t *a = m->m_attributes; a != NULL && offer->crypto_suite == NULL;
           a = a->a_next)
        {
          guint64 tag = 0;

          if (a->a_name != NULL && g_ascii_strcasecmp (a->a_name, "crypto") == 0 &&
              crypto_is_usable (a->a_value, &tag, &offer->crypto_suite))
            offer->crypto_tag = (guint) tag;
        }
    }

  sdp_parser_free (parser);
  su_home_deinit (home);
  return session != NULL;
}

void
hark_sip_sdp_offer_clear (HarkSipSdpOffer *offer)
{
  g_return_if_fail (offer != NULL);

  g_free (offer->crypto_suite);
  *offer = (HarkSipSdpOffer) { 0, };
}

static char *
dup_text (const char *text)
{
  return text != NULL && g_utf8_validate (text, -1, NULL) ? g_strdup (text) : NULL;
}

/**
 * hark_sip_sdp_get_audio:
 * @local_sdp: our side of a completed offer/answer (soa's local SDP)
 * @remote_sdp: the peer's side
 * @local_is_answer: whether we answered (the answer lists what was agreed)
 * @audio: (out caller-allocates): the agreed audio stream
 *
 * Returns: %FALSE if there is no active audio stream on both sides (then
 *   @audio is left empty)
 */
gboolean
hark_sip_sdp_get_audio (const char      *local_sdp,
                        const char      *remote_sdp,
                        gboolean         local_is_answer,
                        HarkSipSdpAudio *audio)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  sdp_parser_t *local_parser = NULL, *remote_parser = NULL;
  sdp_session_t *remote_session;
  sdp_media_t *local, *remote, *answer;
  const sdp_rtpmap_t *chosen = NULL, *sent, *dtmf = NULL;
  const sdp_connection_t *c;
  gboolean ok = FALSE;

  g_return_val_if_fail (audio != NULL, FALSE);

  *audio = (HarkSipSdpAudio) { 0, };
  if (local_sdp == NULL || remote_sdp == NULL)
    return FALSE;

  local_parser = sdp_parse (home, local_sdp, strlen (local_sdp), sdp_f_anynet);
  remote_parser = sdp_parse (home, remote_sdp, strlen (remote_sdp), sdp_f_anynet);
  remote_session = sdp_session (remote_parser);
  local = first_audio (sdp_session (local_parser));
  remote = first_audio (remote_session);
  if (local == NULL || remote == NULL)
    goto out;

  answer = local_is_answer ? local : remote;
  for (const sdp_rtpmap_t *rm = answer->m_rtpmaps; rm != NULL && chosen == NULL; rm = rm->rm_next)
    if (rm->rm_encoding != NULL && !is_telephone_event (rm))
      chosen = rm;
  if (chosen == NULL)
    goto out;

  /* We send with the payload type the peer listed for that codec. */
  sent = find_rtpmap (remote, chosen->rm_encoding, chosen->rm_rate);
  if (sent == NULL)
    sent = chosen;

  /* telephone-event, when both sides have it: at the codec's rate if
   * offered so, else at any rate. */
  if (find_rtpmap (local, "telephone-event", 0) != NULL)
    {
      dtmf = find_rtpmap (remote, "telephone-event", sent->rm_rate);
      if (dtmf == NULL)
        dtmf = find_rtpmap (remote, "telephone-event", 0);
    }

  c = remote->m_connections ? remote->m_connections : remote_session->sdp_connection;
  if (c == NULL || c->c_address == NULL || !g_utf8_validate (c->c_address, -1, NULL))
    goto out;

  audio->address = g_strdup (c->c_address);
  audio->port = remote->m_port;
  audio->rtcp_port = attribute_uint (remote, "rtcp");
  audio->encoding = dup_text (sent->rm_encoding);
  audio->payload_type = sent->rm_pt;
  audio->clock_rate = sent->rm_rate;
  audio->channels = sent->rm_params ? (guint) g_ascii_strtoull (sent->rm_params, NULL, 10) : 0;
  audio->ptime = attribute_uint (remote, "ptime");
  audio->fmtp = dup_text (sent->rm_fmtp);
  audio->dtmf_payload_type = dtmf ? dtmf->rm_pt : 0;
  audio->dtmf_clock_rate = dtmf ? dtmf->rm_rate : 0;
  switch (local->m_mode)
    {
    case sdp_sendonly: audio->direction = "sendonly"; break;
    case sdp_recvonly: audio->direction = "recvonly"; break;
    case sdp_inactive: audio->direction = "inactive"; break;
    case sdp_sendrecv:
    default: audio->direction = "sendrecv"; break;
    }
  find_crypto (local, remote, local_is_answer, audio);
  audio->savp = local->m_proto == sdp_proto_srtp || remote->m_proto == sdp_proto_srtp;
  ok = audio->encoding != NULL;

out:
  if (!ok)
    hark_sip_sdp_audio_clear (audio);
  sdp_parser_free (local_parser);
  sdp_parser_free (remote_parser);
  su_home_deinit (home);
  return ok;
}

void
hark_sip_sdp_audio_clear (HarkSipSdpAudio *audio)
{
  g_return_if_fail (audio != NULL);

  g_free (audio->address);
  g_free (audio->encoding);
  g_free (audio->fmtp);
  g_free (audio->srtp_suite);
  g_free (audio->srtp_local_key);
  g_free (audio->srtp_remote_key);
  *audio = (HarkSipSdpAudio) { 0, };
}
