/* test-mwi-pidf.c — the message-summary (RFC 3842) and PIDF (RFC 3863) parsers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure unit tests: the examples of the RFCs, variations real servers send,
 * and malformed bodies, which must give an error and never crash.
 */

#include "config.h"

#include <string.h>

#include "hark-error.h"
#include "hark-mwi.h"
#include "hark-pidf.h"

/* RFC 3842 section 6 (the body of the NOTIFY in the example flow) */
static const char rfc3842_example[] =
  "Messages-Waiting: yes\r\n"
  "Message-Account: sip:alice@vmail.example.com\r\n"
  "Voice-Message: 2/8 (0/2)\r\n";

/* RFC 3842 section 5.2, with the optional message headers */
static const char rfc3842_with_headers[] =
  "Messages-Waiting: yes\r\n"
  "Message-Account: sip:alice@vmail.example.com\r\n"
  "Voice-Message: 4/8 (1/2)\r\n"
  "\r\n"
  "To: <alice@atlanta.example.com>\r\n"
  "From: <bob@biloxi.example.com>\r\n"
  "Subject: carpool tomorrow?\r\n"
  "Date: Sun, 09 May 2004 16:28:06 -0600\r\n"
  "Priority: normal\r\n"
  "Message-ID: 13784434989@vmail.example.com\r\n";

static void
test_mwi_rfc_examples (void)
{
  HarkMwiSummary summary;
  g_autoptr(GError) error = NULL;

  g_assert_true (hark_mwi_parse (rfc3842_example, -1, &summary, &error));
  g_assert_no_error (error);
  g_assert_true (summary.messages_waiting);
  g_assert_cmpstr (summary.account, ==, "sip:alice@vmail.example.com");
  g_assert_true (summary.has_voice);
  g_assert_cmpuint (summary.voice.new_messages, ==, 2);
  g_assert_cmpuint (summary.voice.old_messages, ==, 8);
  g_assert_cmpuint (summary.voice.new_urgent, ==, 0);
  g_assert_cmpuint (summary.voice.old_urgent, ==, 2);
  hark_mwi_summary_clear (&summary);

  g_assert_true (hark_mwi_parse (rfc3842_with_headers, -1, &summary, &error));
  g_assert_no_error (error);
  g_assert_true (summary.messages_waiting);
  g_assert_cmpuint (summary.voice.new_messages, ==, 4);
  g_assert_cmpuint (summary.voice.old_messages, ==, 8);
  g_assert_cmpuint (summary.voice.new_urgent, ==, 1);
  g_assert_cmpuint (summary.voice.old_urgent, ==, 2);
  hark_mwi_summary_clear (&summary);
}

static void
test_mwi_variations (void)
{
  static const struct {
    const char *body;
    gboolean    waiting;
    gboolean    has_voice;
    guint       counts[4];
  } cases[] = {
    { "Messages-Waiting: no\r\n", FALSE, FALSE, { 0, 0, 0, 0 } },
    { "Messages-Waiting: no", FALSE, FALSE, { 0, 0, 0, 0 } },
    /* LF only, odd case and spacing, no urgent counts (Asterisk) */
    { "messages-waiting:YES\nvoice-message : 3/1\n", TRUE, TRUE, { 3, 1, 0, 0 } },
    { "Messages-Waiting: yes\r\nVoice-Message: 1 / 0 ( 1 / 0 )\r\n", TRUE, TRUE, { 1, 0, 1, 0 } },
    /* other classes and extension lines are ignored */
    { "Messages-Waiting: yes\r\nFax-Message: 1/0\r\nX-Vendor: whatever\r\n"
      "Voice-Message: 0/5\r\n", TRUE, TRUE, { 0, 5, 0, 0 } },
    { "\r\nMessages-Waiting: yes\r\nFax-Message: 2/2\r\n", TRUE, FALSE, { 0, 0, 0, 0 } },
    { "Messages-Waiting: yes\r\nVoice-Message: 4294967295/0\r\n", TRUE, TRUE,
      { 4294967295u, 0, 0, 0 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      HarkMwiSummary summary;
      g_autoptr(GError) error = NULL;

      g_autofree char *shown = g_strescape (cases[i].body, NULL);

      g_test_message ("case %u: %s", i, shown);
      g_assert_true (hark_mwi_parse (cases[i].body, -1, &summary, &error));
      g_assert_no_error (error);
      g_assert_cmpint (summary.messages_waiting, ==, cases[i].waiting);
      g_assert_cmpint (summary.has_voice, ==, cases[i].has_voice);
      g_assert_cmpuint (summary.voice.new_messages, ==, cases[i].counts[0]);
      g_assert_cmpuint (summary.voice.old_messages, ==, cases[i].counts[1]);
      g_assert_cmpuint (summary.voice.new_urgent, ==, cases[i].counts[2]);
      g_assert_cmpuint (summary.voice.old_urgent, ==, cases[i].counts[3]);
      hark_mwi_summary_clear (&summary);
    }
}

static void
test_mwi_malformed (void)
{
  static const char * const bodies[] = {
    "",
    "\r\n\r\n",
    "hello",
    "Voice-Message: 2/8\r\n",                             /* no status line */
    "Messages-Waiting: maybe\r\n",
    "Messages-Waiting yes\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: x/2\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2) extra\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: 2\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: -1/2\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: 99999999999/1\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: 4294967296/1\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: 1/1\r\nVoice-Message: 2/2\r\n",
    "Messages-Waiting: yes\r\nMessage-Account: \r\n",
    "Messages-Waiting: yes\r\nMessage-Account: sip:a@b\r\nMessage-Account: sip:c@d\r\n",
    "Messages-Waiting: yes\r\nthis is not a header\r\n",
    "Messages-Waiting: yes\r\n: no name\r\n",
    "Messages-Waiting: yes\r\nVoice-Message: 1/\xff\r\n",   /* not UTF-8 */
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      HarkMwiSummary summary;
      g_autoptr(GError) error = NULL;
      g_autofree char *shown = g_strescape (bodies[i], NULL);

      g_test_message ("malformed %u: %s", i, shown);
      g_assert_false (hark_mwi_parse (bodies[i], -1, &summary, &error));
      g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "message-summary line"));
      g_assert_false (summary.messages_waiting);
      g_assert_null (summary.account);
    }
}

static void
test_mwi_binary (void)
{
  static const char with_nul[] = "Messages-Waiting: yes\r\n\0Voice-Message: 1/1\r\n";
  HarkMwiSummary summary;
  g_autoptr(GError) error = NULL;
  g_autofree char *huge = NULL;
  g_autoptr(GString) random_bytes = g_string_new (NULL);

  g_assert_false (hark_mwi_parse (with_nul, sizeof with_nul - 1, &summary, &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  huge = g_strnfill (70000, 'x');
  g_assert_false (hark_mwi_parse (huge, -1, &summary, &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Whatever bytes come, the answer is an error or a summary. */
  for (guint round = 0; round < 200; round++)
    {
      g_string_truncate (random_bytes, 0);
      g_string_append (random_bytes, "Messages-Waiting: yes\r\nVoice-Message: ");
      for (guint i = 0; i < 16; i++)
        g_string_append_c (random_bytes, "0123456789/() \r\n:x"[g_test_rand_int_range (0, 18)]);
      if (hark_mwi_parse (random_bytes->str, random_bytes->len, &summary, &error))
        hark_mwi_summary_clear (&summary);
      g_clear_error (&error);
    }
}

/* RFC 3863 section 4.5, the first example, with a prefix for PIDF */
static const char rfc3863_prefixed[] =
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  "<impp:presence xmlns:impp=\"urn:ietf:params:xml:ns:pidf\"\n"
  "    entity=\"pres:someone@example.com\">\n"
  "  <impp:tuple id=\"sg89ae\">\n"
  "    <impp:status>\n"
  "      <impp:basic>open</impp:basic>\n"
  "    </impp:status>\n"
  "    <impp:contact priority=\"0.8\">tel:+09012345678</impp:contact>\n"
  "  </impp:tuple>\n"
  "</impp:presence>\n";

/* RFC 3863 section 4.5, the second example: extensions and notes */
static const char rfc3863_extended[] =
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
  "    xmlns:im=\"urn:ietf:params:xml:ns:pidf:im\"\n"
  "    xmlns:myex=\"http://id.example.com/presence/\"\n"
  "    entity=\"pres:someone@example.com\">\n"
  "  <tuple id=\"bs35r9\">\n"
  "    <status>\n"
  "      <basic>open</basic>\n"
  "      <im:im>busy</im:im>\n"
  "      <myex:location>home</myex:location>\n"
  "    </status>\n"
  "    <contact priority=\"0.8\">im:someone@mobilecarrier.net</contact>\n"
  "    <note xml:lang=\"en\">Don't Disturb Please!</note>\n"
  "    <note xml:lang=\"fr\">Ne derangez pas, s'il vous plait</note>\n"
  "    <timestamp>2001-10-27T16:49:29Z</timestamp>\n"
  "  </tuple>\n"
  "  <tuple id=\"eg92n8\">\n"
  "    <status>\n"
  "      <basic>open</basic>\n"
  "    </status>\n"
  "    <contact priority=\"1.0\">mailto:someone@example.com</contact>\n"
  "  </tuple>\n"
  "  <note>I'll be in Tokyo next week</note>\n"
  "</presence>\n";

/* RFC 4479 data model elements use a note of their own: not PIDF's */
static const char data_model[] =
  "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
  "    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
  "    xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"sip:bob@example.com\">\n"
  "  <dm:person id=\"p1\"><rpid:activities><rpid:on-the-phone/></rpid:activities>\n"
  "    <dm:note>Person note</dm:note></dm:person>\n"
  "  <tuple id=\"t1\"><status><basic>closed</basic></status>\n"
  "    <note>Tuple &amp; note</note></tuple>\n"
  "  <tuple id=\"t2\"><status><basic>closed</basic></status></tuple>\n"
  "</presence>";

static void
check_pidf (const char *doc,
            const char *basic,
            const char *note)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out_basic = NULL;
  g_autofree char *out_note = NULL;

  g_assert_true (hark_pidf_parse (doc, -1, &out_basic, &out_note, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out_basic, ==, basic);
  g_assert_cmpstr (out_note, ==, note);
}

static void
test_pidf_rfc_examples (void)
{
  check_pidf (rfc3863_prefixed, "open", "");
  check_pidf (rfc3863_extended, "open", "I'll be in Tokyo next week");
  check_pidf (data_model, "closed", "Tuple & note");
  /* no tuple at all: nothing known */
  check_pidf ("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'/>", "", "");
  /* any open tuple makes the presentity open */
  check_pidf ("<p:presence xmlns:p='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'>"
              "<p:tuple id='a'><p:status><p:basic>closed</p:basic></p:status></p:tuple>"
              "<p:tuple id='b'><p:status><p:basic> open </p:basic></p:status></p:tuple>"
              "</p:presence>", "open", "");
  /* CDATA, and an unknown element outside any namespace we know */
  check_pidf ("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'>"
              "<x:y xmlns:x='urn:example'><basic>open</basic></x:y>"
              "<tuple id='a'><status><basic>closed</basic></status></tuple>"
              "<note><![CDATA[<lunch>]]></note></presence>", "closed", "<lunch>");
}

static void
test_pidf_malformed (void)
{
  static const char * const docs[] = {
    "",
    "   ",
    "not xml at all",
    "<presence>",                                                            /* truncated */
    "<presence xmlns='urn:ietf:params:xml:ns:pidf'><tuple></presence>",     /* mismatched */
    "<presence entity='pres:a@b'/>",                                         /* no namespace */
    "<presence xmlns='urn:example:other'/>",                                 /* wrong namespace */
    "<x:presence xmlns:x='urn:ietf:params:xml:ns:pidf:im'/>",
    "<tuple xmlns='urn:ietf:params:xml:ns:pidf'/>",                          /* wrong root */
    "<p:presence entity='pres:a@b'/>",                                       /* unbound prefix */
    "<presence xmlns='urn:ietf:params:xml:ns:pidf'><tuple id='a'><status>"
    "<basic>maybe</basic></status></tuple></presence>",
    "<presence xmlns='urn:ietf:params:xml:ns:pidf'><tuple id='a'><status>"
    "<basic>open<b/></basic></status></tuple></presence>",
    "<presence xmlns='urn:ietf:params:xml:ns:pidf'>&unknown;</presence>",
    "<!DOCTYPE presence [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
    "<presence xmlns='urn:ietf:params:xml:ns:pidf'><note>&x;</note></presence>",
    "<presence xmlns='urn:ietf:params:xml:ns:pidf'>\xff\xfe</presence>",
  };

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *shown = g_strescape (docs[i], NULL);
      char *basic = NULL;
      char *note = NULL;

      g_test_message ("malformed %u: %s", i, shown);
      g_assert_false (hark_pidf_parse (docs[i], -1, &basic, &note, &error));
      g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "PIDF: "));
      g_assert_null (basic);
      g_assert_null (note);
    }
}

static void
test_pidf_deep (void)
{
  g_autoptr(GString) doc = g_string_new ("<presence xmlns='urn:ietf:params:xml:ns:pidf'>");
  g_autoptr(GError) error = NULL;
  char *basic = NULL;
  char *note = NULL;

  for (guint i = 0; i < 10000; i++)
    g_string_append (doc, "<a>");
  g_assert_false (hark_pidf_parse (doc->str, doc->len, &basic, &note, &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
}

static void
test_pidf_build (void)
{
  g_autofree char *doc = hark_pidf_build ("sip:alice@example.com?a=1&b=\"2\"", "closed",
                                          "At <lunch> & \"back\" soon");
  g_autofree char *empty = hark_pidf_build ("sip:alice@example.com", "open", "");
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (strstr (doc, "urn:ietf:params:xml:ns:pidf"));
  g_assert_nonnull (strstr (doc, "entity=\"sip:alice@example.com?a=1&amp;b=&quot;2&quot;\""));
  check_pidf (doc, "closed", "At <lunch> & \"back\" soon");
  check_pidf (empty, "open", "");
  g_assert_null (strstr (empty, "<note>"));

  g_assert_true (hark_pidf_check_basic ("open", NULL));
  g_assert_true (hark_pidf_check_basic ("closed", NULL));
  g_assert_false (hark_pidf_check_basic ("away", &error));
  g_assert_error (error, HARK_ERROR, HARK_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hark/subscriptions/mwi/rfc-examples", test_mwi_rfc_examples);
  g_test_add_func ("/hark/subscriptions/mwi/variations", test_mwi_variations);
  g_test_add_func ("/hark/subscriptions/mwi/malformed", test_mwi_malformed);
  g_test_add_func ("/hark/subscriptions/mwi/binary", test_mwi_binary);
  g_test_add_func ("/hark/subscriptions/pidf/rfc-examples", test_pidf_rfc_examples);
  g_test_add_func ("/hark/subscriptions/pidf/malformed", test_pidf_malformed);
  g_test_add_func ("/hark/subscriptions/pidf/deep", test_pidf_deep);
  g_test_add_func ("/hark/subscriptions/pidf/build", test_pidf_build);

  return g_test_run ();
}
