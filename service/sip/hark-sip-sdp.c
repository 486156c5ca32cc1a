/* hark-sip-sdp.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The session description Hark gives soa (SOATAG_USER_SDP_STR): one audio
 * stream with every codec the media layer can run, in order of preference.
 * soa does the offer/answer itself (RFC 3264); this file only writes our
 * capabilities and reads back which codec won.
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
  g_autofree char *crypto = NULL;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (rtp_port > 0 && rtp_port < G_MAXUINT16, NULL);
  g_return_val_if_fail (!savp || srtp_key != NULL, NULL);

  if (srtp_key != NULL)
    crypto = g_strdup_printf ("a=crypto:1 " HARK_SIP_SDP_SRTP_SUITE " inline:%s\r\n", srtp_key);
  return g_strdup_printf (local_sdp_template, address, address, rtp_port,
                          savp ? "RTP/SAVP" : "RTP/AVP", crypto ? crypto : "");
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
