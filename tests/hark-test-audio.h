/* hark-test-audio.h — what came out of a sink: tone analysis for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Files are raw S16LE mono (what a test's filesink wrote) or, when they
 * start with a RIFF header, 16-bit PCM WAV (baresip's aufile): for those
 * the samples are the data after the header and the rate is the header's. */
gsize     hark_test_audio_count_samples      (const char   *path);
gint16   *hark_test_audio_read_samples       (const char   *path,
                                              gsize         from,
                                              gsize        *n_samples);
guint     hark_test_audio_get_wav_rate       (const char   *path);
double    hark_test_audio_goertzel_power     (const gint16 *samples,
                                              gsize         n,
                                              guint         rate,
                                              double        frequency);
double    hark_test_audio_rms                (const gint16 *samples,
                                              gsize         n);
double    hark_test_audio_dominant_frequency (const char   *path,
                                              guint         rate,
                                              double        seconds);
gboolean  hark_test_audio_write_tone_wav     (const char   *path,
                                              guint         rate,
                                              double        frequency,
                                              double        seconds,
                                              GError      **error);

G_END_DECLS
