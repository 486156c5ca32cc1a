/* hark-subscription.c — one SUBSCRIBE usage on the bus (io.github.hark.Hark.Subscription1)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Either role of RFC 6665 over one nua handle:
 *
 * - subscriber: nua_subscribe() creates the dialog usage and refreshes it;
 *   NOTIFYs that match it are answered 200 by nua and reach us as
 *   nua_i_notify. Unsubscribe() is nua_unsubscribe() (Expires: 0) and the
 *   subscription only ends on the notifier's final NOTIFY (or a bounded
 *   wait), never by our own say-so.
 * - notifier: nua hands the initial SUBSCRIBE to us (SUBSCRIBE is one of
 *   the agent's NUTAG_APPL_METHODs); the event is saved so that Accept()
 *   or Reject() can answer it later, and nua_notify() sends the NOTIFYs.
 *   nua itself answers refreshes and a subscriber's Expires: 0 (200 plus a
 *   final NOTIFY), and sends "terminated;timeout" when the lifetime ends.
 *
 * As elsewhere, the generated skeleton holds the state: its GObject
 * properties are the D-Bus properties.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/url.h>

#include "hark-auth-attempt.h"
#include "hark-error.h"
#include "hark-mwi.h"
#include "hark-paths.h"
#include "hark-pidf.h"
#include "hark-subscription.h"

/* How long Authenticate() can continue after an unanswered challenge */
/* How long Unsubscribe() waits for the final NOTIFY (RFC 6665: 64*T1) */
#define UNSUBSCRIBE_WAIT_SECONDS 32
#define DEFAULT_EXPIRES 3600
#define MAX_EXPIRES 86400

struct _HarkSubscription
{
  GObject                 parent_instance;

  HarkSipAgent           *agent;        /* NULL for an unsolicited view */
  nua_handle_t           *nh;
  gboolean                notifier;
  gboolean                unsolicited;
  gboolean                ended;
  char                   *object_path;
  HarkDBusObjectSkeleton *object;
  HarkDBusSubscription1  *iface;
  HarkDialog             *dialog;       /* NULL for an unsolicited view */
  char                   *end_reason;   /* reason to end with when nua says "terminated" */

  /* subscriber */
  char                   *request_uri;
  char                   *accept_header;
  char                   *extra_headers; /* "Name: value\r\n"…, or NULL */
  guint                   requested_expires;
  gboolean                unsubscribing;
  guint                   unsubscribe_wait_id;
  guint                   expiry_id;     /* AutoRefresh off: the end of the lifetime */
  /* Challenges: the "auth" option, the profile's password, Authenticate() */
  HarkAuthAttempt        *auth;
  GCancellable           *cancellable;

  /* notifier */
  nua_saved_event_t       saved[1];
  gboolean                have_saved;
  guint                   answer_timeout_id;
  char                   *entity;        /* the presentity: To of the SUBSCRIBE */
  char                   *presence_basic;
  char                   *presence_note;
};

G_DEFINE_FINAL_TYPE (HarkSubscription, hark_subscription, G_TYPE_OBJECT)

enum {
  SIGNAL_ENDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------------ */
/* Checks of what a client passes                                            */

static gboolean
is_token (const char *text)
{
  if (text == NULL || *text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-.!%*_+`'~", *p) == NULL)
      return FALSE;
  return TRUE;
}

/**
 * hark_subscription_check_event:
 * @event: an event package name, e.g. "presence" or "message-summary"
 *
 * Returns: whether @event is an RFC 6665 event type (a token, no "refer":
 *   that subscription is made by REFER)
 */
gboolean
hark_subscription_check_event (const char  *event,
                               GError     **error)
{
  if (!is_token (event))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Argument “event”: “%s” is not an event package name "
                   "(expected e.g. message-summary or presence)", event ? event : "");
      return FALSE;
    }
  if (g_ascii_strcasecmp (event, "refer") == 0)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Argument “event”: the “refer” subscription is made by a transfer "
                   "(Call1.Transfer), not by SUBSCRIBE");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_media_type (const char  *what,
                  const char  *type,
                  GError     **error)
{
  const char *slash = strchr (type, '/');
  g_autofree char *major = slash ? g_strndup (type, slash - type) : NULL;

  if (slash == NULL || !is_token (major) || !is_token (slash + 1))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "%s: “%s” is not a media type (expected e.g. application/pidf+xml)",
                   what, type);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_headers (GVariant  *headers,
               GError   **error)
{
  static const char * const reserved[] = {
    "via", "from", "to", "call-id", "cseq", "contact", "content-length", "content-type",
    "event", "expires", "accept", "max-forwards", "route", "record-route", "subscription-state",
    NULL
  };
  GVariantIter iter;
  const char *name;
  const char *value;

  g_variant_iter_init (&iter, headers);
  while (g_variant_iter_next (&iter, "{&s&s}", &name, &value))
    {
      g_autofree char *lower = g_ascii_strdown (name, -1);

      if (!is_token (name))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “headers”: “%s” is not a header name", name);
          return FALSE;
        }
      if (g_strv_contains (reserved, lower))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “headers”: %s is set by Hark itself; use the matching option "
                       "or argument instead", name);
          return FALSE;
        }
      if (strpbrk (value, "\r\n") != NULL || !g_utf8_validate (value, -1, NULL))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “headers”: the value of %s must be one line of UTF-8 text",
                       name);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_credential (const char  *what,
                  const char  *text,
                  gboolean     colon_ok,
                  GError     **error)
{
  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p) || *p == '"' || (*p == ':' && !colon_ok))
      {
        g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                     "%s must not contain control characters, quotes%s", what,
                     colon_ok ? "" : " or colons");
        return FALSE;
      }
  return TRUE;
}

static gboolean
parse_auth (GVariant  *value,
            char     **out,
            GError   **error)
{
  const char *realm = NULL;
  const char *username = NULL;
  const char *password = NULL;
  GVariantIter iter;
  const char *key;
  const char *text;

  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &text))
    {
      if (g_str_equal (key, "realm"))
        realm = text;
      else if (g_str_equal (key, "username"))
        username = text;
      else if (g_str_equal (key, "password"))
        password = text;
      else
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “auth”: unknown key “%s” (expected realm, username, password)",
                       key);
          return FALSE;
        }
      if (!check_credential ("Option “auth”", text, !g_str_equal (key, "username"), error))
        return FALSE;
    }

  if (username == NULL || *username == '\0' || password == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Option “auth”: “username” and “password” are required");
      return FALSE;
    }

  if (out != NULL)
    *out = g_strdup_printf ("Digest:%s%s%s:%s:%s", realm ? "\"" : "", realm ? realm : "",
                            realm ? "\"" : "", username, password);
  return TRUE;
}

/**
 * hark_subscription_check_options:
 * @options: (nullable): the a{sv} options of Manager1.Subscribe()
 *
 * Returns: %FALSE with %HARK_ERROR_INVALID_ARGUMENT naming the bad option
 */
gboolean
hark_subscription_check_options (GVariant  *options,
                                 GError   **error)
{
  static const struct { const char *key; const char *type; } known[] = {
    { "accept", "as" }, { "expires", "u" }, { "auto-refresh", "b" },
    { "headers", "a{ss}" }, { "auth", "a{ss}" },
  };
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (options == NULL)
    return TRUE;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const char *type = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (known); i++)
        if (g_str_equal (known[i].key, key))
          type = known[i].type;

      if (type == NULL)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Unknown option “%s” (Subscribe takes: accept, expires, auto-refresh, "
                       "headers, auth)", key);
          g_variant_unref (value);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “%s”: expected type “%s”, got “%s”", key, type,
                       g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }

      if (g_str_equal (key, "accept"))
        {
          g_autofree const char **types = g_variant_get_strv (value, NULL);

          for (guint i = 0; types[i] != NULL; i++)
            if (!check_media_type ("Option “accept”", types[i], error))
              {
                g_variant_unref (value);
                return FALSE;
              }
        }
      else if (g_str_equal (key, "expires") && g_variant_get_uint32 (value) > MAX_EXPIRES)
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “expires”: %u is out of range (0 for a one-time fetch, "
                       "up to %u seconds)", g_variant_get_uint32 (value), MAX_EXPIRES);
          g_variant_unref (value);
          return FALSE;
        }
      else if ((g_str_equal (key, "headers") && !check_headers (value, error)) ||
               (g_str_equal (key, "auth") && !parse_auth (value, NULL, error)))
        {
          g_variant_unref (value);
          return FALSE;
        }
    }

  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* State                                                                     */

static const char *
get_state (HarkSubscription *self)
{
  return hark_dbus_subscription1_get_state (self->iface);
}

static void
set_string (HarkSubscription *self,
            const char       *property,
            const char       *value)
{
  g_autofree char *current = NULL;
  g_autofree char *valid = g_utf8_make_valid (value ? value : "", -1);

  g_object_get (self->iface, property, &current, NULL);
  if (g_strcmp0 (current, valid) != 0)
    g_object_set (self->iface, property, valid, NULL);
}

static void
set_state (HarkSubscription *self,
           const char       *state,
           const char       *reason)
{
  set_string (self, "state", state);
  if (reason != NULL)
    set_string (self, "state-reason", reason);
}

static void
set_expires (HarkSubscription *self,
             guint             expires)
{
  if (hark_dbus_subscription1_get_expires (self->iface) != expires)
    hark_dbus_subscription1_set_expires (self->iface, expires);
}

static void
set_status_code (HarkSubscription *self,
                 guint             status)
{
  if (hark_dbus_subscription1_get_status_code (self->iface) != status)
    hark_dbus_subscription1_set_status_code (self->iface, status);
}

static void
release_saved_event (HarkSubscription *self)
{
  if (self->have_saved)
    {
      nua_destroy_event (self->saved);
      self->have_saved = FALSE;
    }
}

static void
forget_handle (HarkSubscription *self,
               gboolean          destroy)
{
  nua_handle_t *nh = g_steal_pointer (&self->nh);

  if (nh != NULL && destroy && self->agent != NULL)
    hark_sip_agent_destroy_handle (self->agent, nh);
}

/* The end: the usage is over on the wire (or never will be). */
static void
finish (HarkSubscription *self,
        const char       *reason)
{
  g_autoptr(HarkSubscription) keep = g_object_ref (self);

  if (self->ended)
    return;
  self->ended = TRUE;

  g_debug ("Subscription %s terminated: %s", self->object_path, reason);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->answer_timeout_id, g_source_remove);
  g_clear_handle_id (&self->unsubscribe_wait_id, g_source_remove);
  g_clear_handle_id (&self->expiry_id, g_source_remove);
  if (self->auth != NULL)
    hark_auth_attempt_stop (self->auth);
  release_saved_event (self);
  forget_handle (self, TRUE);

  set_state (self, "terminated", reason);
  if (self->dialog != NULL)
    {
      hark_dialog_set_state (self->dialog, "terminated");
      hark_dialog_usage_ended (self->dialog, self);
    }

  g_signal_emit (self, signals[SIGNAL_ENDED], 0);
}

static const char *
reason_for_status (int status)
{
  switch (status)
    {
    case 401:
    case 407:
      return "auth-failed";
    case 408:
      return "timeout";
    case 481:
      return "no-subscription";
    case 489:
      return "bad-event";
    default:
      return status >= 300 && status < 700 ? "rejected" : "failed";
    }
}

static int
get_substate (tagi_t tags[])
{
  const tagi_t *t = tags ? tl_find (tags, nutag_substate) : NULL;

  return t ? (int) t->t_value : -1;
}

static void
update_dialog_ids (HarkSubscription *self,
                   const sip_t      *sip,
                   gboolean          response)
{
  const char *call_id;
  const char *local_tag;
  const char *remote_tag;

  if (self->dialog == NULL || sip == NULL || sip->sip_from == NULL || sip->sip_to == NULL)
    return;

  call_id = sip->sip_call_id ? sip->sip_call_id->i_id : NULL;
  /* Our requests and their responses: From is us. Their requests: To is us. */
  local_tag = response ? sip->sip_from->a_tag : sip->sip_to->a_tag;
  remote_tag = response ? sip->sip_to->a_tag : sip->sip_from->a_tag;
  hark_dialog_update_ids (self->dialog, call_id, local_tag, remote_tag);
}

/* ------------------------------------------------------------------------ */
/* Bodies                                                                    */

static GVariant *
bytes_variant (const void *data,
               gsize       len)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data ? data : "", len, 1);
}

static void
set_last_body (HarkSubscription *self,
               const char       *content_type,
               const void       *data,
               gsize             len)
{
  set_string (self, "last-content-type", content_type);
  hark_dbus_subscription1_set_last_body (self->iface, bytes_variant (data, len));
}

static void
set_presence_view (HarkSubscription *self,
                   const char       *basic,
                   const char       *note)
{
  g_autofree char *valid_note = g_utf8_make_valid (note ? note : "", -1);

  hark_dbus_subscription1_set_presence (self->iface,
                                        g_variant_new ("(ss)", basic ? basic : "", valid_note));
}

static gboolean
content_type_is (const char *content_type,
                 const char *expected)
{
  return content_type == NULL || *content_type == '\0' ||
         g_ascii_strcasecmp (content_type, expected) == 0;
}

/* The parsed views of the last body: for message-summary and presence
 * only, and only of the type the package defines. */
static void
update_views (HarkSubscription *self,
              const char       *content_type,
              const char       *data,
              gsize             len)
{
  const char *event = hark_dbus_subscription1_get_event (self->iface);
  g_autoptr(GError) error = NULL;
  const char *reason = "";

  if (len == 0)
    return;   /* an empty NOTIFY (e.g. pending) says nothing new */

  if (g_ascii_strcasecmp (event, "message-summary") == 0 &&
      content_type_is (content_type, HARK_MWI_CONTENT_TYPE))
    {
      HarkMwiSummary summary;

      if (hark_mwi_parse (data, len, &summary, &error))
        {
          if (hark_dbus_subscription1_get_messages_waiting (self->iface) != summary.messages_waiting)
            hark_dbus_subscription1_set_messages_waiting (self->iface, summary.messages_waiting);
          hark_dbus_subscription1_set_voice_messages (self->iface,
                                                      g_variant_new ("(uuuu)",
                                                                     summary.voice.new_messages,
                                                                     summary.voice.old_messages,
                                                                     summary.voice.new_urgent,
                                                                     summary.voice.old_urgent));
          hark_mwi_summary_clear (&summary);
        }
    }
  else if (g_ascii_strcasecmp (event, "presence") == 0 &&
           content_type_is (content_type, HARK_PIDF_CONTENT_TYPE))
    {
      g_autofree char *basic = NULL;
      g_autofree char *note = NULL;

      if (hark_pidf_parse (data, len, &basic, &note, &error))
        set_presence_view (self, basic, note);
    }

  if (error != NULL)
    {
      g_message ("Subscription %s: ignoring the body of a NOTIFY: %s", self->object_path,
                 error->message);
      reason = "malformed-body";
    }

  if (!g_str_equal (get_state (self), "terminated"))
    set_string (self, "state-reason", reason);
}

/* ------------------------------------------------------------------------ */
/* Subscriber                                                                */

static gboolean
expiry_cb (gpointer user_data)
{
  HarkSubscription *self = user_data;

  self->expiry_id = 0;
  /* AutoRefresh off: the lifetime is over; nothing is sent (RFC 6665
   * section 4.1.2.2: the subscription simply lapses). */
  finish (self, "timeout");
  return G_SOURCE_REMOVE;
}

static void
schedule_expiry (HarkSubscription *self,
                 guint             seconds)
{
  if (hark_dbus_subscription1_get_auto_refresh (self->iface) || self->notifier || seconds == 0)
    return;
  if (self->expiry_id != 0)
    return;   /* the first lifetime granted is the one that lapses */
  self->expiry_id = g_timeout_add_seconds (seconds, expiry_cb, self);
}

static void
send_subscribe (HarkSubscription *self,
                guint             expires)
{
  g_autofree char *expires_text = g_strdup_printf ("%u", expires);

  nua_subscribe (self->nh,
                 NUTAG_URL (self->request_uri),
                 SIPTAG_EVENT_STR (hark_dbus_subscription1_get_event (self->iface)),
                 TAG_IF (self->accept_header != NULL, SIPTAG_ACCEPT_STR (self->accept_header)),
                 SIPTAG_EXPIRES_STR (expires_text),
                 TAG_IF (self->extra_headers != NULL, SIPTAG_HEADER_STR (self->extra_headers)),
                 TAG_END ());
}

static void
on_auth_send_credentials (HarkAuthAttempt  *auth,
                          const char       *credentials,
                          HarkSubscription *self)
{
  if (self->nh == NULL || self->ended)
    return;
  if (g_str_equal (hark_dbus_subscription1_get_state_reason (self->iface), "auth-required"))
    set_string (self, "state-reason", "");
  nua_authenticate (self->nh, NUTAG_AUTH (credentials), TAG_END ());
}

static void
on_auth_waiting (HarkAuthAttempt  *auth,
                 HarkSubscription *self)
{
  set_string (self, "state-reason", "auth-required");
}

static void
on_auth_gave_up (HarkAuthAttempt  *auth,
                 HarkSubscription *self)
{
  finish (self, "auth-failed");
}

static gboolean
waiting_for_credentials (HarkSubscription *self)
{
  return self->auth != NULL && hark_auth_attempt_get_waiting (self->auth);
}

/* A 401/407: the "auth" option first, then the profile's password, each
 * once; then Authenticate() for a while. */
static void
handle_challenge (HarkSubscription *self,
                  int               status,
                  const sip_t      *sip)
{
  set_status_code (self, status);

  if (self->unsubscribing || self->auth == NULL)
    {
      finish (self, "auth-failed");
      return;
    }

  hark_auth_attempt_challenge (self->auth, status, sip);
}

static void
handle_r_subscribe (HarkSubscription *self,
                    nua_event_t       event,
                    int               status,
                    const sip_t      *sip,
                    tagi_t            tags[])
{
  if ((status == 401 || status == 407) && sip != NULL)
    {
      handle_challenge (self, status, sip);
      return;
    }

  if (status < 200)
    return;

  /* AutoRefresh off: Sofia-SIP 1.12 refreshes every dialog usage by
   * itself and has no switch for it. Its refreshes are ignored; the
   * lifetime granted first lapses all the same (expiry_cb). */
  if (self->expiry_id != 0 && event == nua_r_subscribe && !self->unsubscribing)
    {
      g_debug ("Subscription %s: ignoring Sofia's own refresh (%03d)", self->object_path, status);
      return;
    }

  set_status_code (self, status);

  if (status >= 300)
    {
      finish (self, self->unsubscribing && status == 481 ? "unsubscribed"
                                                         : reason_for_status (status));
      return;
    }

  update_dialog_ids (self, sip, TRUE);
  if (self->dialog != NULL)
    hark_dialog_set_state (self->dialog, "confirmed");

  if (event == nua_r_unsubscribe || self->unsubscribing)
    return;   /* the final NOTIFY ends it */

  if (sip != NULL && sip->sip_expires != NULL)
    {
      guint granted = (guint) MIN (sip->sip_expires->ex_delta, (unsigned long) MAX_EXPIRES);

      set_expires (self, granted);
      schedule_expiry (self, granted);
    }
  else
    {
      set_expires (self, self->requested_expires);
      schedule_expiry (self, self->requested_expires);
    }

  /* A 2xx says the notifier took the SUBSCRIBE, not that it is active
   * (RFC 6665 section 4.1.2.1): the NOTIFY tells. A fetch with nothing
   * to wait for is over. */
  if (get_substate (tags) == nua_substate_terminated && self->requested_expires != 0)
    finish (self, "remote-terminated");
}

static gboolean
unsubscribe_wait_cb (gpointer user_data)
{
  HarkSubscription *self = user_data;

  self->unsubscribe_wait_id = 0;
  finish (self, "timeout");
  return G_SOURCE_REMOVE;
}

static void
process_notify (HarkSubscription *self,
                const sip_t      *sip,
                tagi_t            tags[])
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  const sip_subscription_state_t *ss = sip->sip_subscription_state;
  g_autofree char *ss_text = NULL;
  g_autofree char *content_type = NULL;
  const char *data = sip->sip_payload ? sip->sip_payload->pl_data : NULL;
  gsize len = sip->sip_payload ? sip->sip_payload->pl_len : 0;
  const char *substate = NULL;

  if (ss != NULL)
    {
      char *text = sip_header_as_string (home, (const sip_header_t *) ss);

      ss_text = g_utf8_make_valid (text ? text : "", -1);
      substate = ss->ss_substate;
    }
  else
    {
      int tag_state = get_substate (tags);

      ss_text = g_strdup ("");
      substate = tag_state == nua_substate_terminated ? "terminated"
                 : tag_state == nua_substate_pending ? "pending" : "active";
    }
  if (sip->sip_content_type != NULL && sip->sip_content_type->c_type != NULL)
    content_type = g_utf8_make_valid (sip->sip_content_type->c_type, -1);
  else
    content_type = g_strdup ("");

  hark_dbus_subscription1_emit_notified (self->iface, content_type, bytes_variant (data, len),
                                         ss_text);
  set_last_body (self, content_type, data, len);
  update_views (self, content_type, data, len);

  if (self->unsolicited)
    {
      /* A view of what the PBX sends by itself: it has no life of its own. */
      set_state (self, "active", NULL);
    }
  else if (substate != NULL && g_ascii_strcasecmp (substate, "terminated") == 0)
    {
      const char *reason = ss && ss->ss_reason && is_token (ss->ss_reason) ? ss->ss_reason : NULL;

      /* The answer to our Expires: 0: nua's notifier (Hark's too) says
       * "timeout" there, the lifetime of 0 s having passed; that is our
       * un-SUBSCRIBE, not a lapse. */
      if (self->unsubscribing && (reason == NULL || g_ascii_strcasecmp (reason, "timeout") == 0))
        reason = "unsubscribed";
      else if (reason == NULL)
        reason = "remote-terminated";
      finish (self, reason);
    }
  else
    {
      set_state (self, substate && g_ascii_strcasecmp (substate, "pending") == 0
                       ? "pending" : "active", NULL);
      if (ss != NULL && ss->ss_expires != NULL)
        {
          guint64 expires;

          if (g_ascii_string_to_unsigned (ss->ss_expires, 10, 0, MAX_EXPIRES, &expires, NULL))
            {
              set_expires (self, (guint) expires);
              schedule_expiry (self, (guint) expires);
            }
        }
    }

  su_home_deinit (home);
}

static void
handle_i_notify (HarkSubscription *self,
                 int               status,
                 const sip_t      *sip,
                 tagi_t            tags[])
{
  /* nua's own verdicts: no NOTIFY after a fetch or unsubscribe (408), a
   * refresh that could not be sent (900s) */
  if (sip == NULL || status >= 300)
    {
      finish (self, status == 408 ? "timeout" : "failed");
      return;
    }

  /* A NOTIFY nua did not match to the usage (it may be gone after our
   * un-SUBSCRIBE) waits for our answer: it is still ours. */
  if (status < 200)
    nua_respond (self->nh, SIP_200_OK,
                 NUTAG_WITH_THIS (hark_sip_agent_get_nua (self->agent)),
                 TAG_END ());

  update_dialog_ids (self, sip, FALSE);
  if (self->dialog != NULL)
    hark_dialog_set_state (self->dialog, "confirmed");

  process_notify (self, sip, tags);
}

/**
 * hark_subscription_unsubscribe:
 *
 * Subscriber: SUBSCRIBE with Expires: 0; the subscription ends on the final
 * NOTIFY or after a bounded wait.
 */
gboolean
hark_subscription_unsubscribe (HarkSubscription  *self,
                               GError           **error)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), FALSE);

  if (self->ended || self->notifier || self->unsubscribing)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   self->notifier ? "Unsubscribe() is for the subscriber; this subscription "
                                    "is the notifier (use Terminate())"
                   : self->unsubscribing ? "Already unsubscribing; waiting for the final NOTIFY"
                   : "The subscription has already terminated");
      return FALSE;
    }

  if (self->unsolicited || self->nh == NULL)
    {
      finish (self, "unsubscribed");
      return TRUE;
    }

  self->unsubscribing = TRUE;
  g_clear_handle_id (&self->expiry_id, g_source_remove);
  if (self->auth != NULL)
    hark_auth_attempt_stop (self->auth);
  set_string (self, "state-reason", "unsubscribing");
  nua_unsubscribe (self->nh,
                   TAG_IF (self->extra_headers != NULL, SIPTAG_HEADER_STR (self->extra_headers)),
                   TAG_END ());
  self->unsubscribe_wait_id = g_timeout_add_seconds (UNSUBSCRIBE_WAIT_SECONDS,
                                                     unsubscribe_wait_cb, self);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Notifier                                                                  */

static const char *
current_basic (HarkSubscription *self)
{
  return self->presence_basic ? self->presence_basic : "open";
}

static void
send_notify (HarkSubscription *self,
             const char       *subscription_state,
             const char       *content_type,
             const void       *data,
             gsize             len)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  sip_payload_t *payload = len > 0 ? sip_payload_create (home, data, len) : NULL;
  gboolean terminated = subscription_state != NULL;

  nua_notify (self->nh,
              NUTAG_SUBSTATE (terminated ? nua_substate_terminated : nua_substate_active),
              TAG_IF (terminated, SIPTAG_SUBSCRIPTION_STATE_STR (subscription_state)),
              TAG_IF (content_type != NULL && *content_type != '\0',
                      SIPTAG_CONTENT_TYPE_STR (content_type)),
              TAG_IF (payload != NULL, SIPTAG_PAYLOAD (payload)),
              TAG_END ());
  set_last_body (self, content_type ? content_type : "", data, len);
  su_home_deinit (home);
}

static void
send_presence (HarkSubscription *self)
{
  g_autofree char *doc = hark_pidf_build (self->entity, current_basic (self), self->presence_note);

  set_presence_view (self, current_basic (self), self->presence_note);
  send_notify (self, NULL, HARK_PIDF_CONTENT_TYPE, doc, strlen (doc));
}

static gboolean
is_presence (HarkSubscription *self)
{
  return g_ascii_strcasecmp (hark_dbus_subscription1_get_event (self->iface), "presence") == 0;
}

static gboolean
answer_timeout_cb (gpointer user_data)
{
  HarkSubscription *self = user_data;

  self->answer_timeout_id = 0;
  if (self->have_saved && self->nh != NULL)
    nua_respond (self->nh, SIP_480_TEMPORARILY_UNAVAILABLE,
                 NUTAG_WITH_SAVED (self->saved), TAG_END ());
  set_status_code (self, 480);
  finish (self, "unanswered");
  return G_SOURCE_REMOVE;
}

static gboolean
check_pending_notifier (HarkSubscription  *self,
                        const char        *method,
                        GError           **error)
{
  if (!self->notifier)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "%s() is for the notifier; this subscription is the subscriber", method);
      return FALSE;
    }
  if (self->ended || !self->have_saved || self->nh == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "%s() answers a pending incoming subscription; this one is %s", method,
                   get_state (self));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_active_notifier (HarkSubscription  *self,
                       const char        *method,
                       GError           **error)
{
  if (!self->notifier)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "%s() is for the notifier; this subscription is the subscriber", method);
      return FALSE;
    }
  if (self->ended || self->nh == NULL || !g_str_equal (get_state (self), "active") ||
      self->end_reason != NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "%s() needs an accepted subscription; this one is %s%s", method,
                   get_state (self), self->end_reason ? " and terminating" : "");
      return FALSE;
    }
  return TRUE;
}

static void
reject (HarkSubscription *self,
        guint             code)
{
  nua_respond (self->nh, code, sip_status_phrase (code) ? sip_status_phrase (code) : "Rejected",
               NUTAG_WITH_SAVED (self->saved), TAG_END ());
  set_status_code (self, code);
  finish (self, "rejected");
}

static gboolean
terminate_notifier (HarkSubscription  *self,
                    GVariant          *options,
                    GError           **error)
{
  const char *reason = "noresource";
  const char *content_type = NULL;
  g_autoptr(GVariant) body = NULL;
  g_autofree char *state = NULL;
  gconstpointer data = NULL;
  gsize len = 0;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (!self->notifier)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "Terminate() is for the notifier; a subscriber ends with Unsubscribe()");
      return FALSE;
    }
  if (self->ended || self->nh == NULL || self->end_reason != NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The subscription is %s", self->ended ? "already terminated" : "terminating");
      return FALSE;
    }

  if (options != NULL)
    {
      g_variant_iter_init (&iter, options);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        {
          if (g_str_equal (key, "reason") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            reason = g_variant_get_string (value, NULL);
          else if (g_str_equal (key, "content-type") &&
                   g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            content_type = g_variant_get_string (value, NULL);
          else if (g_str_equal (key, "body") &&
                   (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ||
                    g_variant_is_of_type (value, G_VARIANT_TYPE_BYTESTRING)))
            body = g_variant_ref (value);
          else
            {
              g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                           "Option “%s” of type “%s” is not known to Terminate() (it takes "
                           "reason (s), content-type (s), body (s or ay))", key,
                           g_variant_get_type_string (value));
              g_variant_unref (value);
              return FALSE;
            }
        }
    }

  if (!is_token (reason))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Option “reason”: “%s” is not a Subscription-State reason (expected e.g. "
                   "noresource, deactivated, rejected, timeout)", reason);
      return FALSE;
    }
  if (content_type != NULL && *content_type != '\0' &&
      !check_media_type ("Option “content-type”", content_type, error))
    return FALSE;
  if (body != NULL)
    {
      if (g_variant_is_of_type (body, G_VARIANT_TYPE_STRING))
        data = g_variant_get_string (body, &len);
      else
        data = g_variant_get_fixed_array (body, &len, 1);
      if (len > 0 && (content_type == NULL || *content_type == '\0'))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “body” needs option “content-type”");
          return FALSE;
        }
    }

  /* Not accepted yet: there is no subscription to end, only a request
   * to refuse (RFC 6665 section 4.2.1.1). */
  if (self->have_saved)
    {
      reject (self, 603);
      return TRUE;
    }

  self->end_reason = g_strdup (reason);
  state = g_strdup_printf ("terminated;reason=%s", reason);
  send_notify (self, state, content_type, data, len);
  return TRUE;
}

static void
handle_i_subscribe (HarkSubscription *self,
                    int               status,
                    const sip_t      *sip,
                    tagi_t            tags[])
{
  /* A refresh or un-SUBSCRIBE, answered by nua (200 and a NOTIFY). */
  if (sip != NULL && sip->sip_expires != NULL)
    {
      if (sip->sip_expires->ex_delta == 0)
        {
          if (self->end_reason == NULL)
            self->end_reason = g_strdup ("unsubscribed");
        }
      else
        set_expires (self, (guint) MIN (sip->sip_expires->ex_delta, (unsigned long) DEFAULT_EXPIRES));
    }
  if (get_substate (tags) == nua_substate_terminated && self->end_reason == NULL)
    self->end_reason = g_strdup ("unsubscribed");
}

static void
handle_r_notify (HarkSubscription *self,
                 int               status,
                 const sip_t      *sip,
                 tagi_t            tags[])
{
  if (status < 200)
    return;

  if (status >= 300)
    {
      /* RFC 6665 section 4.2.2: a failed NOTIFY ends the subscription. */
      finish (self, self->end_reason ? self->end_reason : reason_for_status (status));
      return;
    }

  if (get_substate (tags) == nua_substate_terminated)
    finish (self, self->end_reason ? self->end_reason : "timeout");
}

/**
 * hark_subscription_set_presence:
 * @basic: "open" or "closed"
 * @note: (nullable): a note
 *
 * Notifier of "presence": what to publish; an active subscription sends it
 * at once.
 */
void
hark_subscription_set_presence (HarkSubscription *self,
                                const char       *basic,
                                const char       *note)
{
  g_return_if_fail (HARK_IS_SUBSCRIPTION (self));

  g_free (self->presence_basic);
  self->presence_basic = g_strdup (basic);
  g_free (self->presence_note);
  self->presence_note = g_strdup (note);

  if (self->notifier && is_presence (self) && !self->ended && self->nh != NULL &&
      g_str_equal (get_state (self), "active") && self->end_reason == NULL)
    send_presence (self);
}

/* ------------------------------------------------------------------------ */
/* nua events                                                                */

static void
subscription_event_cb (HarkSipAgent *agent,
                       nua_event_t   event,
                       int           status,
                       const char   *phrase,
                       nua_handle_t *nh,
                       const sip_t  *sip,
                       tagi_t        tags[],
                       gpointer      user_data)
{
  HarkSubscription *self = user_data;
  g_autoptr(HarkSubscription) keep = g_object_ref (self);

  if (self->ended || nh != self->nh)
    return;

  switch (event)
    {
    case nua_r_subscribe:
    case nua_r_unsubscribe:
      handle_r_subscribe (self, event, status, sip, tags);
      break;

    case nua_i_notify:
      handle_i_notify (self, status, sip, tags);
      break;

    case nua_i_subscribe:
      handle_i_subscribe (self, status, sip, tags);
      break;

    case nua_r_notify:
      handle_r_notify (self, status, sip, tags);
      break;

    case nua_i_error:
      g_debug ("Subscription %s: nua error %03d %s", self->object_path, status, phrase);
      break;

    default:
      /* Requests nua hands over but a subscription does not take (an
       * in-dialog INFO, say) are refused rather than left hanging. */
      if (status < 200 && sip != NULL && sip->sip_request != NULL)
        nua_respond (nh, SIP_405_METHOD_NOT_ALLOWED, NUTAG_WITH_THIS (hark_sip_agent_get_nua (agent)),
                     TAG_END ());
      break;
    }
}

static void
on_agent_shutdown (HarkSipAgent     *agent,
                   HarkSubscription *self)
{
  /* nua ends the usage itself while shutting down and frees the handle:
   * forget it rather than destroy it; saved events must go first. */
  release_saved_event (self);
  forget_handle (self, FALSE);
  finish (self, "shutdown");
}

/* ------------------------------------------------------------------------ */
/* D-Bus methods                                                             */

static gboolean
check_subscriber (HarkSubscription  *self,
                  const char        *method,
                  GError           **error)
{
  if (self->notifier)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "%s() is for the subscriber; this subscription is the notifier", method);
      return FALSE;
    }
  if (self->ended)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The subscription has already terminated (%s)",
                   hark_dbus_subscription1_get_state_reason (self->iface));
      return FALSE;
    }
  return TRUE;
}

static gboolean
handle_unsubscribe (HarkDBusSubscription1 *iface,
                    GDBusMethodInvocation *invocation,
                    HarkSubscription      *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_subscriber (self, "Unsubscribe", &error) ||
      !hark_subscription_unsubscribe (self, &error))
    return hark_error_return (invocation, error);

  hark_dbus_subscription1_complete_unsubscribe (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_refresh (HarkDBusSubscription1 *iface,
                GDBusMethodInvocation *invocation,
                HarkSubscription      *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_subscriber (self, "Refresh", &error))
    return hark_error_return (invocation, error);

  if (self->unsolicited || self->nh == NULL || self->unsubscribing ||
      waiting_for_credentials (self))
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The subscription cannot be refreshed now (%s)",
                                  self->unsolicited ? "it is an unsolicited view"
                                  : self->unsubscribing ? "unsubscribing"
                                  : "waiting for credentials");

  send_subscribe (self, self->requested_expires);
  hark_dbus_subscription1_complete_refresh (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_authenticate (HarkDBusSubscription1 *iface,
                     GDBusMethodInvocation *invocation,
                     const char            *username,
                     const char            *password,
                     HarkSubscription      *self)
{
  g_autoptr(GError) error = NULL;
  const char *user;

  if (!check_subscriber (self, "Authenticate", &error))
    return hark_error_return (invocation, error);

  if (!waiting_for_credentials (self) || self->nh == NULL)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "No challenge is waiting for credentials "
                                  "(StateReason is not auth-required)");

  user = *username ? username : hark_auth_attempt_get_username (self->auth);
  if (user == NULL || *user == '\0' || *password == '\0')
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Arguments “username” and “password” must not be "
                                  "empty (the profile has no user name)");
  if (!check_credential ("Argument “username”", user, FALSE, &error) ||
      !check_credential ("Argument “password”", password, TRUE, &error))
    return hark_error_return (invocation, error);

  hark_auth_attempt_supply (self->auth, user, password);
  hark_dbus_subscription1_complete_authenticate (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_accept (HarkDBusSubscription1 *iface,
               GDBusMethodInvocation *invocation,
               HarkSubscription      *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_pending_notifier (self, "Accept", &error))
    return hark_error_return (invocation, error);

  g_clear_handle_id (&self->answer_timeout_id, g_source_remove);
  nua_respond (self->nh, SIP_200_OK, NUTAG_WITH_SAVED (self->saved), TAG_END ());
  release_saved_event (self);
  set_status_code (self, 200);
  if (self->dialog != NULL)
    hark_dialog_set_state (self->dialog, "confirmed");
  set_state (self, "active", "");

  /* RFC 6665 section 4.2.1.2: a NOTIFY at once, with the current state. */
  if (is_presence (self))
    send_presence (self);
  else
    send_notify (self, NULL, NULL, NULL, 0);

  hark_dbus_subscription1_complete_accept (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_reject (HarkDBusSubscription1 *iface,
               GDBusMethodInvocation *invocation,
               guint                  code,
               HarkSubscription      *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_pending_notifier (self, "Reject", &error))
    return hark_error_return (invocation, error);

  if (code == 0)
    code = 603;
  if (code < 300 || code > 699)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Argument “code”: %u is not a final error "
                                  "response (300 to 699, 0 for 603)", code);

  g_object_ref (self);
  reject (self, code);
  hark_dbus_subscription1_complete_reject (iface, invocation);
  g_object_unref (self);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_notify (HarkDBusSubscription1 *iface,
               GDBusMethodInvocation *invocation,
               const char            *content_type,
               GVariant              *body,
               HarkSubscription      *self)
{
  g_autoptr(GError) error = NULL;
  gconstpointer data;
  gsize len;

  if (!check_active_notifier (self, "Notify", &error))
    return hark_error_return (invocation, error);

  data = g_variant_get_fixed_array (body, &len, 1);
  if (*content_type != '\0' && !check_media_type ("Argument “content_type”", content_type, &error))
    return hark_error_return (invocation, error);
  if (*content_type == '\0' && len > 0)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Argument “content_type” must name the body’s "
                                  "media type");
  if (len > 1024 * 1024)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Argument “body” is longer than 1 MiB");

  send_notify (self, NULL, content_type, data, len);
  if (is_presence (self) && content_type_is (content_type, HARK_PIDF_CONTENT_TYPE) && len > 0)
    {
      g_autofree char *basic = NULL;
      g_autofree char *note = NULL;

      if (hark_pidf_parse (data, len, &basic, &note, NULL))
        set_presence_view (self, basic, note);
    }
  hark_dbus_subscription1_complete_notify (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_terminate (HarkDBusSubscription1 *iface,
                  GDBusMethodInvocation *invocation,
                  GVariant              *options,
                  HarkSubscription      *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HarkSubscription) keep = g_object_ref (self);

  if (!terminate_notifier (self, options, &error))
    return hark_error_return (invocation, error);

  hark_dbus_subscription1_complete_terminate (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Dialog1.Terminate(): each role ends its usage by its own rule. */
static gboolean
dialog_terminate_cb (gpointer   usage,
                     GVariant  *options,
                     GError   **error)
{
  HarkSubscription *self = usage;

  if (self->notifier)
    return terminate_notifier (self, options, error);
  return hark_subscription_unsubscribe (self, error);
}

/**
 * hark_subscription_end:
 *
 * Ends the usage by its role's rule because its profile goes away: a
 * subscriber un-SUBSCRIBEs and waits for the final NOTIFY, a notifier
 * sends NOTIFY `terminated;reason=noresource` (or refuses a SUBSCRIBE not
 * answered yet). The subscription emits #HarkSubscription::ended when
 * that is over (bounded).
 *
 * Returns: %TRUE if it has not ended yet: ::ended is still to come
 */
gboolean
hark_subscription_end (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), FALSE);

  if (self->ended)
    return FALSE;

  if (self->notifier)
    {
      if (self->end_reason == NULL && self->nh != NULL)
        terminate_notifier (self, NULL, NULL);
    }
  else if (!self->unsubscribing)
    hark_subscription_unsubscribe (self, NULL);

  return !self->ended;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static void
hark_subscription_dispose (GObject *object)
{
  HarkSubscription *self = (HarkSubscription *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->answer_timeout_id, g_source_remove);
  g_clear_handle_id (&self->unsubscribe_wait_id, g_source_remove);
  g_clear_handle_id (&self->expiry_id, g_source_remove);
  if (self->auth != NULL)
    {
      hark_auth_attempt_stop (self->auth);
      g_signal_handlers_disconnect_by_data (self->auth, self);
      g_clear_object (&self->auth);
    }
  release_saved_event (self);
  forget_handle (self, TRUE);
  if (self->agent != NULL)
    g_signal_handlers_disconnect_by_data (self->agent, self);
  g_clear_object (&self->agent);
  if (self->iface != NULL)
    g_signal_handlers_disconnect_by_data (self->iface, self);
  g_clear_object (&self->iface);
  g_clear_object (&self->object);
  g_clear_object (&self->dialog);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hark_subscription_parent_class)->dispose (object);
}

static void
hark_subscription_finalize (GObject *object)
{
  HarkSubscription *self = (HarkSubscription *) object;

  g_free (self->object_path);
  g_free (self->end_reason);
  g_free (self->request_uri);
  g_free (self->accept_header);
  g_free (self->extra_headers);
  g_free (self->entity);
  g_free (self->presence_basic);
  g_free (self->presence_note);

  G_OBJECT_CLASS (hark_subscription_parent_class)->finalize (object);
}

static void
hark_subscription_class_init (HarkSubscriptionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_subscription_dispose;
  object_class->finalize = hark_subscription_finalize;

  /**
   * HarkSubscription::ended:
   *
   * The subscription reached State "terminated".
   */
  signals[SIGNAL_ENDED] =
    g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
hark_subscription_init (HarkSubscription *self)
{
  const char * const no_types[] = { NULL };

  self->cancellable = g_cancellable_new ();
  self->object_path = hark_path_next ("Subscription");
  self->iface = hark_dbus_subscription1_skeleton_new ();
  g_object_set (self->iface,
                "profile", "/", "dialog", "/", "role", "subscriber", "uri", "", "event", "",
                "accept", no_types, "expires", 0, "auto-refresh", TRUE, "state", "pending",
                "state-reason", "", "status-code", 0, "last-content-type", "",
                "last-body", bytes_variant (NULL, 0), "messages-waiting", FALSE,
                "voice-messages", g_variant_new ("(uuuu)", 0, 0, 0, 0),
                "presence", g_variant_new ("(ss)", "", ""),
                NULL);

  g_signal_connect (self->iface, "handle-unsubscribe", G_CALLBACK (handle_unsubscribe), self);
  g_signal_connect (self->iface, "handle-refresh", G_CALLBACK (handle_refresh), self);
  g_signal_connect (self->iface, "handle-authenticate", G_CALLBACK (handle_authenticate), self);
  g_signal_connect (self->iface, "handle-accept", G_CALLBACK (handle_accept), self);
  g_signal_connect (self->iface, "handle-reject", G_CALLBACK (handle_reject), self);
  g_signal_connect (self->iface, "handle-notify", G_CALLBACK (handle_notify), self);
  g_signal_connect (self->iface, "handle-terminate", G_CALLBACK (handle_terminate), self);

  self->object = hark_dbus_object_skeleton_new (self->object_path);
  hark_dbus_object_skeleton_set_subscription1 (self->object, self->iface);
}

static void
attach_dialog (HarkSubscription *self)
{
  self->dialog = hark_dialog_new ();
  hark_dbus_subscription1_set_dialog (self->iface, hark_dialog_get_object_path (self->dialog));
  hark_dialog_add_usage (self->dialog, self->object_path, dialog_terminate_cb, self);
}

static char *
join_headers (GVariant *headers)
{
  g_autoptr(GString) text = g_string_new (NULL);
  GVariantIter iter;
  const char *name;
  const char *value;

  if (headers == NULL || g_variant_n_children (headers) == 0)
    return NULL;

  g_variant_iter_init (&iter, headers);
  while (g_variant_iter_next (&iter, "{&s&s}", &name, &value))
    g_string_append_printf (text, "%s: %s\r\n", name, value);
  /* nua takes SIPTAG_HEADER_STR without the last line break */
  g_string_truncate (text, text->len - 2);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static const char *
default_accept (const char *event)
{
  if (g_ascii_strcasecmp (event, "message-summary") == 0)
    return HARK_MWI_CONTENT_TYPE;
  if (g_ascii_strcasecmp (event, "presence") == 0)
    return HARK_PIDF_CONTENT_TYPE;
  return NULL;
}

/**
 * hark_subscription_new_outgoing:
 * @agent: the profile's SIP agent
 * @setup: what to subscribe to, with options already checked
 *
 * Makes the handle; hark_subscription_start() sends the SUBSCRIBE.
 *
 * Returns: (transfer full): a subscriber in state "pending", or %NULL
 */
HarkSubscription *
hark_subscription_new_outgoing (HarkSipAgent                *agent,
                                const HarkSubscriptionSetup *setup,
                                GError                     **error)
{
  g_autoptr(HarkSubscription) self = NULL;
  g_autofree const char **accept = NULL;
  g_autoptr(GVariant) headers = NULL;
  g_autoptr(GVariant) auth = NULL;
  g_autofree char *option_auth = NULL;
  gboolean auto_refresh = TRUE;
  guint expires = DEFAULT_EXPIRES;

  g_return_val_if_fail (HARK_IS_SIP_AGENT (agent), NULL);
  g_return_val_if_fail (setup != NULL && setup->uri != NULL && setup->local_uri != NULL &&
                        setup->event != NULL, NULL);

  if (!hark_subscription_check_event (setup->event, error) ||
      !hark_subscription_check_options (setup->options, error))
    return NULL;

  self = g_object_new (HARK_TYPE_SUBSCRIPTION, NULL);
  self->agent = g_object_ref (agent);
  self->request_uri = g_strdup (setup->uri);

  if (setup->options != NULL)
    {
      g_variant_lookup (setup->options, "accept", "^a&s", &accept);
      g_variant_lookup (setup->options, "expires", "u", &expires);
      g_variant_lookup (setup->options, "auto-refresh", "b", &auto_refresh);
      headers = g_variant_lookup_value (setup->options, "headers", G_VARIANT_TYPE ("a{ss}"));
      auth = g_variant_lookup_value (setup->options, "auth", G_VARIANT_TYPE ("a{ss}"));
    }
  if (auth != NULL && !parse_auth (auth, &option_auth, error))
    return NULL;
  self->extra_headers = join_headers (headers);
  self->requested_expires = expires;

  if (accept != NULL && accept[0] != NULL)
    {
      self->accept_header = g_strjoinv (", ", (char **) accept);
      hark_dbus_subscription1_set_accept (self->iface, accept);
    }
  else if (default_accept (setup->event) != NULL)
    {
      const char *types[] = { default_accept (setup->event), NULL };

      self->accept_header = g_strdup (types[0]);
      hark_dbus_subscription1_set_accept (self->iface, types);
    }

  self->auth = hark_auth_attempt_new (option_auth, setup->secrets, setup->profile_id,
                                      setup->auth_username, setup->auth_realm);
  if (option_auth != NULL)
    explicit_bzero (option_auth, strlen (option_auth));
  g_signal_connect (self->auth, "send-credentials", G_CALLBACK (on_auth_send_credentials), self);
  g_signal_connect (self->auth, "waiting", G_CALLBACK (on_auth_waiting), self);
  g_signal_connect (self->auth, "gave-up", G_CALLBACK (on_auth_gave_up), self);

  g_object_set (self->iface,
                "profile", setup->profile_path, "role", "subscriber", "uri", setup->uri,
                "event", setup->event, "auto-refresh", auto_refresh, NULL);
  attach_dialog (self);

  self->nh = hark_sip_agent_create_handle (agent, subscription_event_cb, self,
                                           SIPTAG_TO_STR (setup->uri),
                                           SIPTAG_FROM_STR (setup->local_uri),
                                           TAG_END ());
  if (self->nh == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED, "The profile's SIP stack is shutting down");
      return NULL;
    }
  g_signal_connect (agent, "shutdown", G_CALLBACK (on_agent_shutdown), self);

  return g_steal_pointer (&self);
}

/**
 * hark_subscription_new_incoming:
 * @agent: the agent the SUBSCRIBE came to
 * @profile_path: the profile's object path
 * @nh: the handle nua made for it
 * @sip: the SUBSCRIBE
 * @answer_timeout_ms: how long to wait for Accept()/Reject() before 480
 *
 * Must be called from inside the nua callback of the SUBSCRIBE: the event
 * is saved to be answered later.
 *
 * Returns: (transfer full): a notifier in state "pending"
 */
HarkSubscription *
hark_subscription_new_incoming (HarkSipAgent *agent,
                                const char   *profile_path,
                                nua_handle_t *nh,
                                const sip_t  *sip,
                                guint         answer_timeout_ms)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func (g_free);
  HarkSubscription *self;
  guint expires = DEFAULT_EXPIRES;

  g_return_val_if_fail (HARK_IS_SIP_AGENT (agent), NULL);
  g_return_val_if_fail (nh != NULL && sip != NULL && sip->sip_from != NULL &&
                        sip->sip_to != NULL && sip->sip_event != NULL, NULL);

  self = g_object_new (HARK_TYPE_SUBSCRIPTION, NULL);
  self->agent = g_object_ref (agent);
  self->notifier = TRUE;
  self->nh = nh;
  hark_sip_agent_bind_handle (agent, nh, subscription_event_cb, self);
  self->have_saved = nua_save_event (hark_sip_agent_get_nua (agent), self->saved) != 0;
  g_signal_connect (agent, "shutdown", G_CALLBACK (on_agent_shutdown), self);

  for (const sip_accept_t *ac = sip->sip_accept; ac != NULL; ac = ac->ac_next)
    if (ac->ac_type != NULL)
      g_ptr_array_add (types, g_utf8_make_valid (ac->ac_type, -1));
  g_ptr_array_add (types, NULL);
  if (sip->sip_expires != NULL)
    expires = (guint) MIN (sip->sip_expires->ex_delta, (unsigned long) DEFAULT_EXPIRES);

  g_object_set (self->iface, "profile", profile_path, "role", "notifier",
                "accept", (const char * const *) types->pdata, "expires", expires, NULL);
  set_string (self, "uri", url_as_string (home, sip->sip_from->a_url));
  set_string (self, "event", sip->sip_event->o_type);
  self->entity = g_utf8_make_valid (url_as_string (home, sip->sip_to->a_url), -1);
  su_home_deinit (home);

  attach_dialog (self);
  hark_dialog_update_ids (self->dialog, sip->sip_call_id ? sip->sip_call_id->i_id : NULL, NULL,
                          sip->sip_from->a_tag);

  if (self->have_saved)
    self->answer_timeout_id = g_timeout_add (answer_timeout_ms, answer_timeout_cb, self);
  else
    {
      /* Nothing to answer with: nua answers 500 when the handle goes. */
      g_warning ("Cannot keep the incoming SUBSCRIBE to answer it later");
      finish (self, "failed");
    }

  return self;
}

/**
 * hark_subscription_new_unsolicited:
 * @profile_path: the profile the NOTIFY came to
 * @uri: who sends (From of the NOTIFY)
 * @event: its event
 *
 * A subscriber-role view without dialog for NOTIFYs that come without a
 * SUBSCRIBE (message-summary from a PBX); fed by
 * hark_subscription_take_notify().
 *
 * Returns: (transfer full): the view, in state "active"
 */
HarkSubscription *
hark_subscription_new_unsolicited (const char *profile_path,
                                   const char *uri,
                                   const char *event)
{
  HarkSubscription *self;
  const char *types[] = { default_accept (event), NULL };

  self = g_object_new (HARK_TYPE_SUBSCRIPTION, NULL);
  self->unsolicited = TRUE;
  g_object_set (self->iface, "profile", profile_path, "role", "subscriber",
                "auto-refresh", FALSE, "state", "active", NULL);
  if (types[0] != NULL)
    hark_dbus_subscription1_set_accept (self->iface, types);
  set_string (self, "uri", uri);
  set_string (self, "event", event);
  return self;
}

/**
 * hark_subscription_take_notify:
 * @sip: a NOTIFY for this subscription that arrived on another handle
 *   (unsolicited), already answered
 */
void
hark_subscription_take_notify (HarkSubscription *self,
                               const sip_t      *sip)
{
  g_return_if_fail (HARK_IS_SUBSCRIPTION (self));
  g_return_if_fail (sip != NULL);

  if (self->ended)
    return;
  process_notify (self, sip, NULL);
}

/**
 * hark_subscription_start:
 *
 * A subscriber sends its SUBSCRIBE. Separate from construction so that the
 * object is on the bus before anything can happen to it.
 */
void
hark_subscription_start (HarkSubscription *self)
{
  g_return_if_fail (HARK_IS_SUBSCRIPTION (self));

  if (self->notifier || self->unsolicited || self->ended || self->nh == NULL)
    return;
  send_subscribe (self, self->requested_expires);
}

const char *
hark_subscription_get_object_path (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), NULL);
  return self->object_path;
}

HarkDBusObjectSkeleton *
hark_subscription_get_object (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), NULL);
  return self->object;
}

/**
 * hark_subscription_get_dialog:
 *
 * Returns: (transfer none) (nullable): the dialog, %NULL for an unsolicited view
 */
HarkDialog *
hark_subscription_get_dialog (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), NULL);
  return self->dialog;
}

/**
 * hark_subscription_get_agent:
 *
 * Returns: (transfer none) (nullable): the agent, %NULL for an unsolicited view
 */
HarkSipAgent *
hark_subscription_get_agent (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), NULL);
  return self->agent;
}

const char *
hark_subscription_get_profile (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), NULL);
  return hark_dbus_subscription1_get_profile (self->iface);
}

const char *
hark_subscription_get_event (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), NULL);
  return hark_dbus_subscription1_get_event (self->iface);
}

gboolean
hark_subscription_is_notifier (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), FALSE);
  return self->notifier;
}

gboolean
hark_subscription_is_terminated (HarkSubscription *self)
{
  g_return_val_if_fail (HARK_IS_SUBSCRIPTION (self), TRUE);
  return self->ended;
}
