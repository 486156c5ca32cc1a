/* hark-test-audio.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "hark-test-audio.h"

#define WAV_HEADER_SIZE 44

/* Bytes before the samples: the canonical 44-byte header of a PCM WAV
 * (baresip and our writer), none for a raw file. */
static gsize
header_size (const char *contents,
             gsize       length)
{
  if (length >= WAV_HEADER_SIZE && memcmp (contents, "RIFF", 4) == 0 &&
      memcmp (contents + 8, "WAVE", 4) == 0)
    {
      gsize offset = 12;

      /* Walk the chunks to "data" (some writers add LIST or fact). */
      while (offset + 8 <= length)
        {
          guint32 size = GUINT32_FROM_LE (*(const guint32 *) (contents + offset + 4));

          if (memcmp (contents + offset, "data", 4) == 0)
            return offset + 8;
          offset += 8 + size + (size & 1);
        }
      return length;
    }
  return 0;
}

guint
hark_test_audio_get_wav_rate (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL) || length < WAV_HEADER_SIZE ||
      memcmp (contents, "RIFF", 4) != 0)
    return 0;
  return GUINT32_FROM_LE (*(const guint32 *) (contents + 24));
}

gint16 *
hark_test_audio_read_samples (const char *path,
                              gsize       from,
                              gsize      *n_samples)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  gsize header;
  gsize total;
  gint16 *samples;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    length = 0;
  header = header_size (contents, length);
  total = (length - header) / 2;
  if (from >= total)
    {
      *n_samples = 0;
      return NULL;
    }
  *n_samples = total - from;
  samples = g_new (gint16, *n_samples);
  memcpy (samples, contents + header + from * 2, *n_samples * 2);
  for (gsize i = 0; i < *n_samples; i++)
    samples[i] = GINT16_FROM_LE (samples[i]);
  return samples;
}

gsize
hark_test_audio_count_samples (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  gsize header;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return 0;
  header = header_size (contents, length);
  return (length - header) / 2;
}

double
hark_test_audio_goertzel_power (const gint16 *samples,
                                gsize         n,
                                guint         rate,
                                double        frequency)
{
  double coeff = 2.0 * cos (2.0 * G_PI * frequency / rate);
  double s1 = 0, s2 = 0;

  for (gsize i = 0; i < n; i++)
    {
      double s0 = samples[i] / 32768.0 + coeff * s1 - s2;

      s2 = s1;
      s1 = s0;
    }
  return n > 0 ? (s1 * s1 + s2 * s2 - coeff * s1 * s2) / n : 0;
}

double
hark_test_audio_rms (const gint16 *samples,
                     gsize         n)
{
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (samples[i] / 32768.0) * (samples[i] / 32768.0);
  return n > 0 ? sqrt (sum / n) : 0;
}

/* Dominant frequency (10 Hz steps, 100 Hz to min(4000, rate/2)) of the last
 * @seconds of @path; 0 if there is not that much audio or it is silent. */
double
hark_test_audio_dominant_frequency (const char *path,
                                    guint       rate,
                                    double      seconds)
{
  gsize window = seconds * rate;
  gsize total = hark_test_audio_count_samples (path);
  g_autofree gint16 *samples = NULL;
  gsize n;
  double best = 0, best_power = 0;

  if (total < window || window == 0)
    return 0;
  samples = hark_test_audio_read_samples (path, total - window, &n);
  if (hark_test_audio_rms (samples, n) < 0.01)
    return 0;

  for (double f = 100; f <= MIN (4000, rate / 2.0); f += 10)
    {
      double power = hark_test_audio_goertzel_power (samples, n, rate, f);

      if (power > best_power)
        {
          best_power = power;
          best = f;
        }
    }
  return best;
}

/* A 16-bit mono PCM WAV holding a sine at half scale. */
gboolean
hark_test_audio_write_tone_wav (const char  *path,
                                guint        rate,
                                double       frequency,
                                double       seconds,
                                GError     **error)
{
  guint32 n = seconds * rate;
  g_autofree guint8 *data = g_malloc (WAV_HEADER_SIZE + n * 2);
  guint32 u32;
  guint16 u16;

#define PUT32(off, v) (u32 = GUINT32_TO_LE (v), memcpy (data + (off), &u32, 4))
#define PUT16(off, v) (u16 = GUINT16_TO_LE (v), memcpy (data + (off), &u16, 2))
  memcpy (data, "RIFF", 4);
  PUT32 (4, 36 + n * 2);
  memcpy (data + 8, "WAVEfmt ", 8);
  PUT32 (16, 16);
  PUT16 (20, 1);             /* PCM */
  PUT16 (22, 1);             /* mono */
  PUT32 (24, rate);
  PUT32 (28, rate * 2);
  PUT16 (32, 2);
  PUT16 (34, 16);
  memcpy (data + 36, "data", 4);
  PUT32 (40, n * 2);
  for (guint32 i = 0; i < n; i++)
    PUT16 (WAV_HEADER_SIZE + i * 2,
           (guint16) (gint16) (16384.0 * sin (2.0 * G_PI * frequency * i / rate)));
#undef PUT32
#undef PUT16

  return g_file_set_contents (path, (const char *) data, WAV_HEADER_SIZE + n * 2, error);
}
