/* hark-dialog.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sofia-sip/sip.h>

#include "hark-dbus-generated.h"

G_BEGIN_DECLS

#define HARK_TYPE_DIALOG (hark_dialog_get_type ())
G_DECLARE_FINAL_TYPE (HarkDialog, hark_dialog, HARK, DIALOG, GObject)

/**
 * HarkDialogTerminateFunc:
 * @usage: the usage given to hark_dialog_add_usage()
 * @options: the a{sv} options of Dialog1.Terminate()
 * @error: return location for a #GError
 *
 * Ends one usage of the dialog the way its rules say (CANCEL, BYE, error
 * response, final NOTIFY), carrying @options on the messages it sends.
 *
 * Returns: %FALSE with @error set if the usage cannot be ended now
 */
typedef gboolean (*HarkDialogTerminateFunc) (gpointer   usage,
                                             GVariant  *options,
                                             GError   **error);

/**
 * HarkDialogWireRouter:
 * @dialog: the dialog whose watch got the message
 * @direction: "in" or "out"
 * @sip: a message of the dialog's Call-ID as it went over the wire
 * @user_data: what was given to hark_dialog_set_wire_router()
 *
 * Returns: %TRUE if @dialog traces @sip
 */
typedef gboolean (*HarkDialogWireRouter) (HarkDialog  *dialog,
                                          const char  *direction,
                                          const sip_t *sip,
                                          gpointer     user_data);

HarkDialog             *hark_dialog_new             (void);
const char             *hark_dialog_get_object_path (HarkDialog              *self);
HarkDBusObjectSkeleton *hark_dialog_get_object      (HarkDialog              *self);
const char             *hark_dialog_get_state       (HarkDialog              *self);
const char             *hark_dialog_get_call_id     (HarkDialog              *self);
const char             *hark_dialog_get_local_tag   (HarkDialog              *self);
const char             *hark_dialog_get_remote_tag  (HarkDialog              *self);
void                    hark_dialog_set_wire_router (HarkDialog              *self,
                                                     HarkDialogWireRouter     router,
                                                     gpointer                 user_data);
void                    hark_dialog_set_state       (HarkDialog              *self,
                                                     const char              *state);
void                    hark_dialog_update_ids      (HarkDialog              *self,
                                                     const char              *call_id,
                                                     const char              *local_tag,
                                                     const char              *remote_tag);
void                    hark_dialog_add_usage       (HarkDialog              *self,
                                                     const char              *object_path,
                                                     HarkDialogTerminateFunc  terminate,
                                                     gpointer                 usage);
void                    hark_dialog_replace_usage   (HarkDialog              *self,
                                                     gpointer                 old_usage,
                                                     HarkDialogTerminateFunc  terminate,
                                                     gpointer                 usage);
void                    hark_dialog_usage_ended     (HarkDialog              *self,
                                                     gpointer                 usage);
guint                   hark_dialog_get_n_running   (HarkDialog              *self);
void                    hark_dialog_trace           (HarkDialog              *self,
                                                     const char              *direction,
                                                     const char              *start_line,
                                                     GVariant                *headers);
void                    hark_dialog_trace_sip       (HarkDialog              *self,
                                                     const char              *direction,
                                                     const sip_t             *sip);

G_END_DECLS
