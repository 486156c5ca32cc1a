/* hark-digest.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * HarkDigestAlgorithm:
 * @HARK_DIGEST_ALGORITHM_MD5: "MD5" (RFC 2617, RFC 3261)
 * @HARK_DIGEST_ALGORITHM_MD5_SESS: "MD5-sess"
 * @HARK_DIGEST_ALGORITHM_SHA256: "SHA-256" (RFC 7616, RFC 8760)
 * @HARK_DIGEST_ALGORITHM_SHA256_SESS: "SHA-256-sess"
 * @HARK_DIGEST_ALGORITHM_UNKNOWN: anything else (SHA-512-256, AKAv1-MD5…)
 */
typedef enum {
  HARK_DIGEST_ALGORITHM_UNKNOWN,
  HARK_DIGEST_ALGORITHM_MD5,
  HARK_DIGEST_ALGORITHM_MD5_SESS,
  HARK_DIGEST_ALGORITHM_SHA256,
  HARK_DIGEST_ALGORITHM_SHA256_SESS,
} HarkDigestAlgorithm;

/**
 * HarkDigestChallenge:
 *
 * The parts of one `Digest` challenge (WWW-Authenticate or
 * Proxy-Authenticate) that a client needs, unquoted.
 */
typedef struct {
  HarkDigestAlgorithm algorithm;
  char *realm;
  char *nonce;
  char *opaque;
  char *algorithm_name;   /* as the server spelled it, echoed back */
  gboolean qop_auth;      /* the server offers qop=auth */
  gboolean qop_offered;   /* the server sent a qop list at all */
  gboolean stale;
} HarkDigestChallenge;

HarkDigestAlgorithm  hark_digest_algorithm_from_string (const char          *name);
const char          *hark_digest_algorithm_to_string   (HarkDigestAlgorithm  algorithm);
int                  hark_digest_algorithm_strength    (HarkDigestAlgorithm  algorithm);

HarkDigestChallenge *hark_digest_challenge_parse       (const char          *scheme,
                                                        const char * const  *params);
void                 hark_digest_challenge_free        (HarkDigestChallenge *challenge);

char                *hark_digest_compute_response      (HarkDigestAlgorithm  algorithm,
                                                        const char          *username,
                                                        const char          *realm,
                                                        const char          *password,
                                                        const char          *method,
                                                        const char          *uri,
                                                        const char          *nonce,
                                                        const char          *qop,
                                                        const char          *nc,
                                                        const char          *cnonce);

char                *hark_digest_build_authorization   (const HarkDigestChallenge *challenge,
                                                        const char          *username,
                                                        const char          *password,
                                                        const char          *method,
                                                        const char          *uri,
                                                        guint32              nc,
                                                        const char          *cnonce);

char                *hark_digest_new_cnonce            (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarkDigestChallenge, hark_digest_challenge_free)

G_END_DECLS
