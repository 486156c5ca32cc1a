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
  "m=audio %u RTP/AVP 96 9 0 8 101\r\n"
  "a=rtpmap:96 opus/48000/2\r\n"
  "a=fmtp:96 useinbandfec=1\r\n"
  "a=rtpmap:9 G722/8000\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:8 PCMA/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\n"
  "a=fmtp:101 0-16\r\n"
  "a=ptime:20\r\n"
  "a=sendrecv\r\n";

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
  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (rtp_port > 0 && rtp_port < G_MAXUINT16, NULL);

  return g_strdup_printf (local_sdp_template, address, address, rtp_port);
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
