/* hark-sip-sdp.h — the SDP Hark offers and answers with (through Sofia's soa)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * HARK_SIP_SDP_AUDIO_AUX:
 *
 * Auxiliary audio codecs soa keeps in an answer beside the one codec it
 * selects (SOATAG_AUDIO_AUX()).
 */
#define HARK_SIP_SDP_AUDIO_AUX "telephone-event"
#define HARK_SIP_SDP_SRTP_SUITE "AES_CM_128_HMAC_SHA1_80"

/**
 * HarkSipSdpOffer:
 * @has_audio: whether the offer has an active audio stream
 * @savp: whether that stream is RTP/SAVP (the offerer requires SRTP)
 * @crypto_tag: the tag of the first a=crypto line Hark can take up
 * @crypto_suite: (nullable): its suite; %NULL when no line is usable
 *
 * What an SDP offer asks of media encryption (SDES, RFC 4568), read
 * before answering it.
 */
typedef struct {
  gboolean  has_audio;
  gboolean  savp;
  guint     crypto_tag;
  char     *crypto_suite;
} HarkSipSdpOffer;

/**
 * HarkSipSdpAudio:
 * @address: the peer's connection address (c=)
 * @port: the peer's RTP port (m=)
 * @rtcp_port: the peer's RTCP port (a=rtcp), 0 for @port + 1
 * @encoding: the agreed codec, as in SDP ("PCMU", "opus", …)
 * @payload_type: its payload type in the peer's description (what we send)
 * @clock_rate: its RTP clock rate
 * @channels: its channels (0 if not given)
 * @ptime: the peer's a=ptime (0 if not given)
 * @fmtp: (nullable): the peer's fmtp for the codec
 * @dtmf_payload_type: telephone-event payload type, 0 if not agreed
 * @dtmf_clock_rate: telephone-event clock rate
 * @direction: our direction ("sendrecv", "sendonly", "recvonly", "inactive")
 *
 * The audio stream both sides agreed on, read from a completed offer/answer,
 * as plain values the media layer can take.
 */
typedef struct {
  char  *address;
  guint  port;
  guint  rtcp_port;
  char  *encoding;
  guint  payload_type;
  guint  clock_rate;
  guint  channels;
  guint  ptime;
  char  *fmtp;
  guint  dtmf_payload_type;
  guint  dtmf_clock_rate;
  const char *direction;
  char  *srtp_suite;       /* NULL: plain RTP */
  char  *srtp_local_key;   /* base64, what we encrypt with */
  char  *srtp_remote_key;  /* base64, what the peer encrypts with */
  gboolean savp;           /* the stream is RTP/SAVP: never plain RTP */
} HarkSipSdpAudio;

gboolean hark_sip_sdp_get_audio      (const char       *local_sdp,
                                      const char       *remote_sdp,
                                      gboolean          local_is_answer,
                                      HarkSipSdpAudio  *audio);
void     hark_sip_sdp_audio_clear    (HarkSipSdpAudio  *audio);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HarkSipSdpAudio, hark_sip_sdp_audio_clear)

char    *hark_sip_sdp_make_local     (const char  *address,
                                      guint        rtp_port);
char    *hark_sip_sdp_make_local_full (const char  *address,
                                       guint        rtp_port,
                                       const char  *srtp_key,
                                       gboolean     savp);
char    *hark_sip_sdp_make_local_crypto (const char  *address,
                                         guint        rtp_port,
                                         guint        crypto_tag,
                                         const char  *crypto_suite,
                                         const char  *srtp_key,
                                         gboolean     savp);
gboolean hark_sip_sdp_read_offer     (const char       *sdp,
                                      HarkSipSdpOffer  *offer);
void     hark_sip_sdp_offer_clear    (HarkSipSdpOffer  *offer);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HarkSipSdpOffer, hark_sip_sdp_offer_clear)

/* Whether our SDP lists @encoding ("opus", "PCMU", …). */
typedef gboolean (*HarkSipSdpCodecFilter) (const char *encoding);

void     hark_sip_sdp_set_codec_filter (HarkSipSdpCodecFilter filter);

guint    hark_sip_sdp_pick_rtp_port  (void);
char    *hark_sip_sdp_dup_codec      (const char  *sdp);

G_END_DECLS
