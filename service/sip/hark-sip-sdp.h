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

char    *hark_sip_sdp_make_local     (const char  *address,
                                      guint        rtp_port);
guint    hark_sip_sdp_pick_rtp_port  (void);
char    *hark_sip_sdp_dup_codec      (const char  *sdp);

G_END_DECLS
