/* hark-call.c — one INVITE usage on the bus (io.github.hark.Hark.Call1)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A call owns one nua handle and follows nua's call states (nua_i_state);
 * the D-Bus State is derived from them. SDP offer/answer is left to soa
 * inside nua: we hand it our capabilities (hark-sip-sdp.c) and read back
 * the negotiated codec. The termination rules of RFC 3261/5407/6026 are
 * applied in hark_call_hangup(): CANCEL while the caller waits, an error
 * response while the callee rings, BYE once confirmed, and a callee's BYE
 * only after the ACK of its 2xx.
 *
 * Requests in the dialog that Hark answers itself (INFO, through
 * NUTAG_APPL_METHOD) are kept as saved nua events while pending: they get
 * 487 before our BYE (nua would answer them 486, after its BYE) and after
 * the peer's BYE (nua leaves an INFO unanswered then). RFC 5407 races:
 * a 2xx crossing our CANCEL is ACKed and BYEd (the call still ends
 * "cancelled", StatusCode 200); a BYE crossing our re-INVITE ends the call
 * "remote-hangup" and the re-INVITE's 487 is ignored; a 491 to our
 * re-INVITE (glare) is retried after 2.1-4 s (0-2 s when the peer owns the
 * Call-ID), as nua does not retry. A 2xx never ACKed ends "timeout" with
 * nua's own BYE.
 */

#define G_LOG_DOMAIN "Hark"

#include "config.h"

#include <string.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/soa_tag.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/msg_header.h>

#include "hark-auth-attempt.h"
#include "hark-call.h"
#include "hark-call-forks.h"
#include "hark-env.h"
#include "hark-error.h"
#include "hark-paths.h"
#include "hark-secret-store.h"
#include "hark-uri.h"
#include "sip/hark-sip-sdp.h"
#include "media/hark-media-session.h"
#include "media/hark-media-settings.h"

/* How long a challenged call waits for Authenticate() before it ends */

/* Auto-answer faster than this sends no 180 Ringing first */
#define AUTO_ANSWER_SILENT_MS 100

/* How long an incoming call rings before it is answered 480 (reason
 * "timeout"); HARK_RING_TIMEOUT_MS overrides it, for tests. */
#define RING_TIMEOUT_SECONDS 120

/* Session timers (RFC 4028), on for every call: nua refreshes the session
 * with a re-INVITE or UPDATE, whoever the negotiation makes the refresher,
 * and ends it with BYE if no refresh comes. */
#define SESSION_EXPIRES_SECONDS 1800
#define MIN_SE_SECONDS 90

/* How long a REFER usage may outlive the call's BYE waiting for its final
 * NOTIFY (RFC 3515 gives no limit; 64*T1 as for a non-INVITE transaction) */
#define REFER_LINGER_SECONDS 32

/* How many times a hold or resume is retried after 491 (glare) */
#define REINVITE_GLARE_RETRIES 3

/*
 * As for profiles, the generated Call1 skeleton holds the call's public
 * state: its GObject properties are the D-Bus properties.
 */
struct _HarkCall
{
  GObject                 parent_instance;

  char                   *object_path;
  HarkDBusObjectSkeleton *object;
  HarkDBusCall1          *iface;
  HarkDialog             *dialog;
  HarkCallForks          *forks;         /* an outgoing INVITE's early dialogs */

  HarkSipAgent           *agent;
  nua_handle_t           *nh;            /* NULL once destroyed or handed back */
  gboolean                incoming;
  char                   *local_sdp;
  char                   *remote_offer;   /* the INVITE's SDP, answered by Accept() */
  HarkCallMediaEncryption media_encryption;
  gboolean                srtp_refused;   /* "required", agreed without SRTP: BYE */
  char                   *request_uri;

  /* Outgoing INVITE, sent by hark_call_start() */
  char                   *extra_headers;
  char                   *contact;
  char                   *contact_user;
  /* Challenges to our INVITEs: the "auth" option, the profile's password
   * (looked up only when challenged), then Authenticate(). */
  HarkAuthAttempt        *auth;
  GCancellable           *cancellable;

  /* Termination */
  const char             *end_reason;     /* StateReason once nua says terminated */
  gboolean                cancel_sent;
  gboolean                bye_sent;
  gboolean                bye_waits_for_ack;
  char                   *bye_reason;
  char                   *bye_headers;
  gboolean                ack_received;
  gboolean                ended;
  /* Requests in the dialog that we answer ourselves (PendingRequest):
   * each gets 487 before our BYE or after the peer's (RFC 3261 15.1.2) */
  GPtrArray              *pending_requests;

  /* Hold: ours (a=sendonly offered) and what soa says of the audio stream
   * (SOA_ACTIVE_*: recvonly or inactive once the peer holds us) */
  gboolean                local_hold;
  gboolean                reinvite_pending;
  guint                   reinvite_retry_id;  /* after a 491 (glare) */
  guint                   reinvite_glares;
  int                     audio_mode;

  guint                   auto_answer_id;
  guint                   auto_answer_ms;
  guint                   ring_timeout_id;

  /* Blind transfer (RFC 3515): the REFER's implicit subscription is a
   * second usage of this dialog. It keeps the handle after the INVITE
   * usage has ended, until it ends too (RFC 5057). */
  char                   *refer_path;      /* its name in Dialog1.Usages */
  gboolean                refer_running;   /* its address is the usage's key */
  gboolean                refer_notifier;  /* we were REFERred (else we sent it) */
  char                   *refer_event;     /* Event of its NOTIFYs: refer;id=N */
  guint                   refer_count;
  guint                   refer_linger_id;
  gboolean                refer_final_sent;
  gboolean                transfer_succeeded;
  GDBusMethodInvocation  *transfer_invocation;
  HarkCall               *transfer_target; /* the call placed for a REFER */
  gboolean                released;        /* handle gone, ::ended emitted */

  /* Audio (service/media/): the RTP/RTCP sockets are bound before our SDP
   * is written, so it carries the port media really arrives on; the
   * session is built when an offer/answer completes. */
  HarkMediaPorts         *media_ports;
  HarkMediaSession       *media;
  /* Set while a session is built and started off the main thread; an
   * offer/answer completing meanwhile is applied when it is there. */
  GCancellable           *media_starting;
  gboolean                media_update_due;
  gboolean                media_local_is_answer;
  /* nua_i_state carries only the SDP just sent or received: the other
   * side's last one is kept here. */
  char                   *last_local_sdp;
  char                   *last_remote_sdp;
};

G_DEFINE_FINAL_TYPE (HarkCall, hark_call, G_TYPE_OBJECT)

enum {
  SIGNAL_ENDED,
  SIGNAL_TRANSFER_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Headers a request may not carry from the caller's "headers": nua builds
 * them, and a second copy would break the dialog (long and compact forms). */
static const char * const reserved_headers[] = {
  "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "contact", "m",
  "content-length", "l", "content-type", "c", "max-forwards", "route",
  "record-route", "rseq", "rack", NULL
};

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

typedef struct {
  char *reason;
  char *headers;   /* "Name: value\r\n"…, or NULL */
  char *auth;
} Options;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->reason, g_free);
  g_clear_pointer (&options->headers, g_free);
  if (options->auth != NULL)
    explicit_bzero (options->auth, strlen (options->auth));
  g_clear_pointer (&options->auth, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static gboolean
is_token (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && strchr ("-.!%*_+`'~", *s) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
has_line_break (const char *s)
{
  return strpbrk (s, "\r\n") != NULL;
}

static gboolean
parse_headers (GVariant  *value,
               char     **out,
               GError   **error)
{
  g_autoptr(GString) headers = g_string_new (NULL);
  GVariantIter iter;
  const char *name;
  const char *text;

  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "{&s&s}", &name, &text))
    {
      if (!is_token (name))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “headers”: “%s” is not a header name", name);
          return FALSE;
        }
      for (guint i = 0; reserved_headers[i] != NULL; i++)
        if (g_ascii_strcasecmp (name, reserved_headers[i]) == 0)
          {
            g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                         "Option “headers”: %s is set by Hark itself", name);
            return FALSE;
          }
      if (has_line_break (text))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “headers”: the value of %s has a line break", name);
          return FALSE;
        }
      g_string_append_printf (headers, "%s: %s\r\n", name, text);
    }

  *out = headers->len > 0 ? g_string_free (g_steal_pointer (&headers), FALSE) : NULL;
  return TRUE;
}

static gboolean
parse_reason (const char  *text,
              char       **out,
              GError     **error)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  gboolean ok;

  ok = *text != '\0' && !has_line_break (text) && sip_reason_make (home, text) != NULL;
  su_home_deinit (home);
  if (!ok)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Option “reason”: “%s” is not an RFC 3326 Reason "
                   "(expected e.g. SIP;cause=200;text=\"Call completed elsewhere\")", text);
      return FALSE;
    }
  *out = g_strdup (text);
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
      /* nua_authenticate() takes the credentials as one ':'-separated text */
      if (strpbrk (text, ":\"\r\n") != NULL && !g_str_equal (key, "password"))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “auth”: “%s” may not contain ':', '\"' or line breaks", key);
          return FALSE;
        }
    }

  if (username == NULL || *username == '\0' || password == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                   "Option “auth”: “username” and “password” are required");
      return FALSE;
    }

  /* The realm is filled in from the challenge when not given. */
  *out = g_strdup_printf ("Digest:%s%s%s:%s:%s", realm ? "\"" : "", realm ? realm : "",
                          realm ? "\"" : "", username, password);
  return TRUE;
}

/* Checks @options against the keys a method takes (@allowed, each as
 * "key:type") and fills @out with those this file uses itself. */
static gboolean
parse_options (GVariant           *options,
               const char * const *allowed,
               Options            *out,
               GError            **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (options == NULL)
    return TRUE;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const char *type = NULL;
      gsize key_len = strlen (key);

      for (guint i = 0; allowed[i] != NULL; i++)
        if (strncmp (allowed[i], key, key_len) == 0 && allowed[i][key_len] == ':')
          type = allowed[i] + key_len + 1;

      if (type == NULL)
        {
          g_autofree char *list = NULL;
          g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

          for (guint i = 0; allowed[i] != NULL; i++)
            g_ptr_array_add (names, g_strndup (allowed[i], strchr (allowed[i], ':') - allowed[i]));
          g_ptr_array_add (names, NULL);
          list = g_strjoinv (", ", (char **) names->pdata);
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Unknown option “%s” (this method takes: %s)", key,
                       *list ? list : "none");
          g_variant_unref (value);
          return FALSE;
        }

      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
        {
          g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT,
                       "Option “%s” must be of type %s, not %s", key, type,
                       g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }

      if ((g_str_equal (key, "headers") && !parse_headers (value, &out->headers, error)) ||
          (g_str_equal (key, "reason") &&
           !parse_reason (g_variant_get_string (value, NULL), &out->reason, error)) ||
          (g_str_equal (key, "auth") && !parse_auth (value, &out->auth, error)))
        {
          g_variant_unref (value);
          return FALSE;
        }
    }

  return TRUE;
}

static const char * const dial_options[] = {
  "to:s", "from:s", "contact:s", "request-uri:s", "headers:a{ss}", "auth:a{ss}", NULL
};
static const char * const accept_options[] = { "headers:a{ss}", NULL };
static const char * const end_options[] = { "reason:s", "headers:a{ss}", NULL };

/**
 * hark_call_check_dial_options:
 * @options: the a{sv} options of Manager1.Dial()
 *
 * Checks keys, types and the values of "headers" and "auth"; the URIs are
 * the caller's to check.
 */
gboolean
hark_call_check_dial_options (GVariant  *options,
                              GError   **error)
{
  g_auto(Options) parsed = { 0 };

  return parse_options (options, dial_options, &parsed, error);
}

/**
 * hark_call_check_end_options:
 * @options: the a{sv} options of Hangup() or Dialog1.Terminate()
 *
 * Checks keys, types and the values of "reason" and "headers", as Hangup()
 * does before it sends anything.
 */
gboolean
hark_call_check_end_options (GVariant  *options,
                             GError   **error)
{
  g_auto(Options) parsed = { 0 };

  return parse_options (options, end_options, &parsed, error);
}

/* ------------------------------------------------------------------------ */
/* State                                                                     */

static const char *
reason_for_status (int status)
{
  switch (status)
    {
    case 401:
    case 407:
      return "auth-failed";
    case 486:
    case 600:
      return "busy";
    case 603:
      return "declined";
    case 487:
      return "cancelled";
    case 408:
      return "timeout";
    case 404:
    case 410:
    case 480:
    case 484:
    case 502:
    case 503:
    case 504:
    case 604:
      return "unreachable";
    default:
      return status >= 300 && status < 700 ? "rejected" : "failed";
    }
}

static void
set_state (HarkCall   *self,
           const char *state,
           const char *reason)
{
  if (hark_call_is_terminated (self))
    return;

  /* StateReason first: a client that reacts to State sees its reason in
   * the same PropertiesChanged. */
  if (reason != NULL && g_strcmp0 (hark_dbus_call1_get_state_reason (self->iface), reason) != 0)
    hark_dbus_call1_set_state_reason (self->iface, reason);
  if (g_strcmp0 (hark_dbus_call1_get_state (self->iface), state) != 0)
    hark_dbus_call1_set_state (self->iface, state);
}

static void
set_status_code (HarkCall *self,
                 int       status)
{
  if (status >= 200 && status < 700 && !hark_call_is_terminated (self) &&
      hark_dbus_call1_get_status_code (self->iface) != (guint) status)
    hark_dbus_call1_set_status_code (self->iface, status);
}

static void
set_codec (HarkCall   *self,
           const char *sdp)
{
  g_autofree char *codec = hark_sip_sdp_dup_codec (sdp);

  if (codec != NULL && g_strcmp0 (hark_dbus_call1_get_codec (self->iface), codec) != 0)
    hark_dbus_call1_set_codec (self->iface, codec);
}

/* ------------------------------------------------------------------------ */
/* Media                                                                     */

static void
media_stopped_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(HarkMediaSession) media = HARK_MEDIA_SESSION (source);

  hark_media_session_stop_finish (media, result, NULL);
}

static void
stop_media (HarkCall *self)
{
  HarkMediaSession *media = g_steal_pointer (&self->media);

  if (self->media_starting != NULL)
    {
      g_cancellable_cancel (self->media_starting);
      g_clear_object (&self->media_starting);
    }
  g_clear_pointer (&self->media_ports, hark_media_ports_free);
  if (media == NULL)
    return;

  g_signal_handlers_disconnect_by_data (media, self);
  /* The reference goes to the callback: the pipeline stops off the main
   * thread, and the session (with its sockets) goes once it has. */
  hark_media_session_stop_async (media, NULL, media_stopped_cb, NULL);
}

static void
on_media_dtmf_received (HarkMediaSession *media,
                        const char       *digit,
                        HarkCall         *self)
{
  hark_dbus_call1_emit_dtmf_received (self->iface, digit);
}

static void
on_media_stats (HarkMediaSession *media,
                GParamSpec       *pspec,
                HarkCall         *self)
{
  g_autoptr(GVariant) stats = NULL;

  g_object_get (media, "stats", &stats, NULL);
  if (stats != NULL)
    hark_dbus_call1_set_media_stats (self->iface, stats);
}

static void send_bye (HarkCall   *self,
                      const char *reason,
                      const char *headers);

/* The peer went silent while both sides send: it is gone (network lost,
 * phone off), and nothing else would end the call before the session
 * timer, half an hour on. */
static void
on_media_rtp_timeout (HarkMediaSession *media,
                      HarkCall         *self)
{
  /* Early media may stop without ending anything. */
  if (self->ended || self->bye_sent ||
      g_strcmp0 (hark_dbus_call1_get_state (self->iface), "active") != 0)
    return;

  g_message ("Hanging up %s: no audio from the other side", self->object_path);
  self->end_reason = "timeout";
  send_bye (self, "SIP ;cause=408 ;text=\"No RTP or RTCP from the peer\"", NULL);
}

static void
on_media_error (HarkMediaSession *media,
                const GError     *error,
                HarkCall         *self)
{
  g_warning ("Audio of %s failed: %s", self->object_path, error->message);
  hark_dbus_call1_set_media_error (self->iface, error->message);
}

/* The negotiated SDP as the plain values the media layer takes. */
static gboolean
media_params_from_sdp (HarkCall        *self,
                       const char      *local_sdp,
                       const char      *remote_sdp,
                       gboolean         local_is_answer,
                       HarkMediaParams *params)
{
  g_auto(HarkSipSdpAudio) audio = { 0, };

  if (!hark_sip_sdp_get_audio (local_sdp, remote_sdp, local_is_answer, &audio))
    return FALSE;
  /* Never plain RTP on an RTP/SAVP stream, nor when the profile requires
   * SRTP (handle_i_state() ends such a call). */
  if (audio.srtp_suite == NULL &&
      (audio.savp || self->media_encryption == HARK_CALL_MEDIA_ENCRYPTION_REQUIRED))
    return FALSE;

  hark_media_params_init (params);
  hark_media_params_load_settings (params);
  if (self->media_ports != NULL)
    params->ports = hark_media_ports_copy (self->media_ports);
  params->remote_address = g_steal_pointer (&audio.address);
  params->remote_rtp_port = audio.port;
  params->remote_rtcp_port = audio.rtcp_port;
  params->codec.name = g_steal_pointer (&audio.encoding);
  params->codec.payload_type = audio.payload_type;
  params->codec.clock_rate = audio.clock_rate;
  params->codec.channels = audio.channels;
  params->codec.ptime = audio.ptime;
  params->codec.fmtp = g_steal_pointer (&audio.fmtp);
  params->dtmf_payload_type = audio.dtmf_payload_type;
  params->dtmf_clock_rate = audio.dtmf_clock_rate;
  params->srtp_suite = g_steal_pointer (&audio.srtp_suite);
  params->srtp_local_key = g_steal_pointer (&audio.srtp_local_key);
  params->srtp_remote_key = g_steal_pointer (&audio.srtp_remote_key);
  hark_media_direction_from_string (audio.direction, &params->direction);

  /* Our hold offers a=sendonly, but with no music on hold the held peer
   * must not go on hearing us: nothing is sent while we hold. */
  if (self->local_hold)
    params->direction = params->direction == HARK_MEDIA_DIRECTION_SENDRECV
                        ? HARK_MEDIA_DIRECTION_RECVONLY : HARK_MEDIA_DIRECTION_INACTIVE;
  return TRUE;
}

static void update_media (HarkCall   *self,
                          const char *local_sdp,
                          const char *remote_sdp,
                          gboolean    local_is_answer);

static void
media_started_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(HarkCall) self = user_data;
  g_autoptr(GError) error = NULL;
  HarkMediaSession *media;

  media = hark_media_session_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->media_starting);
  if (media == NULL)
    {
      g_warning ("No audio for %s: %s", self->object_path, error->message);
      hark_dbus_call1_set_media_error (self->iface, error->message);
      return;
    }

  self->media = media;
  hark_dbus_call1_set_media_error (self->iface, "");
  if (hark_dbus_call1_get_encrypted (self->iface) != hark_media_session_get_encrypted (media))
    hark_dbus_call1_set_encrypted (self->iface, hark_media_session_get_encrypted (media));
  g_signal_connect (media, "dtmf-received", G_CALLBACK (on_media_dtmf_received), self);
  g_signal_connect (media, "error", G_CALLBACK (on_media_error), self);
  g_signal_connect (media, "rtp-timeout", G_CALLBACK (on_media_rtp_timeout), self);
  g_signal_connect (media, "notify::stats", G_CALLBACK (on_media_stats), self);
  hark_media_session_set_muted (media, hark_dbus_call1_get_muted (self->iface));
  if (self->media_update_due)
    {
      self->media_update_due = FALSE;
      update_media (self, self->last_local_sdp, self->last_remote_sdp,
                    self->media_local_is_answer);
    }
}

/* An offer/answer completed: start the audio, or apply the new one
 * (hold, resume, a new address) to the running session. */
static void
update_media (HarkCall   *self,
              const char *local_sdp,
              const char *remote_sdp,
              gboolean    local_is_answer)
{
  g_auto(HarkMediaParams) params = { 0, };
  g_autoptr(GError) error = NULL;

  if (self->ended)
    return;
  if (self->media_starting != NULL)
    {
      self->media_update_due = TRUE;
      self->media_local_is_answer = local_is_answer;
      return;
    }
  if (!media_params_from_sdp (self, local_sdp, remote_sdp, local_is_answer, &params))
    {
      g_debug ("No audio stream agreed for %s", self->object_path);
      return;
    }

  if (self->media != NULL)
    {
      if (hark_media_session_update (self->media, &params, &error))
        return;
      if (!g_error_matches (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED))
        {
          g_warning ("Cannot update the audio of %s: %s", self->object_path, error->message);
          return;
        }
      /* Another codec: a new pipeline on the same sockets. */
      g_clear_error (&error);
      g_signal_handlers_disconnect_by_data (self->media, self);
      hark_media_session_stop_async (g_steal_pointer (&self->media), NULL, media_stopped_cb, NULL);
    }

  /* Loading GStreamer and opening the devices block: off the main loop. */
  self->media_starting = g_cancellable_new ();
  hark_media_session_new_async (&params, self->media_starting, media_started_cb,
                                g_object_ref (self));
}

static void
forget_handle (HarkCall *self,
               gboolean  destroy)
{
  nua_handle_t *nh = g_steal_pointer (&self->nh);

  if (nh != NULL && destroy)
    hark_sip_agent_destroy_handle (self->agent, nh);
}

/* ------------------------------------------------------------------------ */
/* Usages and the end                                                        */

/* Both usages over (the INVITE one, and a REFER one if any): the handle
 * goes, and the manager takes the objects off the bus a little later. */
static void
maybe_release (HarkCall *self)
{
  if (!self->ended || self->refer_running || self->released)
    return;

  self->released = TRUE;
  forget_handle (self, TRUE);
  g_signal_emit (self, signals[SIGNAL_ENDED], 0);
}

static void
on_transfer_target_state (GObject    *iface,
                          GParamSpec *pspec,
                          HarkCall   *self);

static void
refer_usage_end (HarkCall *self)
{
  if (!self->refer_running)
    return;

  self->refer_running = FALSE;
  g_clear_handle_id (&self->refer_linger_id, g_source_remove);
  if (self->transfer_target != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->transfer_target->iface,
                                            on_transfer_target_state, self);
      g_clear_object (&self->transfer_target);
    }
  if (self->transfer_invocation != NULL)
    g_dbus_method_invocation_return_error (g_steal_pointer (&self->transfer_invocation),
                                           HARK_ERROR, HARK_ERROR_FAILED,
                                           "The transfer ended before the peer answered it");
  hark_dialog_usage_ended (self->dialog, &self->refer_running);
  maybe_release (self);
}

static gboolean
refer_linger_cb (gpointer user_data)
{
  HarkCall *self = user_data;

  self->refer_linger_id = 0;
  g_debug ("%s: no final NOTIFY for the REFER; ending it", self->object_path);
  refer_usage_end (self);
  return G_SOURCE_REMOVE;
}

static void terminate_pending_requests (HarkCall   *self,
                                        const char *reason,
                                        const char *headers);

/* The end of the INVITE usage: nothing more is sent for it. */
static void
finish (HarkCall   *self,
        const char *reason)
{
  if (self->ended)
    return;

  set_state (self, "terminated", reason);
  self->ended = TRUE;
  if (self->auth != NULL)
    hark_auth_attempt_stop (self->auth);
  g_clear_handle_id (&self->auto_answer_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);

  g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
  g_clear_handle_id (&self->reinvite_retry_id, g_source_remove);
  terminate_pending_requests (self, NULL, NULL);
  hark_dialog_usage_ended (self->dialog, self);
  if (self->forks != NULL)
    hark_call_forks_end_early (self->forks);
  stop_media (self);

  if (self->refer_running)
    {
      /* RFC 5057: the dialog lives on for the REFER usage. */
      hark_dialog_set_state (self->dialog, "confirmed");
      self->refer_linger_id = g_timeout_add_seconds (REFER_LINGER_SECONDS, refer_linger_cb, self);
    }
  maybe_release (self);
}

static void
update_dialog_ids (HarkCall    *self,
                   const sip_t *sip)
{
  const sip_to_t *local = self->nh ? nua_handle_local (self->nh) : NULL;
  const sip_to_t *remote = self->nh ? nua_handle_remote (self->nh) : NULL;
  const char *local_tag = local ? local->a_tag : NULL;
  const char *remote_tag = remote ? remote->a_tag : NULL;
  const char *call_id = NULL;

  if (sip != NULL && sip->sip_call_id != NULL)
    call_id = sip->sip_call_id->i_id;

  /* Within the dialog From and To name the caller and the callee, whoever
   * sent the message. */
  if (sip != NULL && sip->sip_from != NULL && sip->sip_to != NULL)
    {
      const char *caller_tag = sip->sip_from->a_tag;
      const char *callee_tag = sip->sip_to->a_tag;

      if (local_tag == NULL)
        local_tag = self->incoming ? callee_tag : caller_tag;
      if (remote_tag == NULL)
        remote_tag = self->incoming ? caller_tag : callee_tag;
    }

  /* An outgoing INVITE's dialogs learn their tags from the wire, fork by
   * fork (hark-call-forks.c); nua knows one remote tag only. */
  if (self->forks != NULL && *hark_dialog_get_remote_tag (self->dialog) != '\0')
    remote_tag = NULL;

  hark_dialog_update_ids (self->dialog, call_id, local_tag, remote_tag);
}

/* ------------------------------------------------------------------------ */
/* Requests we answer ourselves                                              */

/* How long an INFO waits for its answer: 0 (at once) but for tests, which
 * set HARK_INFO_ANSWER_DELAY_MS to catch one pending. */
static guint
info_answer_delay_ms (void)
{
  return hark_env_get_ms ("HARK_INFO_ANSWER_DELAY_MS", 0, G_MAXUINT, 0);
}

typedef struct {
  HarkCall          *call;       /* unowned: the call owns the list */
  nua_saved_event_t  saved[1];
  guint              answer_id;
} PendingRequest;

static void
pending_request_free (gpointer data)
{
  PendingRequest *pending = data;

  g_clear_handle_id (&pending->answer_id, g_source_remove);
  nua_destroy_event (pending->saved);
  g_free (pending);
}

static void
answer_pending_request (HarkCall       *self,
                        PendingRequest *pending,
                        int             status,
                        const char     *reason,
                        const char     *headers)
{
  const char *phrase = sip_status_phrase (status);

  if (self->nh != NULL)
    {
      nua_respond (self->nh, status, phrase ? phrase : "",
                   NUTAG_WITH_SAVED (pending->saved),
                   TAG_IF (reason != NULL, SIPTAG_REASON_STR (reason)),
                   TAG_IF (headers != NULL, SIPTAG_HEADER_STR (headers)),
                   TAG_END ());
    }
  g_ptr_array_remove (self->pending_requests, pending);
}

/* RFC 3261 section 15.1.2, and the seed: whatever the peer still waits for
 * in this dialog is answered 487 before our BYE goes, or after its BYE
 * came. nua would answer them 486 only after sending its BYE. */
static void
terminate_pending_requests (HarkCall   *self,
                            const char *reason,
                            const char *headers)
{
  while (self->pending_requests->len > 0)
    answer_pending_request (self, g_ptr_array_index (self->pending_requests, 0), 487,
                            reason, headers);
}

static gboolean
pending_answer_cb (gpointer user_data)
{
  PendingRequest *pending = user_data;

  pending->answer_id = 0;
  answer_pending_request (pending->call, pending, 200, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* RFC 2976 DTMF relay: application/dtmf-relay ("Signal=5") or
 * application/dtmf ("5"). */
static char *
dtmf_from_info (const sip_t *sip)
{
  g_autofree char *body = NULL;
  const char *type;
  char *value;

  if (sip->sip_content_type == NULL || sip->sip_content_type->c_type == NULL ||
      sip->sip_payload == NULL || sip->sip_payload->pl_data == NULL)
    return NULL;
  type = sip->sip_content_type->c_type;
  body = g_strndup (sip->sip_payload->pl_data, sip->sip_payload->pl_len);

  if (g_ascii_strcasecmp (type, "application/dtmf-relay") == 0)
    {
      value = strstr (body, "Signal=");
      if (value == NULL)
        return NULL;
      value += strlen ("Signal=");
    }
  else if (g_ascii_strcasecmp (type, "application/dtmf") == 0)
    value = body;
  else
    return NULL;

  value = g_strchug (value);
  if (*value == '\0' || strchr ("0123456789*#ABCDabcd", *value) == NULL)
    return NULL;
  return g_strndup (value, 1);
}

/* An INFO in the call's dialog (NUTAG_APPL_METHOD makes it ours): DTMF
 * relay is reported as DtmfReceived; every INFO is answered 200, or 481
 * once our BYE has gone (RFC 5407 section 3.1). */
static void
handle_i_info (HarkCall    *self,
               const sip_t *sip)
{
  nua_t *nua = hark_sip_agent_get_nua (self->agent);
  PendingRequest *pending;
  g_autofree char *digit = NULL;
  guint delay;

  if (sip == NULL || nua == NULL)
    return;

  pending = g_new0 (PendingRequest, 1);
  pending->call = self;
  nua_save_event (nua, pending->saved);
  g_ptr_array_add (self->pending_requests, pending);

  if (self->ended || self->bye_sent)
    {
      answer_pending_request (self, pending, 481, NULL, NULL);
      return;
    }

  digit = dtmf_from_info (sip);
  if (digit != NULL)
    hark_dbus_call1_emit_dtmf_received (self->iface, digit);

  delay = info_answer_delay_ms ();
  if (delay == 0)
    answer_pending_request (self, pending, 200, NULL, NULL);
  else
    pending->answer_id = g_timeout_add (delay, pending_answer_cb, pending);
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                   */

static void
send_bye (HarkCall   *self,
          const char *reason,
          const char *headers)
{
  if (self->nh == NULL || self->bye_sent)
    return;

  self->bye_sent = TRUE;
  self->bye_waits_for_ack = FALSE;
  if (self->end_reason == NULL)
    self->end_reason = "local-hangup";
  set_state (self, "terminating", NULL);
  hark_dialog_set_state (self->dialog, "terminating");

  terminate_pending_requests (self, reason, headers);
  nua_bye (self->nh,
           TAG_IF (reason != NULL, SIPTAG_REASON_STR (reason)),
           TAG_IF (headers != NULL, SIPTAG_HEADER_STR (headers)),
           TAG_END ());
}

static void
send_final_response (HarkCall   *self,
                     int         status,
                     const char *reason,
                     const char *headers,
                     const char *end_reason)
{
  const char *phrase = sip_status_phrase (status);

  g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
  self->end_reason = end_reason;
  set_status_code (self, status);
  set_state (self, "terminating", NULL);
  hark_dialog_set_state (self->dialog, "terminating");

  nua_respond (self->nh, status, phrase ? phrase : "Rejected",
               TAG_IF (reason != NULL, SIPTAG_REASON_STR (reason)),
               TAG_IF (headers != NULL, SIPTAG_HEADER_STR (headers)),
               TAG_END ());
}

static gboolean
check_not_ended (HarkCall  *self,
                 GError   **error)
{
  const char *state = hark_dbus_call1_get_state (self->iface);

  if (g_str_equal (state, "terminated") || g_str_equal (state, "terminating") ||
      self->nh == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The call is %s", g_str_equal (state, "terminated") ? "over" : "ending");
      return FALSE;
    }
  return TRUE;
}

/**
 * hark_call_hangup:
 * @options: (nullable): "reason" and "headers"
 *
 * Ends the call by the rules of its state: CANCEL while an outgoing call
 * waits for an answer, 486 Busy Here while an incoming one rings, BYE once
 * answered (an answered incoming call waits for the ACK first).
 *
 * Returns: %FALSE with @error set (InvalidState, InvalidArgument) if nothing
 *   was sent
 */
gboolean
hark_call_hangup (HarkCall  *self,
                  GVariant  *options,
                  GError   **error)
{
  g_auto(Options) parsed = { 0 };
  const char *state;

  g_return_val_if_fail (HARK_IS_CALL (self), FALSE);

  if (!check_not_ended (self, error) || !parse_options (options, end_options, &parsed, error))
    return FALSE;

  state = hark_dbus_call1_get_state (self->iface);

  if (hark_auth_attempt_get_waiting (self->auth))
    {
      /* The INVITE transaction is over (401/407): nothing to CANCEL. */
      finish (self, "auth-failed");
      return TRUE;
    }

  if (self->incoming && (g_str_equal (state, "ringing") || g_str_equal (state, "early")))
    {
      send_final_response (self, 486, parsed.reason, parsed.headers,
                           "local-hangup");
      return TRUE;
    }

  if (!self->incoming && !g_str_equal (state, "active") && !g_str_equal (state, "held"))
    {
      /* RFC 5407 section 2: a caller ends an early dialog with CANCEL. If a
       * 2xx crosses it, the call is ACKed and then ended with BYE. */
      self->cancel_sent = TRUE;
      self->end_reason = "cancelled";
      set_state (self, "terminating", NULL);
      hark_dialog_set_state (self->dialog, "terminating");
      nua_cancel (self->nh,
                  TAG_IF (parsed.reason != NULL, SIPTAG_REASON_STR (parsed.reason)),
                  TAG_IF (parsed.headers != NULL, SIPTAG_HEADER_STR (parsed.headers)),
                  TAG_END ());
      g_free (self->bye_reason);
      self->bye_reason = g_strdup (parsed.reason);
      g_free (self->bye_headers);
      self->bye_headers = g_strdup (parsed.headers);
      return TRUE;
    }

  if (self->incoming && !self->ack_received)
    {
      /* RFC 3261 section 15 / RFC 6026: no BYE before the ACK of our 2xx;
       * nua reports the ACK (or its timeout) and the BYE goes then. */
      self->bye_waits_for_ack = TRUE;
      self->end_reason = "local-hangup";
      g_free (self->bye_reason);
      self->bye_reason = g_steal_pointer (&parsed.reason);
      g_free (self->bye_headers);
      self->bye_headers = g_steal_pointer (&parsed.headers);
      set_state (self, "terminating", NULL);
      hark_dialog_set_state (self->dialog, "terminating");
      return TRUE;
    }

  send_bye (self, parsed.reason, parsed.headers);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* nua events                                                                */

/* ------------------------------------------------------------------------ */
/* Authentication                                                            */

static void
on_auth_send_credentials (HarkAuthAttempt *auth,
                          const char      *credentials,
                          HarkCall        *self)
{
  if (self->nh != NULL && !self->ended)
    nua_authenticate (self->nh, NUTAG_AUTH (credentials), TAG_END ());
}

/* No (more) credentials to answer with: nua keeps the INVITE waiting for
 * nua_authenticate(). The call says "auth-failed" and Authenticate() can
 * continue it for a while; then it ends. */
static void
on_auth_waiting (HarkAuthAttempt *auth,
                 HarkCall        *self)
{
  set_state (self, hark_dbus_call1_get_state (self->iface), "auth-failed");
}

static void
on_auth_gave_up (HarkAuthAttempt *auth,
                 HarkCall        *self)
{
  finish (self, "auth-failed");
}

static void
set_auth_attempt (HarkCall        *self,
                  HarkAuthAttempt *auth)
{
  if (self->auth != NULL)
    {
      hark_auth_attempt_stop (self->auth);
      g_signal_handlers_disconnect_by_data (self->auth, self);
      g_object_unref (self->auth);
    }
  self->auth = auth;
  g_signal_connect (auth, "send-credentials", G_CALLBACK (on_auth_send_credentials), self);
  g_signal_connect (auth, "waiting", G_CALLBACK (on_auth_waiting), self);
  g_signal_connect (auth, "gave-up", G_CALLBACK (on_auth_gave_up), self);
}

/* A 401/407 to our INVITE: the "auth" option first, then the profile's
 * credentials, each once; then wait for Authenticate(). */
static void
handle_challenge (HarkCall    *self,
                  int          status,
                  const sip_t *sip)
{
  set_status_code (self, status);

  if (self->cancel_sent)
    {
      finish (self, "cancelled");
      return;
    }

  hark_auth_attempt_challenge (self->auth, status, sip);
}

static void
send_reinvite (HarkCall *self)
{
  nua_invite (self->nh,
              SOATAG_HOLD (self->local_hold ? "audio" : NULL),
              TAG_IF (self->contact_user != NULL, NUTAG_M_USERNAME (self->contact_user)),
              TAG_END ());
}

static gboolean
reinvite_retry_cb (gpointer user_data)
{
  HarkCall *self = user_data;

  self->reinvite_retry_id = 0;
  if (self->ended || self->bye_sent || self->bye_waits_for_ack || self->nh == NULL)
    {
      self->reinvite_pending = FALSE;
      return G_SOURCE_REMOVE;
    }
  send_reinvite (self);
  return G_SOURCE_REMOVE;
}

/* A forked INVITE: the call goes on in the dialog of the fork whose answer
 * nua took (hark-call-forks.c). */
static void
adopt_answered_dialog (HarkCall *self)
{
  HarkDialog *winner;

  if (self->forks == NULL)
    return;

  winner = hark_call_forks_answered (self->forks);
  if (winner == self->dialog)
    return;
  g_set_object (&self->dialog, winner);
  hark_dbus_call1_set_dialog (self->iface, hark_dialog_get_object_path (winner));
}

static void
handle_r_invite (HarkCall    *self,
                 int          status,
                 const sip_t *sip,
                 tagi_t       tags[])
{
  if ((status == 401 || status == 407) && sip != NULL)
    {
      handle_challenge (self, status, sip);
      return;
    }

  if (status >= 100 && status < 200)
    {
      if (status == 100 || self->cancel_sent)
        return;
      /* 180 says the phone rings; a 183 (or any 1xx) with a body brings
       * early media. */
      if (sip != NULL && sip->sip_payload != NULL && status != 180)
        set_state (self, "early", NULL);
      else
        set_state (self, "ringing", NULL);
      return;
    }

  if (self->reinvite_pending && status == 491 && !self->ended && !self->bye_sent &&
      !self->bye_waits_for_ack && self->reinvite_glares < REINVITE_GLARE_RETRIES)
    {
      /* Glare: nua does not retry by itself. RFC 3261 section 14.1: the
       * owner of the Call-ID (the caller) waits 2.1-4 s, the other side
       * 0-2 s, in units of 10 ms; the hold or resume stays under way. */
      guint delay = self->incoming ? g_random_int_range (0, 201) * 10
                                   : g_random_int_range (210, 401) * 10;

      self->reinvite_glares++;
      g_debug ("%s: re-INVITE glare (491), retrying in %u ms", self->object_path, delay);
      g_clear_handle_id (&self->reinvite_retry_id, g_source_remove);
      self->reinvite_retry_id = g_timeout_add (delay, reinvite_retry_cb, self);
      return;
    }

  if (self->reinvite_pending)
    {
      /* A re-INVITE's answer: the call goes on whatever it says. */
      self->reinvite_pending = FALSE;
      self->reinvite_glares = 0;
      if (status < 200 || status >= 300)
        {
          /* Refused (488, 491 again after our retries, 487 when a BYE
           * crossed it…): the streams stay
           * as they were. */
          g_debug ("%s: re-INVITE answered %d", self->object_path, status);
          self->local_hold = !self->local_hold;
          if (status == 481 || status == 408)
            {
              /* The dialog is gone (RFC 5057 section 5.1): end the call */
              self->end_reason = status == 408 ? "timeout" : "failed";
              send_bye (self, NULL, NULL);
            }
        }
      return;
    }

  set_status_code (self, status);

  if (status >= 200 && status < 300)
    {
      adopt_answered_dialog (self);
      return;
    }

  if (self->end_reason == NULL || !(self->cancel_sent && status == 487))
    self->end_reason = reason_for_status (status);
}

static gboolean
is_established (HarkCall *self)
{
  const char *state = hark_dbus_call1_get_state (self->iface);

  return g_str_equal (state, "active") || g_str_equal (state, "held");
}

/* Held when we hold (sendonly) or the peer does (we may only receive, or
 * nothing flows at all). */
static void
update_hold_state (HarkCall *self)
{
  gboolean remote_hold = self->audio_mode == SOA_ACTIVE_RECVONLY ||
                         self->audio_mode == SOA_ACTIVE_INACTIVE;

  if (self->local_hold || remote_hold)
    set_state (self, "held", is_established (self) ? NULL : "answered");
  else
    set_state (self, "active", "answered");
}

/* media-encryption "required": an offer/answer that agreed on audio
 * without SRTP. */
static gboolean
srtp_missing (HarkCall *self,
              gboolean  local_is_answer)
{
  g_auto(HarkSipSdpAudio) audio = { 0, };

  return self->media_encryption == HARK_CALL_MEDIA_ENCRYPTION_REQUIRED &&
         hark_sip_sdp_get_audio (self->last_local_sdp, self->last_remote_sdp, local_is_answer,
                                 &audio) &&
         audio.srtp_suite == NULL;
}

static void
handle_i_state (HarkCall    *self,
                int          status,
                const sip_t *sip,
                tagi_t       tags[])
{
  int callstate = nua_callstate_init;
  const char *local_sdp = NULL;
  const char *remote_sdp = NULL;
  int answer_recv = 0;
  int answer_sent = 0;

  tl_gets (tags,
           SOATAG_ACTIVE_AUDIO_REF (self->audio_mode),
           NUTAG_CALLSTATE_REF (callstate),
           SOATAG_LOCAL_SDP_STR_REF (local_sdp),
           SOATAG_REMOTE_SDP_STR_REF (remote_sdp),
           NUTAG_ANSWER_RECV_REF (answer_recv),
           NUTAG_ANSWER_SENT_REF (answer_sent),
           TAG_END ());

  /* The answerer lists what it accepted: our answer for incoming calls,
   * the peer's for outgoing ones. */
  if (answer_recv && remote_sdp != NULL)
    set_codec (self, remote_sdp);
  else if (answer_sent && local_sdp != NULL)
    set_codec (self, local_sdp);

  if (local_sdp != NULL)
    {
      g_free (self->last_local_sdp);
      self->last_local_sdp = g_strdup (local_sdp);
    }
  if (remote_sdp != NULL)
    {
      g_free (self->last_remote_sdp);
      self->last_remote_sdp = g_strdup (remote_sdp);
    }
  if ((answer_recv || answer_sent) && callstate != nua_callstate_terminating &&
      callstate != nua_callstate_terminated)
    {
      if (srtp_missing (self, answer_sent))
        {
          /* No media starts; the call ends with BYE once it may (below). */
          g_debug ("%s: the peer's answer has no SRTP, which the profile requires",
                   self->object_path);
          self->srtp_refused = TRUE;
          self->end_reason = "encryption-mismatch";
        }
      else
        update_media (self, self->last_local_sdp, self->last_remote_sdp, answer_sent);
    }

  update_dialog_ids (self, sip);

  switch ((enum nua_callstate) callstate)
    {
    case nua_callstate_completing:
    case nua_callstate_completed:
    case nua_callstate_ready:
      if (callstate == nua_callstate_ready)
        self->ack_received = TRUE;
      hark_dialog_set_state (self->dialog, self->cancel_sent || self->bye_sent ||
                             self->bye_waits_for_ack ? "terminating" : "confirmed");

      if (self->cancel_sent && !self->incoming)
        {
          /* Our CANCEL lost the race against a 2xx: end it with BYE. */
          if (callstate == nua_callstate_ready)
            send_bye (self, self->bye_reason, self->bye_headers);
          return;
        }
      if (self->bye_waits_for_ack)
        {
          if (callstate == nua_callstate_ready)
            send_bye (self, self->bye_reason, self->bye_headers);
          return;
        }
      if (self->srtp_refused && !self->bye_sent)
        {
          /* RFC 3326: the BYE says why, as the 488 an offer would get. */
          if (callstate == nua_callstate_ready)
            send_bye (self, "SIP;cause=488;text=\"SRTP required\"", NULL);
          return;
        }
      if (!self->bye_sent && callstate == nua_callstate_ready)
        update_hold_state (self);
      else if (!self->bye_sent && !is_established (self))
        set_state (self, "active", "answered");
      break;

    case nua_callstate_terminating:
      set_state (self, "terminating", NULL);
      hark_dialog_set_state (self->dialog, "terminating");
      break;

    case nua_callstate_terminated:
      if (self->end_reason == NULL)
        self->end_reason = status >= 300 ? reason_for_status (status) : "failed";
      finish (self, self->end_reason);
      break;

    case nua_callstate_init:
    case nua_callstate_authenticating:
    case nua_callstate_calling:
    case nua_callstate_proceeding:
    case nua_callstate_received:
    case nua_callstate_early:
    default:
      break;
    }
}

/* ------------------------------------------------------------------------ */
/* Transfer (RFC 3515)                                                       */

static HarkCall *
call_from_refer_usage (gpointer usage)
{
  return (HarkCall *) ((char *) usage - G_STRUCT_OFFSET (HarkCall, refer_running));
}

/* The transferee's report to the transferor: a NOTIFY whose body is the
 * status line of the call we placed (RFC 3515 section 2.4.5). */
static void
send_refer_notify (HarkCall *self,
                   guint     status,
                   gboolean  final,
                   const char *headers)
{
  const char *phrase = sip_status_phrase (status);
  g_autofree char *frag = g_strdup_printf ("SIP/2.0 %03u %s\r\n", status, phrase ? phrase : "");

  if (self->nh == NULL || self->refer_final_sent)
    return;

  self->refer_final_sent = final;
  nua_notify (self->nh,
              NUTAG_SUBSTATE (final ? nua_substate_terminated : nua_substate_active),
              TAG_IF (self->refer_event != NULL, SIPTAG_EVENT_STR (self->refer_event)),
              SIPTAG_CONTENT_TYPE_STR ("message/sipfrag;version=2.0"),
              SIPTAG_PAYLOAD_STR (frag),
              TAG_IF (headers != NULL, SIPTAG_HEADER_STR (headers)),
              TAG_END ());
}

static void
on_transfer_target_state (GObject    *iface,
                          GParamSpec *pspec,
                          HarkCall   *self)
{
  HarkDBusCall1 *target = HARK_DBUS_CALL1 (iface);
  const char *state = hark_dbus_call1_get_state (target);

  if (!self->refer_running || self->refer_final_sent)
    return;

  if (g_str_equal (state, "active") || g_str_equal (state, "held"))
    {
      self->transfer_succeeded = TRUE;
      send_refer_notify (self, 200, TRUE, NULL);
    }
  else if (g_str_equal (state, "terminated"))
    {
      guint status = hark_dbus_call1_get_status_code (target);

      send_refer_notify (self, status >= 300 && status < 700 ? status : 503, TRUE, NULL);
    }
}

/**
 * hark_call_follow_transfer:
 * @target: the call placed to the Refer-To of the REFER @self received
 *
 * Reports @target's outcome to the transferor in NOTIFYs; once it is
 * answered, @self ends with reason "transferred".
 */
void
hark_call_follow_transfer (HarkCall *self,
                           HarkCall *target)
{
  g_return_if_fail (HARK_IS_CALL (self));
  g_return_if_fail (HARK_IS_CALL (target));

  if (!self->refer_running || !self->refer_notifier || self->transfer_target != NULL)
    return;

  self->transfer_target = g_object_ref (target);
  g_signal_connect (target->iface, "notify::state", G_CALLBACK (on_transfer_target_state), self);
}

/**
 * hark_call_transfer_failed:
 * @status: the SIP status the transfer ends with (e.g. 400 for a bad
 *   Refer-To)
 *
 * No call could be placed for the REFER @self received: the transferor is
 * told so in the final NOTIFY, and the call goes on.
 */
void
hark_call_transfer_failed (HarkCall *self,
                           guint     status)
{
  g_return_if_fail (HARK_IS_CALL (self));

  if (self->refer_running && self->refer_notifier)
    send_refer_notify (self, status, TRUE, NULL);
}

static gboolean
refer_terminate_cb (gpointer   usage,
                    GVariant  *options,
                    GError   **error)
{
  HarkCall *self = call_from_refer_usage (usage);
  g_auto(Options) parsed = { 0 };

  if (!self->refer_running || self->nh == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE, "The transfer is over");
      return FALSE;
    }
  if (!parse_options (options, end_options, &parsed, error))
    return FALSE;

  if (self->refer_notifier)
    {
      /* Notifier: a NOTIFY with Subscription-State: terminated */
      send_refer_notify (self, self->transfer_succeeded ? 200 : 487, TRUE, parsed.headers);
    }
  else
    {
      /* Subscriber: SUBSCRIBE Expires: 0, then the final NOTIFY (RFC 6665
       * section 4.1.2.3), or not, and it ends anyway a little later. */
      nua_unsubscribe (self->nh,
                       SIPTAG_EVENT_STR (self->refer_event ? self->refer_event : "refer"),
                       TAG_IF (parsed.headers != NULL, SIPTAG_HEADER_STR (parsed.headers)),
                       TAG_END ());
      if (self->refer_linger_id == 0)
        self->refer_linger_id = g_timeout_add_seconds (REFER_LINGER_SECONDS, refer_linger_cb,
                                                       self);
    }
  return TRUE;
}

static void
start_refer_usage (HarkCall *self,
                   gboolean  notifier)
{
  self->refer_running = TRUE;
  self->refer_notifier = notifier;
  self->refer_final_sent = FALSE;
  self->transfer_succeeded = FALSE;
  g_free (self->refer_path);
  self->refer_path = g_strdup_printf ("%s/Refer/%u", self->object_path, ++self->refer_count);
  hark_dialog_add_usage (self->dialog, self->refer_path, refer_terminate_cb, &self->refer_running);
}

static void
set_refer_event (HarkCall          *self,
                 const sip_event_t *event)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  char *text;

  if (event == NULL)
    return;
  text = sip_header_as_string (home, (const sip_header_t *) event);
  if (text != NULL)
    {
      g_free (self->refer_event);
      self->refer_event = g_strdup (text);
    }
  su_home_deinit (home);
}

/* An incoming REFER: nua has answered 202 by itself; we NOTIFY 100 Trying
 * and the manager places the new call. */
static void
handle_i_refer (HarkCall    *self,
                int          status,
                const sip_t *sip,
                tagi_t       tags[])
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  const sip_event_t *event = NULL;
  url_t target;
  char *uri;

  tl_gets (tags, NUTAG_REFER_EVENT_REF (event), TAG_END ());
  if (status >= 300 || sip == NULL)
    return;

  if (self->ended || self->refer_running || !is_established (self) ||
      sip->sip_refer_to == NULL || self->bye_sent || self->bye_waits_for_ack)
    {
      g_autofree char *saved = g_steal_pointer (&self->refer_event);

      /* Cannot follow it now: end the implicit subscription at once. */
      set_refer_event (self, event);
      nua_notify (self->nh, NUTAG_SUBSTATE (nua_substate_terminated),
                  TAG_IF (self->refer_event != NULL, SIPTAG_EVENT_STR (self->refer_event)),
                  SIPTAG_CONTENT_TYPE_STR ("message/sipfrag;version=2.0"),
                  SIPTAG_PAYLOAD_STR ("SIP/2.0 603 Declined\r\n"),
                  TAG_END ());
      g_free (self->refer_event);
      self->refer_event = g_steal_pointer (&saved);
      return;
    }

  g_clear_pointer (&self->refer_event, g_free);
  set_refer_event (self, event);
  start_refer_usage (self, TRUE);
  /* nua 1.12.11 leaves the first NOTIFY to us (RFC 3515 section 2.4.4) */
  send_refer_notify (self, 100, FALSE, NULL);

  /* A blind transfer: URI headers (Replaces…, attended transfer) are not
   * followed. */
  target = *sip->sip_refer_to->r_url;
  target.url_headers = NULL;
  uri = url_as_string (home, &target);
  if (uri != NULL)
    {
      g_autofree char *valid = g_utf8_make_valid (uri, -1);

      g_signal_emit (self, signals[SIGNAL_TRANSFER_REQUESTED], 0, valid);
    }
  su_home_deinit (home);

  /* Nobody placed a call for it */
  if (self->refer_running && self->transfer_target == NULL && !self->refer_final_sent)
    send_refer_notify (self, 503, TRUE, NULL);
}

static void
handle_r_notify (HarkCall    *self,
                 int          status,
                 const sip_t *sip,
                 tagi_t       tags[])
{
  gboolean succeeded = self->transfer_succeeded;

  if (status < 200 || !self->refer_running || !self->refer_notifier)
    return;
  /* The answer to the first NOTIFY (100 Trying): the usage goes on */
  if (!self->refer_final_sent && status < 300)
    return;

  refer_usage_end (self);
  if (succeeded && !self->ended && !self->bye_sent && !self->bye_waits_for_ack)
    {
      self->end_reason = "transferred";
      send_bye (self, NULL, NULL);
    }
}

static guint
sipfrag_status (const sip_t *sip)
{
  g_autofree char *text = NULL;

  if (sip == NULL || sip->sip_payload == NULL || sip->sip_payload->pl_data == NULL ||
      sip->sip_content_type == NULL || sip->sip_content_type->c_type == NULL ||
      g_ascii_strcasecmp (sip->sip_content_type->c_type, "message/sipfrag") != 0)
    return 0;

  text = g_strndup (sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  if (!g_str_has_prefix (text, "SIP/2.0 "))
    return 0;
  return (guint) g_ascii_strtoull (text + strlen ("SIP/2.0 "), NULL, 10);
}

/* A NOTIFY about the REFER we sent: nua has answered it 200. */
static void
handle_i_notify (HarkCall    *self,
                 int          status,
                 const sip_t *sip,
                 tagi_t       tags[])
{
  int substate = nua_substate_terminated;
  guint frag;

  tl_gets (tags, NUTAG_SUBSTATE_REF (substate), TAG_END ());
  if (!self->refer_running || self->refer_notifier)
    return;

  frag = sipfrag_status (sip);
  if (frag >= 200 && frag < 300)
    self->transfer_succeeded = TRUE;

  if (substate == nua_substate_terminated)
    refer_usage_end (self);

  if (self->transfer_succeeded && !self->ended && !self->bye_sent && !self->cancel_sent &&
      self->nh != NULL)
    {
      self->end_reason = "transferred";
      send_bye (self, NULL, NULL);
    }
}

static void
handle_r_refer (HarkCall    *self,
                int          status,
                const char  *phrase,
                const sip_t *sip,
                tagi_t       tags[])
{
  const sip_event_t *event = NULL;
  int substate = nua_substate_active;

  tl_gets (tags, NUTAG_REFER_EVENT_REF (event), NUTAG_SUBSTATE_REF (substate), TAG_END ());
  if (!self->refer_running || self->refer_notifier)
    return;
  if (event != NULL)
    set_refer_event (self, event);
  if (status < 200)
    return;

  if (status < 300)
    {
      if (self->transfer_invocation != NULL)
        hark_dbus_call1_complete_transfer (self->iface,
                                           g_steal_pointer (&self->transfer_invocation));
      /* Refer-Sub: false (RFC 4488): no NOTIFY will come */
      if (substate == nua_substate_terminated)
        refer_usage_end (self);
      return;
    }

  if (self->transfer_invocation != NULL)
    g_dbus_method_invocation_return_error (g_steal_pointer (&self->transfer_invocation),
                                           HARK_ERROR, HARK_ERROR_FAILED,
                                           "The peer refused the transfer: %03d %s",
                                           status, phrase);
  refer_usage_end (self);
}

static gboolean
event_brings_message (nua_event_t event)
{
  switch (event)
    {
    case nua_i_invite:
    case nua_i_ack:
    case nua_i_bye:
    case nua_i_cancel:
    case nua_i_info:
    case nua_i_update:
    case nua_i_prack:
    case nua_i_refer:
    case nua_i_notify:
    case nua_i_options:
    case nua_i_message:
    case nua_r_invite:
    case nua_r_bye:
    case nua_r_cancel:
    case nua_r_info:
    case nua_r_update:
    case nua_r_prack:
    case nua_r_refer:
    case nua_r_notify:
    case nua_r_subscribe:
    case nua_r_unsubscribe:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
call_event_cb (HarkSipAgent *agent,
               nua_event_t   event,
               int           status,
               const char   *phrase,
               nua_handle_t *nh,
               const sip_t  *sip,
               tagi_t        tags[],
               gpointer      user_data)
{
  HarkCall *self = user_data;
  g_autoptr(HarkCall) keep = g_object_ref (self);

  if (self->released || nh != self->nh)
    return;

  /* Dialog1.Trace shows what went over the wire (hark-dialog.c) */
  if (sip != NULL && event_brings_message (event))
    update_dialog_ids (self, sip);

  switch (event)
    {
    case nua_r_invite:
      handle_r_invite (self, status, sip, tags);
      break;

    case nua_i_state:
      handle_i_state (self, status, sip, tags);
      break;

    case nua_i_bye:
      /* nua answers 200 OK, and 487 to anything still pending (RFC 3261
       * section 15.1.2). */
      /* The transferor hangs up once we follow its REFER, or once it
       * heard our new call was answered. */
      if (self->end_reason == NULL || !self->bye_sent)
        self->end_reason = self->transfer_succeeded ||
                           (self->refer_running && self->refer_notifier)
                           ? "transferred" : "remote-hangup";
      self->bye_waits_for_ack = FALSE;
      terminate_pending_requests (self, NULL, NULL);
      break;

    case nua_i_info:
      handle_i_info (self, sip);
      break;

    case nua_i_refer:
      handle_i_refer (self, status, sip, tags);
      break;

    case nua_r_refer:
      handle_r_refer (self, status, phrase, sip, tags);
      break;

    case nua_i_notify:
      handle_i_notify (self, status, sip, tags);
      break;

    case nua_r_notify:
      handle_r_notify (self, status, sip, tags);
      break;

    case nua_r_unsubscribe:
      if (status >= 300 && self->refer_running && !self->refer_notifier)
        refer_usage_end (self);
      break;

    case nua_i_cancel:
      self->end_reason = "cancelled";
      set_status_code (self, 487);
      break;

    case nua_i_invite:
      /* A re-INVITE (the first INVITE made the call): soa answers it inside
       * nua; the hold state follows from nua_i_state. */
      break;

    case nua_i_ack:
      self->ack_received = TRUE;
      if (self->bye_waits_for_ack)
        send_bye (self, self->bye_reason, self->bye_headers);
      break;

    case nua_i_error:
      if (status == 408 && self->incoming && !self->ack_received && !self->ended &&
          !self->bye_sent)
        {
          /* No ACK for our 2xx within 64*T1: the peer is gone. nua ends
           * the session with a BYE of its own (RFC 3261 section
           * 13.3.1.4), which a waiting Hangup() must not repeat. */
          if (!self->bye_waits_for_ack)
            self->end_reason = "timeout";
          self->bye_waits_for_ack = FALSE;
          self->bye_sent = TRUE;
          set_state (self, "terminating", NULL);
          hark_dialog_set_state (self->dialog, "terminating");
        }
      break;

    case nua_r_bye:
    case nua_r_cancel:
    case nua_i_terminated:
    case nua_i_active:
    default:
      break;
    }
}

static void
on_agent_shutdown (HarkSipAgent *agent,
                   HarkCall     *self)
{
  /* nua ends the dialog itself while shutting down and frees the handle:
   * forget it rather than destroy it. */
  forget_handle (self, FALSE);
  refer_usage_end (self);
  if (self->end_reason == NULL)
    self->end_reason = "local-hangup";
  finish (self, self->end_reason);
}

/* ------------------------------------------------------------------------ */
/* D-Bus methods                                                             */

/**
 * hark_call_accept:
 * @options: (nullable): "headers"
 *
 * Answers a ringing incoming call with 200 OK and our SDP answer.
 *
 * Returns: %FALSE with @error set (InvalidState, InvalidArgument) if
 *   nothing was sent
 */
gboolean
hark_call_accept (HarkCall  *self,
                  GVariant  *options,
                  GError   **error)
{
  g_auto(Options) parsed = { 0 };
  const char *state;

  g_return_val_if_fail (HARK_IS_CALL (self), FALSE);

  state = hark_dbus_call1_get_state (self->iface);
  if (!check_not_ended (self, error))
    return FALSE;
  if (!self->incoming)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "Only incoming calls can be accepted; this one is outgoing");
      return FALSE;
    }
  if (!g_str_equal (state, "ringing") && !g_str_equal (state, "early"))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE, "The call is already %s", state);
      return FALSE;
    }
  if (!parse_options (options, accept_options, &parsed, error))
    return FALSE;

  g_clear_handle_id (&self->auto_answer_id, g_source_remove);
  g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
  set_status_code (self, 200);
  nua_respond (self->nh, SIP_200_OK,
               SOATAG_USER_SDP_STR (self->local_sdp),
               /* The caller listed its codecs by preference: honour it. */
               SOATAG_RTP_SORT (SOA_RTP_SORT_REMOTE),
               SOATAG_AUDIO_AUX (HARK_SIP_SDP_AUDIO_AUX),
               TAG_IF (self->contact_user != NULL, NUTAG_M_USERNAME (self->contact_user)),
               TAG_IF (parsed.headers != NULL, SIPTAG_HEADER_STR (parsed.headers)),
               TAG_END ());
  set_state (self, "active", "answered");
  return TRUE;
}

static gboolean
handle_accept (HarkDBusCall1         *iface,
               GDBusMethodInvocation *invocation,
               GVariant              *options,
               HarkCall              *self)
{
  g_autoptr(GError) error = NULL;

  if (!hark_call_accept (self, options, &error))
    return hark_error_return (invocation, error);

  hark_dbus_call1_complete_accept (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
auto_answer_cb (gpointer user_data)
{
  HarkCall *self = user_data;
  g_autoptr(GError) error = NULL;

  self->auto_answer_id = 0;
  if (!hark_call_accept (self, NULL, &error))
    g_debug ("%s: no auto-answer: %s", self->object_path, error->message);
  return G_SOURCE_REMOVE;
}

/**
 * hark_call_set_auto_answer:
 * @delay_ms: answer a ringing incoming call after this long; 0 for never
 *
 * For profiles with AutoAnswer: Accept() by itself unless the call was
 * answered, rejected or ended before. Call before hark_call_start(): under
 * 100 ms the call answers without ringing first.
 */
void
hark_call_set_auto_answer (HarkCall *self,
                           guint     delay_ms)
{
  g_return_if_fail (HARK_IS_CALL (self));

  g_clear_handle_id (&self->auto_answer_id, g_source_remove);
  self->auto_answer_ms = delay_ms;
  if (delay_ms > 0 && self->incoming && !self->ended)
    self->auto_answer_id = g_timeout_add (delay_ms, auto_answer_cb, self);
}

/**
 * hark_call_set_media_encryption:
 * @setting: the profile's "media-encryption": "none", "optional" (the
 *   default) or "required"
 *
 * Call before hark_call_start(), which writes the offer or answer.
 */
void
hark_call_set_media_encryption (HarkCall   *self,
                                const char *setting)
{
  g_return_if_fail (HARK_IS_CALL (self));

  if (g_strcmp0 (setting, "none") == 0)
    self->media_encryption = HARK_CALL_MEDIA_ENCRYPTION_NONE;
  else if (g_strcmp0 (setting, "required") == 0)
    self->media_encryption = HARK_CALL_MEDIA_ENCRYPTION_REQUIRED;
  else
    self->media_encryption = HARK_CALL_MEDIA_ENCRYPTION_OPTIONAL;
}

static gboolean
handle_reject (HarkDBusCall1         *iface,
               GDBusMethodInvocation *invocation,
               guint                  code,
               GVariant              *options,
               HarkCall              *self)
{
  g_autoptr(GError) error = NULL;
  g_auto(Options) parsed = { 0 };
  const char *state = hark_dbus_call1_get_state (iface);

  if (!check_not_ended (self, &error))
    return hark_error_return (invocation, error);
  if (!self->incoming)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "Only incoming calls can be rejected; end outgoing "
                                  "calls with Hangup()");
  if (!g_str_equal (state, "ringing") && !g_str_equal (state, "early"))
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The call is already %s; end it with Hangup()", state);
  if (code == 0)
    code = 486;
  if (code < 300 || code > 699)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Argument “code”: %u is not a final error response "
                                  "(300–699, or 0 for 486 Busy Here)", code);
  if (!parse_options (options, end_options, &parsed, &error))
    return hark_error_return (invocation, error);

  g_clear_handle_id (&self->auto_answer_id, g_source_remove);
  send_final_response (self, code, parsed.reason, parsed.headers,
                       code == 486 || code == 600 ? "busy" :
                       code == 603 ? "declined" : "rejected");

  hark_dbus_call1_complete_reject (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_hangup (HarkDBusCall1         *iface,
               GDBusMethodInvocation *invocation,
               GVariant              *options,
               HarkCall              *self)
{
  g_autoptr(GError) error = NULL;

  if (!hark_call_hangup (self, options, &error))
    return hark_error_return (invocation, error);

  hark_dbus_call1_complete_hangup (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Everything that needs the media layer: known methods, not there yet. */
static G_GNUC_UNUSED gboolean
handle_needs_media (HarkCall              *self,
                    GDBusMethodInvocation *invocation,
                    const char            *what)
{
  g_autoptr(GError) error = NULL;

  if (!check_not_ended (self, &error))
    return hark_error_return (invocation, error);

  return hark_error_return_new (invocation, HARK_ERROR_NOT_SUPPORTED,
                                "%s is not supported by this version of hark-daemon "
                                "(%s) yet", what, PACKAGE_VERSION);
}

/* Hold and Resume: a re-INVITE whose offer soa marks a=sendonly for
 * audio, or back to a=sendrecv. The State follows nua's answer. */
static gboolean
send_hold_reinvite (HarkCall  *self,
                    gboolean   hold,
                    GError   **error)
{
  const char *state = hark_dbus_call1_get_state (self->iface);

  if (!check_not_ended (self, error))
    return FALSE;
  if (!is_established (self) || (self->incoming && !self->ack_received))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "The call is %s, not answered yet", state);
      return FALSE;
    }
  if (self->reinvite_pending)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE,
                   "A hold or resume is already under way");
      return FALSE;
    }
  if (hold == self->local_hold)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_INVALID_STATE, "%s",
                   hold ? "The call is already on hold"
                   : g_str_equal (state, "held") ? "The peer holds the call; only it can resume"
                   : "The call is not on hold");
      return FALSE;
    }

  self->local_hold = hold;
  self->reinvite_pending = TRUE;
  self->reinvite_glares = 0;
  send_reinvite (self);
  return TRUE;
}

static gboolean
handle_hold (HarkDBusCall1 *iface, GDBusMethodInvocation *invocation, HarkCall *self)
{
  g_autoptr(GError) error = NULL;

  if (!send_hold_reinvite (self, TRUE, &error))
    return hark_error_return (invocation, error);
  hark_dbus_call1_complete_hold (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_resume (HarkDBusCall1 *iface, GDBusMethodInvocation *invocation, HarkCall *self)
{
  g_autoptr(GError) error = NULL;

  if (!send_hold_reinvite (self, FALSE, &error))
    return hark_error_return (invocation, error);
  hark_dbus_call1_complete_resume (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_send_dtmf (HarkDBusCall1 *iface, GDBusMethodInvocation *invocation,
                  const char *digits, HarkCall *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_not_ended (self, &error))
    return hark_error_return (invocation, error);
  if (self->media == NULL)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The call has no audio stream yet");
  if (!hark_media_session_send_dtmf (self->media, digits, &error))
    return hark_error_return (invocation, error);
  hark_dbus_call1_complete_send_dtmf (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Blind transfer: a REFER on this dialog. The method returns once the
 * peer has accepted it (202); its NOTIFYs follow as Trace, and the call
 * ends "transferred" when one says the new call was answered. */
static gboolean
handle_transfer (HarkDBusCall1 *iface, GDBusMethodInvocation *invocation,
                 const char *uri, HarkCall *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *refer_to = NULL;

  if (!check_not_ended (self, &error))
    return hark_error_return (invocation, error);
  if (!is_established (self) || (self->incoming && !self->ack_received) || self->bye_waits_for_ack)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The call is %s, not answered yet; only an answered "
                                  "call can be transferred",
                                  hark_dbus_call1_get_state (iface));
  if (self->refer_running)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "A transfer of this call is already under way");
  if (!hark_uri_check (uri, 0, "Argument “uri”", &error))
    return hark_error_return (invocation, error);

  g_clear_pointer (&self->refer_event, g_free);
  start_refer_usage (self, FALSE);
  self->transfer_invocation = invocation;

  refer_to = g_strdup_printf ("<%s>", uri);
  nua_refer (self->nh,
             SIPTAG_REFER_TO_STR (refer_to),
             TAG_IF (self->contact_user != NULL, NUTAG_M_USERNAME (self->contact_user)),
             TAG_END ());
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_muted (HarkDBusCall1 *iface, GDBusMethodInvocation *invocation,
                  gboolean muted, HarkCall *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_not_ended (self, &error))
    return hark_error_return (invocation, error);
  /* Kept for a session that starts later. */
  if (self->media != NULL)
    hark_media_session_set_muted (self->media, muted);
  if (hark_dbus_call1_get_muted (iface) != muted)
    hark_dbus_call1_set_muted (iface, muted);
  hark_dbus_call1_complete_set_muted (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_authenticate (HarkDBusCall1         *iface,
                     GDBusMethodInvocation *invocation,
                     const char            *username,
                     const char            *password,
                     HarkCall              *self)
{
  g_autoptr(GError) error = NULL;

  if (!check_not_ended (self, &error))
    return hark_error_return (invocation, error);
  if (!hark_auth_attempt_get_waiting (self->auth))
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_STATE,
                                  "The call is not waiting for credentials "
                                  "(only after StateReason “auth-failed”)");
  if (*username == '\0' || strpbrk (username, ":\"\r\n") != NULL)
    return hark_error_return_new (invocation, HARK_ERROR_INVALID_ARGUMENT,
                                  "Argument “username”: empty or contains ':', '\"' or "
                                  "a line break");

  set_state (self, hark_dbus_call1_get_state (self->iface), "");
  hark_auth_attempt_supply (self->auth, username, password);

  hark_dbus_call1_complete_authenticate (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
dialog_terminate_cb (gpointer   usage,
                     GVariant  *options,
                     GError   **error)
{
  return hark_call_hangup (HARK_CALL (usage), options, error);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                   */

static void
hark_call_dispose (GObject *object)
{
  HarkCall *self = (HarkCall *) object;

  if (self->agent != NULL)
    g_signal_handlers_disconnect_by_data (self->agent, self);
  g_cancellable_cancel (self->cancellable);
  if (self->auth != NULL)
    {
      hark_auth_attempt_stop (self->auth);
      g_signal_handlers_disconnect_by_data (self->auth, self);
      g_clear_object (&self->auth);
    }
  g_clear_handle_id (&self->auto_answer_id, g_source_remove);
  g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
  g_clear_handle_id (&self->refer_linger_id, g_source_remove);
  g_clear_handle_id (&self->reinvite_retry_id, g_source_remove);
  if (self->transfer_target != NULL)
    g_signal_handlers_disconnect_by_func (self->transfer_target->iface,
                                          on_transfer_target_state, self);
  g_clear_object (&self->transfer_target);
  if (self->transfer_invocation != NULL)
    g_dbus_method_invocation_return_error (g_steal_pointer (&self->transfer_invocation),
                                           HARK_ERROR, HARK_ERROR_FAILED,
                                           "The call is gone");
  if (self->pending_requests != NULL)
    g_ptr_array_set_size (self->pending_requests, 0);
  forget_handle (self, TRUE);
  stop_media (self);
  if (self->dialog != NULL)
    {
      hark_dialog_usage_ended (self->dialog, self);
      hark_dialog_usage_ended (self->dialog, &self->refer_running);
    }
  if (self->iface != NULL)
    g_signal_handlers_disconnect_by_data (self->iface, self);
  g_clear_object (&self->iface);
  g_clear_object (&self->object);
  g_clear_object (&self->forks);
  g_clear_object (&self->dialog);
  g_clear_object (&self->agent);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hark_call_parent_class)->dispose (object);
}

static void
hark_call_finalize (GObject *object)
{
  HarkCall *self = (HarkCall *) object;

  g_free (self->object_path);
  g_clear_pointer (&self->pending_requests, g_ptr_array_unref);
  g_free (self->local_sdp);
  g_free (self->remote_offer);
  g_free (self->last_local_sdp);
  g_free (self->last_remote_sdp);
  g_free (self->request_uri);
  g_free (self->extra_headers);
  g_free (self->contact);
  g_free (self->contact_user);
  g_free (self->bye_reason);
  g_free (self->bye_headers);
  g_free (self->refer_path);
  g_free (self->refer_event);

  G_OBJECT_CLASS (hark_call_parent_class)->finalize (object);
}

static void
hark_call_class_init (HarkCallClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hark_call_dispose;
  object_class->finalize = hark_call_finalize;

  /**
   * HarkCall::ended:
   *
   * The call is terminated: nothing more is sent for it.
   */
  signals[SIGNAL_ENDED] =
    g_signal_new ("ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * HarkCall::transfer-requested:
   * @uri: the Refer-To of the REFER the peer sent, without URI headers
   *
   * The peer asked us to call @uri (a blind transfer). A handler places
   * that call from the same profile and hands it to
   * hark_call_follow_transfer(), or calls hark_call_transfer_failed().
   */
  signals[SIGNAL_TRANSFER_REQUESTED] =
    g_signal_new ("transfer-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
hark_call_init (HarkCall *self)
{
  self->object_path = hark_path_next ("Call");
  self->cancellable = g_cancellable_new ();
  set_auth_attempt (self, hark_auth_attempt_new (NULL, NULL, NULL, NULL, NULL));
  self->pending_requests = g_ptr_array_new_with_free_func (pending_request_free);
  self->audio_mode = SOA_ACTIVE_SENDRECV;
  self->media_encryption = HARK_CALL_MEDIA_ENCRYPTION_OPTIONAL;
  self->dialog = hark_dialog_new ();
  self->iface = hark_dbus_call1_skeleton_new ();
  g_object_set (self->iface,
                "profile", "/", "dialog", hark_dialog_get_object_path (self->dialog),
                "direction", "outgoing", "state", "calling", "state-reason", "",
                "status-code", 0, "remote-uri", "", "remote-name", "", "local-uri", "",
                "muted", FALSE, "codec", "",
                NULL);

  g_signal_connect (self->iface, "handle-accept", G_CALLBACK (handle_accept), self);
  g_signal_connect (self->iface, "handle-reject", G_CALLBACK (handle_reject), self);
  g_signal_connect (self->iface, "handle-hangup", G_CALLBACK (handle_hangup), self);
  g_signal_connect (self->iface, "handle-hold", G_CALLBACK (handle_hold), self);
  g_signal_connect (self->iface, "handle-resume", G_CALLBACK (handle_resume), self);
  g_signal_connect (self->iface, "handle-send-dtmf", G_CALLBACK (handle_send_dtmf), self);
  g_signal_connect (self->iface, "handle-transfer", G_CALLBACK (handle_transfer), self);
  g_signal_connect (self->iface, "handle-set-muted", G_CALLBACK (handle_set_muted), self);
  g_signal_connect (self->iface, "handle-authenticate", G_CALLBACK (handle_authenticate), self);

  self->object = hark_dbus_object_skeleton_new (self->object_path);
  hark_dbus_object_skeleton_set_call1 (self->object, self->iface);

  hark_dialog_add_usage (self->dialog, self->object_path, dialog_terminate_cb, self);
}

/* The SDP itself is written by hark_call_start(), once the profile's
 * media-encryption is known. */
static gboolean
make_local_sdp (HarkCall  *self,
                GError   **error)
{
  const char *address = hark_sip_agent_get_address (self->agent);

  /* Bound on every local address of the family the SDP announces. */
  self->media_ports = hark_media_ports_allocate (strchr (address, ':') ? "::" : NULL, error);
  if (self->media_ports == NULL)
    return FALSE;
  /* GStreamer's first start takes a while: begin it while the call rings. */
  hark_media_preload ();
  return TRUE;
}

/* Our offer (an outgoing call, or an INVITE without SDP): SDES in RTP/AVP
 * when optional, so that peers without SRTP still answer; RTP/SAVP when
 * required. */
static gboolean
write_offer (HarkCall  *self,
             GError   **error)
{
  const char *address = hark_sip_agent_get_address (self->agent);
  g_autofree char *key = NULL;

  if (self->media_encryption != HARK_CALL_MEDIA_ENCRYPTION_NONE &&
      (key = hark_media_srtp_make_key (error)) == NULL)
    return FALSE;
  self->local_sdp = hark_sip_sdp_make_local_full (
    address, self->media_ports->rtp_port, key,
    self->media_encryption == HARK_CALL_MEDIA_ENCRYPTION_REQUIRED);
  if (key != NULL)
    explicit_bzero (key, strlen (key));
  return TRUE;
}

/* Our answer to the INVITE's offer: soa copies our a=crypto line into it,
 * so the line must carry the tag and suite we accept, with a key of ours
 * (RFC 4568 section 5.1.2), on the offer's transport. FALSE when the
 * profile's media-encryption cannot meet the offer: the call is refused
 * with 488. */
static gboolean
write_answer (HarkCall  *self,
              GError   **error)
{
  const char *address = hark_sip_agent_get_address (self->agent);
  g_auto(HarkSipSdpOffer) offer = { 0, };
  g_autofree char *key = NULL;
  gboolean take_srtp;

  hark_sip_sdp_read_offer (self->remote_offer, &offer);
  take_srtp = self->media_encryption != HARK_CALL_MEDIA_ENCRYPTION_NONE &&
              offer.crypto_suite != NULL;
  if (offer.has_audio && !take_srtp &&
      (offer.savp || self->media_encryption == HARK_CALL_MEDIA_ENCRYPTION_REQUIRED))
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED,
                   offer.savp ? "the offer requires SRTP, which the profile does not use"
                              : "the profile requires SRTP, which the offer does not have");
      return FALSE;
    }

  if (take_srtp && (key = hark_media_srtp_make_key (error)) == NULL)
    return FALSE;
  self->local_sdp = hark_sip_sdp_make_local_crypto (address, self->media_ports->rtp_port,
                                                    offer.crypto_tag, offer.crypto_suite,
                                                    key, offer.savp);
  if (key != NULL)
    explicit_bzero (key, strlen (key));
  return TRUE;
}

static void
set_text (HarkCall   *self,
          const char *property,
          const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value ? value : "", -1);

  g_object_set (self->iface, property, valid, NULL);
}

/* Session timers and 100rel (Supported: timer, 100rel is nua's default;
 * a 1xx that requires 100rel is PRACKed by nua itself). */
static void
set_session_params (HarkCall *self)
{
  nua_set_hparams (self->nh,
                   NUTAG_SESSION_TIMER (SESSION_EXPIRES_SECONDS),
                   NUTAG_MIN_SE (MIN_SE_SECONDS),
                   NUTAG_SESSION_REFRESHER (nua_any_refresher),
                   TAG_END ());
}

/**
 * hark_call_new_outgoing:
 * @agent: the profile's SIP agent
 * @setup: whom to call and how; options must have passed
 *   hark_call_check_dial_options()
 *
 * Returns: (transfer full) (nullable): a call in state "calling", to be
 *   exported and then started with hark_call_start()
 */
HarkCall *
hark_call_new_outgoing (HarkSipAgent         *agent,
                        const HarkCallSetup  *setup,
                        GError              **error)
{
  g_autoptr(HarkCall) self = NULL;
  g_auto(Options) parsed = { 0 };

  g_return_val_if_fail (HARK_IS_SIP_AGENT (agent), NULL);
  g_return_val_if_fail (setup != NULL && setup->remote_uri != NULL && setup->local_uri != NULL,
                        NULL);

  if (!parse_options (setup->options, dial_options, &parsed, error))
    return NULL;

  self = g_object_new (HARK_TYPE_CALL, NULL);
  self->agent = g_object_ref (agent);
  self->incoming = FALSE;
  self->request_uri = g_strdup (setup->request_uri ? setup->request_uri : setup->remote_uri);
  self->extra_headers = g_steal_pointer (&parsed.headers);
  self->contact = g_strdup (setup->contact);
  self->contact_user = g_strdup (setup->contact_user);
  set_auth_attempt (self, hark_auth_attempt_new (parsed.auth, setup->secrets, setup->profile_id,
                                                 setup->auth_username, setup->auth_realm));

  g_object_set (self->iface,
                "profile", setup->profile_path, "direction", "outgoing", "state", "calling",
                "remote-uri", setup->remote_uri, "local-uri", setup->local_uri,
                NULL);

  if (!make_local_sdp (self, error))
    return NULL;

  self->nh = hark_sip_agent_create_handle (agent, call_event_cb, self,
                                           SIPTAG_TO_STR (setup->remote_uri),
                                           SIPTAG_FROM_STR (setup->local_uri),
                                           TAG_END ());
  if (self->nh == NULL)
    {
      g_set_error (error, HARK_ERROR, HARK_ERROR_FAILED,
                   "The profile's SIP stack is shutting down");
      return NULL;
    }

  set_session_params (self);
  g_signal_connect (agent, "shutdown", G_CALLBACK (on_agent_shutdown), self);
  self->forks = hark_call_forks_new (self->dialog, self->object_path, dialog_terminate_cb, self);
  return g_steal_pointer (&self);
}

/**
 * hark_call_new_incoming:
 * @agent: the agent the INVITE came to
 * @profile_path: the profile's object path
 * @nh: the handle nua made for the INVITE
 * @sip: the INVITE
 *
 * Takes @nh over and answers 180 Ringing once hark_call_start() runs.
 *
 * Returns: (transfer full): a call in state "ringing"
 */
HarkCall *
hark_call_new_incoming (HarkSipAgent *agent,
                        const char   *profile_path,
                        nua_handle_t *nh,
                        const sip_t  *sip)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  HarkCall *self;

  g_return_val_if_fail (HARK_IS_SIP_AGENT (agent), NULL);
  g_return_val_if_fail (nh != NULL && sip != NULL && sip->sip_from != NULL, NULL);

  self = g_object_new (HARK_TYPE_CALL, NULL);
  self->agent = g_object_ref (agent);
  self->incoming = TRUE;
  self->nh = nh;
  hark_sip_agent_bind_handle (agent, nh, call_event_cb, self);
  set_session_params (self);
  g_signal_connect (agent, "shutdown", G_CALLBACK (on_agent_shutdown), self);

  g_object_set (self->iface, "profile", profile_path, "direction", "incoming",
                "state", "ringing", NULL);
  set_text (self, "remote-uri", url_as_string (home, sip->sip_from->a_url));
  if (sip->sip_from->a_display != NULL)
    {
      char *display = msg_unquote_dup (home, sip->sip_from->a_display);

      set_text (self, "remote-name", g_strstrip (display));
    }
  if (sip->sip_to != NULL)
    set_text (self, "local-uri", url_as_string (home, sip->sip_to->a_url));
  if (sip->sip_request != NULL && sip->sip_request->rq_url->url_user != NULL)
    self->contact_user = g_strdup (sip->sip_request->rq_url->url_user);
  if (sip->sip_payload != NULL && sip->sip_payload->pl_len > 0)
    self->remote_offer = g_strndup (sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  su_home_deinit (home);

  /* Without a port there is no offer to answer; the call is answered
   * with 488 by nua on Accept(), which is the right outcome. */
  make_local_sdp (self, NULL);

  hark_dialog_update_ids (self->dialog, sip->sip_call_id ? sip->sip_call_id->i_id : NULL, NULL,
                          sip->sip_from->a_tag);

  return self;
}

/**
 * hark_call_start:
 *
 * Sends the INVITE of an outgoing call or the 180 Ringing of an incoming
 * one. Called once the objects are on the bus, so that every message has a
 * Trace a client can see.
 */
static gboolean
ring_timeout_cb (gpointer user_data)
{
  HarkCall *self = user_data;
  const char *state = hark_dbus_call1_get_state (self->iface);

  self->ring_timeout_id = 0;
  if (self->incoming && self->nh != NULL &&
      (g_str_equal (state, "ringing") || g_str_equal (state, "early")))
    send_final_response (self, 480, NULL, NULL, "timeout");
  return G_SOURCE_REMOVE;
}

static guint
ring_timeout_ms (void)
{
  return hark_env_get_ms ("HARK_RING_TIMEOUT_MS", 1, G_MAXUINT, RING_TIMEOUT_SECONDS * 1000);
}

/* What hark_call_start() sends with: FALSE when the incoming offer does
 * not meet the profile's media-encryption (the call is refused 488). */
static gboolean
write_local_sdp (HarkCall *self)
{
  g_autoptr(GError) error = NULL;

  if (self->local_sdp != NULL)
    return TRUE;
  if (self->media_ports == NULL)
    {
      /* No port: nua answers 488 on Accept(), the right outcome. */
      self->local_sdp = g_strdup ("");
      return TRUE;
    }
  if (self->incoming && self->remote_offer != NULL ? write_answer (self, &error)
                                                   : write_offer (self, &error))
    return TRUE;
  if (g_error_matches (error, HARK_ERROR, HARK_ERROR_NOT_SUPPORTED))
    {
      g_debug ("%s: refused: %s", self->object_path, error->message);
      return FALSE;
    }
  /* No random bytes: no audio at all rather than plain RTP. */
  g_warning ("No SRTP key for %s: %s", self->object_path, error->message);
  self->local_sdp = g_strdup ("");
  return TRUE;
}

void
hark_call_start (HarkCall *self)
{
  g_return_if_fail (HARK_IS_CALL (self));

  if (self->nh == NULL)
    return;

  if (!write_local_sdp (self))
    {
      /* RFC 3261 section 21.4.26: the Warning names what did not match
       * (303: the transport, RTP/AVP against RTP/SAVP). */
      send_final_response (self, 488, NULL,
                           "Warning: 303 hark \"Incompatible transport protocol: SRTP\"\r\n",
                           "encryption-mismatch");
      update_dialog_ids (self, NULL);
      return;
    }

  if (self->incoming && self->ring_timeout_id == 0)
    self->ring_timeout_id = g_timeout_add (ring_timeout_ms (), ring_timeout_cb, self);

  if (self->incoming && self->auto_answer_ms > 0 &&
      self->auto_answer_ms < AUTO_ANSWER_SILENT_MS)
    {
      /* Answered at once: no 180, which could overtake the 200 through a
       * proxy with several UDP workers and only confuse the caller. */
      update_dialog_ids (self, NULL);
      return;
    }

  if (self->incoming)
    {
      nua_respond (self->nh, SIP_180_RINGING,
                   TAG_IF (self->contact_user != NULL, NUTAG_M_USERNAME (self->contact_user)),
                   TAG_END ());
      update_dialog_ids (self, NULL);
      return;
    }

  nua_invite (self->nh,
              NUTAG_URL (self->request_uri),
              SOATAG_USER_SDP_STR (self->local_sdp),
              SOATAG_AUDIO_AUX (HARK_SIP_SDP_AUDIO_AUX),
              TAG_IF (self->contact != NULL, SIPTAG_CONTACT_STR (self->contact)),
              TAG_IF (self->contact_user != NULL, NUTAG_M_USERNAME (self->contact_user)),
              TAG_IF (self->extra_headers != NULL, SIPTAG_HEADER_STR (self->extra_headers)),
              TAG_END ());
}

const char *
hark_call_get_object_path (HarkCall *self)
{
  g_return_val_if_fail (HARK_IS_CALL (self), NULL);
  return self->object_path;
}

HarkDBusObjectSkeleton *
hark_call_get_object (HarkCall *self)
{
  g_return_val_if_fail (HARK_IS_CALL (self), NULL);
  return self->object;
}

HarkDialog *
hark_call_get_dialog (HarkCall *self)
{
  g_return_val_if_fail (HARK_IS_CALL (self), NULL);
  return self->dialog;
}

/**
 * hark_call_get_forks:
 *
 * Returns: (transfer none) (nullable): the early dialogs of an outgoing
 *   call's INVITE; %NULL for an incoming call
 */
HarkCallForks *
hark_call_get_forks (HarkCall *self)
{
  g_return_val_if_fail (HARK_IS_CALL (self), NULL);
  return self->forks;
}

const char *
hark_call_get_profile_path (HarkCall *self)
{
  g_return_val_if_fail (HARK_IS_CALL (self), NULL);
  return hark_dbus_call1_get_profile (self->iface);
}

gboolean
hark_call_is_terminated (HarkCall *self)
{
  g_return_val_if_fail (HARK_IS_CALL (self), TRUE);
  return g_strcmp0 (hark_dbus_call1_get_state (self->iface), "terminated") == 0;
}
