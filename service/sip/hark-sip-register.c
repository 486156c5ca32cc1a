/* hark-sip-register.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A registration client (RFC 3261 §10) for one address of record through
 * one HarkSipAgent. nua sends the REGISTERs and refreshes the binding; this
 * object answers digest challenges (MD5 through Sofia, SHA-256 itself),
 * retries after failures with capped exponential back-off and reports a
 * state that the D-Bus layer mirrors as it is.
 */

#define G_LOG_DOMAIN "hark-sip"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "hark-digest.h"
#include "hark-error.h"
#include "hark-sip-register.h"
#include "hark-tls-check.h"

#define DEFAULT_EXPIRES 3600
#define DEFAULT_RETRY_BASE_MS 2000
#define RETRY_MAX_MS (300 * 1000)
#define STOP_TIMEOUT_MS 2000

/* State and reason strings are API: the D-Bus layer copies them as they are.
 * Each has one address, so the code compares pointers. */
static const char STATE_UNREGISTERED[] = "unregistered";
static const char STATE_REGISTERING[] = "registering";
static const char STATE_REGISTERED[] = "registered";
static const char STATE_UNREGISTERING[] = "unregistering";
static const char STATE_FAILED[] = "failed";

static const char REASON_NONE[] = "";
static const char REASON_REQUESTED[] = "requested";
static const char REASON_AUTH_FAILED[] = "auth-failed";
static const char REASON_TIMEOUT[] = "timeout";
static const char REASON_NETWORK[] = "network";
static const char REASON_SERVER_ERROR[] = "server-error";
static const char REASON_REJECTED[] = "rejected";
static const char REASON_NOT_SUPPORTED[] = "not-supported";
static const char REASON_TLS_VERIFY_FAILED[] = "tls-verify-failed";
static const char REASON_SHUTDOWN[] = "shutdown";

struct _HarkSipRegister
{
  GObject        parent_instance;

  HarkSipAgent  *agent;
  gulong         shutdown_handler;

  /* configuration */
  char          *aor;
  char          *aor_user;
  char          *registrar;      /* Request-URI of our REGISTERs */
  char          *tls_host;       /* first hop, for the TLS pre-flight */
  guint16        tls_port;
  guint          requested_expires;
  char          *username;
  char          *password;
  char          *realm;
  guint          retry_base_ms;

  /* state as published */
  const char    *state;
  const char    *state_reason;
  guint          status_code;
  guint          expires;
  char          *contact;

  /* machinery */
  nua_handle_t  *nh;
  char          *sent_contact;
  gboolean       unregistering;   /* the request in flight is an un-REGISTER */
  gboolean       stop_pending;    /* stop() while a REGISTER was in flight */
  gboolean       auth_answered;   /* we answered a challenge in this round */
  guint          retry_count;
  guint          retry_source;
  GCancellable  *tls_cancellable;
  GList         *stop_tasks;
  guint          requests_sent;
};

G_DEFINE_FINAL_TYPE (HarkSipRegister, hark_sip_register, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_AGENT,
  PROP_AOR,
  PROP_REGISTRAR,
  PROP_REQUESTED_EXPIRES,
  PROP_USERNAME,
  PROP_REALM,
  PROP_RETRY_BASE,
  PROP_STATE,
  PROP_STATE_REASON,
  PROP_STATUS_CODE,
  PROP_EXPIRES,
  PROP_CONTACT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void send_register (HarkSipRegister *self);

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static void
clear_secret (char **secret)
{
  if (*secret == NULL)
    return;

  /* Passwords live only in memory; do not leave copies in freed blocks */
  explicit_bzero (*secret, strlen (*secret));
  g_clear_pointer (secret, g_free);
}

static void
set_state (HarkSipRegister *self,
           const char      *state,
           const char      *reason)
{
  g_object_freeze_notify (G_OBJECT (self));

  if (self->state != state)
    {
      g_debug ("%s: %s → %s (%s)", self->aor, self->state, state, reason);
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }

  if (self->state_reason != reason)
    {
      self->state_reason = reason;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE_REASON]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

static void
set_status_code (HarkSipRegister *self,
                 guint            status_code)
{
  if (self->status_code == status_code)
    return;

  self->status_code = status_code;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_CODE]);
}

static void
set_expires (HarkSipRegister *self,
             guint            expires)
{
  if (self->expires == expires)
    return;

  self->expires = expires;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXPIRES]);
}

static void
set_contact (HarkSipRegister *self,
             const char      *contact)
{
  if (contact == NULL)
    contact = "";

  if (g_strcmp0 (self->contact, contact) == 0)
    return;

  g_free (self->contact);
  self->contact = g_strdup (contact);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTACT]);
}

static gboolean
state_is (HarkSipRegister *self,
          const char      *state)
{
  return self->state == state;
}

static gboolean
reason_needs_user (const char *reason)
{
  return reason == REASON_AUTH_FAILED ||
         reason == REASON_NOT_SUPPORTED ||
         reason == REASON_TLS_VERIFY_FAILED;
}

static void
drop_handle (HarkSipRegister *self)
{
  if (self->nh != NULL)
    hark_sip_agent_destroy_handle (self->agent, g_steal_pointer (&self->nh));

  self->unregistering = FALSE;
  self->auth_answered = FALSE;
}

static void
cancel_pending_work (HarkSipRegister *self)
{
  g_clear_handle_id (&self->retry_source, g_source_remove);

  if (self->tls_cancellable != NULL)
    {
      g_cancellable_cancel (self->tls_cancellable);
      g_clear_object (&self->tls_cancellable);
    }
}

static void
complete_stop_tasks (HarkSipRegister *self,
                     const GError    *error)
{
  GList *tasks = g_steal_pointer (&self->stop_tasks);

  for (GList *l = tasks; l != NULL; l = l->next)
    {
      g_autoptr(GTask) task = l->data;

      /* the timeout holds the task, which holds us */
      g_source_destroy (g_task_get_task_data (task));

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }

  g_list_free (tasks);
}

/* Reached "unregistered" for whatever cause: everything in flight ends */
static void
become_unregistered (HarkSipRegister *self,
                     const char      *reason)
{
  cancel_pending_work (self);
  drop_handle (self);
  self->stop_pending = FALSE;

  g_object_freeze_notify (G_OBJECT (self));
  set_expires (self, 0);
  set_contact (self, NULL);
  set_state (self, STATE_UNREGISTERED, reason);
  g_object_thaw_notify (G_OBJECT (self));

  complete_stop_tasks (self, NULL);
}

/* ------------------------------------------------------------------------ */
/* Failure and back-off                                                      */

static gboolean
retry_cb (gpointer user_data)
{
  HarkSipRegister *self = user_data;

  self->retry_source = 0;
  g_debug ("%s: retrying (attempt %u)", self->aor, self->retry_count + 1);
  send_register (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_retry (HarkSipRegister *self)
{
  guint64 delay = self->retry_base_ms;

  for (guint i = 0; i < self->retry_count && delay < RETRY_MAX_MS; i++)
    delay *= 2;
  delay = MIN (delay, RETRY_MAX_MS);

  self->retry_count++;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  self->retry_source = g_timeout_add ((guint) delay, retry_cb, self);

  g_debug ("%s: next attempt in %" G_GUINT64_FORMAT " ms", self->aor, delay);
}

static void
fail (HarkSipRegister *self,
      const char      *reason,
      guint            status_code)
{
  gboolean was_stopping = self->stop_pending || state_is (self, STATE_UNREGISTERING);

  cancel_pending_work (self);
  drop_handle (self);

  if (was_stopping)
    {
      /* Whatever went wrong, the user wanted it gone and it is */
      set_status_code (self, status_code);
      become_unregistered (self, REASON_REQUESTED);
      return;
    }

  g_object_freeze_notify (G_OBJECT (self));
  set_status_code (self, status_code);
  set_expires (self, 0);
  set_contact (self, NULL);
  set_state (self, STATE_FAILED, reason);
  g_object_thaw_notify (G_OBJECT (self));

  if (!reason_needs_user (reason))
    schedule_retry (self);
}

/* Sofia answers some failures itself: transaction timeouts (408), transport
 * errors such as ICMP port unreachable or a refused connection (503) and
 * its own 9xx codes. Those responses are our request turned around: the Via
 * is ours untouched (no received, an empty rport) and no Server header. */
static gboolean
response_is_local (const sip_t *sip)
{
  const sip_via_t *via;

  if (sip == NULL || sip->sip_via == NULL)
    return TRUE;

  via = sip->sip_via;

  return sip->sip_server == NULL &&
         via->v_received == NULL &&
         (via->v_rport == NULL || *via->v_rport == '\0');
}

static const char *
classify_failure (int          status,
                  const sip_t *sip)
{
  gboolean local = response_is_local (sip);

  if (status == 408)
    return REASON_TIMEOUT;
  if (local && (status == 503 || status >= 900))
    return REASON_NETWORK;
  if (status == 494)   /* Security Agreement Required (RFC 3329) */
    return REASON_NOT_SUPPORTED;
  if (status >= 500)
    return REASON_SERVER_ERROR;
  if (status >= 400)
    return REASON_REJECTED;

  /* a 3xx redirect we do not follow */
  return REASON_REJECTED;
}

/* ------------------------------------------------------------------------ */
/* Digest                                                                    */

static const char *
auth_username (HarkSipRegister *self)
{
  return self->username != NULL ? self->username : self->aor_user;
}

static void
send_register_request (HarkSipRegister *self,
                       const char      *authorization,
                       gboolean         proxy)
{
  g_autofree char *expires = NULL;

  if (self->unregistering)
    {
      nua_unregister (self->nh,
                      NUTAG_REGISTRAR (self->registrar),
                      SIPTAG_CONTACT_STR (self->sent_contact),
                      SIPTAG_EXPIRES_STR ("0"),
                      TAG_IF (authorization != NULL && !proxy,
                              SIPTAG_AUTHORIZATION_STR (authorization)),
                      TAG_IF (authorization != NULL && proxy,
                              SIPTAG_PROXY_AUTHORIZATION_STR (authorization)),
                      TAG_END ());
    }
  else
    {
      expires = g_strdup_printf ("%u", self->requested_expires);
      nua_register (self->nh,
                    NUTAG_REGISTRAR (self->registrar),
                    SIPTAG_CONTACT_STR (self->sent_contact),
                    SIPTAG_EXPIRES_STR (expires),
                    TAG_IF (authorization != NULL && !proxy,
                            SIPTAG_AUTHORIZATION_STR (authorization)),
                    TAG_IF (authorization != NULL && proxy,
                            SIPTAG_PROXY_AUTHORIZATION_STR (authorization)),
                    TAG_END ());
    }

  self->requests_sent++;
}

/*
 * Answers a 401/407. Returns NULL when a new request went out, or the
 * reason to fail with.
 */
static const char *
answer_challenge (HarkSipRegister *self,
                  int              status,
                  const sip_t     *sip)
{
  const msg_auth_t *challenges;
  g_autoptr(HarkDigestChallenge) best = NULL;
  gboolean saw_unsupported = FALSE;
  g_autofree char *authorization = NULL;

  if (sip == NULL)
    return REASON_AUTH_FAILED;

  challenges = status == 407 ? sip->sip_proxy_authenticate : sip->sip_www_authenticate;

  for (const msg_auth_t *au = challenges; au != NULL; au = au->au_next)
    {
      g_autoptr(HarkDigestChallenge) challenge = NULL;

      challenge = hark_digest_challenge_parse (au->au_scheme,
                                               (const char * const *) au->au_params);
      if (challenge == NULL)
        continue;

      if (self->realm != NULL && g_strcmp0 (self->realm, challenge->realm) != 0)
        continue;

      if (hark_digest_algorithm_strength (challenge->algorithm) == 0 ||
          (challenge->qop_offered && !challenge->qop_auth))
        {
          saw_unsupported = TRUE;
          continue;
        }

      /* RFC 8760 §2.4: use the strongest algorithm offered */
      if (best == NULL ||
          hark_digest_algorithm_strength (challenge->algorithm) >
          hark_digest_algorithm_strength (best->algorithm))
        {
          g_clear_pointer (&best, hark_digest_challenge_free);
          best = g_steal_pointer (&challenge);
        }
    }

  if (best == NULL)
    {
      g_debug ("%s: no challenge we can answer", self->aor);
      return saw_unsupported ? REASON_NOT_SUPPORTED : REASON_AUTH_FAILED;
    }

  if (self->password == NULL || *self->password == '\0')
    return REASON_AUTH_FAILED;

  /* A second challenge after our answer means the credentials are wrong,
   * unless the server only says our nonce went stale. Never loop. */
  if (self->auth_answered && !best->stale)
    return REASON_AUTH_FAILED;

  self->auth_answered = TRUE;

  if (best->algorithm == HARK_DIGEST_ALGORITHM_MD5 ||
      best->algorithm == HARK_DIGEST_ALGORITHM_MD5_SESS)
    {
      g_autofree char *credentials = NULL;

      /* Sofia's client does MD5 itself, and keeps answering on refreshes */
      credentials = g_strdup_printf ("Digest:\"%s\":%s:%s",
                                     best->realm, auth_username (self), self->password);
      nua_authenticate (self->nh, NUTAG_AUTH (credentials), TAG_END ());
      explicit_bzero (credentials, strlen (credentials));
      self->requests_sent++;
      return NULL;
    }

  /* SHA-256 is beyond Sofia's client: answer with a header of our own. The
   * Request-URI is the registrar URI exactly as we hand it to nua. */
  authorization = hark_digest_build_authorization (best, auth_username (self), self->password,
                                                   "REGISTER", self->registrar, 1, NULL);
  if (authorization == NULL)
    return REASON_NOT_SUPPORTED;

  send_register_request (self, authorization, status == 407);

  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                 */

static guint
granted_expires (HarkSipRegister *self,
                 const sip_t     *sip)
{
  su_home_t *home = su_home_new (sizeof (su_home_t));
  url_t *ours = url_make (home, self->sent_contact);
  guint granted = 0;
  gboolean found = FALSE;

  for (const sip_contact_t *m = sip->sip_contact; m != NULL && ours != NULL; m = m->m_next)
    {
      if (m->m_url->url_host == NULL ||
          g_strcmp0 (m->m_url->url_user, ours->url_user) != 0 ||
          g_ascii_strcasecmp (m->m_url->url_host, ours->url_host) != 0 ||
          g_strcmp0 (url_port (m->m_url), url_port (ours)) != 0)
        continue;

      found = TRUE;
      if (m->m_expires != NULL)
        granted = (guint) strtoul (m->m_expires, NULL, 10);
      else if (sip->sip_expires != NULL)
        granted = sip->sip_expires->ex_delta;
      else
        granted = self->requested_expires;
      break;
    }

  su_home_unref (home);

  if (!found)
    {
      /* RFC 3261 §10.3: the registrar lists every binding; ours missing
       * is odd but the 200 still counts */
      g_debug ("%s: our contact is not in the 200 OK", self->aor);
      granted = sip->sip_expires != NULL ? sip->sip_expires->ex_delta : self->requested_expires;
    }

  return granted;
}

static void
handle_r_register (HarkSipRegister *self,
                   int              status,
                   const sip_t     *sip)
{
  const char *reason;

  if (status < 200)
    return;

  if (status < 300)
    {
      self->auth_answered = FALSE;
      self->retry_count = 0;

      g_object_freeze_notify (G_OBJECT (self));
      set_status_code (self, status);
      set_expires (self, sip != NULL ? granted_expires (self, sip) : self->requested_expires);
      set_contact (self, self->sent_contact);
      set_state (self, STATE_REGISTERED, REASON_NONE);
      g_object_thaw_notify (G_OBJECT (self));

      if (self->stop_pending)
        {
          self->stop_pending = FALSE;
          self->unregistering = TRUE;
          set_state (self, STATE_UNREGISTERING, REASON_REQUESTED);
          send_register_request (self, NULL, FALSE);
        }
      return;
    }

  if (status == 401 || status == 407)
    {
      reason = answer_challenge (self, status, sip);
      if (reason == NULL)
        return;
      fail (self, reason, status);
      return;
    }

  fail (self, classify_failure (status, sip), status);
}

static void
handle_r_unregister (HarkSipRegister *self,
                     int              status,
                     const sip_t     *sip)
{
  if (status < 200)
    return;

  if ((status == 401 || status == 407) && answer_challenge (self, status, sip) == NULL)
    return;

  set_status_code (self, status);
  become_unregistered (self, REASON_REQUESTED);
}

static void
register_event_cb (HarkSipAgent *agent,
                   nua_event_t   event,
                   int           status,
                   const char   *phrase,
                   nua_handle_t *nh,
                   const sip_t  *sip,
                   tagi_t        tags[],
                   gpointer      user_data)
{
  HarkSipRegister *self = user_data;

  if (nh != self->nh)
    return;

  /* A handler may drop the last other reference (stop_async callbacks) */
  g_object_ref (self);

  switch (event)
    {
    case nua_r_register:
      g_debug ("%s: REGISTER → %03d %s", self->aor, status, phrase);
      if (self->unregistering)
        handle_r_unregister (self, status, sip);
      else
        handle_r_register (self, status, sip);
      break;

    case nua_r_unregister:
      g_debug ("%s: un-REGISTER → %03d %s", self->aor, status, phrase);
      handle_r_unregister (self, status, sip);
      break;

    default:
      break;
    }

  g_object_unref (self);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */

static void
do_register (HarkSipRegister *self)
{
  if (self->nh == NULL)
    {
      self->nh = hark_sip_agent_create_handle (self->agent, register_event_cb, self,
                                               SIPTAG_TO_STR (self->aor),
                                               SIPTAG_FROM_STR (self->aor),
                                               TAG_END ());
      if (self->nh == NULL)
        {
          become_unregistered (self, REASON_SHUTDOWN);
          return;
        }
    }

  g_free (self->sent_contact);
  self->sent_contact = hark_sip_agent_get_contact_uri (self->agent, self->aor_user);
  self->unregistering = FALSE;
  self->auth_answered = FALSE;

  send_register_request (self, NULL, FALSE);
}

static const char *
classify_tls_error (const GError *error)
{
  if (error->domain == G_TLS_ERROR)
    {
      if (error->code == G_TLS_ERROR_BAD_CERTIFICATE ||
          error->code == G_TLS_ERROR_CERTIFICATE_REQUIRED)
        return REASON_TLS_VERIFY_FAILED;
      if (error->code == G_TLS_ERROR_UNAVAILABLE)
        return REASON_NOT_SUPPORTED;
      return REASON_NETWORK;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return REASON_TIMEOUT;

  return REASON_NETWORK;
}

static void
tls_check_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(HarkSipRegister) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!hark_tls_check_finish (result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      g_debug ("%s: TLS pre-flight to %s failed: %s", self->aor, self->tls_host, error->message);
      g_clear_object (&self->tls_cancellable);
      fail (self, classify_tls_error (error), 0);
      return;
    }

  g_clear_object (&self->tls_cancellable);
  do_register (self);
}

static void
send_register (HarkSipRegister *self)
{
  cancel_pending_work (self);

  if (hark_sip_agent_is_shut_down (self->agent))
    {
      become_unregistered (self, REASON_SHUTDOWN);
      return;
    }

  set_state (self, STATE_REGISTERING, REASON_NONE);

  if (self->tls_host != NULL)
    {
      self->tls_cancellable = g_cancellable_new ();
      hark_tls_check_async (self->tls_host, self->tls_port,
                            hark_sip_agent_get_ca_bundle (self->agent),
                            self->tls_cancellable, tls_check_cb, g_object_ref (self));
      return;
    }

  do_register (self);
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */

static void
on_agent_shutdown (HarkSipRegister *self)
{
  /* nua un-REGISTERs and frees every handle itself while shutting down */
  cancel_pending_work (self);
  if (self->nh != NULL)
    {
      hark_sip_agent_destroy_handle (self->agent, self->nh);
      self->nh = NULL;
    }

  if (!state_is (self, STATE_UNREGISTERED))
    become_unregistered (self, REASON_SHUTDOWN);
}

static gboolean
setup (HarkSipRegister  *self,
       GError          **error)
{
  su_home_t *home = su_home_new (sizeof (su_home_t));
  const char *transport = hark_sip_agent_get_transport (self->agent);
  gboolean tls = g_strcmp0 (transport, "tls") == 0;
  url_t *aor = NULL;
  url_t *registrar = NULL;
  url_t *first_hop = NULL;
  gboolean ok = FALSE;

  if (self->aor != NULL)
    aor = url_make (home, self->aor);
  if (aor == NULL || (aor->url_type != url_sip && aor->url_type != url_sips) ||
      aor->url_user == NULL || aor->url_host == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a SIP address of record (sip:user@domain)",
                   self->aor ? self->aor : "");
      goto out;
    }
  self->aor_user = g_strdup (aor->url_user);

  if (self->registrar != NULL)
    {
      registrar = url_make (home, self->registrar);
      if (registrar == NULL || (registrar->url_type != url_sip && registrar->url_type != url_sips) ||
          registrar->url_host == NULL)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "“%s” is not a SIP registrar URI", self->registrar);
          goto out;
        }
    }
  else
    {
      registrar = url_format (home, "%s:%s%s%s",
                              aor->url_type == url_sips ? "sips" : "sip",
                              aor->url_host,
                              aor->url_port ? ":" : "",
                              aor->url_port ? aor->url_port : "");
    }

  /* The agent has one transport; say which in the URI so that nua does
   * not pick another after a NAPTR/SRV lookup. */
  if (registrar->url_type == url_sip && !url_has_param (registrar, "transport") &&
      g_strcmp0 (transport, "udp") != 0)
    {
      g_autofree char *param = g_strdup_printf ("transport=%s", transport);

      url_param_add (home, registrar, param);
    }

  g_free (self->registrar);
  self->registrar = g_strdup (url_as_string (home, registrar));

  if (tls)
    {
      const char *proxy = hark_sip_agent_get_outbound_proxy (self->agent);

      first_hop = proxy != NULL ? url_make (home, proxy) : registrar;
      if (first_hop == NULL || first_hop->url_host == NULL)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "“%s” is not a SIP URI", proxy);
          goto out;
        }
      self->tls_host = g_strdup (first_hop->url_host);
      self->tls_port = first_hop->url_port ? (guint16) atoi (first_hop->url_port) : 0;
    }

  if (self->requested_expires == 0)
    self->requested_expires = DEFAULT_EXPIRES;

  ok = TRUE;

out:
  su_home_unref (home);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static void
hark_sip_register_dispose (GObject *object)
{
  HarkSipRegister *self = HARK_SIP_REGISTER (object);

  cancel_pending_work (self);

  if (self->agent != NULL)
    {
      drop_handle (self);
      g_clear_signal_handler (&self->shutdown_handler, self->agent);
      g_clear_object (&self->agent);
    }

  G_OBJECT_CLASS (hark_sip_register_parent_class)->dispose (object);
}

static void
hark_sip_register_finalize (GObject *object)
{
  HarkSipRegister *self = HARK_SIP_REGISTER (object);

  g_assert (self->stop_tasks == NULL);

  clear_secret (&self->password);
  g_free (self->aor);
  g_free (self->aor_user);
  g_free (self->registrar);
  g_free (self->tls_host);
  g_free (self->username);
  g_free (self->realm);
  g_free (self->contact);
  g_free (self->sent_contact);

  G_OBJECT_CLASS (hark_sip_register_parent_class)->finalize (object);
}

static void
hark_sip_register_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  HarkSipRegister *self = HARK_SIP_REGISTER (object);

  switch (prop_id)
    {
    case PROP_AGENT:
      g_value_set_object (value, self->agent);
      break;
    case PROP_AOR:
      g_value_set_string (value, self->aor);
      break;
    case PROP_REGISTRAR:
      g_value_set_string (value, self->registrar);
      break;
    case PROP_REQUESTED_EXPIRES:
      g_value_set_uint (value, self->requested_expires);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_REALM:
      g_value_set_string (value, self->realm);
      break;
    case PROP_RETRY_BASE:
      g_value_set_uint (value, self->retry_base_ms);
      break;
    case PROP_STATE:
      g_value_set_string (value, self->state);
      break;
    case PROP_STATE_REASON:
      g_value_set_string (value, self->state_reason);
      break;
    case PROP_STATUS_CODE:
      g_value_set_uint (value, self->status_code);
      break;
    case PROP_EXPIRES:
      g_value_set_uint (value, self->expires);
      break;
    case PROP_CONTACT:
      g_value_set_string (value, self->contact);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static char *
dup_nonempty (const GValue *value)
{
  const char *str = g_value_get_string (value);

  return (str != NULL && *str != '\0') ? g_strdup (str) : NULL;
}

static void
hark_sip_register_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  HarkSipRegister *self = HARK_SIP_REGISTER (object);

  switch (prop_id)
    {
    case PROP_AGENT:
      self->agent = g_value_dup_object (value);
      break;
    case PROP_AOR:
      g_free (self->aor);
      self->aor = dup_nonempty (value);
      break;
    case PROP_REGISTRAR:
      g_free (self->registrar);
      self->registrar = dup_nonempty (value);
      break;
    case PROP_REQUESTED_EXPIRES:
      self->requested_expires = g_value_get_uint (value);
      break;
    case PROP_USERNAME:
      g_free (self->username);
      self->username = dup_nonempty (value);
      break;
    case PROP_REALM:
      g_free (self->realm);
      self->realm = dup_nonempty (value);
      break;
    case PROP_RETRY_BASE:
      if (self->retry_base_ms != g_value_get_uint (value))
        {
          self->retry_base_ms = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hark_sip_register_class_init (HarkSipRegisterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_sip_register_dispose;
  object_class->finalize = hark_sip_register_finalize;
  object_class->get_property = hark_sip_register_get_property;
  object_class->set_property = hark_sip_register_set_property;

  properties[PROP_AGENT] =
    g_param_spec_object ("agent", NULL, NULL, HARK_TYPE_SIP_AGENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_AOR] =
    g_param_spec_string ("aor", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipRegister:registrar:
   *
   * The registrar URI; after construction, the Request-URI actually used
   * (the AOR's domain if none was given, with the agent's transport).
   */
  properties[PROP_REGISTRAR] =
    g_param_spec_string ("registrar", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_REQUESTED_EXPIRES] =
    g_param_spec_uint ("requested-expires", NULL, NULL, 0, G_MAXUINT32, DEFAULT_EXPIRES,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_REALM] =
    g_param_spec_string ("realm", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipRegister:retry-base:
   *
   * First back-off delay after a failure, in milliseconds; it doubles with
   * each further failure up to 300 s. Tests make it short.
   */
  properties[PROP_RETRY_BASE] =
    g_param_spec_uint ("retry-base", NULL, NULL, 1, RETRY_MAX_MS, DEFAULT_RETRY_BASE_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipRegister:state:
   *
   * "unregistered", "registering", "registered", "unregistering" or "failed".
   */
  properties[PROP_STATE] =
    g_param_spec_string ("state", NULL, NULL, STATE_UNREGISTERED,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipRegister:state-reason:
   *
   * "", "requested", "auth-failed", "timeout", "network", "server-error",
   * "rejected", "not-supported", "tls-verify-failed" or "shutdown".
   */
  properties[PROP_STATE_REASON] =
    g_param_spec_string ("state-reason", NULL, NULL, REASON_NONE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipRegister:status-code:
   *
   * SIP status of the last final response, or 0.
   */
  properties[PROP_STATUS_CODE] =
    g_param_spec_uint ("status-code", NULL, NULL, 0, 999, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipRegister:expires:
   *
   * Seconds the registrar granted, 0 when not registered.
   */
  properties[PROP_EXPIRES] =
    g_param_spec_uint ("expires", NULL, NULL, 0, G_MAXUINT32, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * HarkSipRegister:contact:
   *
   * The Contact registered, "" when not registered.
   */
  properties[PROP_CONTACT] =
    g_param_spec_string ("contact", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hark_sip_register_init (HarkSipRegister *self)
{
  self->state = STATE_UNREGISTERED;
  self->state_reason = REASON_NONE;
  self->contact = g_strdup ("");
  self->retry_base_ms = DEFAULT_RETRY_BASE_MS;
  self->requested_expires = DEFAULT_EXPIRES;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

/**
 * hark_sip_register_new:
 * @agent: the agent to send through
 * @config: what to register
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a new, unregistered registration, or
 *   %NULL with %HARK_ERROR_INVALID_ARGUMENT for a malformed URI
 */
HarkSipRegister *
hark_sip_register_new (HarkSipAgent                 *agent,
                       const HarkSipRegisterConfig  *config,
                       GError                      **error)
{
  g_autoptr(HarkSipRegister) self = NULL;

  g_return_val_if_fail (HARK_IS_SIP_AGENT (agent), NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (HARK_TYPE_SIP_REGISTER,
                       "agent", agent,
                       "aor", config->aor,
                       "registrar", config->registrar,
                       "requested-expires", config->expires,
                       "username", config->username,
                       "realm", config->realm,
                       NULL);

  if (!setup (self, error))
    return NULL;

  hark_sip_register_set_password (self, config->password);

  self->shutdown_handler = g_signal_connect_object (agent, "shutdown",
                                                    G_CALLBACK (on_agent_shutdown), self,
                                                    G_CONNECT_SWAPPED);

  return g_steal_pointer (&self);
}

HarkSipAgent *
hark_sip_register_get_agent (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), NULL);

  return self->agent;
}

const char *
hark_sip_register_get_aor (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), NULL);

  return self->aor;
}

const char *
hark_sip_register_get_state (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), NULL);

  return self->state;
}

const char *
hark_sip_register_get_state_reason (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), NULL);

  return self->state_reason;
}

guint
hark_sip_register_get_status_code (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), 0);

  return self->status_code;
}

guint
hark_sip_register_get_expires (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), 0);

  return self->expires;
}

const char *
hark_sip_register_get_contact (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), NULL);

  return self->contact;
}

/**
 * hark_sip_register_get_requests_sent:
 *
 * Returns: how many REGISTERs this object asked nua to send (initial ones,
 *   answers to challenges, refreshes it asked for, un-REGISTERs); nua's own
 *   timed refreshes are not counted
 */
guint
hark_sip_register_get_requests_sent (HarkSipRegister *self)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), 0);

  return self->requests_sent;
}

/**
 * hark_sip_register_set_password:
 * @password: (nullable): the digest password
 *
 * Used for the next challenge; the old one is wiped from memory.
 */
void
hark_sip_register_set_password (HarkSipRegister *self,
                                const char      *password)
{
  g_return_if_fail (HARK_IS_SIP_REGISTER (self));

  clear_secret (&self->password);
  if (password != NULL && *password != '\0')
    self->password = g_strdup (password);
}

/**
 * hark_sip_register_start:
 *
 * Sends a REGISTER (after a TLS pre-flight for TLS agents). Does nothing
 * while already registering or registered; fails with
 * %HARK_ERROR_INVALID_STATE while unregistering.
 */
gboolean
hark_sip_register_start (HarkSipRegister  *self,
                         GError          **error)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (state_is (self, STATE_REGISTERING) || state_is (self, STATE_REGISTERED))
    return TRUE;

  if (state_is (self, STATE_UNREGISTERING))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The registration is being removed");
      return FALSE;
    }

  if (hark_sip_agent_is_shut_down (self->agent))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The SIP stack is shutting down");
      return FALSE;
    }

  self->retry_count = 0;
  drop_handle (self);
  send_register (self);

  return TRUE;
}

static void
stop_internal (HarkSipRegister *self)
{
  if (state_is (self, STATE_UNREGISTERED) || state_is (self, STATE_UNREGISTERING))
    return;

  if (state_is (self, STATE_FAILED))
    {
      become_unregistered (self, REASON_REQUESTED);
      return;
    }

  if (state_is (self, STATE_REGISTERING))
    {
      if (self->tls_cancellable != NULL || self->nh == NULL)
        {
          /* nothing sent yet */
          become_unregistered (self, REASON_REQUESTED);
          return;
        }

      /* The REGISTER may well create a binding: remove it once it has */
      self->stop_pending = TRUE;
      set_state (self, STATE_UNREGISTERING, REASON_REQUESTED);
      return;
    }

  g_assert (state_is (self, STATE_REGISTERED));

  if (self->nh == NULL)
    {
      become_unregistered (self, REASON_REQUESTED);
      return;
    }

  self->unregistering = TRUE;
  self->auth_answered = FALSE;
  set_state (self, STATE_UNREGISTERING, REASON_REQUESTED);
  send_register_request (self, NULL, FALSE);
}

/**
 * hark_sip_register_stop:
 *
 * Removes the binding (REGISTER with Expires: 0): "unregistering", then
 * "unregistered" with reason "requested". Fails with
 * %HARK_ERROR_INVALID_STATE when already unregistered.
 */
gboolean
hark_sip_register_stop (HarkSipRegister  *self,
                        GError          **error)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (state_is (self, STATE_UNREGISTERED))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE, "Not registered");
      return FALSE;
    }

  stop_internal (self);

  return TRUE;
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  HarkSipRegister *self = g_task_get_source_object (task);

  if (g_list_find (self->stop_tasks, task) == NULL)
    return G_SOURCE_REMOVE;

  g_debug ("%s: no answer to the un-REGISTER in time; giving up", self->aor);
  become_unregistered (self, REASON_REQUESTED);

  return G_SOURCE_REMOVE;
}

/**
 * hark_sip_register_stop_async:
 *
 * Like hark_sip_register_stop(), for profile removal and daemon exit: the
 * result comes when the registrar answered, on failure, or after about 2 s,
 * whichever is first; the object is "unregistered" by then in every case.
 * Succeeds at once when already unregistered.
 */
void
hark_sip_register_stop_async (HarkSipRegister     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSource) timeout = NULL;

  g_return_if_fail (HARK_IS_SIP_REGISTER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hark_sip_register_stop_async);

  stop_internal (self);

  if (state_is (self, STATE_UNREGISTERED))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  timeout = g_timeout_source_new (STOP_TIMEOUT_MS);
  g_task_set_task_data (task, g_source_ref (timeout), (GDestroyNotify) g_source_unref);
  g_task_attach_source (task, timeout, stop_timeout_cb);

  self->stop_tasks = g_list_append (self->stop_tasks, g_steal_pointer (&task));
}

gboolean
hark_sip_register_stop_finish (HarkSipRegister  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == hark_sip_register_stop_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hark_sip_register_refresh:
 *
 * Sends a REGISTER now: refreshes a registered binding, retries a failed
 * one at once, registers an unregistered one. Fails with
 * %HARK_ERROR_INVALID_STATE while registering or unregistering.
 */
gboolean
hark_sip_register_refresh (HarkSipRegister  *self,
                           GError          **error)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (state_is (self, STATE_REGISTERING) || state_is (self, STATE_UNREGISTERING))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "A REGISTER is already in progress");
      return FALSE;
    }

  if (state_is (self, STATE_REGISTERED) && self->nh != NULL)
    {
      self->auth_answered = FALSE;
      send_register_request (self, NULL, FALSE);
      return TRUE;
    }

  if (state_is (self, STATE_FAILED))
    {
      self->retry_count = 0;
      drop_handle (self);
      send_register (self);
      return TRUE;
    }

  return hark_sip_register_start (self, error);
}

/**
 * hark_sip_register_authenticate:
 * @username: (nullable): digest user name; %NULL or "" keeps the current one
 * @password: the password
 *
 * Continues after state-reason "auth-failed" with new credentials. Fails
 * with %HARK_ERROR_INVALID_STATE in any other state and
 * %HARK_ERROR_INVALID_ARGUMENT for an empty password.
 */
gboolean
hark_sip_register_authenticate (HarkSipRegister  *self,
                                const char       *username,
                                const char       *password,
                                GError          **error)
{
  g_return_val_if_fail (HARK_IS_SIP_REGISTER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!state_is (self, STATE_FAILED) || self->state_reason != REASON_AUTH_FAILED)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The registration is not waiting for credentials");
      return FALSE;
    }

  if (password == NULL || *password == '\0')
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT, "The password is empty");
      return FALSE;
    }

  if (username != NULL && *username != '\0')
    {
      g_free (self->username);
      self->username = g_strdup (username);
    }
  hark_sip_register_set_password (self, password);

  self->retry_count = 0;
  drop_handle (self);
  send_register (self);

  return TRUE;
}

/**
 * hark_sip_register_network_changed:
 *
 * The network changed: a registered or failed registration registers again
 * at once (failures that need the user excepted).
 */
void
hark_sip_register_network_changed (HarkSipRegister *self)
{
  g_return_if_fail (HARK_IS_SIP_REGISTER (self));

  if (state_is (self, STATE_REGISTERED) ||
      (state_is (self, STATE_FAILED) && !reason_needs_user (self->state_reason)))
    {
      /* The old binding may point at an address we no longer have: start
       * over on a new handle rather than refresh it */
      self->retry_count = 0;
      drop_handle (self);
      send_register (self);
    }
}
