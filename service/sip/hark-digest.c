/* hark-digest.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760).
 * Sofia-SIP's client only does MD5, so SHA-256 answers are computed here;
 * the code has no Sofia types so that it can be tested on its own.
 */

#include "config.h"

#include <string.h>

#include "hark-digest.h"

static const struct {
  const char *name;
  HarkDigestAlgorithm algorithm;
} algorithm_names[] = {
  { "MD5", HARK_DIGEST_ALGORITHM_MD5 },
  { "MD5-sess", HARK_DIGEST_ALGORITHM_MD5_SESS },
  { "SHA-256", HARK_DIGEST_ALGORITHM_SHA256 },
  { "SHA-256-sess", HARK_DIGEST_ALGORITHM_SHA256_SESS },
};

HarkDigestAlgorithm
hark_digest_algorithm_from_string (const char *name)
{
  /* RFC 7616 §3.3: a challenge without "algorithm" means MD5 */
  if (name == NULL || *name == '\0')
    return HARK_DIGEST_ALGORITHM_MD5;

  for (guint i = 0; i < G_N_ELEMENTS (algorithm_names); i++)
    {
      if (g_ascii_strcasecmp (name, algorithm_names[i].name) == 0)
        return algorithm_names[i].algorithm;
    }

  return HARK_DIGEST_ALGORITHM_UNKNOWN;
}

const char *
hark_digest_algorithm_to_string (HarkDigestAlgorithm algorithm)
{
  for (guint i = 0; i < G_N_ELEMENTS (algorithm_names); i++)
    {
      if (algorithm_names[i].algorithm == algorithm)
        return algorithm_names[i].name;
    }

  return NULL;
}

/**
 * hark_digest_algorithm_strength:
 * @algorithm: an algorithm
 *
 * Returns: a rank to choose among several challenges (RFC 8760 §2.4: the
 *   client uses the strongest one it supports); 0 for unsupported ones.
 */
int
hark_digest_algorithm_strength (HarkDigestAlgorithm algorithm)
{
  switch (algorithm)
    {
    case HARK_DIGEST_ALGORITHM_SHA256:
    case HARK_DIGEST_ALGORITHM_SHA256_SESS:
      return 2;
    case HARK_DIGEST_ALGORITHM_MD5:
    case HARK_DIGEST_ALGORITHM_MD5_SESS:
      return 1;
    case HARK_DIGEST_ALGORITHM_UNKNOWN:
    default:
      return 0;
    }
}

static char *
unquote (const char *value)
{
  GString *out;
  gsize len = strlen (value);

  if (len < 2 || value[0] != '"' || value[len - 1] != '"')
    return g_strdup (value);

  out = g_string_sized_new (len);
  for (gsize i = 1; i < len - 1; i++)
    {
      if (value[i] == '\\' && i + 1 < len - 1)
        i++;
      g_string_append_c (out, value[i]);
    }

  return g_string_free (out, FALSE);
}

/* a repeated parameter: the last one wins */
static void
replace_str (char **field,
             char **value)
{
  g_free (*field);
  *field = g_steal_pointer (value);
}

static gboolean
qop_list_has_auth (const char *list)
{
  g_auto(GStrv) tokens = g_strsplit (list, ",", -1);

  for (guint i = 0; tokens[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (g_strstrip (tokens[i]), "auth") == 0)
        return TRUE;
    }

  return FALSE;
}

/**
 * hark_digest_challenge_parse:
 * @scheme: the authentication scheme ("Digest")
 * @params: %NULL-terminated `name=value` strings, values possibly quoted
 *   (the shape of Sofia's `au_params`)
 *
 * Returns: (transfer full) (nullable): the challenge, or %NULL when it is not
 *   a usable Digest challenge (other scheme, no realm or nonce).
 */
HarkDigestChallenge *
hark_digest_challenge_parse (const char         *scheme,
                             const char * const *params)
{
  g_autoptr(HarkDigestChallenge) challenge = NULL;

  if (scheme == NULL || g_ascii_strcasecmp (scheme, "Digest") != 0 || params == NULL)
    return NULL;

  challenge = g_new0 (HarkDigestChallenge, 1);

  for (guint i = 0; params[i] != NULL; i++)
    {
      const char *eq = strchr (params[i], '=');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (eq == NULL)
        continue;

      name = g_strstrip (g_strndup (params[i], eq - params[i]));
      value = unquote (eq + 1);

      if (g_ascii_strcasecmp (name, "realm") == 0)
        replace_str (&challenge->realm, &value);
      else if (g_ascii_strcasecmp (name, "nonce") == 0)
        replace_str (&challenge->nonce, &value);
      else if (g_ascii_strcasecmp (name, "opaque") == 0)
        replace_str (&challenge->opaque, &value);
      else if (g_ascii_strcasecmp (name, "algorithm") == 0)
        replace_str (&challenge->algorithm_name, &value);
      else if (g_ascii_strcasecmp (name, "stale") == 0)
        challenge->stale = g_ascii_strcasecmp (value, "true") == 0;
      else if (g_ascii_strcasecmp (name, "qop") == 0)
        {
          challenge->qop_offered = TRUE;
          challenge->qop_auth = qop_list_has_auth (value);
        }
    }

  if (challenge->realm == NULL || challenge->nonce == NULL)
    return NULL;

  challenge->algorithm = hark_digest_algorithm_from_string (challenge->algorithm_name);

  return g_steal_pointer (&challenge);
}

void
hark_digest_challenge_free (HarkDigestChallenge *challenge)
{
  if (challenge == NULL)
    return;

  g_free (challenge->realm);
  g_free (challenge->nonce);
  g_free (challenge->opaque);
  g_free (challenge->algorithm_name);
  g_free (challenge);
}

static GChecksumType
checksum_type (HarkDigestAlgorithm algorithm)
{
  switch (algorithm)
    {
    case HARK_DIGEST_ALGORITHM_SHA256:
    case HARK_DIGEST_ALGORITHM_SHA256_SESS:
      return G_CHECKSUM_SHA256;
    case HARK_DIGEST_ALGORITHM_MD5:
    case HARK_DIGEST_ALGORITHM_MD5_SESS:
    case HARK_DIGEST_ALGORITHM_UNKNOWN:
    default:
      return G_CHECKSUM_MD5;
    }
}

/* H(a:b:c…) as lower-case hex */
static char *
hash_joined (GChecksumType type,
             ...)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (type);
  const char *part;
  gboolean first = TRUE;
  va_list args;

  va_start (args, type);
  while ((part = va_arg (args, const char *)) != NULL)
    {
      if (!first)
        g_checksum_update (checksum, (const guchar *) ":", 1);
      g_checksum_update (checksum, (const guchar *) part, strlen (part));
      first = FALSE;
    }
  va_end (args);

  return g_strdup (g_checksum_get_string (checksum));
}

/**
 * hark_digest_compute_response:
 * @algorithm: a supported algorithm
 * @qop: "auth" or %NULL for the RFC 2069 form
 * @nc: (nullable): nonce count as 8 hex digits, needed with @qop
 * @cnonce: (nullable): client nonce, needed with @qop or a -sess algorithm
 *
 * Returns: (transfer full) (nullable): the `response` value, or %NULL if
 *   @algorithm is not supported or a needed part is missing.
 */
char *
hark_digest_compute_response (HarkDigestAlgorithm  algorithm,
                              const char          *username,
                              const char          *realm,
                              const char          *password,
                              const char          *method,
                              const char          *uri,
                              const char          *nonce,
                              const char          *qop,
                              const char          *nc,
                              const char          *cnonce)
{
  GChecksumType type = checksum_type (algorithm);
  gboolean sess = algorithm == HARK_DIGEST_ALGORITHM_MD5_SESS ||
                  algorithm == HARK_DIGEST_ALGORITHM_SHA256_SESS;
  g_autofree char *ha1 = NULL;
  g_autofree char *ha2 = NULL;

  g_return_val_if_fail (username != NULL && realm != NULL && password != NULL, NULL);
  g_return_val_if_fail (method != NULL && uri != NULL && nonce != NULL, NULL);

  if (algorithm == HARK_DIGEST_ALGORITHM_UNKNOWN)
    return NULL;
  if ((qop != NULL || sess) && cnonce == NULL)
    return NULL;
  if (qop != NULL && nc == NULL)
    return NULL;

  ha1 = hash_joined (type, username, realm, password, NULL);
  if (sess)
    {
      g_autofree char *inner = g_steal_pointer (&ha1);

      ha1 = hash_joined (type, inner, nonce, cnonce, NULL);
    }

  ha2 = hash_joined (type, method, uri, NULL);

  if (qop != NULL)
    return hash_joined (type, ha1, nonce, nc, cnonce, qop, ha2, NULL);
  else
    return hash_joined (type, ha1, nonce, ha2, NULL);
}

static void
append_quoted (GString    *out,
               const char *name,
               const char *value)
{
  g_string_append_printf (out, ", %s=\"", name);
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/**
 * hark_digest_build_authorization:
 * @challenge: the challenge being answered
 * @nc: the nonce count (1 for a fresh nonce)
 * @cnonce: (nullable): a client nonce, %NULL to make one
 *
 * Builds the value of an Authorization or Proxy-Authorization header that
 * answers @challenge, echoing realm, nonce, opaque and algorithm and using
 * qop=auth whenever the server offers it.
 *
 * Returns: (transfer full) (nullable): the header value, or %NULL when the
 *   challenge cannot be answered (unknown algorithm, only qop=auth-int).
 */
char *
hark_digest_build_authorization (const HarkDigestChallenge *challenge,
                                 const char                *username,
                                 const char                *password,
                                 const char                *method,
                                 const char                *uri,
                                 guint32                    nc,
                                 const char                *cnonce)
{
  g_autofree char *own_cnonce = NULL;
  g_autofree char *response = NULL;
  char nc_str[9];
  GString *out;

  g_return_val_if_fail (challenge != NULL, NULL);
  g_return_val_if_fail (username != NULL && password != NULL, NULL);
  g_return_val_if_fail (method != NULL && uri != NULL, NULL);

  if (challenge->algorithm == HARK_DIGEST_ALGORITHM_UNKNOWN)
    return NULL;
  /* auth-int would need the body; SIP registrars do not ask for it alone */
  if (challenge->qop_offered && !challenge->qop_auth)
    return NULL;

  if (cnonce == NULL)
    cnonce = own_cnonce = hark_digest_new_cnonce ();
  g_snprintf (nc_str, sizeof nc_str, "%08x", nc);

  response = hark_digest_compute_response (challenge->algorithm, username, challenge->realm,
                                           password, method, uri, challenge->nonce,
                                           challenge->qop_auth ? "auth" : NULL,
                                           nc_str, cnonce);
  if (response == NULL)
    return NULL;

  out = g_string_new ("Digest ");
  g_string_append_printf (out, "username=\"");
  for (const char *p = username; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
  append_quoted (out, "realm", challenge->realm);
  append_quoted (out, "nonce", challenge->nonce);
  append_quoted (out, "uri", uri);
  append_quoted (out, "response", response);
  g_string_append_printf (out, ", algorithm=%s",
                          challenge->algorithm_name != NULL
                          ? challenge->algorithm_name
                          : hark_digest_algorithm_to_string (challenge->algorithm));
  if (challenge->opaque != NULL)
    append_quoted (out, "opaque", challenge->opaque);
  if (challenge->qop_auth)
    {
      append_quoted (out, "cnonce", cnonce);
      g_string_append_printf (out, ", qop=auth, nc=%s", nc_str);
    }

  return g_string_free (out, FALSE);
}

/**
 * hark_digest_new_cnonce:
 *
 * Returns: (transfer full): a fresh client nonce (128 random bits, hex)
 */
char *
hark_digest_new_cnonce (void)
{
  return g_strdup_printf ("%08x%08x%08x%08x",
                          g_random_int (), g_random_int (),
                          g_random_int (), g_random_int ());
}
