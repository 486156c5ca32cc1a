/* hark-media-playout.h — how long a call's receive path holds audio
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* A clean network needs little jitter buffer; a jittery or lossy one needs
 * what the jitter-buffer-latency setting allows. HarkPlayout starts the
 * playout delay short and grows it, one packet at a time, when the jitter
 * buffer counts late or lost packets or the measured jitter calls for more,
 * never beyond the setting and never back down (each change is a gap in
 * what is played). With Opus it also turns the decoder's in-band FEC on at
 * the first loss: FEC recovers a lost packet from the next one, so it holds
 * every packet back by one, which is only worth it once packets go missing.
 * And it keeps the decoded audio to the jitter buffer's timeline, so that
 * what comes after (resampler, sink) plays each buffer when it says. */
typedef struct _HarkPlayout HarkPlayout;

#define HARK_PLAYOUT_START_MS 10

HarkPlayout *hark_playout_new                 (guint        bound_ms,
                                               guint        packet_ms);
HarkPlayout *hark_playout_ref                 (HarkPlayout *self);
void         hark_playout_unref               (HarkPlayout *self);

guint        hark_playout_get_delay_ms        (HarkPlayout *self);
gboolean     hark_playout_get_fec_active      (HarkPlayout *self);

gboolean     hark_playout_update              (HarkPlayout *self,
                                               guint64      lost,
                                               guint64      late,
                                               double       jitter_ms);

void         hark_playout_attach_decoder      (HarkPlayout *self,
                                               GstElement  *decoder);
void         hark_playout_attach_opus_decoder (HarkPlayout *self,
                                               GstElement  *decoder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkPlayout, hark_playout_unref)

G_END_DECLS
