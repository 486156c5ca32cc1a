/* hark-mwi.h — RFC 3842 message-summary bodies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HARK_MWI_CONTENT_TYPE "application/simple-message-summary"

/**
 * HarkMwiCounts:
 * @new_messages: new (unread) messages
 * @old_messages: old (read) messages
 * @new_urgent: new urgent messages (0 when the line gives none)
 * @old_urgent: old urgent messages (0 when the line gives none)
 *
 * One RFC 3842 msg-summary-line: `Voice-Message: 2/8 (0/2)`.
 */
typedef struct {
  guint new_messages;
  guint old_messages;
  guint new_urgent;
  guint old_urgent;
} HarkMwiCounts;

/**
 * HarkMwiSummary:
 * @messages_waiting: the Messages-Waiting status line said "yes"
 * @account: (nullable): the Message-Account URI, if given
 * @has_voice: a Voice-Message line was present
 * @voice: the Voice-Message counts (all 0 without one)
 *
 * What Hark shows of a message-summary body. Lines for other message
 * context classes (fax, pager, …) and the optional message headers after
 * the summary are checked for syntax and otherwise ignored.
 */
typedef struct {
  gboolean       messages_waiting;
  char          *account;
  gboolean       has_voice;
  HarkMwiCounts  voice;
} HarkMwiSummary;

gboolean hark_mwi_parse         (const char      *body,
                                 gssize           length,
                                 HarkMwiSummary  *out,
                                 GError         **error);
void     hark_mwi_summary_clear (HarkMwiSummary  *summary);

G_END_DECLS
