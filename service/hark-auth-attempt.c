/* hark-auth-attempt.c — answering digest challenges to a call or subscription
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A 401/407 to an INVITE or a SUBSCRIBE is answered from the "auth" option
 * of the method that made the usage, then from the profile's password in
 * the Secret Service, each once, so that wrong credentials never loop. When
 * none are left the usage waits a bounded time for Authenticate(), then
 * gives up. The owner says what "send" means (nua_authenticate() on its
 * handle) and what the user sees while it waits.
 *
 * Credentials are Sofia's NUTAG_AUTH strings, "Digest:REALM:USER:PASSWORD"
 * with a quoted realm; an empty realm is filled with the challenge's. They
 * are wiped from memory as soon as they are handed over.
 */

#include "config.h"

#include <string.h>

#include <sofia-sip/msg_header.h>

#include "hark-auth-attempt.h"

/* How long a usage waits for Authenticate() before it ends "auth-failed". */
#define WAIT_SECONDS 30

struct _HarkAuthAttempt
{
  GObject          parent_instance;

  char            *option_auth;      /* from the "auth" option, or NULL */
  HarkSecretStore *secrets;          /* NULL: no profile password to try */
  char            *profile_id;
  char            *username;         /* the profile's, for its password */
  char            *realm;            /* the profile's; NULL answers any */

  char            *challenge_realm;  /* quoted, from the last 401/407 */
  gboolean         option_tried;
  gboolean         profile_tried;
  gboolean         waiting;
  guint            wait_id;
  GCancellable    *cancellable;
};

G_DEFINE_FINAL_TYPE (HarkAuthAttempt, hark_auth_attempt, G_TYPE_OBJECT)

enum {
  SIGNAL_SEND_CREDENTIALS,
  SIGNAL_WAITING,
  SIGNAL_GAVE_UP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
wipe (char *secret)
{
  if (secret != NULL)
    explicit_bzero (secret, strlen (secret));
}

static void
send_credentials (HarkAuthAttempt *self,
                  const char      *credentials)
{
  g_autofree char *filled = NULL;

  if (g_str_has_prefix (credentials, "Digest::") && self->challenge_realm != NULL)
    filled = g_strdup_printf ("Digest:%s%s", self->challenge_realm,
                              credentials + strlen ("Digest:"));

  self->waiting = FALSE;
  g_clear_handle_id (&self->wait_id, g_source_remove);
  g_signal_emit (self, signals[SIGNAL_SEND_CREDENTIALS], 0, filled ? filled : credentials);
  wipe (filled);
}

static gboolean
wait_timeout_cb (gpointer user_data)
{
  HarkAuthAttempt *self = user_data;

  self->wait_id = 0;
  self->waiting = FALSE;
  g_signal_emit (self, signals[SIGNAL_GAVE_UP], 0);
  return G_SOURCE_REMOVE;
}

static void
wait_for_credentials (HarkAuthAttempt *self)
{
  self->waiting = TRUE;
  g_clear_handle_id (&self->wait_id, g_source_remove);
  self->wait_id = g_timeout_add_seconds (WAIT_SECONDS, wait_timeout_cb, self);
  g_signal_emit (self, signals[SIGNAL_WAITING], 0);
}

static void
profile_password_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(HarkAuthAttempt) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;
  g_autofree char *credentials = NULL;

  password = hark_secret_store_lookup_finish (HARK_SECRET_STORE (source), result, &error);
  if (g_cancellable_is_cancelled (self->cancellable))
    goto out;

  if (password == NULL)
    {
      if (error != NULL)
        g_debug ("No password for profile %s: %s", self->profile_id, error->message);
      wait_for_credentials (self);
      goto out;
    }

  credentials = g_strdup_printf ("Digest:%s%s%s:%s:%s",
                                 self->realm ? "\"" : "", self->realm ? self->realm : "",
                                 self->realm ? "\"" : "", self->username, password);
  send_credentials (self, credentials);

out:
  wipe (password);
  wipe (credentials);
}

/**
 * hark_auth_attempt_new:
 * @option_auth: (nullable): credentials from the "auth" option
 *   (a NUTAG_AUTH string), tried first
 * @secrets: (nullable): the Secret Service holding the profile's password
 * @profile_id: (nullable): the profile's id in @secrets
 * @username: (nullable): the profile's user name; without it the profile's
 *   password is not tried
 * @realm: (nullable): the profile's realm, %NULL for the challenge's
 *
 * Returns: (transfer full): an attempt that has tried nothing yet
 */
HarkAuthAttempt *
hark_auth_attempt_new (const char      *option_auth,
                       HarkSecretStore *secrets,
                       const char      *profile_id,
                       const char      *username,
                       const char      *realm)
{
  HarkAuthAttempt *self = g_object_new (HARK_TYPE_AUTH_ATTEMPT, NULL);

  self->option_auth = g_strdup (option_auth);
  if (secrets != NULL && profile_id != NULL && username != NULL)
    {
      self->secrets = g_object_ref (secrets);
      self->profile_id = g_strdup (profile_id);
      self->username = g_strdup (username);
      self->realm = g_strdup (realm);
    }
  return self;
}

/**
 * hark_auth_attempt_challenge:
 * @status: 401 or 407
 * @sip: the challenge
 *
 * Answers a challenge with the next credentials not tried yet
 * (::send-credentials), or starts waiting for hark_auth_attempt_supply()
 * (::waiting, then ::gave-up after a while).
 */
void
hark_auth_attempt_challenge (HarkAuthAttempt *self,
                             int              status,
                             const sip_t     *sip)
{
  const msg_auth_t *challenge;
  const char *realm;

  g_return_if_fail (HARK_IS_AUTH_ATTEMPT (self));
  g_return_if_fail (sip != NULL);

  challenge = status == 401 ? (const msg_auth_t *) sip->sip_www_authenticate
                            : (const msg_auth_t *) sip->sip_proxy_authenticate;
  realm = challenge ? msg_params_find (challenge->au_params, "realm=") : NULL;
  if (realm != NULL)
    {
      g_free (self->challenge_realm);
      self->challenge_realm = g_strdup (realm);
    }

  if (self->option_auth != NULL && !self->option_tried)
    {
      self->option_tried = TRUE;
      send_credentials (self, self->option_auth);
      return;
    }

  if (self->secrets != NULL && !self->profile_tried)
    {
      self->profile_tried = TRUE;
      hark_secret_store_lookup_async (self->secrets, self->profile_id, self->cancellable,
                                      profile_password_cb, g_object_ref (self));
      return;
    }

  wait_for_credentials (self);
}

/**
 * hark_auth_attempt_get_waiting:
 *
 * Returns: whether credentials from hark_auth_attempt_supply() are awaited
 */
gboolean
hark_auth_attempt_get_waiting (HarkAuthAttempt *self)
{
  g_return_val_if_fail (HARK_IS_AUTH_ATTEMPT (self), FALSE);

  return self->waiting;
}

/**
 * hark_auth_attempt_get_username:
 *
 * Returns: (nullable): the profile's user name, if its password may be used
 */
const char *
hark_auth_attempt_get_username (HarkAuthAttempt *self)
{
  g_return_val_if_fail (HARK_IS_AUTH_ATTEMPT (self), NULL);

  return self->username;
}

/**
 * hark_auth_attempt_supply:
 * @username: a user name (checked by the caller: no ':', '"' or line break)
 * @password: its password
 *
 * Answers the waiting challenge (in its realm) with what Authenticate()
 * was given. Only while hark_auth_attempt_get_waiting().
 */
void
hark_auth_attempt_supply (HarkAuthAttempt *self,
                          const char      *username,
                          const char      *password)
{
  g_autofree char *credentials = NULL;

  g_return_if_fail (HARK_IS_AUTH_ATTEMPT (self));
  g_return_if_fail (self->waiting);

  credentials = g_strdup_printf ("Digest:%s:%s:%s",
                                 self->challenge_realm ? self->challenge_realm : "\"\"",
                                 username, password);
  send_credentials (self, credentials);
  wipe (credentials);
}

/**
 * hark_auth_attempt_stop:
 *
 * The usage has ended: no more signals, no lookup answered, no timer.
 */
void
hark_auth_attempt_stop (HarkAuthAttempt *self)
{
  g_return_if_fail (HARK_IS_AUTH_ATTEMPT (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->wait_id, g_source_remove);
  self->waiting = FALSE;
}

static void
hark_auth_attempt_dispose (GObject *object)
{
  HarkAuthAttempt *self = HARK_AUTH_ATTEMPT (object);

  hark_auth_attempt_stop (self);
  g_clear_object (&self->secrets);

  G_OBJECT_CLASS (hark_auth_attempt_parent_class)->dispose (object);
}

static void
hark_auth_attempt_finalize (GObject *object)
{
  HarkAuthAttempt *self = HARK_AUTH_ATTEMPT (object);

  wipe (self->option_auth);
  g_free (self->option_auth);
  g_free (self->profile_id);
  g_free (self->username);
  g_free (self->realm);
  g_free (self->challenge_realm);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hark_auth_attempt_parent_class)->finalize (object);
}

static void
hark_auth_attempt_class_init (HarkAuthAttemptClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_auth_attempt_dispose;
  object_class->finalize = hark_auth_attempt_finalize;

  /**
   * HarkAuthAttempt::send-credentials:
   * @credentials: a NUTAG_AUTH string, wiped after the emission
   *
   * Answer the challenge with these (nua_authenticate()).
   */
  signals[SIGNAL_SEND_CREDENTIALS] =
    g_signal_new ("send-credentials", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * HarkAuthAttempt::waiting:
   *
   * No credentials are left: say so on the bus, Authenticate() may follow.
   */
  signals[SIGNAL_WAITING] =
    g_signal_new ("waiting", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * HarkAuthAttempt::gave-up:
   *
   * Authenticate() did not come in time: end the usage "auth-failed".
   */
  signals[SIGNAL_GAVE_UP] =
    g_signal_new ("gave-up", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
hark_auth_attempt_init (HarkAuthAttempt *self)
{
  self->cancellable = g_cancellable_new ();
}
